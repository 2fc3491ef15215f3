"""Tracks: time-stamped aircraft states reported by a party, checked at the edge.

A state that cannot be true (NaN, a speed no aircraft flies, a time far in the future, a position
off the globe) is refused with the field and the reason; the feed goes on with the next one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.times import parse_time
from deconflict.domain.units import EARTH_RADIUS_M
from deconflict.domain.volumes import AltitudeReference

MAX_GS_MPS = 1000.0
"""Faster than any aircraft that shares airspace with others (about Mach 3 at altitude)."""
MAX_VS_MPS = 300.0
"""About 60 000 ft/min: more than any climb or dive."""
MIN_ALT_M, MAX_ALT_M = -500.0, 30_000.0
FUTURE_TOLERANCE_S = 5.0
"""A state stamped further ahead of the broker's clock than this is refused (a wrong clock)."""
MAX_AIRCRAFT_ID = 64


@dataclass(frozen=True)
class TrackState:
    """One report: where an aircraft was at ``time``. Velocity may be unknown (``None``)."""

    aircraft: str
    time: float
    lat: float
    lon: float
    alt_m: float
    alt_ref: AltitudeReference = AltitudeReference.W84
    gs_mps: float | None = None
    trk_deg: float | None = None
    vs_mps: float | None = None
    callsign: str | None = None

    @property
    def has_velocity(self) -> bool:
        return self.gs_mps is not None and self.trk_deg is not None


def _number(obj: dict[str, Any], key: str, path: str, required: bool = True) -> float | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ValidationError.at(f"{path}.{key}", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at(f"{path}.{key}", f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValidationError.at(f"{path}.{key}", f"must be finite, got {value!r}")
    return float(value)


def parse_state(obj: Any, now: float, timeout_s: float, path: str = "state") -> TrackState:
    """A wire state (see docs/tracks in docs/api.md) as a :class:`TrackState`, or a
    :class:`ValidationError` naming the first bad field.

    >>> s = parse_state({"aircraft": "3c6444", "time": 100.0, "lat": 48.9, "lon": 2.4, "alt_m": 3000,
    ...                  "alt_ref": "STD", "gs_mps": 120, "trk_deg": 90}, now=101.0, timeout_s=60)
    >>> (s.aircraft, s.alt_ref.value, s.vs_mps)
    ('3c6444', 'STD', None)

    ``alt_ref`` is required: a pressure altitude and a geometric one differ by hundreds of metres,
    so the broker does not guess which was meant. An unknown key is refused.
    """
    if not isinstance(obj, dict):
        raise ValidationError.at(path, f"must be an object, got {type(obj).__name__}")
    check_keys(obj, KEYS["track_state"], path)
    aircraft = obj.get("aircraft")
    if not isinstance(aircraft, str) or not aircraft.strip() or len(aircraft) > MAX_AIRCRAFT_ID:
        raise ValidationError.at(f"{path}.aircraft", f"must be an id of 1 to {MAX_AIRCRAFT_ID} characters")
    raw_time = obj.get("time")
    if isinstance(raw_time, str):
        t = parse_time(raw_time, f"{path}.time")
    else:
        t_num = _number(obj, "time", path)
        assert t_num is not None
        t = t_num
    if t > now + FUTURE_TOLERANCE_S:
        raise ValidationError.at(f"{path}.time", f"is {t - now:.1f} s ahead of the broker's clock (check the sender's)")
    if t < now - timeout_s:
        raise ValidationError.at(
            f"{path}.time", f"is {now - t:.0f} s old: older than the track timeout of {timeout_s:.0f} s"
        )
    lat = _number(obj, "lat", path)
    lon = _number(obj, "lon", path)
    alt = _number(obj, "alt_m", path)
    assert lat is not None and lon is not None and alt is not None
    if not -90 <= lat <= 90:
        raise ValidationError.at(f"{path}.lat", f"must be within ±90°, got {lat}")
    if not -180 <= lon <= 180:
        raise ValidationError.at(f"{path}.lon", f"must be within ±180°, got {lon}")
    if not MIN_ALT_M <= alt <= MAX_ALT_M:
        raise ValidationError.at(f"{path}.alt_m", f"must be between {MIN_ALT_M:.0f} and {MAX_ALT_M:.0f} m, got {alt}")
    ref_text = obj.get("alt_ref")
    if ref_text is None:
        raise ValidationError.at(f"{path}.alt_ref", "is required: W84, AMSL or STD (pressure altitude)")
    try:
        ref = AltitudeReference(ref_text)
    except ValueError:
        raise ValidationError.at(f"{path}.alt_ref", f"must be W84, AMSL or STD, got {ref_text!r}") from None
    gs = _number(obj, "gs_mps", path, required=False)
    trk = _number(obj, "trk_deg", path, required=False)
    vs = _number(obj, "vs_mps", path, required=False)
    if (gs is None) != (trk is None):
        raise ValidationError.at(
            f"{path}.trk_deg" if trk is None else f"{path}.gs_mps", "give gs_mps and trk_deg together"
        )
    if gs is not None and not 0 <= gs <= MAX_GS_MPS:
        raise ValidationError.at(f"{path}.gs_mps", f"must be between 0 and {MAX_GS_MPS:.0f} m/s, got {gs}")
    if trk is not None and not 0 <= trk < 360.0 + 1e-9:
        raise ValidationError.at(f"{path}.trk_deg", f"must be in [0, 360), got {trk}")
    if vs is not None and abs(vs) > MAX_VS_MPS:
        raise ValidationError.at(f"{path}.vs_mps", f"must be within ±{MAX_VS_MPS:.0f} m/s, got {vs}")
    callsign = obj.get("callsign")
    if callsign is not None and (not isinstance(callsign, str) or len(callsign) > 16):
        raise ValidationError.at(f"{path}.callsign", "must be a string of at most 16 characters")
    return TrackState(
        aircraft=aircraft.strip(),
        time=t,
        lat=lat,
        lon=lon,
        alt_m=alt,
        alt_ref=ref,
        gs_mps=gs,
        trk_deg=None if trk is None else trk % 360.0,
        vs_mps=vs,
        callsign=callsign.strip() if isinstance(callsign, str) and callsign.strip() else None,
    )


def derive_velocity(prev: TrackState, cur: TrackState, max_gap_s: float = 60.0) -> TrackState:
    """``cur`` with what its report left out of its velocity filled in from ``prev`` (at most
    ``max_gap_s`` older): ground speed and track from the move between the two positions, the
    vertical rate from the change of altitude; when the move cannot give them (same time, or a
    jump no aircraft makes), ``prev``'s velocity carried forward. Unchanged when nothing fits.

    >>> a = TrackState("x", 0.0, 0.0, 0.0, 1000.0)
    >>> b = TrackState("x", 10.0, 0.0, 0.001, 1050.0)
    >>> v = derive_velocity(a, b)
    >>> round(v.gs_mps, 1), round(v.trk_deg, 1), v.vs_mps
    (11.1, 90.0, 5.0)
    """
    dt = cur.time - prev.time
    if not 0 <= dt <= max_gap_s or (cur.has_velocity and cur.vs_mps is not None):
        return cur
    vs = cur.vs_mps
    if vs is None:
        vs = (cur.alt_m - prev.alt_m) / dt if dt > 0 else prev.vs_mps
        if vs is not None and abs(vs) > MAX_VS_MPS:
            vs = prev.vs_mps
    if cur.has_velocity:
        return replace(cur, vs_mps=vs)
    gs, trk = prev.gs_mps, prev.trk_deg  # carried forward unless the move tells better
    if dt > 0:
        lat0, lat1 = math.radians(prev.lat), math.radians(cur.lat)
        dlon = math.radians(((cur.lon - prev.lon) + 180.0) % 360.0 - 180.0)
        north = EARTH_RADIUS_M * (lat1 - lat0)
        east = EARTH_RADIUS_M * dlon * math.cos((lat0 + lat1) / 2)
        moved = math.hypot(north, east) / dt
        if moved <= MAX_GS_MPS:
            gs, trk = moved, math.degrees(math.atan2(east, north)) % 360.0
    if gs is None or trk is None:
        return replace(cur, vs_mps=vs)
    return replace(cur, gs_mps=gs, trk_deg=trk, vs_mps=vs)
