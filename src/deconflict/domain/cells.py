"""Index keys: S2 cells × time buckets, the way the InterUSS DSS indexes its 4D volumes.

A volume is stored under every (time bucket, S2 cell) pair of its time window and of a covering of
a spherical cap that contains its shape. A look-up covers the cap grown by the separation minimum
and turns each covering cell into key ranges: the cell's descendants form one contiguous range of
cell ids (S2's Hilbert-curve numbering), and its few ancestors are single keys. Both are ordinary
B-tree range scans, in memory (``numpy.searchsorted``) and in SQL (``BETWEEN`` on a BIGINT).

Why it never misses: if two shapes are within the minimum, their caps (the look-up one grown by the
minimum) share a region of positive area; a point inside it lies in a stored cell and a look-up
cell, and two S2 cells that share an interior point are nested, so one is found by the other's
range. Time windows within ``time_s`` of each other share a bucket of the widened look-up window.

Long volumes (a recurring schedule's envelope of up to a year) are stored instead under one *long
bucket* per week of their window, a separate range of bucket numbers (from :data:`LONG_BASE`), so
a year costs 53 keys per cell rather than 1464 (:func:`store_buckets`). A look-up reads both
classes (:func:`lookup_probes`): the six-hour buckets of its widened window (for a long recurring
volume, those within reach of its occurrences: a volume farther from all of them cannot conflict
with it) and the long buckets of the window, so a volume is found whichever class holds it, and
rows written before long buckets existed (all in six-hour buckets) are still found.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache

import s2geometry as s2

from deconflict.domain.geodesy import MIN_CURVATURE_RADIUS_M
from deconflict.domain.schedule import occurrences
from deconflict.domain.volumes import Volume4D

BUCKET_S = 6 * 3600
"""Time bucket width. A volume sits in every bucket its window touches (at most 29 for the
7-day window limit), so a look-up reads only the buckets near its own window."""
LONG_BUCKET_S = 7 * 86400
"""Width of a long bucket: a week."""
LONG_AFTER = 32
"""A volume whose window touches more six-hour buckets than this (8 days) is stored under long
buckets."""
LONG_BASE = 1 << 30
"""Long bucket ``k`` (the week ``[k * LONG_BUCKET_S, (k + 1) * LONG_BUCKET_S)``) is numbered
``LONG_BASE + k``: past every six-hour bucket of the times the broker takes (the year 9000 is
bucket 10.3 million) and within a 32-bit INTEGER column."""
MIN_LEVEL = 1
LEVEL_MOD = 2
"""Coverings use S2 levels 1, 3, 5, …: each look-up cell then has at most a dozen ancestors."""
MAX_LEVEL = 21
"""About 4.5 m cells; finer is never needed for the shapes the broker accepts."""
MAX_CELLS = 8
"""Cells per covering (advisory, as in S2RegionCoverer)."""
KEY_OFFSET = 1 << 63
"""S2 ids are unsigned 64-bit; ``id - 2**63`` fits a signed BIGINT and keeps the order."""
_SLACK = 1.000001
_U64 = 1 << 64


@cache
def _coverer() -> s2.S2RegionCoverer:
    cov = s2.S2RegionCoverer()
    cov.set_min_level(MIN_LEVEL)
    cov.set_max_level(MAX_LEVEL)
    cov.set_level_mod(LEVEL_MOD)
    cov.set_max_cells(MAX_CELLS)
    return cov


def cap_cells(lat: float, lon: float, radius_m: float) -> list[s2.S2CellId]:
    """S2 cells covering every point within ``radius_m`` (geodesic, WGS84) of (lat, lon)."""
    angle = min(math.pi, (radius_m * _SLACK + 1.0) / MIN_CURVATURE_RADIUS_M)
    center = s2.S2LatLng.FromDegrees(lat, lon).Normalized().ToPoint()
    cap = s2.S2Cap(center, s2.S1Angle.Radians(angle))
    return list(_coverer().GetCovering(cap))


def key(cell: s2.S2CellId) -> int:
    return int(cell.id()) - KEY_OFFSET


def store_keys(lat: float, lon: float, bound_m: float) -> list[int]:
    """Cell keys under which a shape with this centre and bound is stored."""
    return sorted({key(c) for c in cap_cells(lat, lon, bound_m)})


def lookup_ranges(lat: float, lon: float, radius_m: float) -> list[tuple[int, int]]:
    """Closed key ranges that find every stored shape whose cap meets this one."""
    ranges: set[tuple[int, int]] = set()
    for c in cap_cells(lat, lon, radius_m):
        cid = int(c.id())
        lsb = cid & -cid  # S2: the lowest set bit marks the level; descendants are cid ± (lsb - 1)
        ranges.add((cid - (lsb - 1) - KEY_OFFSET, cid + (lsb - 1) - KEY_OFFSET))
        level = 30 - (lsb.bit_length() - 1) // 2
        for lv in range(MIN_LEVEL, level, LEVEL_MOD):
            new_lsb = 1 << (2 * (30 - lv))
            parent = (cid & (_U64 - new_lsb)) | new_lsb  # S2CellId::parent(lv) on the integer id
            ranges.add((parent - KEY_OFFSET, parent - KEY_OFFSET))
    return merge_ranges(sorted(ranges))


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def buckets(time_start: float, time_end: float) -> range:
    """Buckets a closed time window touches."""
    return range(math.floor(time_start / BUCKET_S), math.floor(time_end / BUCKET_S) + 1)


def long_buckets(time_start: float, time_end: float) -> range:
    """Long buckets a closed time window touches."""
    return range(
        LONG_BASE + math.floor(time_start / LONG_BUCKET_S), LONG_BASE + math.floor(time_end / LONG_BUCKET_S) + 1
    )


def store_buckets(time_start: float, time_end: float) -> range:
    """Buckets a volume with this window is stored under: the six-hour ones it touches, or the
    long ones when it touches more than :data:`LONG_AFTER` six-hour ones."""
    short = buckets(time_start, time_end)
    return short if len(short) <= LONG_AFTER else long_buckets(time_start, time_end)


def lookup_probes(volume: Volume4D, reach_s: float, ranges: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """``(bucket, lo, hi)`` probes of a look-up of everything within ``reach_s`` (in time) of
    ``volume`` with these key ranges (sorted, as :func:`lookup_ranges` gives them).

    Each range in each six-hour bucket of the widened window; for a recurring volume with a long
    envelope, only the six-hour buckets within ``reach_s`` of one of its occurrences (a stored
    volume farther from all of them cannot conflict with it). And in each long bucket of the
    window one span from the first range's start to the last one's end: the span holds every range,
    so nothing is missed; it may also find long volumes farther away, which the stores' last filter
    (:func:`deconflict.domain.index.within_search`) drops, and there are few long volumes: one probe
    per long bucket instead of one per range keeps an ordinary look-up's cost near what it was."""
    t0, t1 = volume.time_start - reach_s, volume.time_end + reach_s
    short: Iterable[int] = buckets(t0, t1)
    if volume.schedule is not None and len(buckets(t0, t1)) > LONG_AFTER:
        spans = occurrences(volume.schedule, volume.time_start, volume.time_end, volume.time_start, volume.time_end)
        short = sorted({b for a, z in spans for b in buckets(a - reach_s, z + reach_s)})
    out = [(b, lo, hi) for b in short for lo, hi in ranges]
    if ranges:
        out.extend((b, ranges[0][0], ranges[-1][1]) for b in long_buckets(t0, t1))
    return out
