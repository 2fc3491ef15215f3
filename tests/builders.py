"""Small notice builders in the F3548 JSON shape, shared by the tests (importable as `builders`)."""

from __future__ import annotations

from typing import Any

T0 = "2015-09-30T07:00:00Z"
T1 = "2015-09-30T09:00:00Z"


def circle_volume(
    lat: float, lon: float, radius_m: float, start: str = T0, end: str = T1, lo: float = 1000.0, hi: float = 5000.0
) -> dict[str, Any]:
    return {
        "volume": {
            "outline_circle": {"center": {"lat": lat, "lng": lon}, "radius": {"value": radius_m, "units": "M"}},
            "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": hi, "reference": "W84", "units": "M"},
        },
        "time_start": {"value": start, "format": "RFC3339"},
        "time_end": {"value": end, "format": "RFC3339"},
    }


def circle_notice(
    party: str, nid: str | None, lat: float, lon: float, radius_m: float = 5000.0, **kw: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {"party": party, "volumes": [circle_volume(lat, lon, radius_m, **kw)]}
    if nid is not None:
        doc["id"] = nid
    return doc
