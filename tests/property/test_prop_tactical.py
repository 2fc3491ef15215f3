"""The broad phase never drops a pair: ``detect`` equals ``detect_all_pairs`` exactly, and both equal a
scalar brute-force oracle.

Traffic is drawn anywhere on the globe: dense clusters (many aircraft within a few nautical miles),
clusters straddling the antimeridian, clusters near the poles (to ±85°, and to ±90° for the
broad-phase equality alone), aircraft spread over a few hundred kilometres, zero speeds, identical
positions, altitudes on the flight-level grid (so vertical gaps of exactly 1000 ft), odd minima.

The oracle is written here from the definitions in ``docs/tactical.md``, with plain ``math`` per
pair and different algebra from the engine (the horizontal interval from the roots of
``|p + w·t|² = R²``), so the two agree except within rounding of a threshold: a pair they disagree
on must have one of its decisions within a relative 1e-9 of its threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deconflict.domain.tactical as tactical
from deconflict.domain.tactical import Conflicts, States, TacticalPolicy, detect, detect_all_pairs

RE = 6371000.0
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Verdict:
    conflict: bool
    los: bool
    margin: float
    """How close the nearest decision came to its threshold (relative); tiny only at a tie."""
    dcpa_m: float
    dist_m: float


def oracle(s: States, i: int, j: int, p: TacticalPolicy) -> Verdict:
    """BlueSky's state-based test for one pair, j relative to i, in plain floats; a pair level
    relative to each other is in vertical conflict only while |Δalt| < H (our one difference)."""
    r, h, look = p.rpz_m, p.hpz_m, p.lookahead_s
    lat1, lon1, lat2, lon2 = float(s.lat[i]), float(s.lon[i]), float(s.lat[j]), float(s.lon[j])
    dlon = (lon2 - lon1 + 180.0) % 360.0 - 180.0
    scale = math.cos(math.radians((lat1 + lat2) / 2))
    px, py = RE * math.radians(dlon) * scale, RE * math.radians(lat2 - lat1)
    t1, t2 = math.radians(float(s.trk_deg[i])), math.radians(float(s.trk_deg[j]))
    g1, g2 = float(s.gs_mps[i]), float(s.gs_mps[j])
    wx, wy = g2 * math.sin(t2) - g1 * math.sin(t1), g2 * math.cos(t2) - g1 * math.cos(t1)
    w2 = max(wx * wx + wy * wy, 1e-6)  # BlueSky's floor
    pw = px * wx + py * wy
    p2 = px * px + py * py
    # inside the minimum while p2 + 2·pw·t + w2·t² < R²
    disc = pw * pw - w2 * (p2 - r * r)
    margins = [abs(disc) / (pw * pw + w2 * (p2 + r * r))]
    dist = math.sqrt(p2)
    z = float(s.alt_m[j]) - float(s.alt_m[i])
    rate = float(s.vs_mps[j]) - float(s.vs_mps[i])
    los = dist < r and abs(z) < h - 1e-6
    margins += [abs(dist - r) / r, abs(abs(z) - h) / h]
    conflict = False
    if disc > 0:
        root = math.sqrt(disc)
        h_in, h_out = (-pw - root) / w2, (-pw + root) / w2
        if abs(rate) >= 1e-6:
            a, b = (-h - z) / rate, (h - z) / rate
            v_in, v_out = min(a, b), max(a, b)
        else:  # level relative to each other: inside for all time, or never
            v_in, v_out = (-math.inf, math.inf) if abs(z) < h - 1e-6 else (math.inf, -math.inf)
        t_in, t_out = max(h_in, v_in), min(h_out, v_out)
        conflict = t_in <= t_out and t_out > 0 and t_in < look
        size = max(1.0, *(abs(x) for x in (t_in, t_out) if math.isfinite(x)), look)
        margins += [abs(t_in - t_out) / size, abs(t_out) / size, abs(t_in - look) / size]
    dcpa = math.sqrt(max(0.0, p2 - pw * pw / w2))
    return Verdict(conflict, los, min(margins), dcpa, dist)


def same(a: Conflicts, b: Conflicts) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(Conflicts))


@st.composite
def scenarios(draw: st.DrawFn, max_n: int = 40, max_lat: float = 85.0) -> tuple[States, TacticalPolicy]:
    n = draw(st.integers(0, max_n))
    kind = draw(st.sampled_from(["dense", "antimeridian", "polar", "spread"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "polar":
        lat0 = draw(st.sampled_from([-1, 1])) * draw(st.floats(75.0, max_lat))
    else:
        lat0 = draw(st.floats(-60.0, 60.0))
    lon0 = 180.0 if kind == "antimeridian" else draw(st.floats(-180.0, 180.0))
    across = {"dense": 0.15, "antimeridian": 0.3, "polar": 1.0, "spread": 3.0}[kind]
    lat = np.clip(lat0 + rng.uniform(-across, across, n), -max_lat, max_lat)
    lon = lon0 + rng.uniform(-across, across, n) / max(math.cos(math.radians(lat0)), 0.05)
    lon = (lon + 180.0) % 360.0 - 180.0 if draw(st.booleans()) else lon  # any longitude, wrapped or not
    on_levels = draw(st.booleans())
    alt = rng.integers(300, 340, n) * 30.48 if on_levels else rng.uniform(8000.0, 12000.0, n)
    gs = rng.uniform(0.0, 300.0, n) * (rng.random(n) > draw(st.floats(0, 1)))  # some at zero speed
    trk = rng.uniform(0.0, 360.0, n)
    vs = rng.normal(0.0, 10.0, n) * (rng.random(n) < draw(st.floats(0, 1)))  # most level
    if n > 1 and draw(st.booleans()):  # identical positions (and sometimes identical states)
        src = rng.integers(0, n, n // 3)
        dst = rng.integers(0, n, n // 3)
        for col in (lat, lon, alt) + ((gs, trk, vs) if draw(st.booleans()) else ()):
            col[dst] = col[src]
    group = draw(st.none() | st.just(rng.integers(0, 3, n)))
    policy = TacticalPolicy(
        rpz_m=draw(st.sampled_from([9260.0, 1852.0, 30_000.0])),
        hpz_m=draw(st.sampled_from([304.8, 30.48, 600.0])),
        lookahead_s=draw(st.sampled_from([300.0, 60.0, 900.0])),
        all_pairs=draw(st.booleans()),
    )
    states = States.from_arrays(lat=lat, lon=lon, alt_m=alt, gs_mps=gs, trk_deg=trk, vs_mps=vs, group=group)
    return states, policy


@given(scenarios())
@settings(max_examples=250, deadline=None)
def test_detect_equals_all_pairs_and_the_oracle(scenario: tuple[States, TacticalPolicy]) -> None:
    s, p = scenario
    found = detect(s, p)
    assert same(found, detect_all_pairs(s, p))
    assert (np.diff(found.i * max(len(s), 1) + found.j) > 0).all() and (found.i < found.j).all()
    rows = {pair: k for k, pair in enumerate(zip(found.i.tolist(), found.j.tolist(), strict=True))}
    for i in range(len(s)):
        for j in range(i + 1, len(s)):
            if s.group is not None and not p.all_pairs and s.group[i] == s.group[j]:
                assert (i, j) not in rows
                continue
            v = oracle(s, i, j, p)
            k = rows.get((i, j))
            if (k is not None) != (v.conflict or v.los) or (k is not None and bool(found.los[k]) != v.los):
                assert v.margin < TOLERANCE, (i, j, v, k)
            if k is not None:
                assert float(found.dist_m[k]) == pytest.approx(v.dist_m, rel=1e-9, abs=1e-6)
                assert float(found.dcpa_m[k]) == pytest.approx(v.dcpa_m, rel=1e-6, abs=1e-2)


@given(scenarios(max_n=400, max_lat=90.0))
@settings(max_examples=60, deadline=None)
def test_the_broad_phase_keeps_every_pair_in_crowds_and_at_the_poles(scenario: tuple[States, TacticalPolicy]) -> None:
    s, p = scenario
    assert same(detect(s, p), detect_all_pairs(s, p))


@given(scenarios(max_n=120), st.integers(1, 50))
@settings(max_examples=40, deadline=None)
def test_chunking_does_not_change_the_result(scenario: tuple[States, TacticalPolicy], chunk: int) -> None:
    s, p = scenario
    whole = detect(s, p)
    saved = tactical.CHUNK_PAIRS
    tactical.CHUNK_PAIRS = chunk
    try:
        assert same(detect(s, p), whole)
        assert same(detect_all_pairs(s, p), whole)
    finally:
        tactical.CHUNK_PAIRS = saved


@given(st.integers(2, 60), st.integers(0, 2**32 - 1), st.floats(0.0, 5000.0))
@settings(max_examples=40, deadline=None)
def test_very_fast_aircraft_still_agree(n: int, seed: int, top_speed: float) -> None:
    # speeds far beyond aircraft make the swept boxes wrap round the parallel: polar rows everywhere
    rng = np.random.default_rng(seed)
    s = States.from_arrays(
        lat=rng.uniform(-70, 70, n),
        lon=rng.uniform(-180, 180, n),
        alt_m=rng.uniform(0, 2000, n),
        gs_mps=rng.uniform(0, top_speed, n),
        trk_deg=rng.uniform(0, 360, n),
        vs_mps=rng.normal(0, 5, n),
    )
    p = TacticalPolicy(rpz_m=200_000.0, hpz_m=1000.0, lookahead_s=3600.0)
    assert same(detect(s, p), detect_all_pairs(s, p))
