"""Aircraft against volumes: inside one now, or predicted to enter one within the look-ahead.

Used for conformance (an aircraft outside every volume its own party declared) and incursion (an
aircraft inside, or about to enter, another party's volume or a protected site). Paths are
straight lines from the aircraft's current state, sampled every :data:`STEP_S` seconds; the
horizontal test is exact for each sample (the volume's own geometry, in its local frame).

A volume with a recurring schedule is there only in its active windows: a sample outside them is
outside the volume, as a sample outside an unscheduled volume's time window is (so an aircraft in
a scheduled notice's area between its windows is no incursion, and an aircraft of its party there
is outside its own volume: nonconformant unless another of its party's volumes holds it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from deconflict.domain.alerts import Severity
from deconflict.domain.geodesy import FloatArray, LocalFrame
from deconflict.domain.schedule import occurrences
from deconflict.domain.tactical import States
from deconflict.domain.units import EARTH_RADIUS_M
from deconflict.domain.volumes import Volume4D

STEP_S = 1.0
"""Sampling step of a predicted path: an entry is reported at most this late, and a path that
crosses a volume for less than this (a corner clipped at speed) may be missed (docs/alerts.md)."""
COARSE = 10
"""Steps between the coarse samples that pick where to sample every step (see :func:`volume_hits`)."""
POLAR_LAT = 80.0
"""Paths that reach beyond this latitude are sampled at every step."""


@dataclass(frozen=True)
class Hits:
    """Aircraft (indices) that are inside the volume now, or will enter it within the look-ahead."""

    index: np.ndarray
    entry_s: FloatArray
    """0 for an aircraft inside now; else the first sampled time it is inside."""


def move(
    lat: FloatArray, lon: FloatArray, gs: FloatArray, trk_deg: FloatArray, dt: FloatArray | float
) -> tuple[FloatArray, FloatArray]:
    """Positions after ``dt`` seconds on a straight track (the same flat model as the engine).

    >>> lat, lon = move(np.array([0.0]), np.array([0.0]), np.array([100.0]), np.array([90.0]), 60.0)
    >>> round(float(lat[0]), 6), round(float(lon[0]), 4)
    (0.0, 0.054)
    """
    trk = np.radians(trk_deg)
    north = gs * np.cos(trk) * dt
    east = gs * np.sin(trk) * dt
    new_lat = lat + np.degrees(north / EARTH_RADIUS_M)
    coslat = np.maximum(np.cos(np.radians((lat + new_lat) / 2)), 1e-6)
    new_lon = lon + np.degrees(east / (EARTH_RADIUS_M * coslat))
    return np.clip(new_lat, -90.0, 90.0), (new_lon + 180.0) % 360.0 - 180.0


def volume_hits(
    ac: States,
    t: float,
    volume: Volume4D,
    lookahead_s: float,
    candidates: np.ndarray | None = None,
    margin_m: float = 0.0,
) -> Hits:
    """The aircraft (states moved to time ``t``) inside ``volume`` at ``t`` or predicted to enter
    it before ``t + lookahead_s`` (time window, altitude band and shape at the same sampled moment).
    ``margin_m`` grows the shape horizontally (a protected site's "overhead" distance)."""
    idx = np.arange(len(ac.lat)) if candidates is None else candidates
    if len(idx) == 0 or not active_within(volume, t, t + lookahead_s):
        return Hits(np.empty(0, np.int64), np.empty(0))
    # Coarse: only aircraft whose path can reach the shape's bounding circle.
    clat, clon = volume.shape.center
    # Coarse, and cheap for every aircraft: great-circle distance on the sphere (within 0.5 % of
    # the ellipsoid), with 1 % and 1 km to spare.
    reach = (volume.shape.bound_m + margin_m + ac.gs_mps[idx] * lookahead_s) * 1.01 + 1000.0
    d = _haversine_m(clat, clon, ac.lat[idx], ac.lon[idx])
    idx = idx[d <= reach]
    if len(idx) == 0:
        return Hits(np.empty(0, np.int64), np.empty(0))
    steps = np.arange(0.0, lookahead_s + 1e-9, STEP_S)
    frame = LocalFrame(clat, clon)
    core = volume.shape.core_in(frame)
    reach_m = volume.shape.buffer_m + margin_m
    # Coarse samples every COARSE steps (and the last): a sample inside the volume has its nearest
    # coarse sample at most COARSE/2 steps away, so within that time's travel of the shape, of
    # the band and of the time window. Only those coarse windows are sampled finely, in order,
    # and each aircraft only until its first hit: the same answer as sampling every step.
    half = COARSE // 2
    coarse = np.unique(np.append(np.arange(0, len(steps), COARSE), len(steps) - 1))
    tc = steps[coarse]
    t2 = np.broadcast_to(tc[None, :], (len(idx), len(tc)))
    lat_c, lon_c = move(ac.lat[idx, None], ac.lon[idx, None], ac.gs_mps[idx, None], ac.trk_deg[idx, None], t2)
    alt_c = ac.alt_m[idx, None] + ac.vs_mps[idx, None] * t2
    # horizontally, the coarse test is the cheap one above (the shape's bounding circle on the
    # sphere, with the same room to spare) widened by the travel between samples
    travel = ac.gs_mps[idx, None] * half * STEP_S * 1.1 + 100.0
    climb = np.abs(ac.vs_mps[idx, None]) * half * STEP_S + 1.0
    slack_t = half * STEP_S + 1e-6
    near = (
        (_haversine_m(clat, clon, lat_c, lon_c) <= (volume.shape.bound_m + margin_m + travel) * 1.01 + 1000.0)
        & (alt_c >= volume.altitude.lower_m - climb)
        & (alt_c <= volume.altitude.upper_m + climb)
        & active_mask(volume, t + tc, slack_t)[None, :]
    )
    # Near a pole the flat model's steps in longitude are no measure of distance: sample all.
    polar = np.abs(lat_c).max(axis=1) > POLAR_LAT
    near[polar] = True
    window = np.clip(np.searchsorted(coarse, np.arange(len(steps)) - half, side="left"), 0, len(coarse) - 1)
    # the coarse sample nearest each fine one (ties to the earlier): fine k belongs to window j
    nearest = np.abs(coarse[window] - np.arange(len(steps))) <= np.abs(
        coarse[np.minimum(window + 1, len(coarse) - 1)] - np.arange(len(steps))
    )
    owner = np.where(nearest, window, np.minimum(window + 1, len(coarse) - 1))
    first = np.full(len(idx), -1, dtype=np.int64)
    rank = np.cumsum(near, axis=1) * near  # the r-th near window of each aircraft has rank r
    for r in range(1, int(rank.max(initial=0)) + 1):
        rows, cols = np.nonzero((rank == r) & (first[:, None] < 0))
        if len(rows) == 0:
            break
        for j in np.unique(cols):  # one coarse window at a time: its fine samples, those rows
            sel = rows[cols == j]
            ks = np.flatnonzero(owner == j)
            inside = _inside(ac, idx[sel], steps[ks], t, frame, core, reach_m, volume)
            hit = inside.any(axis=1)
            first[sel[hit]] = ks[np.argmax(inside[hit], axis=1)]
    found = first >= 0
    return Hits(idx[found], steps[first[found]])


def _sample(
    ac: States, rows: np.ndarray, tt: FloatArray, frame: LocalFrame, core: shapely.Geometry
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Each aircraft of ``rows`` at each time of ``tt``: latitude, longitude, horizontal distance
    to ``core`` in ``frame`` (metres), altitude; arrays of shape (rows, times)."""
    t2 = np.broadcast_to(tt[None, :], (len(rows), len(tt)))
    lat, lon = move(ac.lat[rows, None], ac.lon[rows, None], ac.gs_mps[rows, None], ac.trk_deg[rows, None], t2)
    alt = ac.alt_m[rows, None] + ac.vs_mps[rows, None] * t2
    x, y = frame.forward(lat.ravel(), lon.ravel())
    dist = shapely.distance(shapely.points(x, y), core).reshape(lat.shape)
    return lat, lon, dist, alt


def _inside(
    ac: States,
    rows: np.ndarray,
    tt: FloatArray,
    t: float,
    frame: LocalFrame,
    core: shapely.Geometry,
    reach_m: float,
    volume: Volume4D,
) -> np.ndarray:
    """Whether each aircraft of ``rows`` is inside ``volume`` at each time ``t + tt``."""
    _, _, dist, alt = _sample(ac, rows, tt, frame, core)
    band = volume.altitude
    inside: np.ndarray = (
        (dist <= reach_m) & (alt >= band.lower_m) & (alt <= band.upper_m) & active_mask(volume, t + tt)[None, :]
    )
    return inside


def active_within(volume: Volume4D, lo: float, hi: float) -> bool:
    """Whether ``volume`` is active at some instant of ``[lo, hi]`` (its time window meets it and,
    with a schedule, one of its occurrences does)."""
    if volume.time_end < lo or volume.time_start > hi:
        return False
    return volume.schedule is None or bool(occurrences(volume.schedule, volume.time_start, volume.time_end, lo, hi))


def active_mask(volume: Volume4D, when: FloatArray, slack_s: float = 0.0) -> np.ndarray:
    """Whether ``volume`` is active within ``slack_s`` of each time of ``when`` (its closed time
    window, and with a schedule one of its closed occurrences). Work: the days ``when`` spans."""
    if len(when) == 0:
        return np.zeros(0, dtype=bool)
    if volume.schedule is None:
        out: np.ndarray = (when >= volume.time_start - slack_s) & (when <= volume.time_end + slack_s)
        return out
    lo, hi = float(when.min()) - slack_s, float(when.max()) + slack_s
    spans = occurrences(volume.schedule, volume.time_start, volume.time_end, lo, hi)
    if not spans:
        return np.zeros(len(when), dtype=bool)
    starts = np.array([a for a, _ in spans]) - slack_s
    ends = np.array([b for _, b in spans]) + slack_s
    # occurrences are disjoint and in order, so their ends are too: the last one that starts by a
    # time is the only one that may still hold it
    k = np.searchsorted(starts, when, side="right") - 1
    return (k >= 0) & (when <= ends[np.maximum(k, 0)])


def _haversine_m(lat0: float, lon0: float, lat: FloatArray, lon: FloatArray) -> FloatArray:
    p0, p = np.radians(lat0), np.radians(lat)
    a = np.sin((p - p0) / 2) ** 2 + np.cos(p0) * np.cos(p) * np.sin(np.radians(lon - lon0) / 2) ** 2
    out: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


def severity_time(entry_s: float) -> Severity:
    """Severity of an alert by the time until loss of separation or entry.

    >>> [severity_time(t).value for t in (0.0, 45.0, 150.0, 290.0)]
    ['loss', 'high', 'medium', 'low']
    """
    if entry_s <= 0.0:
        return Severity.LOSS
    if entry_s <= 60.0:
        return Severity.HIGH
    if entry_s <= 180.0:
        return Severity.MEDIUM
    return Severity.LOW


def finite_or_none(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 1)
