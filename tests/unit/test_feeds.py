"""Feeds: SBS-1 messages merged into full states, malformed lines counted and skipped, CSV errors
that name the line and the column, and OpenSky-style recordings in SI units."""

from __future__ import annotations

import gzip
import json
import socket
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deconflict.adapters.feeds import FOOT_PER_MIN_MPS, KNOT_MPS, FeedStats, state_to_wire
from deconflict.adapters.feeds.csv_cells import MAX_ERRORS
from deconflict.adapters.feeds.csv_states import read_recording_csv, read_snapshot
from deconflict.adapters.feeds.opensky import (
    SAMPLES_PREFIX,
    TRAFFIC_WHEEL,
    load_records,
    read_opensky,
    traffic_sample,
    traffic_wheel,
)
from deconflict.adapters.feeds.sbs import SbsDecoder, decode_sbs, read_sbs_file
from deconflict.adapters.feeds.sbs_socket import parse_address, sbs_socket_lines, sbs_socket_states
from deconflict.domain.errors import ValidationError
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference

T0 = 1443593462.0  # 2015-09-30T06:11:02Z


def msg(
    tx: int,
    hexid: str = "4CA2D6",
    clock: str = "06:11:02.000",
    *,
    day: str = "2015/09/30",
    callsign: str = "",
    alt: str = "",
    gs: str = "",
    trk: str = "",
    lat: str = "",
    lon: str = "",
    vr: str = "",
    ground: str = "0",
) -> str:
    """One BaseStation line with the fields dump1090 fills for transmission type ``tx``."""
    f = ["MSG", str(tx), "1", "1", hexid, "1", day, clock, day, clock, callsign, alt, gs, trk, lat, lon, vr]
    return ",".join([*f, "", "0", "0", "0", ground])


# ------------------------------------------------------------------------------------------ SBS


def test_sbs_merges_identification_velocity_and_position_into_one_state() -> None:
    lines = [
        msg(1, callsign="BAW123  "),
        msg(4, clock="06:11:01.500", gs="450", trk="91.5", vr="-640"),
        msg(3, clock="06:11:02.250", alt="37000", lat="51.45735", lon="-1.02826"),
    ]
    (s,) = decode_sbs(lines)
    assert s == TrackState(
        aircraft="4ca2d6",
        time=T0 + 0.25,
        lat=51.45735,
        lon=-1.02826,
        alt_m=pytest.approx(37000 * 0.3048),
        alt_ref=AltitudeReference.STD,
        gs_mps=pytest.approx(450 * 1852 / 3600),
        trk_deg=91.5,
        vs_mps=pytest.approx(-640 * 0.3048 / 60),
        callsign="BAW123",
    )


def test_sbs_position_without_a_recent_velocity_has_none() -> None:
    d = SbsDecoder()
    d.decode(msg(4, clock="06:10:00.000", gs="450", trk="90", vr="0"))
    s = d.decode(msg(3, clock="06:11:02.000", alt="37000", lat="51.0", lon="-1.0"))
    assert s is not None and s.gs_mps is None and s.trk_deg is None and s.vs_mps is None
    # the velocity is used again once a fresh one arrives
    d.decode(msg(4, clock="06:11:03.000", gs="440", trk="92", vr=""))
    s2 = d.decode(msg(3, clock="06:11:04.000", alt="37000", lat="51.01", lon="-1.0"))
    assert s2 is not None and s2.gs_mps == pytest.approx(440 * KNOT_MPS) and s2.vs_mps is None


def test_sbs_aircraft_are_merged_separately() -> None:
    lines = [
        msg(4, "AAAAAA", gs="100", trk="10", vr="0"),
        msg(4, "BBBBBB", gs="200", trk="20", vr="0"),
        msg(3, "AAAAAA", alt="1000", lat="1", lon="1"),
        msg(3, "BBBBBB", alt="2000", lat="2", lon="2"),
        msg(3, "CCCCCC", alt="3000", lat="3", lon="3"),
    ]
    a, b, c = decode_sbs(lines)
    assert (a.aircraft, a.trk_deg, b.aircraft, b.trk_deg) == ("aaaaaa", 10.0, "bbbbbb", 20.0)
    assert c.aircraft == "cccccc" and c.gs_mps is None


def test_sbs_position_without_altitude_takes_a_recent_one_or_is_ignored() -> None:
    d = SbsDecoder()
    assert d.decode(msg(3, lat="51", lon="-1")) is None
    assert d.stats.ignored["position without a recent altitude"] == 1
    d.decode(msg(5, clock="06:11:03.000", alt="12000"))
    s = d.decode(msg(3, clock="06:11:04.000", lat="51", lon="-1"))
    assert s is not None and s.alt_m == pytest.approx(12000 * 0.3048)
    assert d.decode(msg(3, clock="06:11:30.000", lat="51", lon="-1")) is None  # 26 s old: stale


def test_sbs_ground_and_non_position_messages_are_ignored_not_malformed() -> None:
    lines = [
        msg(2, alt="", gs="10", trk="90", lat="51", lon="-1", ground="-1"),
        msg(3, alt="0", lat="51", lon="-1", ground="-1"),
        msg(8),
        "STA,,5,179,400AE7,10103,2008/11/28,14:58:51.153,2008/11/28,14:58:51.153,RM",
        "",
    ]
    d = SbsDecoder()
    assert list(decode_sbs(lines, d)) == []
    assert d.stats.skipped_total == 0
    assert d.stats.ignored == {
        "surface position": 1,
        "position on the ground": 1,
        "all-call reply": 1,
        "STA line": 1,
    }


def test_sbs_malformed_lines_are_counted_with_a_reason_and_never_raise() -> None:
    good = msg(3, alt="37000", lat="51", lon="-1")
    lines = [
        "garbage",
        "MSG,3,1,1",
        msg(3, "XYZ", alt="1", lat="1", lon="1"),
        msg(9, alt="1", lat="1", lon="1"),
        msg(3, alt="37000", lat="abc", lon="-1"),
        msg(3, alt="37000", lat="95", lon="-1"),
        msg(3, alt="nan", lat="51", lon="-1"),
        msg(3, alt="37000", lat="51", lon="-1", day="2015/02/30"),
        msg(3, alt="37000", lat="", lon="-1"),
        msg(4, gs="-5", trk="90"),
        "MSG,3,\x00\xff,,",
        good,
    ]
    d = SbsDecoder()
    states = list(decode_sbs(lines, d))
    assert len(states) == 1 and states[0].lat == 51.0
    assert d.stats.lines == len(lines) and d.stats.states == 1
    assert d.stats.skipped_total == len(lines) - 1
    assert d.stats.skipped == {
        "not a BaseStation line": 1,
        "too few fields": 2,
        "hex ident: not a 24-bit address": 1,
        "transmission type: not 1 to 8": 1,
        "latitude: not a number": 1,
        "latitude outside [-90, 90]": 1,
        "altitude: not finite": 1,
        "date/time generated: malformed": 1,
        "position without latitude or longitude": 1,
        "ground speed: negative": 1,
    }
    assert d.stats.examples[0] == (1, "not a BaseStation line (starts with 'garbage')")
    assert (6, "latitude 95.0 is outside [-90, 90]") in d.stats.examples


def test_sbs_time_falls_back_to_the_logged_time_and_takes_an_offset() -> None:
    line = msg(3, alt="1000", lat="1", lon="1").replace("2015/09/30,06:11:02.000,", ",,", 1)
    s = SbsDecoder().decode(line)
    assert s is not None and s.time == T0
    s2 = SbsDecoder(utc_offset_s=7200).decode(msg(3, alt="1000", lat="1", lon="1"))
    assert s2 is not None and s2.time == T0 - 7200


def test_sbs_forgets_aircraft_not_heard_from() -> None:
    d = SbsDecoder(forget_after_s=60)
    d.decode(msg(3, "AAAAAA", "06:00:00.000", alt="1000", lat="1", lon="1"))
    for i in range(999):
        d.decode(msg(3, "BBBBBB", f"06:10:{i % 60:02d}.000", alt="1000", lat="1", lon="1"))
    assert d.in_view == 1


def test_sbs_file_with_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "feed.sbs"
    p.write_bytes(b"\xff\xfe junk\r\n" + msg(3, alt="1000", lat="1", lon="1").encode() + b"\r\n")
    states, stats = read_sbs_file(p)
    assert [s.aircraft for s in states] == ["4ca2d6"]
    assert stats.skipped_total == 1 and stats.lines == 2


def test_parse_address() -> None:
    assert parse_address("localhost:30003") == ("localhost", 30003)
    assert parse_address("tcp://10.0.0.2:31003/") == ("10.0.0.2", 31003)
    for bad in ("host:0", "host:x", ":30003", "[::1"):
        with pytest.raises(ValueError):
            parse_address(bad)


class _LineServer:
    """A TCP server that gives each connection its own list of lines, then closes it."""

    def __init__(self, per_connection: list[list[str]]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.per_connection = per_connection
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for lines in self.per_connection:
            conn, _ = self.sock.accept()
            with conn:
                data = "".join(line + "\r\n" for line in lines).encode()
                # split mid-line, so the reader must join chunks
                conn.sendall(data[:17])
                conn.sendall(data[17:])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def line_server() -> Iterator[_LineServer]:
    server = _LineServer(
        [
            [msg(3, "AAAAAA", alt="1000", lat="1", lon="1")],
            [msg(3, "BBBBBB", alt="2000", lat="2", lon="2"), "bad line"],
        ]
    )
    yield server
    server.close()


def test_sbs_socket_reconnects_after_the_server_closes(line_server: _LineServer) -> None:
    server = line_server
    stop = threading.Event()
    attempts: list[float] = []

    def connect(addr: tuple[str, int], timeout: float) -> socket.socket:
        attempts.append(timeout)
        if len(attempts) == 1:
            raise ConnectionRefusedError("first try refused")
        return socket.create_connection(addr, timeout=timeout)

    decoder = SbsDecoder()
    got = []
    for s in sbs_socket_states(
        ("127.0.0.1", server.port), stop, decoder, connect=connect, initial_backoff_s=0.01, max_backoff_s=0.02
    ):
        got.append(s.aircraft)
        if len(got) == 2:
            stop.set()
    assert got == ["aaaaaa", "bbbbbb"]
    assert len(attempts) == 3  # refused, first connection, second connection


def test_sbs_socket_stops_while_waiting_for_a_server() -> None:
    stop = threading.Event()

    def refuse(addr: tuple[str, int], timeout: float) -> socket.socket:
        stop.set()
        raise ConnectionRefusedError("down")

    assert list(sbs_socket_lines("127.0.0.1:9", stop, connect=refuse, initial_backoff_s=30)) == []


# ------------------------------------------------------------------------------------------ CSV


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


SNAPSHOT = """id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,party
zz1,48.9,2.4,10000,230,-90,0,ru
aa2,48.9,2.5,10000,230,90,-1.5,us
"""


def test_snapshot_reads_columns_in_any_order_with_parties(tmp_path: Path) -> None:
    snap = read_snapshot(write(tmp_path, "s.csv", SNAPSHOT))
    assert snap.ids == ("zz1", "aa2") and len(snap) == 2
    assert snap.trk_deg.tolist() == [270.0, 90.0]
    assert snap.party == ("ru", "us")
    assert np.array_equal(snap.party_codes(), [0, 1])
    reordered = "VS_MPS, id ,lat,lon,alt_m,gs_mps,trk_deg,callsign\n0,x,1,2,3,4,5,CS1\n"
    snap2 = read_snapshot(write(tmp_path, "r.csv", reordered))
    assert snap2.party is None and snap2.party_codes() is None and snap2.gs_mps.tolist() == [4.0]


def test_snapshot_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    text = SNAPSHOT + "bb3,48.9,2.6,x,230,90,0,us\nbb4,95,2.6,100,230,90,0,us\n\nzz1,1,1,1,1,1,1,ru\nbb5,1,1,1,1,1\n"
    p = write(tmp_path, "states.csv", text)
    with pytest.raises(ValidationError) as e:
        read_snapshot(p)
    assert [str(x) for x in e.value.errors] == [
        f"{p}:4: alt_m: not a number ('x')",
        f"{p}:5: lat: latitude 95.0 is outside [-90, 90]",
        f"{p}:7: id: duplicate id 'zz1' (first on line 2)",
        f"{p}:8: 6 fields, but the header has 8",
    ]


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("id,lat,lon,alt_m,gs_mps,trk_deg", "a,1,1,1,1,1", "1: header: missing column(s) vs_mps"),
        ("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps", "a,1,1,1,nan,1,1", "2: gs_mps: not a finite number ('nan')"),
        ("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps", "a,1,1,1,2000,1,1", "2: gs_mps: 2000.0 m/s is outside [0, 1000]"),
        ("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps", ",1,1,1,1,1,1", "2: id: is empty"),
        ("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps", "a,1,1,,1,1,1", "2: alt_m: is empty"),
        ("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,party", "a,1,1,1,1,1,1, ", "2: party: is empty"),
        ("id,lat,lat,lon,alt_m,gs_mps,trk_deg,vs_mps", "a,1,1,1,1,1,1,1", "1: header: column 'lat' appears more"),
    ],
)
def test_snapshot_refuses_bad_cells(tmp_path: Path, header: str, row: str, expected: str) -> None:
    p = write(tmp_path, "s.csv", f"{header}\n{row}\n")
    with pytest.raises(ValidationError) as e:
        read_snapshot(p)
    assert str(e.value.errors[0]).startswith(f"{p}:{expected}")


def test_snapshot_lists_at_most_max_errors(tmp_path: Path) -> None:
    rows = "".join(f"a{i},1,1,x,1,1,1\n" for i in range(MAX_ERRORS + 5))
    with pytest.raises(ValidationError) as e:
        read_snapshot(write(tmp_path, "s.csv", "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n" + rows))
    assert len(e.value.errors) == MAX_ERRORS + 1
    assert str(e.value.errors[-1]).endswith("and 5 more error(s)")


def test_snapshot_empty_file_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="the file is empty"):
        read_snapshot(write(tmp_path, "e.csv", ""))
    assert len(read_snapshot(write(tmp_path, "h.csv", "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n"))) == 0
    (tmp_path / "b.csv").write_bytes(b"id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n\xff,1,1,1,1,1,1\n")
    with pytest.raises(ValidationError, match="not UTF-8"):
        read_snapshot(tmp_path / "b.csv")


def test_recording_csv_times_references_and_optional_velocity(tmp_path: Path) -> None:
    text = (
        "time,id,lat,lon,alt_m,alt_ref,gs_mps,trk_deg,vs_mps,callsign\n"
        "2015-09-30T06:11:03Z,b,1,1,1000,,,,,\n"
        f"{T0},a,1,1,1000,w84,200,-10,,AFR1\n"
        "2015-09-30T08:11:02.5+02:00,c,1,1,1000,AMSL,200,10,2,\n"
    )
    a, c, b = read_recording_csv(write(tmp_path, "r.csv", text), default_alt_ref=AltitudeReference.STD)
    assert (a.time, b.time, c.time) == (T0, T0 + 1, T0 + 0.5)
    assert (a.alt_ref, b.alt_ref, c.alt_ref) == (AltitudeReference.W84, AltitudeReference.STD, AltitudeReference.AMSL)
    assert a.trk_deg == 350.0 and a.vs_mps is None and a.callsign == "AFR1"
    assert b.gs_mps is None and b.trk_deg is None and b.callsign is None
    assert c.vs_mps == 2.0
    minimal = read_recording_csv(
        write(tmp_path, "m.csv", "time,id,lat,lon,alt_m\n1,a,1,1,1\n"), default_alt_ref=AltitudeReference.W84
    )
    assert minimal[0].alt_ref == AltitudeReference.W84


def test_recording_csv_without_a_reference_is_refused_unless_one_is_given(tmp_path: Path) -> None:
    """A pressure and a geometric altitude differ by hundreds of metres: no column, no guess."""
    p = write(tmp_path, "m.csv", "time,id,lat,lon,alt_m\n1,a,1,1,1\n2,a,1,1,1\n")
    with pytest.raises(ValidationError) as e:
        read_recording_csv(p)
    assert [str(x) for x in e.value.errors] == [
        f"{p}:1: header: no alt_ref column, so the file gives no altitude reference; add the column "
        "(STD, AMSL or W84 on every row) or give the whole file's reference with --alt-ref STD, AMSL or W84"
    ]
    empty = write(tmp_path, "e.csv", "time,id,lat,lon,alt_m,alt_ref\n1,a,1,1,1,STD\n2,a,1,1,1,\n3,a,1,1,1, \n")
    with pytest.raises(ValidationError) as e:
        read_recording_csv(empty)
    assert [str(x) for x in e.value.errors] == [
        f"{empty}:3: alt_ref: is empty (and on 1 more row), so the file gives no altitude reference for "
        "those rows; fill them in (STD, AMSL or W84) or give theirs with --alt-ref STD, AMSL or W84"
    ]
    filled = read_recording_csv(empty, default_alt_ref=AltitudeReference.AMSL)
    assert [s.alt_ref for s in filled] == [AltitudeReference.STD, AltitudeReference.AMSL, AltitudeReference.AMSL]


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            "time,id,lat,lon,alt_m,alt_reff",
            "1,a,1,1,1,STD",
            'header: unknown column "alt_reff"; did you mean "alt_ref"?',
        ),
        (
            "time,id,lat,lon,alt_m,alt_ref,vs_mp",
            "1,a,1,1,1,STD,2",
            'header: unknown column "vs_mp"; did you mean "vs_mps"?',
        ),
        (
            "Time,ID,lat,lon,alt_m,ALT_REFF",
            "1,a,1,1,1,STD",
            'header: unknown column "ALT_REFF"; did you mean "alt_ref"?',
        ),
        (
            "time,id,lat,lon,alt_m,alt_ref,party",
            "1,a,1,1,1,STD,ru",
            'header: unknown column "party"; the columns are '
            "time,id,lat,lon,alt_m,alt_ref,gs_mps,trk_deg,vs_mps,callsign",
        ),
        ("time,id,lat,lon,alt_m,alt_ref,", "1,a,1,1,1,STD,", "header: column 7 has no name; name it or remove it"),
    ],
)
def test_recording_csv_refuses_an_unknown_column(tmp_path: Path, header: str, row: str, expected: str) -> None:
    p = write(tmp_path, "r.csv", f"{header}\n{row}\n")
    with pytest.raises(ValidationError) as e:
        read_recording_csv(p, default_alt_ref=AltitudeReference.STD)
    assert [str(x) for x in e.value.errors] == [f"{p}:1: {expected}"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mp",
            [
                'header: unknown column "vs_mp"; did you mean "vs_mps"?',
                "header: missing column(s) vs_mps; the header needs id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps",
            ],
        ),
        ("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,partey", ['header: unknown column "partey"; did you mean "party"?']),
        (
            "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,colour",
            [
                'header: unknown column "colour"; the columns are '
                "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,party,alt_ref,callsign"
            ],
        ),
        (
            "id,lat,lon,alt,gs_mps,trk_deg,vs_mps",
            [
                'header: unknown column "alt"; did you mean "alt_m"?',
                "header: missing column(s) alt_m; the header needs id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps",
            ],
        ),
    ],
)
def test_snapshot_refuses_an_unknown_column(tmp_path: Path, header: str, expected: list[str]) -> None:
    row = "a,1,1,1,1,1,1" + ",x" * (header.count(",") - 6)
    p = write(tmp_path, "s.csv", f"{header}\n{row}\n")
    with pytest.raises(ValidationError) as e:
        read_snapshot(p)
    assert [str(x) for x in e.value.errors] == [f"{p}:1: {x}" for x in expected]


def test_snapshot_altitudes_are_in_one_reference(tmp_path: Path) -> None:
    """A snapshot's altitudes are compared with each other as given: an ``alt_ref`` column, when
    there is one, must name the same reference on every row."""
    assert read_snapshot(write(tmp_path, "n.csv", SNAPSHOT)).alt_ref is None
    same = "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,alt_ref\na,1,1,1,1,1,1,std\nb,1,2,1,1,1,1,STD\n"
    assert read_snapshot(write(tmp_path, "s.csv", same)).alt_ref == AltitudeReference.STD
    mixed = write(tmp_path, "m.csv", same.replace("b,1,2,1,1,1,1,STD", "b,1,2,1,1,1,1,W84") + "c,1,3,1,1,1,1,\n")
    with pytest.raises(ValidationError) as e:
        read_snapshot(mixed)
    assert [str(x) for x in e.value.errors] == [
        f"{mixed}:3: alt_ref: W84, but line 2 gives STD; a snapshot's altitudes are compared as they are, "
        "so give them all in one reference",
        f"{mixed}:4: alt_ref: is empty",
    ]


def test_recording_csv_errors(tmp_path: Path) -> None:
    text = (
        "time,id,lat,lon,alt_m,alt_ref,gs_mps,trk_deg\n"
        "2015-09-30T06:11:03,a,1,1,1000,,,\n"
        "1,a,1,1,1000,AGL,,\n"
        "1,a,1,1,1000,,200,\n"
        "soon,a,1,1,1000,,,\n"
    )
    p = write(tmp_path, "r.csv", text)
    with pytest.raises(ValidationError) as e:
        read_recording_csv(p)
    got = [str(x) for x in e.value.errors]
    assert got[0] == f"{p}:2: time: '2015-09-30T06:11:03' has no UTC offset; RFC 3339 needs one (for example Z)"
    assert got[1].startswith(f"{p}:3: alt_ref: AGL needs terrain data")
    assert got[2] == f"{p}:4: trk_deg: give gs_mps and trk_deg together (or neither)"
    assert got[3].startswith(f"{p}:5: time: 'soon' is not an RFC 3339 time")


def test_state_to_wire_leaves_unknown_velocity_out() -> None:
    s = TrackState("a", 1.23456, 1.0, 2.0, 3.0, AltitudeReference.STD, callsign="X")
    assert state_to_wire(s, time=5.0) == {
        "aircraft": "a",
        "time": 5.0,
        "lat": 1.0,
        "lon": 2.0,
        "alt_m": 3.0,
        "alt_ref": "STD",
        "callsign": "X",
    }


# -------------------------------------------------------------------------------------- OpenSky


def opensky_rows() -> list[dict[str, Any]]:
    """Rows shaped like traffic's collections/quickstart.json.gz: records orient, epoch ms, grouped
    by aircraft (not by time), ground rows with null altitude, some rows without velocity."""
    base = 1633608001000
    rows: list[dict[str, Any]] = []
    for k, (icao, callsign) in enumerate((("0101de", "MSR799"), ("398564", "AFR9455 "))):
        for i in range(3):
            rows.append(
                {
                    "altitude": 13650.0 - 25 * i,
                    "callsign": callsign,
                    "groundspeed": 325.0,
                    "icao24": icao,
                    "latitude": 48.48 + 0.001 * i,
                    "longitude": 3.83 - k,
                    "onground": False,
                    "squawk": "1000",
                    "timestamp": base + 1000 * i,
                    "track": 311.1,
                    "vertical_rate": -896.0,
                }
            )
    rows[1].update(groundspeed=None, track=None, vertical_rate=None)
    rows.append({**rows[0], "timestamp": base + 5000, "altitude": None, "onground": True, "groundspeed": 12.0})
    rows.append({**rows[0], "timestamp": base + 6000, "latitude": None})
    rows.append({**rows[0], "timestamp": "yesterday"})
    rows.append({**rows[0], "timestamp": base + 7000, "altitude": None, "onground": False})
    return rows


def test_opensky_records_gz_to_si_states_sorted_by_time(tmp_path: Path) -> None:
    p = tmp_path / "quick.json.gz"
    p.write_bytes(gzip.compress(json.dumps(opensky_rows()).encode()))
    stats = FeedStats()
    states = read_opensky(p, stats=stats)
    assert [s.time - 1633608000 for s in states] == [1, 1, 2, 2, 3, 3]
    first = states[0]
    assert first.aircraft == "0101de" and first.callsign == "MSR799" and first.alt_ref == AltitudeReference.STD
    assert first.alt_m == pytest.approx(13650 * 0.3048)
    assert first.gs_mps == pytest.approx(325 * KNOT_MPS) and first.vs_mps == pytest.approx(-896 * FOOT_PER_MIN_MPS)
    assert states[1].callsign == "AFR9455"
    no_velocity = next(s for s in states if s.aircraft == "0101de" and s.time == 1633608002.0)
    assert no_velocity.gs_mps is None and no_velocity.trk_deg is None and no_velocity.vs_mps is None
    assert stats.lines == 10 and stats.states == 6
    assert stats.ignored == {"on the ground": 1, "no altitude": 1}
    assert stats.skipped == {"no valid position": 1, "timestamp: not a time": 1}


def test_opensky_other_pandas_orients_and_time_forms() -> None:
    split = {"columns": ["icao24", "timestamp", "latitude", "longitude", "altitude"], "data": [["a", 1e9, 1, 2, 100]]}
    columns = {"icao24": {"0": "a"}, "timestamp": {"0": "2001-09-09T01:46:40Z"}, "latitude": {"0": 1},
               "longitude": {"0": 2}, "altitude": {"0": 100}}  # fmt: skip
    lines = b'{"icao24":"a","timestamp":1000000000000,"latitude":1,"longitude":2,"altitude":100}\n' * 2
    for data in (json.dumps(split).encode(), json.dumps(columns).encode(), lines):
        states = read_opensky(data)
        assert states[0].time == 1e9 and states[0].alt_m == pytest.approx(30.48)


def test_opensky_geometric_altitude_on_request() -> None:
    rows = [{"icao24": "a", "timestamp": 1000, "latitude": 1, "longitude": 2, "altitude": 100, "geoaltitude": 200}]
    (s,) = read_opensky(json.dumps(rows).encode(), altitude="geo")
    assert s.alt_ref == AltitudeReference.W84 and s.alt_m == pytest.approx(200 * 0.3048)


def test_opensky_not_json_is_refused() -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        load_records(b"{nope", "x.json")
    with pytest.raises(ValidationError, match="not a pandas JSON table"):
        load_records(b'"a string"', "x.json")
    with pytest.raises(ValidationError, match="not \\(gzipped\\) UTF-8"):
        load_records(b"\x1f\x8b\x08garbage", "x.json.gz")


def test_traffic_sample_reads_out_of_a_cached_wheel_without_pip(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / TRAFFIC_WHEEL, "w") as z:
        z.writestr(SAMPLES_PREFIX + "collections/tiny.json.gz", gzip.compress(b"[]"))
    assert gzip.decompress(traffic_sample("collections/tiny.json.gz", cache_dir=tmp_path)) == b"[]"


def test_traffic_wheel_reports_a_failed_download(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text(f"#!{sys.executable}\nimport sys\nprint('no network')\nsys.exit(1)\n")
    fake_python.chmod(0o755)
    with pytest.raises(RuntimeError, match="no network"):
        traffic_wheel(tmp_path / "cache", python=str(fake_python))
    assert list((tmp_path / "cache").iterdir()) == []  # no half-downloaded leftovers
