"""Tactical conflict detection: straight-line extrapolation of live aircraft, closest point of approach.

The definitions are BlueSky's state-based detection (``bluesky.traffic.asas.statebased``, 1.1.1), so
the two report the same pairs on the same states (``docs/tactical.md``, and a test that runs
BlueSky). For a pair (i, j), with j's position and velocity taken relative to i's:

- Relative position: BlueSky's ``kwikqdrdist`` flat earth around the pair's mean latitude,
  ``dx = Re·Δλ·cos(φ̄)``, ``dy = Re·Δφ``, Re = 6 371 000 m, Δλ wrapped to [-180°, 180°).
- Horizontal: ``tcpa = -(d·v)/|v|²``, ``dcpa² = |d|² - tcpa²·|v|²``; in conflict when
  ``dcpa < R``, inside the minimum from ``t_in = tcpa - √(R² - dcpa²)/|v|`` to ``t_out = tcpa + …``.
  ``|v|²`` below 1e-6 m²/s² is replaced by 1e-6, as BlueSky does.
- Vertical: ``|Δalt + Δvs·t| < H`` from ``t_in_v`` to ``t_out_v`` (linear vertical speeds). A pair
  level relative to each other (``|Δvs|`` below 1e-6 m/s) is inside for all time if ``|Δalt| < H``
  and never otherwise. This is the one place we differ from BlueSky's numpy detector, which takes
  such a pair to close at 1e-6 m/s and so reports level pairs at exactly the vertical minimum
  (adjacent flight levels) and up to 0.3 mm beyond it (see :func:`detect`).
- Conflict: ``dcpa < R`` and ``max(t_in, t_in_v) <= min(t_out, t_out_v)`` and that ``t_out > 0``
  and that ``t_in < look-ahead``: the look-ahead bounds the time of *entering* loss of separation,
  not the time of CPA, and a pair already in loss of separation stays in conflict until it leaves.
- Loss of separation now: ``dist < R`` and ``|Δalt| < H``.

:func:`detect` finds the pairs through a broad phase (rows of latitude × altitude bands, sweep in
longitude over each aircraft's swept path), so a cycle costs about O(n + k); :func:`detect_all_pairs`
is the O(n²) reference. Both run the same exact test, so they return identical results.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from deconflict.domain.geodesy import BoolArray, FloatArray, IntArray
from deconflict.domain.tactical_model import DEFAULT_POLICY, Conflicts, States, TacticalPolicy
from deconflict.domain.units import EARTH_RADIUS_M

__all__ = [
    "CHUNK_PAIRS",
    "DEFAULT_POLICY",
    "EARTH_RADIUS_M",
    "Conflicts",
    "States",
    "TacticalPolicy",
    "detect",
    "detect_all_pairs",
    "in_los",
]

MIN_REL_SPEED2 = 1e-6
"""[m²/s²] BlueSky's floor on the squared relative horizontal speed (avoids dividing by zero)."""
MIN_REL_VS = 1e-6
"""[m/s] Below this relative vertical speed a pair is level relative to each other (BlueSky's floor)."""
LEVEL_EPS_M = 1e-6
"""A vertical gap within 1 µm of the minimum counts as the minimum: altitudes converted from feet
(10 304.8 m − 10 000 m = 304.799 999 999 999 3 m) must not turn adjacent flight levels into a
loss of separation by rounding."""
NO_CONFLICT_IN_S = 1e8
NO_CONFLICT_OUT_S = -1e8
"""BlueSky's horizontal entry/exit times for a pair that never comes within the minimum."""

BROAD_SLACK_REL = 1e-6
BROAD_SLACK_M = 1.0
"""The broad phase widens the minima by this much, far beyond any rounding of the exact test, so
that it never drops a pair the exact test would report."""
CHUNK_PAIRS = 1 << 18
"""Candidate pairs processed at once: the working memory stays at some tens of MB whatever n (a few
dozen temporary arrays of 1-8 bytes a pair)."""
_X_SHIFT_M = 7e7  # makes every (duplicated) longitude coordinate positive before quantizing
_X_BITS = 28  # 2**28 m > 2 × 7e7 m: room for the quantized coordinate under the cell id
_Y_CLAMP_M = 1.2e7  # rows beyond ±108° of "latitude" (fast aircraft near a pole) are merged
_ALT_CLAMP_M = (-2e4, 1e5)  # altitude bands beyond these are merged (always safe: more candidates)


@dataclass(frozen=True)
class _Kinematics:
    """Per-aircraft quantities the exact test and the broad phase share (computed once a cycle)."""

    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    vs: FloatArray
    u: FloatArray  # east speed, m/s (BlueSky: gs·sin(trk))
    v: FloatArray  # north speed, m/s
    group: IntArray | None

    @classmethod
    def of(cls, s: States, policy: TacticalPolicy) -> _Kinematics:
        trk = np.radians(s.trk_deg)
        group = None if policy.all_pairs else s.group
        return cls(s.lat, s.lon, s.alt_m, s.vs_mps, s.gs_mps * np.sin(trk), s.gs_mps * np.cos(trk), group)


def _exact(k: _Kinematics, a: IntArray, b: IntArray, policy: TacticalPolicy) -> Conflicts:
    """BlueSky's state-based test on the pairs (a[m], b[m]), a < b; keeps conflicts and LoS pairs.

    Written as BlueSky writes it (j relative to i, the same floors), so that the two agree to the
    last bits wherever the arithmetic is the same: only the relative position is computed directly
    (``Re·Δλ·cos φ̄``, ``Re·Δφ``) instead of through a bearing and a distance, a difference of a
    few units in the last place.
    """
    r, h, look = policy.rpz_m, policy.hpz_m, policy.lookahead_s
    r2 = r * r
    dlat = np.radians(k.lat[b] - k.lat[a])
    dlon = np.radians((k.lon[b] - k.lon[a] + 180.0) % 360.0 - 180.0)
    cavelat = np.cos(np.radians(k.lat[b] + k.lat[a]) * 0.5)
    dx = EARTH_RADIUS_M * dlon * cavelat
    dy = EARTH_RADIUS_M * dlat
    du = k.u[b] - k.u[a]
    dv = k.v[b] - k.v[a]
    dv2 = du * du + dv * dv
    dv2 = np.where(np.abs(dv2) < MIN_REL_SPEED2, MIN_REL_SPEED2, dv2)
    tcpa = -(du * dx + dv * dy) / dv2
    dist2 = dx * dx + dy * dy
    dcpa2 = np.abs(dist2 - tcpa * tcpa * dv2)
    # The rest only where a conflict (dcpa < R) or a LoS (dist < R) is possible. Every step is
    # element-wise, so a pair's numbers do not depend on which others are computed with it.
    near = np.flatnonzero((dcpa2 < r2) | (dist2 < r2 * (1 + 1e-9)))
    a, b, tcpa, dv2, dist2, dcpa2 = a[near], b[near], tcpa[near], dv2[near], dist2[near], dcpa2[near]
    hor = dcpa2 < r2
    dtin = np.sqrt(np.maximum(0.0, r2 - dcpa2)) / np.sqrt(dv2)
    tin_h = np.where(hor, tcpa - dtin, NO_CONFLICT_IN_S)
    tout_h = np.where(hor, tcpa + dtin, NO_CONFLICT_OUT_S)

    dalt = k.alt[b] - k.alt[a]
    dvs = k.vs[b] - k.vs[a]
    # Aircraft level relative to each other (|Δvs| < 1e-6 m/s) are in vertical conflict for all
    # time if |Δalt| < H and never otherwise: at exactly the minimum (adjacent flight levels) they
    # are separated. BlueSky's numpy detector instead takes such a pair to close at 1e-6 m/s, which
    # reports level pairs up to 0.3 mm beyond the minimum (and, with altitudes converted from feet,
    # about half the pairs at adjacent levels): the one documented difference (docs/tactical.md).
    small = np.abs(dvs) < MIN_REL_VS
    safe_dvs = np.where(small, 1.0, dvs)
    hi = (dalt + h) / -safe_dvs
    lo = (dalt - h) / -safe_dvs
    level_in = np.abs(dalt) < h - LEVEL_EPS_M
    tin_v = np.where(small, np.where(level_in, -np.inf, np.inf), np.minimum(hi, lo))
    tout_v = np.where(small, np.where(level_in, np.inf, -np.inf), np.maximum(hi, lo))
    tin_a = np.maximum(tin_v, tin_h)
    tout_a = np.minimum(tout_v, tout_h)
    conf_a = hor & (tin_a <= tout_a) & (tout_a > 0.0) & (tin_a < look)

    dist = np.sqrt(dist2)
    los = (dist < r) & (np.abs(dalt) < h - LEVEL_EPS_M)
    keep = np.flatnonzero(conf_a | los)
    return Conflicts(
        i=a[keep],
        j=b[keep],
        tcpa_s=tcpa[keep],
        dcpa_m=np.sqrt(dcpa2[keep]),
        tin_s=tin_a[keep],
        tout_s=tout_a[keep],
        dist_m=dist[keep],
        dalt_m=-dalt[keep],
        los=los[keep],
    )


def _other_party(k: _Kinematics, a: IntArray, b: IntArray) -> BoolArray:
    if k.group is None:
        return np.ones(len(a), dtype=bool)
    return np.asarray(k.group[a] != k.group[b])


def detect_all_pairs(states: States, policy: TacticalPolicy = DEFAULT_POLICY) -> Conflicts:
    """Every pair tested, O(n²) time, memory bounded by chunks: the reference for :func:`detect`.

    >>> s = States.from_arrays(lat=[0, 0], lon=[0, 0.5], alt_m=[1e4, 1e4], gs_mps=[200, 200],
    ...                        trk_deg=[90, 270], vs_mps=[0, 0])
    >>> detect_all_pairs(s).pairs()
    {(0, 1)}
    """
    n = len(states)
    k = _Kinematics.of(states, policy)
    parts: list[Conflicts] = []
    start = 0
    while start < n - 1:
        # rows start..stop-1 against every later row: (n-1-start) + ... pairs, at most CHUNK_PAIRS
        # unless a single row alone is longer
        stop = start + 1
        total = n - 1 - start
        while stop < n - 1 and total + (n - 1 - stop) <= CHUNK_PAIRS:
            total += n - 1 - stop
            stop += 1
        rows = np.arange(start, stop, dtype=np.int64)
        counts = n - 1 - rows
        a = np.repeat(rows, counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        b = a + 1 + (np.arange(len(a), dtype=np.int64) - first)
        keep = _other_party(k, a, b)
        parts.append(_exact(k, a[keep], b[keep], policy))
        start = stop
    return Conflicts.concat(parts)


def detect(states: States, policy: TacticalPolicy = DEFAULT_POLICY) -> Conflicts:
    """Pairs in conflict within the look-ahead, or already in loss of separation (``los``).

    Returns every pair that is in conflict *or* in loss of separation now. In exact arithmetic a pair
    in loss of separation is always in conflict (its entry time is ≤ 0 < its exit time); BlueSky
    reports the two sets separately (``confpairs``, ``lospairs``), and this union holds both. Same
    result as :func:`detect_all_pairs`, row for row, at about O(n + k) cost.

    Head-on at the same level, 0.5° of longitude (55.6 km) apart, closing at 400 m/s:

    >>> s = States.from_arrays(lat=[0, 0], lon=[0, 0.5], alt_m=[1e4, 1e4], gs_mps=[200, 200],
    ...                        trk_deg=[90, 270], vs_mps=[0, 0])
    >>> c = detect(s)
    >>> c.pairs(), round(float(c.tcpa_s[0]), 1), round(float(c.tin_s[0]), 1), bool(c.los[0])
    ({(0, 1)}, 139.0, 115.8, False)

    Level aircraft exactly at the vertical minimum (adjacent flight levels) are separated, not in
    conflict: a pair whose vertical speeds differ by less than 1e-6 m/s is in vertical conflict
    only while ``|Δalt| < H``. (BlueSky's numpy detector takes such a pair to close at 1e-6 m/s
    and reports it when its horizontal paths conflict, also up to 0.3 mm beyond the minimum; with
    altitudes converted from feet that is about half the pairs at adjacent levels, which would be
    alerts on standard separation.)
    """
    k = _Kinematics.of(states, policy)
    parts: list[Conflicts] = []
    seam: list[tuple[IntArray, IntArray]] = []
    for a, b, across_seam in _candidates(states, k, policy):
        parts.append(_exact(k, a[~across_seam], b[~across_seam], policy))
        if across_seam.any():
            seam.append((a[across_seam], b[across_seam]))
    if seam:
        # a pair near the antimeridian can be found from both sides of it: test it once
        n = len(states)
        key = np.unique(np.concatenate([a * n + b for a, b in seam]))
        parts.append(_exact(k, key // n, key % n, policy))
    return Conflicts.concat(parts)


def in_los(states: States, policy: TacticalPolicy = DEFAULT_POLICY) -> Conflicts:
    """Only the pairs already in loss of separation (BlueSky's ``lospairs``)."""
    c = detect(states, policy)
    return c.take(c.los)


def _candidates(
    states: States, k: _Kinematics, policy: TacticalPolicy
) -> Iterator[tuple[IntArray, IntArray, BoolArray]]:
    """Pairs (a < b) that might be in conflict or LoS, in chunks; a superset of the exact test's.

    Each aircraft's swept box over the look-ahead, widened by half the (slightly enlarged) minima:
    latitude as metres ``Y = Re·φ`` plus the north speed × t; altitude plus vs × t; longitude as
    metres at a scale ``c_r`` per latitude row. The exact test can only report a pair if, at some
    t in [0, look-ahead], |dx(t)|, |dy(t)| ≤ R and |dz(t)| ≤ H, so only if the boxes overlap on
    each axis. On the longitude axis the pair's own scale is ``cos φ̄ ≥ c_r`` (the cosine of the
    largest |latitude| in the row), and in units of ``c_r`` the pair's relative motion shrinks by
    ``c_r / cos φ̄ ≤ 1`` while the minimum does too, so the boxes at scale ``c_r`` still overlap
    (modulo the circumference, handled by duplicating boxes that cross the antimeridian). Rows so
    near a pole that a box could wrap around put every aircraft in one X bucket.

    Boxes are cut into (latitude row, altitude band) cells; within a cell, a sort on the box's
    west edge and a search for its east edge lists the overlapping boxes (sort and sweep). A pair
    sharing several cells is kept in one only (the one at the lower corner of both boxes).
    """
    n = len(states)
    if n < 2:
        return
    look = policy.lookahead_s
    rb = policy.rpz_m * (1 + BROAD_SLACK_REL) + BROAD_SLACK_M
    # a level pair may close at 1e-6 m/s in the exact test while really drifting 1e-6 m/s apart
    hb = policy.hpz_m * (1 + BROAD_SLACK_REL) + BROAD_SLACK_M + 2 * MIN_REL_VS * look

    y = EARTH_RADIUS_M * np.radians(k.lat)
    ylo = y + np.minimum(0.0, k.v * look) - rb / 2
    yhi = y + np.maximum(0.0, k.v * look) + rb / 2
    zlo = k.alt + np.minimum(0.0, k.vs * look) - hb / 2
    zhi = k.alt + np.maximum(0.0, k.vs * look) + hb / 2

    # Cell sizes: rows about one widened minimum plus a typical sweep, bands four vertical minima
    # (most aircraft are level and then sit in one band). Tried 0.5-2 × and 1-4 × on the benchmark's
    # traffic: these were the fastest (within 10 % of the others), at 2-3 cells per aircraft.
    row_m = max(rb + float(np.median(np.abs(k.v))) * look, 2000.0)
    band_m = max(4 * hb, 100.0)
    rmin, rmax = math.floor(-_Y_CLAMP_M / row_m), math.floor(_Y_CLAMP_M / row_m)
    bmin, bmax = math.floor(_ALT_CLAMP_M[0] / band_m), math.floor(_ALT_CLAMP_M[1] / band_m)
    r0 = np.clip(np.floor(ylo / row_m), rmin, rmax).astype(np.int64)
    r1 = np.clip(np.floor(yhi / row_m), rmin, rmax).astype(np.int64)
    b0 = np.clip(np.floor(zlo / band_m), bmin, bmax).astype(np.int64)
    b1 = np.clip(np.floor(zhi / band_m), bmin, bmax).astype(np.int64)

    # one entry per (aircraft, row, band) it touches
    nb = b1 - b0 + 1
    per = (r1 - r0 + 1) * nb
    ac = np.repeat(np.arange(n, dtype=np.int64), per)
    local = np.arange(len(ac), dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
    row = r0[ac] + local // nb[ac]
    band = b0[ac] + local % nb[ac]

    # per row: the longitude scale (cosine of the largest |latitude| of its aircraft) and whether it
    # is polar (a box could reach round the whole circle there)
    nrows = rmax - rmin + 1
    row_lat = np.zeros(nrows)
    np.maximum.at(row_lat, row - rmin, np.abs(k.lat[ac]))
    xlen = np.abs(k.u) * look + rb
    row_len = np.zeros(nrows)
    np.maximum.at(row_len, row - rmin, xlen[ac])
    row_c = np.cos(np.radians(row_lat)) * (1 - 1e-9)
    row_circ = 2 * math.pi * EARTH_RADIUS_M * row_c
    row_polar = row_circ <= 4 * row_len

    c = row_c[row - rmin]
    circ = row_circ[row - rmin]
    polar = row_polar[row - rmin]
    lam = np.radians((k.lon + 180.0) % 360.0 - 180.0)
    xc = EARTH_RADIUS_M * c * lam[ac]
    xlo = np.where(polar, 0.0, xc + np.minimum(0.0, k.u[ac] * look) - rb / 2)
    xhi = np.where(polar, 0.0, xc + np.maximum(0.0, k.u[ac] * look) + rb / 2)
    east = ~polar & (xhi >= circ / 2)
    west = ~polar & (xlo <= -circ / 2)
    dup = np.flatnonzero(east | west)
    shift = np.where(east[dup], -circ[dup], circ[dup])
    ac = np.concatenate([ac, ac[dup]])
    row = np.concatenate([row, row[dup]])
    band = np.concatenate([band, band[dup]])
    xlo = np.concatenate([xlo, xlo[dup] + shift])
    xhi = np.concatenate([xhi, xhi[dup] + shift])
    # per entry, sorted below: bit 0 = first row of its aircraft, bit 1 = first band, bit 2 = duplicate
    flags = (row == r0[ac]).astype(np.int8) | ((band == b0[ac]).astype(np.int8) << 1)
    flags[len(ac) - len(dup) :] |= 4

    # sort and sweep: key = cell id above, quantized west (east) edge below, rounded outwards
    cell = (row - rmin) * (bmax - bmin + 1) + (band - bmin)
    key_lo = (cell << _X_BITS) | np.floor(xlo + _X_SHIFT_M).astype(np.int64)
    key_hi = (cell << _X_BITS) | np.ceil(xhi + _X_SHIFT_M).astype(np.int64)
    order = np.argsort(key_lo)  # ties in any order: each overlapping pair is still listed once
    key_lo = key_lo[order]
    ends = np.searchsorted(key_lo, key_hi[order], side="right")
    count = ends - np.arange(len(order), dtype=np.int64) - 1
    cum = np.cumsum(count)
    total = int(cum[-1]) if len(cum) else 0
    if total == 0:
        return
    # everything the pair test reads, in sorted order: the two members of a candidate pair are then
    # near each other in memory
    ac, flags = ac[order], flags[order]
    sylo, syhi, szlo, szhi = ylo[ac], yhi[ac], zlo[ac], zhi[ac]
    sgroup = None if k.group is None else k.group[ac]
    cuts = np.searchsorted(cum, np.arange(CHUNK_PAIRS, total, CHUNK_PAIRS, dtype=np.int64), side="left") + 1
    bounds = np.unique(np.concatenate([[0], cuts, [len(order)]]))
    for s, e in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        cnt = count[s:e]
        m = int(cnt.sum())
        if m == 0:
            continue
        pos = np.arange(s, e, dtype=np.int64)
        first = np.repeat(pos, cnt)
        second = np.arange(m, dtype=np.int64) + np.repeat(pos + 1 - (np.cumsum(cnt) - cnt), cnt)
        f1, f2 = flags[first], flags[second]
        both = f1 | f2
        # kept in the cell at the lower corner of both boxes only (the cell's row is the first row
        # of one of them and its band the first band of one of them), never between two duplicates
        ok = ((both & 3) == 3) & ((f1 & f2 & 4) == 0)
        ok &= (sylo[first] <= syhi[second]) & (sylo[second] <= syhi[first])
        ok &= (szlo[first] <= szhi[second]) & (szlo[second] <= szhi[first])
        if sgroup is not None:
            ok &= sgroup[first] != sgroup[second]
        sel = np.flatnonzero(ok)
        a, b = ac[first[sel]], ac[second[sel]]
        ok = a != b
        a, b, seam = a[ok], b[ok], (both[sel][ok] & 4) != 0
        yield np.minimum(a, b), np.maximum(a, b), seam
