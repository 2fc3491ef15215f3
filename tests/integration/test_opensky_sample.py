"""Real flights: the OpenSky recording that the `traffic` 2.13 wheel ships
(`collections/quickstart.json.gz`, 213 aircraft around Paris on 7 October 2021, one state a
second), fetched from PyPI at test time and read without pandas or `traffic`.

The data is OpenSky Network data for research use: it is downloaded into a cache directory
(`$DECONFLICT_TEST_DATA`, default `~/.cache/deconflict-test-data`) and never committed. Without
network access the tests fail; set `DECONFLICT_SKIP_NETWORK=1` to skip them instead.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from deconflict.adapters.feeds import FeedStats
from deconflict.adapters.feeds.opensky import QUICKSTART, read_opensky, traffic_sample
from deconflict.cli import app
from deconflict.clients.replay import party_of, replay_states
from deconflict.clients.sender import Sender
from deconflict.domain.tracks import MAX_GS_MPS, MAX_VS_MPS, TrackState
from deconflict.domain.volumes import AltitudeReference


@pytest.fixture(scope="module")
def quickstart() -> tuple[list[TrackState], FeedStats]:
    try:
        data = traffic_sample(QUICKSTART)
    except (RuntimeError, OSError) as e:
        if os.environ.get("DECONFLICT_SKIP_NETWORK") == "1":
            pytest.skip(f"DECONFLICT_SKIP_NETWORK=1 and the traffic wheel is not cached ({e})")
        pytest.fail(f"cannot fetch traffic 2.13 from PyPI: {e}; set DECONFLICT_SKIP_NETWORK=1 to skip", pytrace=False)
    stats = FeedStats()
    return read_opensky(data, stats=stats), stats


def test_quickstart_shape(quickstart: tuple[list[TrackState], FeedStats]) -> None:
    states, stats = quickstart
    aircraft = {s.aircraft for s in states}
    assert len(aircraft) == 213
    assert stats.lines == 284_505 and stats.skipped_total == 0  # every row well formed
    assert stats.states == len(states) > 200_000  # the rest are on the ground or lack altitude
    assert set(stats.ignored) <= {"on the ground", "no altitude"}
    times = [s.time for s in states]
    assert times == sorted(times)
    assert 2.9 * 3600 < times[-1] - times[0] <= 3 * 3600
    per_aircraft: dict[str, list[float]] = defaultdict(list)
    for s in states:
        per_aircraft[s.aircraft].append(s.time)
    steps = [b - a for ts in per_aircraft.values() for a, b in itertools.pairwise(ts)]
    assert statistics.median(steps) == 1.0
    assert sum(1 for d in steps if d == 1.0) / len(steps) > 0.99


def test_quickstart_in_si_units(quickstart: tuple[list[TrackState], FeedStats]) -> None:
    states, _ = quickstart
    # around Paris
    assert all(46 < s.lat < 51 and -1 < s.lon < 6 for s in states)
    assert {s.alt_ref for s in states} == {AltitudeReference.STD}
    # feet became metres: airliners cruise below 13 000 m (about FL430); the recording has a few
    # glitches far above (163 states of 6 aircraft, up to 33 km), which a broker refuses
    alts = [s.alt_m for s in states]
    assert min(alts) > -300
    assert sum(1 for a in alts if a > 13_500) / len(alts) < 0.001
    assert len({s.aircraft for s in states if 10_000 < s.alt_m < 13_500}) > 30  # overflights at cruise
    # knots became m/s: below Mach 1, and most states have a velocity
    with_v = [s for s in states if s.gs_mps is not None]
    assert len(with_v) / len(states) > 0.95
    assert max(s.gs_mps for s in with_v if s.gs_mps is not None) < min(340.0, MAX_GS_MPS)
    assert all(0 <= s.trk_deg < 360 for s in with_v if s.trk_deg is not None)
    # ft/min became m/s: airliners climb and descend at under about 30 m/s (6000 ft/min)
    vs = [abs(s.vs_mps) for s in states if s.vs_mps is not None]
    assert max(vs) < MAX_VS_MPS and statistics.quantiles(vs, n=100)[-1] < 30
    # a known row: EgyptAir 799 at 13 650 ft, 325 kt, -896 ft/min
    msr = next(s for s in states if s.aircraft == "0101de" and s.time == 1633608773.0)
    assert msr.callsign == "MSR799"
    assert msr.alt_m == pytest.approx(4160.52)
    assert msr.gs_mps == pytest.approx(167.19, abs=0.01)
    assert msr.vs_mps == pytest.approx(-4.552, abs=0.001)


def test_quickstart_snapshot_through_detect(quickstart: tuple[list[TrackState], FeedStats], tmp_path: Path) -> None:
    """The latest state of every aircraft seen in one 10 s window, split between two parties,
    through `deconflict detect`: the command runs on real traffic and its pairs are well formed."""
    states, _ = quickstart
    t_mid = states[len(states) // 2].time
    latest: dict[str, TrackState] = {}
    for s in states:
        if t_mid - 10 <= s.time <= t_mid and s.gs_mps is not None:
            latest[s.aircraft] = s
    assert len(latest) > 20
    lines = ["id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,party"]
    for s in latest.values():
        party = party_of(s.aircraft, ["ru", "us"])
        lines.append(f"{s.aircraft},{s.lat},{s.lon},{s.alt_m},{s.gs_mps},{s.trk_deg},{s.vs_mps or 0.0},{party}")
    snapshot = tmp_path / "snapshot.csv"
    snapshot.write_text("\n".join(lines) + "\n")
    r = CliRunner().invoke(app, ["detect", str(snapshot), "--json", "--lookahead-s", "600"])
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    assert doc["aircraft"] == len(latest) and doc["all_pairs"] is False
    for p in doc["pairs"]:
        assert p["id_a"] < p["id_b"]
        assert party_of(p["id_a"], ["ru", "us"]) != party_of(p["id_b"], ["ru", "us"])
        assert p["dcpa_m"] < 9260.0
    assert [(p["id_a"], p["id_b"]) for p in doc["pairs"]] == sorted((p["id_a"], p["id_b"]) for p in doc["pairs"])


def test_quickstart_replayed_as_two_parties(quickstart: tuple[list[TrackState], FeedStats]) -> None:
    """One minute of the recording replayed as two parties (into an in-memory broker stand-in):
    every aircraft reported by exactly one party, every state re-stamped to now."""
    states, _ = quickstart
    minute = [s for s in states if s.time < states[0].time + 60]
    got: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def fake_broker(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/me":  # replay asks whose each token is first: tok-ru is ru's
            party = request.headers["Authorization"].removeprefix("Bearer tok-")
            return httpx.Response(200, json={"party": party, "role": "party", "coalition": None})
        body = json.loads(request.content)
        got[request.headers["Authorization"]].extend(body["states"])
        return httpx.Response(200, json={"accepted": len(body["states"]), "rejected": []})

    now = [1_800_000_000.0]

    def sleep(s: float) -> None:
        now[0] += s

    with httpx.Client(transport=httpx.MockTransport(fake_broker)) as client:
        summary = replay_states(
            minute,
            [Sender("ru", "tok-ru"), Sender("us", "tok-us")],
            client=client,
            speed=60.0,
            clock=lambda: now[0],
            sleep=sleep,
        )
    assert summary.total().accepted == len(minute) and summary.batches == 60
    ru = {s["aircraft"] for s in got["Bearer tok-ru"]}
    us = {s["aircraft"] for s in got["Bearer tok-us"]}
    assert ru and us and not ru & us and len(ru | us) == summary.aircraft
    stamps = [s["time"] for states_ in got.values() for s in states_]
    assert min(stamps) >= 1_800_000_000.0 and max(stamps) <= now[0] + 1e-6 < 1_800_000_000.0 + 60 / 60.0 + 1
