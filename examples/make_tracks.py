"""Make the example track files: a states snapshot for ``deconflict detect`` and a two-minute
recording for ``deconflict replay``, over the demo theater (Syria, 30 September 2015, between Hama
and Latamneh, where the demo's Russian notice ``vks-latamneh`` meets the coalition's ISR orbit
``coalition-isr-west``).

    python examples/make_tracks.py [OUTDIR]      # default: the folder of this script

Writes ``tracks-2015-09-30.csv`` (the recording: ``time,id,lat,lon,alt_m,alt_ref,gs_mps,trk_deg,
vs_mps,callsign``, every aircraft every 10 s from 07:29 to 07:31 UTC) and ``states-2015-09-30.csv``
(the snapshot at 07:30:00: ``id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,party``). Both are made with
the broker's own code: positions from its WGS84 geodesy (``deconflict.domain.geodesy``), read
back with its CSV readers, checked with its tactical engine, and the aircraft addresses chosen so
that ``replay --parties-by-hash ru-vks,coalition`` gives each aircraft to its own party
(``deconflict.clients.replay.party_of``). The output is the same on every run; a test checks
that the committed files are what this script makes.

The traffic is invented and simple (straight, level lines), placed on the theater's public
geography; it shows how the broker keeps aircraft apart and contains no targets:

- RFF9131 and RFF9132 (``ru-vks``): a pair heading north-west past Hama, the wingman 2 km behind
  and 200 m below the lead (6 500 and 6 300 m). Same party: with a party column they are never a
  conflict, however close; without one they are already in loss of separation.
- FORTE12 (``coalition``): an ISR aircraft heading north-east at 6 700 m, crossing the pair's path:
  it passes about 1.2 km from RFF9131 some 150 s after the snapshot, 200 m above it. The one
  cross-party conflict (the wingman passes 400 m below it: clear by more than 1000 ft).
- RFF7101 (``ru-vks``): a transport leaving Bassel al-Assad (Latakia) eastwards at 3 000 m.
- RCH401 (``coalition``): a transport northbound near Raqqa at 9 500 m.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deconflict.adapters.feeds.csv_states import read_recording_csv, read_snapshot
from deconflict.clients.replay import party_of
from deconflict.domain import tactical
from deconflict.domain.geodesy import destination
from deconflict.domain.times import format_time, parse_time

PARTIES = ("ru-vks", "coalition")
"""In the order ``replay --parties-by-hash ru-vks,coalition`` names them."""
SNAPSHOT_AT = parse_time("2015-09-30T07:30:00Z", "snapshot")
RECORDING_S = (-60, 60, 10)
"""The recording: from a minute before the snapshot to a minute after, every 10 s."""
RECORDING = "tracks-2015-09-30.csv"
SNAPSHOT = "states-2015-09-30.csv"

MEET = (35.245, 36.700)
"""Between Hama and Latamneh: where the coalition's ISR track crosses the Russian pair's."""
TCPA_S = 150.0
"""When, after the snapshot, FORTE12 passes closest to RFF9131."""
MISS_M = 1500.0
"""How far apart they pass: inside 5 NM horizontally, 200 m apart vertically (inside 1000 ft)."""


@dataclass(frozen=True)
class Aircraft:
    callsign: str
    party: str
    first_address: int
    """The ICAO-style address to start from; the next one that hashes to ``party`` is used."""
    lat: float
    lon: float
    """Where it is at the snapshot."""
    alt_m: float
    gs_mps: float
    trk_deg: float

    def address(self) -> str:
        """The first address from ``first_address`` up that ``--parties-by-hash`` gives to ``party``."""
        for n in range(self.first_address, self.first_address + 1000):
            a = f"{n:06x}"
            if party_of(a, PARTIES) == self.party:
                return a
        raise AssertionError(f"no address near {self.first_address:06x} hashes to {self.party}")

    def at(self, dt_s: float) -> tuple[float, float]:
        """Position ``dt_s`` seconds after the snapshot, flying straight along the geodesic."""
        azimuth = self.trk_deg + (180.0 if dt_s < 0 else 0.0)
        lat, lon = destination(self.lat, self.lon, np.array([azimuth]), abs(dt_s) * self.gs_mps)
        return float(lat[0]), float(lon[0])


def _before(lat: float, lon: float, trk_deg: float, seconds: float, gs_mps: float) -> tuple[float, float]:
    """Where an aircraft on ``trk_deg`` at ``gs_mps`` is ``seconds`` before reaching (lat, lon)."""
    la, lo = destination(lat, lon, np.array([trk_deg + 180.0]), seconds * gs_mps)
    return float(la[0]), float(lo[0])


def fleet() -> list[Aircraft]:
    lead = _before(*MEET, 330.0, TCPA_S, 220.0)
    wing = destination(lead[0], lead[1], np.array([330.0 + 180.0]), 2000.0)
    # FORTE12 crosses MISS_M to the side of the meeting point (south-east of it, across the pair's track)
    aside = destination(MEET[0], MEET[1], np.array([330.0 + 90.0]), MISS_M)
    forte = _before(float(aside[0][0]), float(aside[1][0]), 60.0, TCPA_S, 170.0)
    latakia = (35.401, 35.949)  # Bassel al-Assad airport (OSLK)
    raqqa = (35.950, 39.010)
    return [
        Aircraft("RFF9131", "ru-vks", 0x154A10, *lead, 6500.0, 220.0, 330.0),
        Aircraft("RFF9132", "ru-vks", 0x154A20, float(wing[0][0]), float(wing[1][0]), 6300.0, 220.0, 330.0),
        Aircraft("FORTE12", "coalition", 0xAE1F10, *forte, 6700.0, 170.0, 60.0),
        Aircraft("RFF7101", "ru-vks", 0x154B30, latakia[0], latakia[1] + 0.25, 3000.0, 150.0, 90.0),
        Aircraft("RCH401", "coalition", 0xAE5C40, raqqa[0] - 0.5, raqqa[1] - 0.3, 9500.0, 230.0, 5.0),
    ]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def recording_text(aircraft: list[Aircraft]) -> str:
    rows = [["time", "id", "lat", "lon", "alt_m", "alt_ref", "gs_mps", "trk_deg", "vs_mps", "callsign"]]
    start, stop, step = RECORDING_S
    for dt in range(start, stop + 1, step):
        for a in aircraft:
            lat, lon = a.at(dt)
            rows.append(
                [
                    format_time(SNAPSHOT_AT + dt),
                    a.address(),
                    f"{lat:.5f}",
                    f"{lon:.5f}",
                    f"{a.alt_m:.0f}",
                    "STD",
                    f"{a.gs_mps:.1f}",
                    f"{a.trk_deg:.1f}",
                    "0.0",
                    a.callsign,
                ]
            )
    return _csv(rows)


def snapshot_text(aircraft: list[Aircraft]) -> str:
    rows = [["id", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps", "party"]]
    for a in aircraft:
        lat, lon = a.at(0.0)
        velocity = [f"{a.gs_mps:.1f}", f"{a.trk_deg:.1f}", "0.0"]
        rows.append([a.address(), f"{lat:.5f}", f"{lon:.5f}", f"{a.alt_m:.0f}", *velocity, a.party])
    return _csv(rows)


def check(outdir: Path, aircraft: list[Aircraft]) -> None:
    """Read both files back with the broker's readers and check what they should show."""
    by_callsign = {a.callsign: a.address() for a in aircraft}
    snap = read_snapshot(outdir / SNAPSHOT)
    found = tactical.detect(snap.states(), tactical.TacticalPolicy())
    pairs = {frozenset((snap.ids[i], snap.ids[j])) for i, j in zip(found.i, found.j, strict=True)}
    assert pairs == {frozenset((by_callsign["RFF9131"], by_callsign["FORTE12"]))}, pairs
    everyone = tactical.detect(snap.states(), tactical.TacticalPolicy(all_pairs=True))
    assert len(everyone.i) == 2 and int(everyone.los.sum()) == 1, "without parties the Russian pair counts too"
    recorded = read_recording_csv(outdir / RECORDING)
    assert len({s.aircraft for s in recorded}) == len(aircraft)
    for a in aircraft:
        assert party_of(a.address(), PARTIES) == a.party


def main(argv: list[str]) -> None:
    outdir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    aircraft = fleet()
    (outdir / RECORDING).write_text(recording_text(aircraft), encoding="utf-8")
    (outdir / SNAPSHOT).write_text(snapshot_text(aircraft), encoding="utf-8")
    check(outdir, aircraft)
    print(f"wrote {outdir / SNAPSHOT} and {outdir / RECORDING}")


if __name__ == "__main__":
    main(sys.argv)
