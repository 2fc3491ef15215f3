"""The live demo's aircraft: each flight of the theater's ``live`` section flies straight lines
between waypoints, at each waypoint's time (broker clock), and ``loop_until`` repeats its waypoints
until then. An aircraft with several flights is one aircraft; the flight in progress places it.

Positions only, for the tactical picture (separation, conformance): never targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.times import parse_time

EARTH_M = 6_371_008.8
ALT_REFS = ("W84", "AMSL", "STD")
FLIGHT_KEYS = {"party", "aircraft", "callsign", "alt_m", "alt_ref", "waypoints", "loop_until", "note"}


@dataclass(frozen=True)
class Waypoint:
    at: float
    lat: float
    lng: float


@dataclass(frozen=True)
class Flight:
    party: str
    aircraft: str
    callsign: str | None
    alt_m: float
    alt_ref: str
    waypoints: tuple[Waypoint, ...]
    loop_until: float | None = None

    @property
    def start(self) -> float:
        return self.waypoints[0].at

    @property
    def end(self) -> float:
        return self.loop_until if self.loop_until is not None else self.waypoints[-1].at

    def state(self, t: float) -> dict[str, Any] | None:
        """The aircraft's state at ``t`` as ``POST /v1/tracks`` takes it, or None outside the flight."""
        if not self.start <= t < self.end:
            return None
        first, last = self.waypoints[0].at, self.waypoints[-1].at
        lap = t if self.loop_until is None else first + (t - first) % (last - first)
        i = next(i for i in range(1, len(self.waypoints)) if lap <= self.waypoints[i].at)
        a, b = self.waypoints[i - 1], self.waypoints[i]
        f = 0.0 if b.at == a.at else (lap - a.at) / (b.at - a.at)
        lat, lng = a.lat + f * (b.lat - a.lat), a.lng + f * (b.lng - a.lng)
        dist, bearing = _distance_bearing(a.lat, a.lng, b.lat, b.lng)
        state: dict[str, Any] = {
            "aircraft": self.aircraft,
            "time": t,
            "lat": round(lat, 6),
            "lon": round(lng, 6),
            "alt_m": self.alt_m,
            "alt_ref": self.alt_ref,
            "gs_mps": round(dist / (b.at - a.at), 2) if b.at > a.at else 0.0,
            "trk_deg": round(bearing, 1),
            "vs_mps": 0.0,
        }
        if self.callsign is not None:
            state["callsign"] = self.callsign
        return state


def _distance_bearing(lat1: float, lng1: float, lat2: float, lng2: float) -> tuple[float, float]:
    """Great-circle distance (m) and initial bearing (degrees from north) from 1 to 2."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    dist = 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return dist, math.degrees(math.atan2(y, x)) % 360


def _number(raw: Any, where: str, lo: float, hi: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ValidationError.at(where, f"{raw!r}: must be a number")
    if not lo <= raw <= hi:
        raise ValidationError.at(where, f"{raw}: must be {lo:g} to {hi:g}")
    return float(raw)


def parse_flight(raw: Any, parties: set[str], where: str) -> Flight:
    """One flight of the theater's ``live.flights``; a bad field is a ValidationError naming it."""
    if not isinstance(raw, dict):
        raise ValidationError.at(where, "must be an object")
    unknown = sorted(set(raw) - FLIGHT_KEYS)
    if unknown:
        raise ValidationError.at(f"{where}.{unknown[0]}", f"unknown key; use {', '.join(sorted(FLIGHT_KEYS))}")
    for key in ("party", "aircraft", "alt_m", "waypoints"):
        if key not in raw:
            raise ValidationError.at(f"{where}.{key}", "missing")
    if raw["party"] not in parties:
        raise ValidationError.at(f"{where}.party", f"{raw['party']!r} is not one of the theater's parties")
    for key in ("aircraft", "callsign"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key]):
            raise ValidationError.at(f"{where}.{key}", "must be a non-empty string")
    alt_ref = raw.get("alt_ref", "AMSL")
    if alt_ref not in ALT_REFS:
        raise ValidationError.at(f"{where}.alt_ref", f"{alt_ref!r}: use {', '.join(ALT_REFS)}")
    wps = raw["waypoints"]
    if not isinstance(wps, list) or len(wps) < 2:
        raise ValidationError.at(f"{where}.waypoints", "must be a list of at least two waypoints")
    points: list[Waypoint] = []
    for i, w in enumerate(wps):
        at = f"{where}.waypoints[{i}]"
        if not isinstance(w, dict) or set(w) != {"at", "lat", "lng"}:
            raise ValidationError.at(at, 'must be {"at": time, "lat": degrees, "lng": degrees}')
        lat, lng = _number(w["lat"], f"{at}.lat", -90, 90), _number(w["lng"], f"{at}.lng", -180, 180)
        p = Waypoint(parse_time(w["at"], f"{at}.at"), lat, lng)
        if points and p.at < points[-1].at:
            raise ValidationError.at(f"{at}.at", "must not be before the waypoint before it")
        points.append(p)
    if points[-1].at <= points[0].at:
        raise ValidationError.at(f"{where}.waypoints", "the last waypoint must come after the first")
    loop_until = None
    if "loop_until" in raw:
        loop_until = parse_time(raw["loop_until"], f"{where}.loop_until")
        if loop_until < points[-1].at:
            raise ValidationError.at(f"{where}.loop_until", "must not be before the last waypoint")
    alt_m = _number(raw["alt_m"], f"{where}.alt_m", -500, 30_000)
    return Flight(raw["party"], raw["aircraft"], raw.get("callsign"), alt_m, alt_ref, tuple(points), loop_until)


def positions(flights: list[Flight], t: float) -> dict[str, list[dict[str, Any]]]:
    """Each party's aircraft states at ``t`` (one per aircraft: its flight in progress)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for f in flights:
        s = f.state(t)
        if s is not None:
            out.setdefault(f.party, {}).setdefault(f.aircraft, s)
    return {party: list(states.values()) for party, states in out.items()}
