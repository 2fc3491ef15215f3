"""Aircraft against volumes: inside one now, or predicted to enter one within the look-ahead.

Used for conformance (an aircraft outside every volume its own party declared) and incursion (an
aircraft inside, or about to enter, another party's volume or a protected site). Paths are
straight lines from the aircraft's current state, sampled every :data:`STEP_S` seconds; the
horizontal test is exact for each sample (the volume's own geometry, in its local frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from deconflict.domain.alerts import Severity
from deconflict.domain.geodesy import FloatArray, LocalFrame
from deconflict.domain.tactical import States
from deconflict.domain.units import EARTH_RADIUS_M
from deconflict.domain.volumes import Volume4D

STEP_S = 1.0
"""Sampling step of a predicted path: an entry is reported at most this late, and a path that
crosses a volume for less than this (a corner clipped at speed) may be missed (docs/alerts.md)."""


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
    if len(idx) == 0 or volume.time_end < t or volume.time_start > t + lookahead_s:
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
    tt = np.repeat(steps[None, :], len(idx), axis=0)  # (aircraft, sample)
    lat, lon = move(ac.lat[idx, None], ac.lon[idx, None], ac.gs_mps[idx, None], ac.trk_deg[idx, None], tt)
    alt = ac.alt_m[idx, None] + ac.vs_mps[idx, None] * tt
    frame = LocalFrame(clat, clon)
    x, y = frame.forward(lat.ravel(), lon.ravel())
    core = volume.shape.core_in(frame)
    horizontal = (shapely.distance(shapely.points(x, y), core) <= volume.shape.buffer_m + margin_m).reshape(lat.shape)
    band = volume.altitude
    vertical = (alt >= band.lower_m) & (alt <= band.upper_m)
    when = t + tt
    in_time = (when >= volume.time_start) & (when <= volume.time_end)
    inside = horizontal & vertical & in_time
    hit = inside.any(axis=1)
    first = np.argmax(inside, axis=1)
    return Hits(idx[hit], steps[first[hit]])


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
