"""Our tactical detection against BlueSky's own, on the same states.

BlueSky 1.1.1 (``bluesky-simulator``, pinned in the ``test`` extra) is imported headlessly: its
``StateBased.detect`` reads only plain arrays from the two traffic objects it is given, so light
namespaces with ``lat lon alt gs trk vs ntraf id`` stand in for its ``Traffic``. Its geo functions
must be the pure-Python ones (``settings.prefer_compiled`` is off by default): the compiled ones
mirror bearings when ownship and intruder are the same arrays in this release; copies are passed
anyway.

- The numpy detector (``StateBased``) must report the same pairs as :func:`detect` with
  ``all_pairs=True`` (BlueSky knows no parties): ``confpairs ∪ lospairs`` against our rows, and
  ``lospairs`` against our ``los`` flag, except pairs within the documented tolerance of a threshold
  (one decision within a relative 1e-9 of it; ``docs/tactical.md``) and level pairs at the vertical
  minimum (|Δvs| < 1e-6 m/s and |Δalt| within 1 µm below to 1e-6 m/s × look-ahead above it): it
  reports them, we count adjacent flight levels as separated. Its times and distances must match
  ours too.
- The C++ detector (``cstatebased``) differs from the numpy one in a few stated ways
  (``docs/tactical.md``): it takes a relative vertical speed below 1e-6 m/s as zero, so a level
  pair at or within 1e-6 m/s × look-ahead beyond the vertical minimum is clear for it; it divides
  by a zero relative speed (a pair in formation is lost); it does not wrap longitudes; it lists as
  LoS only pairs also in conflict. Every pair it disagrees on must be one of these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from deconflict.domain.tactical import Conflicts, States, TacticalPolicy, detect

# BlueSky 1.1.1 builds np.matrix objects; that is its business, not a fault of ours
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
POLICY = TacticalPolicy(all_pairs=True)
TOLERANCE = 1e-9
Detector = Callable[..., tuple[Any, ...]]


@dataclass(frozen=True)
class BlueSky:
    numpy_detect: Detector
    cpp_detect: Detector | None


@pytest.fixture(scope="module")
def bluesky() -> BlueSky:
    try:
        from bluesky.tools import geo
        from bluesky.traffic.asas.statebased import StateBased
    except ImportError as e:  # the comparison is the point of this test: never skip it
        pytest.fail(
            f"BlueSky cannot be imported ({e}); install the test extra: pip install -e '.[test]' "
            "(it pins bluesky-simulator==1.1.1)"
        )
    assert geo.kwikqdrdist_matrix.__module__ == "bluesky.tools.geo._geo", "BlueSky must use its pure-Python geo"
    try:
        from bluesky.traffic.asas import cstatebased

        cpp: Detector | None = cstatebased.detect
    except ImportError:
        cpp = None

    def numpy_detect(*args: Any) -> tuple[Any, ...]:
        # an unbound call: detect() reads nothing from self
        return tuple(StateBased.detect(None, *args))

    return BlueSky(numpy_detect, cpp)


@dataclass(frozen=True)
class Reported:
    conflicts: set[tuple[int, int]]
    los: set[tuple[int, int]]
    values: dict[tuple[int, int], tuple[float, float, float, float]]
    """(i, j) as BlueSky ordered it → (dist, dcpa, tcpa, tin)."""


def run(detector: Detector, s: States, p: TacticalPolicy) -> Reported:
    n = len(s)

    def traffic() -> SimpleNamespace:
        return SimpleNamespace(
            lat=s.lat.copy(),
            lon=s.lon.copy(),
            alt=s.alt_m.copy(),
            gs=s.gs_mps.copy(),
            trk=s.trk_deg.copy(),
            vs=s.vs_mps.copy(),
            ntraf=n,
            id=list(range(n)),
        )

    out = detector(traffic(), traffic(), np.full(n, p.rpz_m), np.full(n, p.hpz_m), np.full(n, p.lookahead_s))
    confpairs, lospairs = out[0], out[1]
    dist, dcpa, tcpa, tin = (np.asarray(x, dtype=float) for x in out[5:9])
    values = {(int(a), int(b)): (dist[k], dcpa[k], tcpa[k], tin[k]) for k, (a, b) in enumerate(confpairs)}
    unordered = {(min(a, b), max(a, b)) for a, b in confpairs}
    return Reported(unordered, {(min(a, b), max(a, b)) for a, b in lospairs}, values)


@dataclass(frozen=True)
class Pair:
    """The decision quantities of one pair, j relative to i (numpy, BlueSky's formulas)."""

    margin: float
    dalt: float
    dvs: float
    dv2: float


def pair(s: States, i: int, j: int, p: TacticalPolicy) -> Pair:
    r, h, look = p.rpz_m, p.hpz_m, p.lookahead_s
    dlon = math.radians((s.lon[j] - s.lon[i] + 180) % 360 - 180)
    dx = 6371000.0 * dlon * math.cos(math.radians(s.lat[i] + s.lat[j]) / 2)
    dy = 6371000.0 * math.radians(s.lat[j] - s.lat[i])
    t1, t2 = math.radians(s.trk_deg[i]), math.radians(s.trk_deg[j])
    du = s.gs_mps[j] * math.sin(t2) - s.gs_mps[i] * math.sin(t1)
    dv = s.gs_mps[j] * math.cos(t2) - s.gs_mps[i] * math.cos(t1)
    raw = du * du + dv * dv
    dv2 = max(raw, 1e-6)
    tcpa = -(du * dx + dv * dy) / dv2
    d2 = dx * dx + dy * dy
    dcpa2 = abs(d2 - tcpa * tcpa * dv2)
    dalt = float(s.alt_m[j] - s.alt_m[i])
    dvs = float(s.vs_mps[j] - s.vs_mps[i])
    margins = [abs(dcpa2 - r * r) / (r * r), abs(math.sqrt(d2) - r) / r, abs(abs(dalt) - h) / h]
    if dcpa2 < r * r:
        dt = math.sqrt(r * r - dcpa2) / math.sqrt(dv2)
        rate = dvs if abs(dvs) >= 1e-6 else 1e-6
        for z in (dalt, -dalt) if abs(dvs) < 1e-6 else (dalt,):
            a, b = (z + h) / -rate, (z - h) / -rate
            t_in, t_out = max(min(a, b), tcpa - dt), min(max(a, b), tcpa + dt)
            size = max(1.0, abs(t_in), abs(t_out), look)
            margins += [abs(t_in - t_out) / size, abs(t_out) / size, abs(t_in - look) / size]
    return Pair(min(margins), dalt, dvs, raw)


def traffic(
    seed: int,
    n: int,
    lat: tuple[float, float],
    lon: tuple[float, float],
    *,
    on_levels: bool = False,
    still: float = 0.0,
    twins: int = 0,
    wrap: bool = False,
) -> States:
    """n aircraft, uniform in a lat/lon box, 100-280 m/s, mostly level; ``on_levels`` puts 70 % of
    them exactly on flight levels (vertical gaps of exactly 1000 ft), ``still`` is the share at zero
    speed, ``twins`` copies that many aircraft's whole state onto others (formation, same place)."""
    rng = np.random.default_rng(seed)
    fl = rng.integers(10, 44, n) * 1000 * 0.3048  # FL100 to FL430, 1000 ft apart
    jitter = 0.0 if on_levels else rng.normal(0, 15, n)
    alt = np.where(rng.random(n) < 0.7, fl + jitter, rng.uniform(0, 13_000, n))
    gs = rng.uniform(100, 280, n) * (rng.random(n) >= still)
    vs = np.where(rng.random(n) < 0.8, 0.0, rng.normal(0, 8, n))
    cols = [rng.uniform(*lat, n), rng.uniform(*lon, n), alt, gs, rng.uniform(0, 360, n), vs]
    if twins:
        src, dst = rng.choice(n, size=(2, twins), replace=False)
        for c in cols:
            c[dst] = c[src]
    la, lo, al, g, t, v = cols
    if wrap:
        lo = (lo + 180) % 360 - 180
    return States.from_arrays(lat=la, lon=lo, alt_m=al, gs_mps=g, trk_deg=t, vs_mps=v)


SCENARIOS = {
    # 2000 aircraft over about 330 × 280 km of western Europe
    "regional": lambda: traffic(1, 2000, (49.0, 52.0), (2.0, 6.0)),
    # 600 aircraft straddling the antimeridian (longitudes wrapped to [-180, 180))
    "antimeridian": lambda: traffic(2, 600, (-3.0, 3.0), (177.0, 183.0), wrap=True),
    # 800 aircraft between 80° and 85° N, where the flat earth is at its worst
    "polar": lambda: traffic(3, 800, (80.0, 85.0), (0.0, 30.0)),
    # 1000 aircraft crowded into ~110 × 70 km, exactly on flight levels, 20 % standing still, 60 twins
    "crowded": lambda: traffic(4, 1000, (50.0, 51.0), (3.0, 4.0), on_levels=True, still=0.2, twins=60),
    # 300 aircraft in 22 × 22 km, small minima (1 NM, 100 m) and look-ahead (60 s)
    "small": lambda: traffic(5, 300, (10.0, 10.2), (20.0, 20.2)),
}


def level_at_minimum(d: Pair, p: TacticalPolicy) -> bool:
    """A pair level relative to each other at the vertical minimum (within 1 µm below it, or
    closing at BlueSky's 1e-6 m/s floor within the look-ahead above it)."""
    gap = abs(d.dalt) - p.hpz_m
    return abs(d.dvs) < 1e-6 and -1e-6 <= gap <= 1e-6 * p.lookahead_s + 1e-9


def policy_for(name: str) -> TacticalPolicy:
    return TacticalPolicy(rpz_m=1852.0, hpz_m=100.0, lookahead_s=60.0, all_pairs=True) if name == "small" else POLICY


def rows(c: Conflicts) -> dict[tuple[int, int], int]:
    return {pair: k for k, pair in enumerate(zip(c.i.tolist(), c.j.tolist(), strict=True))}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_pairs_as_bluesky_statebased(bluesky: BlueSky, name: str) -> None:
    s, p = SCENARIOS[name](), policy_for(name)
    ours = detect(s, p)
    theirs = run(bluesky.numpy_detect, s, p)
    mine = rows(ours)
    ours_los = {q for q, k in mine.items() if ours.los[k]}
    assert len(mine) > 20, "the scenario should produce conflicts"
    level = 0
    for q in set(mine) ^ (theirs.conflicts | theirs.los):
        d = pair(s, *q, p)
        if level_at_minimum(d, p):
            level += 1
            assert q not in mine  # BlueSky reports it; adjacent levels are separated for us
            continue
        assert d.margin < TOLERANCE, (name, q, q in mine, d)
    for q in ours_los ^ theirs.los:
        d = pair(s, *q, p)
        assert level_at_minimum(d, p) or d.margin < TOLERANCE, (name, q, "los", d)
    if name == "crowded":  # built on flight levels: the difference must show, and only there
        assert level > 0
    # the numbers behind each conflict: BlueSky lists (i, j) and (j, i); ours is (i, j), i < j, in
    # the orientation that conflicts (i's view first)
    for q, k in mine.items():
        got = theirs.values.get(q) or theirs.values.get((q[1], q[0]))
        if got is None:  # a LoS-only row, or a tie
            continue
        dist, dcpa, tcpa, tin = got
        assert float(ours.dist_m[k]) == pytest.approx(dist, rel=1e-9)
        assert float(ours.dcpa_m[k]) == pytest.approx(dcpa, rel=1e-6, abs=1e-3)
        assert float(ours.tcpa_s[k]) == pytest.approx(tcpa, rel=1e-6, abs=1e-6)
        if q in theirs.values:
            assert float(ours.tin_s[k]) == pytest.approx(tin, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", ["regional", "polar", "crowded", "small"])
def test_same_pairs_as_bluesky_cpp_but_for_its_stated_differences(bluesky: BlueSky, name: str) -> None:
    if bluesky.cpp_detect is None:
        pytest.skip("BlueSky's C++ detector (cstatebased) is not built for this platform")
    s, p = SCENARIOS[name](), policy_for(name)
    ours = detect(s, p)
    mine = rows(ours)
    conflicts = set(mine)  # its lospairs are a subset of its confpairs; our LoS rows are conflicts too
    theirs = run(bluesky.cpp_detect, s, p)
    explained = {"tie": 0, "level at the vertical minimum": 0, "zero relative speed": 0}
    for q in conflicts ^ theirs.conflicts:
        d = pair(s, *q, p)
        if level_at_minimum(d, p):
            explained["level at the vertical minimum"] += 1
        elif d.dv2 < 1e-6:
            explained["zero relative speed"] += 1
            assert q in conflicts
        elif d.margin < TOLERANCE:
            explained["tie"] += 1
        else:
            pytest.fail(f"{name}: C++ and deconflict disagree on {q} for no stated reason: {d}")
    if name == "crowded":  # the crowd is built to show both differences
        assert explained["level at the vertical minimum"] > 0 and explained["zero relative speed"] > 0
    else:
        assert sum(explained.values()) == explained["tie"]
