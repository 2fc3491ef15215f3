"""`deconflict replay` against a fake broker: a real HTTP server on 127.0.0.1 that records every
`POST /v1/tracks`. The clock and the sleep are injected, so pacing is checked without waiting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_tracks_broker import FakeBroker
from typer.testing import CliRunner, Result

from clocks import SleepClock
from deconflict.cli import app
from deconflict.cli.client_replay import ReplayRuntime
from deconflict.clients import sender as feeding_sender
from deconflict.clients.replay import ReplaySummary, party_of, replay_states
from deconflict.clients.sender import RETRY_DELAYS_S, ReplayError, Sender
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference

runner = CliRunner()
TOL_S = 1e-5
"""Epoch seconds near 1.7e9 carry about 2e-7 s of float resolution."""
W0 = 1_700_000_000.0
T0 = 1_443_598_262.0  # the recording's first time: years before W0


def approx(expected: Any) -> Any:
    return pytest.approx(expected, abs=TOL_S)


def accept_all_but_bad(token: str, states: list[dict[str, Any]]) -> tuple[int, Any]:
    """As the broker: 200, states of aircraft named bad… refused one by one with field and reason."""
    rejected = [
        {"index": i, "field": f"states[{i}].lat", "reason": f"must be within ±90°, got {91 + i}"}
        for i, s in enumerate(states)
        if s["aircraft"].startswith("bad")
    ]
    return 200, {"accepted": len(states) - len(rejected), "rejected": rejected}


Receiver = FakeBroker


@pytest.fixture
def broker() -> Iterator[Receiver]:
    r = FakeBroker(accept_all_but_bad)
    yield r
    r.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as c:
        yield c


@pytest.fixture(autouse=True)
def no_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DECONFLICT_TOKEN", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def recording(aircraft: list[str], seconds: int, step: float = 1.0) -> list[TrackState]:
    """Every aircraft once per ``step``, for ``seconds`` of recording from T0, sorted by time."""
    out = []
    for k in range(int(seconds / step)):
        for n, a in enumerate(aircraft):
            out.append(
                TrackState(
                    a, T0 + k * step, 48.0 + n * 0.1, 2.0 + 0.001 * k, 10000.0, AltitudeReference.STD, 230.0, 90.0
                )
            )
    return out


def replay(
    states: list[TrackState], broker: Receiver, client: httpx.Client, clock: SleepClock, **kw: Any
) -> ReplaySummary:
    senders = kw.pop("senders", [Sender("ru", "dcf_ru")])
    return replay_states(states, senders, client=client, url=broker.url, clock=clock, sleep=clock.sleep, **kw)


# ------------------------------------------------------------------------------------ the loop


def test_paced_by_speed_and_restamped_to_the_moment_of_sending(broker: Receiver, client: httpx.Client) -> None:
    clock = SleepClock(W0)
    summary = replay(recording(["a1", "a2"], 10), broker, client, clock, speed=10.0, batch_s=1.0)
    assert len(broker.received) == 10 and summary.batches == 10
    assert clock.sleeps == approx([0.1] * 9)  # 10 s of recording in 0.9 s of wall clock
    for k, req in enumerate(broker.received):
        assert req.path == "/v1/tracks" and req.token == "dcf_ru"
        assert [s["aircraft"] for s in req.states] == ["a1", "a2"]
        assert [s["time"] for s in req.states] == approx([W0 + k * 0.1] * 2)
    assert broker.received[0].states[0] == {
        "aircraft": "a1",
        "time": W0,
        "lat": 48.0,
        "lon": 2.0,
        "alt_m": 10000.0,
        "alt_ref": "STD",
        "gs_mps": 230.0,
        "trk_deg": 90.0,
    }
    assert (summary.total().sent, summary.total().accepted, summary.aircraft) == (20, 20, 2)
    assert summary.recording_s == 9.0 and summary.wall_s == approx(0.9)


def test_batch_s_groups_seconds_of_recording_and_keeps_their_spacing(broker: Receiver, client: httpx.Client) -> None:
    clock = SleepClock(W0)
    replay(recording(["a1"], 10), broker, client, clock, speed=2.0, batch_s=5.0)
    assert [len(r.states) for r in broker.received] == [5, 5]
    # each state stands for its paced moment; the batch goes when its last state is due
    stamps = [s["time"] for s in broker.states()]
    assert stamps == approx([W0 + k / 2.0 for k in range(10)])
    assert clock.sleeps == approx([2.0, 2.5])


def test_a_slow_broker_makes_stamps_later_not_older(broker: Receiver, client: httpx.Client) -> None:
    clock = SleepClock(W0)
    broker.respond = lambda token, states: (clock.sleep(3.0), accept_all_but_bad(token, states))[1]
    replay(recording(["a1"], 3), broker, client, clock, speed=1.0, batch_s=1.0)
    # the replay falls behind by 3 s per request; each state is stamped when it is actually sent
    assert [s["time"] for s in broker.states()] == approx([W0, W0 + 3.0, W0 + 6.0])
    assert clock.sleeps == approx([3.0] * 3)  # only the broker's delays: no catch-up waits


def test_refused_states_are_counted_by_reason(broker: Receiver, client: httpx.Client) -> None:
    summary = replay(recording(["a1", "bad1", "bad2"], 3), broker, client, SleepClock(W0))
    total = summary.total()
    assert (total.sent, total.accepted, total.rejected_total) == (9, 3, 6)
    assert total.rejected == {"lat: must be within ±N°, got N": 6}
    assert total.examples == {"lat: must be within ±N°, got N": "lat: must be within ±90°, got 92"}
    assert summary.json()["reasons"] == [
        {"reason": "lat: must be within ±N°, got N", "count": 6, "example": "lat: must be within ±90°, got 92"}
    ]


def test_parties_by_hash_split_aircraft_stably_each_with_its_token(broker: Receiver, client: httpx.Client) -> None:
    aircraft = [f"{i:06x}" for i in range(0x3C6440, 0x3C6440 + 20)]
    senders = [Sender("ru", "dcf_ru"), Sender("us", "dcf_us")]
    summary = replay(recording(aircraft, 5), broker, client, SleepClock(W0), senders=senders)
    seen: dict[str, set[str]] = {"dcf_ru": set(), "dcf_us": set()}
    for req in broker.received:
        seen[req.token] |= {s["aircraft"] for s in req.states}
    assert seen["dcf_ru"] and seen["dcf_us"] and not seen["dcf_ru"] & seen["dcf_us"]
    assert seen["dcf_ru"] | seen["dcf_us"] == set(aircraft)
    assert seen["dcf_ru"] == {a for a in aircraft if party_of(a, ["ru", "us"]) == "ru"}
    assert summary.parties["ru"].sent == 5 * len(seen["dcf_ru"])
    assert summary.parties["us"].sent == 5 * len(seen["dcf_us"])
    assert len(broker.received) == 10  # one request per party per batch


def test_transient_failures_are_retried(broker: Receiver, client: httpx.Client) -> None:
    answers = iter([(503, {"error": "unavailable", "message": "restarting"})] * 2)
    broker.respond = lambda token, states: next(answers, None) or accept_all_but_bad(token, states)
    clock = SleepClock(W0)
    summary = replay(recording(["a1"], 2), broker, client, clock, speed=1.0)
    assert summary.total().accepted == 2 and summary.requests == 4
    # the retries took 1.5 s, longer than the 1 s to the next batch: no further wait
    assert clock.sleeps == approx(list(RETRY_DELAYS_S[:2]))


def test_too_large_batches_are_halved(broker: Receiver, client: httpx.Client) -> None:
    def small_only(token: str, states: list[dict[str, Any]]) -> tuple[int, Any]:
        if len(states) > 3:
            return 413, {"error": "too-large", "message": "request body is larger than the limit"}
        return accept_all_but_bad(token, states)

    broker.respond = small_only
    summary = replay(recording([f"a{i}" for i in range(10)], 1), broker, client, SleepClock(W0))
    assert summary.total().accepted == 10 and summary.total().rejected_total == 0
    assert [len(r.states) for r in broker.received] == [10, 5, 2, 3, 5, 2, 3]


def test_large_batches_are_split_into_requests(
    broker: Receiver, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeding_sender, "MAX_STATES_PER_REQUEST", 4)
    replay(recording([f"a{i}" for i in range(10)], 1), broker, client, SleepClock(W0))
    assert [len(r.states) for r in broker.received] == [4, 4, 2]


def test_a_request_refused_whole_counts_its_states_and_goes_on(broker: Receiver, client: httpx.Client) -> None:
    answers = iter([(422, {"error": "invalid", "message": "bad", "detail": [{"field": "states", "reason": "x"}]})])
    broker.respond = lambda token, states: next(answers, None) or accept_all_but_bad(token, states)
    summary = replay(recording(["a1", "a2"], 2), broker, client, SleepClock(W0))
    assert summary.total().rejected == {"request: HTTP N: states: x": 2}
    assert summary.total().accepted == 2


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"error": "unauthorized", "message": "unknown token"}, "party ru: the broker refused the token (401"),
        (403, {"error": "forbidden", "message": "an observer does not report tracks"}, "party ru: may not report"),
        (404, {"detail": "Not Found"}, "answered HTTP 404"),
        (200, b"<html>hello</html>", "is this a deconflict broker?"),
    ],
)
def test_refusals_that_end_the_replay(
    broker: Receiver, client: httpx.Client, status: int, body: Any, message: str
) -> None:
    broker.respond = lambda token, states: (status, body)
    with pytest.raises(ReplayError, match=message.replace("(", r"\(")):
        replay(recording(["a1"], 3), broker, client, SleepClock(W0))
    assert len(broker.received) == 1  # no retry: the answer will not change


# ------------------------------------------------------------------------------------- the CLI


def write_csv(tmp_path: Path, states: list[TrackState], name: str = "rec.csv") -> Path:
    lines = ["time,id,lat,lon,alt_m,alt_ref,gs_mps,trk_deg,vs_mps,callsign"]
    for s in states:
        lines.append(f"{s.time},{s.aircraft},{s.lat},{s.lon},{s.alt_m},{s.alt_ref.value},{s.gs_mps},{s.trk_deg},,")
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def cli(clock: SleepClock, *args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, ["replay", *args], obj=ReplayRuntime(clock=clock, sleep=clock.sleep), env=env)


def test_cli_replays_a_csv_recording_and_prints_a_summary(broker: Receiver, tmp_path: Path) -> None:
    path = write_csv(tmp_path, recording(["a1", "bad1"], 20))
    clock = SleepClock(W0)
    r = cli(clock, str(path), "--party", "ru", "--url", broker.url, env={"DECONFLICT_TOKEN": "dcf_ru"})
    assert r.exit_code == 0, r.output
    assert len(broker.received) == 20 and {q.token for q in broker.received} == {"dcf_ru"}
    assert sum(clock.sleeps) == approx(1.9)  # default --speed 10
    first, *rest = r.stdout.splitlines()
    assert first.startswith("replayed 40 states of 2 aircraft (0:00:19 of recording in 0:00:02, 20 request(s))")
    assert first.endswith("as 1 party: sent 40, accepted 20, rejected 20")
    assert rest == ["rejected, by reason (the first of each kind):", "        20  lat: must be within ±90°, got 92"]


def test_cli_json_summary_with_two_parties(broker: Receiver, tmp_path: Path) -> None:
    aircraft = [f"{i:06x}" for i in range(0x3C6440, 0x3C6440 + 10)]
    path = write_csv(tmp_path, recording(aircraft, 4))
    r = cli(
        SleepClock(W0),
        str(path),
        "--parties-by-hash",
        "ru,us",
        "--token",
        "us=dcf_us,ru=dcf_ru",
        "--url",
        broker.url + "/",
        "--speed",
        "1",
        "--json",
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["sent"], doc["accepted"], doc["rejected"], doc["aircraft"], doc["batches"]) == (40, 40, 0, 10, 4)
    assert doc["reasons"] == []
    assert doc["parties"]["ru"]["sent"] + doc["parties"]["us"]["sent"] == 40
    assert doc["recording_s"] == 3.0 and doc["wall_s"] == 3.0
    assert {q.token for q in broker.received} == {"dcf_ru", "dcf_us"}


def test_cli_start_and_duration_pick_a_slice(broker: Receiver, tmp_path: Path) -> None:
    path = write_csv(tmp_path, recording(["a1"], 100))
    r = cli(SleepClock(W0), str(path), "--party", "ru", "--token", "dcf_ru", "--url", broker.url, "--start-s", "10")
    assert r.exit_code == 0, r.output
    assert len(broker.states()) == 90
    broker.received.clear()
    args = ("--party", "ru", "--token", "dcf_ru", "--url", broker.url, "--start-s", "10", "--duration-s", "5", "--json")
    r = cli(SleepClock(W0), str(path), *args)
    assert r.exit_code == 0, r.output
    assert len(broker.states()) == 5 and json.loads(r.stdout)["recording_s"] == 4.0


def test_cli_reads_sbs_and_opensky_recordings(broker: Receiver, tmp_path: Path) -> None:
    sbs = tmp_path / "feed.txt"
    sbs.write_text(
        "MSG,4,1,1,4CA2D6,1,2015/09/30,06:11:01.000,2015/09/30,06:11:01.000,,,450,90,,,0,,,,,0\n"
        "MSG,3,1,1,4CA2D6,1,2015/09/30,06:11:02.000,2015/09/30,06:11:02.000,,37000,,,51.5,-1.0,,,,,,0\n"
        "MSG,3,1,1,4CA2D6,1,2015/09/30,06:11:03.000,2015/09/30,06:11:03.000,,37000,,,51.5,-0.99,,,,,,0\n"
        "not a line\n"
    )
    r = cli(SleepClock(W0), str(sbs), "--party", "ru", "--token", "dcf_ru", "--url", broker.url)
    assert r.exit_code == 0, r.output
    assert [s["lon"] for s in broker.states()] == [-1.0, -0.99]
    assert broker.states()[0]["gs_mps"] == pytest.approx(231.5, abs=0.01)
    assert "skipped 1 malformed line(s)" in r.stderr
    broker.received.clear()
    row = {"icao24": "0101de", "latitude": 48.5, "longitude": 3.8, "altitude": 13650.0}
    rows = [{**row, "timestamp": 1633608001000 + 1000 * k} for k in range(3)]
    osk = tmp_path / "rec.json"
    osk.write_text(json.dumps(rows))
    r = cli(SleepClock(W0), str(osk), "--party", "ru", "--token", "dcf_ru", "--url", broker.url)
    assert r.exit_code == 0, r.output
    assert [s["alt_m"] for s in broker.states()] == [approx(4160.52)] * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "dcf_ru"], "give --party P, or --parties-by-hash P1,P2"),
        (["--party", "ru", "--parties-by-hash", "ru,us", "--token", "dcf_ru"], "give --party P, or --parties-by-hash"),
        (["--party", "ru"], "no token for party ru: give --token ru=TOKEN (or set DECONFLICT_TOKEN)"),
        (["--parties-by-hash", "ru,us", "--token", "ru=a"], "no token for party us"),
        (["--parties-by-hash", "ru,us", "--token", "fr=a,b"], "--token names 'fr', which is not among the parties"),
        (["--parties-by-hash", "ru,us", "--token", "a,b"], "two tokens without a party"),
        (["--parties-by-hash", "ru,ru", "--token", "a"], "a party is named twice"),
        (["--party", "ru", "--token", "dcf_ru", "--speed", "0"], "option --speed: must be a positive number"),
        (["--party", "ru", "--token", "dcf_ru", "--batch-s", "-1"], "option --batch-s: must be a positive number"),
        (["--party", "ru", "--token", "dcf_ru", "--url", "ftp://x"], "option --url: 'ftp://x' is not an http"),
        (["--party", "ru", "--token", "dcf_ru", "--start-s", "1e9"], "no states to replay"),
    ],
)
def test_cli_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    path = write_csv(tmp_path, recording(["a1"], 3))
    nowhere = [] if "--url" in args else ["--url", "http://127.0.0.1:9"]  # refused before anything is sent
    r = cli(SleepClock(W0), str(path), *args, *nowhere)
    assert r.exit_code == 2, r.output
    assert message in r.stderr


def test_cli_bad_recordings_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,id,lat,lon,alt_m,alt_ref\n1,a,1,1,1,STD\n2,a,north,1,1,STD\n")
    r = cli(SleepClock(W0), str(bad), "--party", "ru", "--token", "dcf_ru")
    assert r.exit_code == 2 and r.stderr.strip() == f"{bad}:3: lat: not a number ('north')"
    r = cli(SleepClock(W0), str(tmp_path / "none.csv"), "--party", "ru", "--token", "dcf_ru")
    assert r.exit_code == 2 and "none.csv: no such file" in r.stderr
    garbled = tmp_path / "garbled.json"
    garbled.write_text("[{")
    r = cli(SleepClock(W0), str(garbled), "--party", "ru", "--token", "dcf_ru")
    assert r.exit_code == 2 and "garbled.json: not JSON" in r.stderr


def test_cli_csv_without_an_altitude_reference_needs_alt_ref(broker: Receiver, tmp_path: Path) -> None:
    """No ``alt_ref`` column and no ``--alt-ref``: one line, exit 2, nothing sent (not even the token check)."""
    path = tmp_path / "x.csv"
    path.write_text("time,id,lat,lon,alt_m,gs_mps,trk_deg\n1,a1,48,2,10000,230,90\n2,a1,48,2.01,10000,230,90\n")
    args = (str(path), "--party", "ru", "--token", "dcf_ru", "--url", broker.url)
    r = cli(SleepClock(W0), *args)
    assert r.exit_code == 2, r.output
    assert r.stderr.splitlines() == [
        f"{path}:1: header: no alt_ref column, so the file gives no altitude reference; add the column "
        "(STD, AMSL or W84 on every row) or give the whole file's reference with --alt-ref STD, AMSL or W84"
    ]
    assert broker.received == [] and broker.asked == []
    r = cli(SleepClock(W0), *args, "--alt-ref", "AMSL")
    assert r.exit_code == 0, r.output
    assert [s["alt_ref"] for s in broker.states()] == ["AMSL", "AMSL"]


def test_cli_alt_ref_is_for_csv_recordings_only(broker: Receiver, tmp_path: Path) -> None:
    """SBS-1 altitudes are barometric (STD) by definition, and OpenSky's name their reference."""
    sbs = tmp_path / "feed.sbs"
    sbs.write_text("MSG,3,1,1,4CA2D6,1,2015/09/30,06:11:02.000,2015/09/30,06:11:02.000,,37000,,,51.5,-1.0,,,,,,0\n")
    r = cli(SleepClock(W0), str(sbs), "--party", "ru", "--token", "dcf_ru", "--url", broker.url, "--alt-ref", "W84")
    assert r.exit_code == 2, r.output
    assert r.stderr.splitlines() == [
        "option --alt-ref: only a CSV recording takes it; SBS-1 altitudes are barometric (STD) by definition"
    ]
    assert broker.received == [] and broker.asked == []


def test_cli_unreachable_broker_exit_2_after_retries(tmp_path: Path) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as s:
        closed_port = s.server_address[1]  # nothing listens there once closed
    path = write_csv(tmp_path, recording(["a1"], 3))
    clock = SleepClock(W0)
    r = cli(clock, str(path), "--party", "ru", "--token", "dcf_ru", "--url", f"http://127.0.0.1:{closed_port}")
    assert r.exit_code == 2
    assert f"cannot reach the broker at http://127.0.0.1:{closed_port}" in r.stderr
    assert "gave up after 4 attempts" in r.stderr
    assert clock.sleeps == approx(list(RETRY_DELAYS_S))


def test_cli_refused_token_exit_2(broker: Receiver, tmp_path: Path) -> None:
    path = write_csv(tmp_path, recording(["a1"], 3))
    r = cli(SleepClock(W0), str(path), "--party", "ru", "--token", "wrong", "--url", broker.url)
    assert r.exit_code == 2
    assert "party ru: the broker refused the token (401: unknown token)" in r.stderr
    assert broker.asked == ["wrong"] and broker.received == []  # refused before any state was sent


# ------------------------------------------------------------------- whose token: GET /v1/me first


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--party", "us", "--token", "dcf_ru"], ("--party us", "ru's")),
        (["--parties-by-hash", "ru,us", "--token", "ru=dcf_ru,us=dcf_ru"], ("--party us", "ru's")),
    ],
)
def test_cli_a_token_of_another_party_is_refused_before_sending(
    broker: Receiver, tmp_path: Path, args: list[str], names: tuple[str, ...]
) -> None:
    path = write_csv(tmp_path, recording(["a1", "a2"], 3))
    r = cli(SleepClock(W0), str(path), *args, "--url", broker.url)
    assert r.exit_code == 2, r.output
    (line,) = r.stderr.strip().splitlines()
    assert all(n in line for n in names), line
    assert broker.received == []


def test_cli_a_server_that_does_not_say_whose_token_is_not_a_broker(broker: Receiver, tmp_path: Path) -> None:
    broker.me = lambda token: (404, {"detail": "Not Found"})
    path = write_csv(tmp_path, recording(["a1"], 3))
    r = cli(SleepClock(W0), str(path), "--party", "ru", "--token", "dcf_ru", "--url", broker.url)
    assert r.exit_code == 2
    assert "/v1/me answered HTTP 404" in r.stderr and "is this a deconflict broker?" in r.stderr
    assert broker.received == []


def test_cli_against_a_real_broker_replays_only_as_the_token_s_party(api: Any, tmp_path: Path) -> None:
    """`replay --party us-af --token <ru-vks token>` would file ru-vks's aircraft as ru-vks."""
    path = write_csv(tmp_path, recording(["a1", "a2"], 3))
    ru = api.tokens["ru-vks"]
    r = cli(SleepClock(api.clock() - 10), str(path), "--party", "us-af", "--token", ru, "--url", api.url)
    assert r.exit_code == 2, r.output
    assert "--party us-af: the token given for us-af is ru-vks's" in r.stderr
    assert api.as_("root").get("/v1/tracks").json() == []  # nothing reached the broker
    r = cli(SleepClock(api.clock() - 10), str(path), "--party", "ru-vks", "--token", ru, "--url", api.url, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accepted"] > 0
