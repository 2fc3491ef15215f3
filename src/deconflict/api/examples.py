"""Examples shown in the OpenAPI documentation."""

from __future__ import annotations

from typing import Any

NOTICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A notice: one or more ASTM F3548-21 Volume4D (outline_polygon, outline_circle, or our "
    "outline_corridor / outline_orbit), or a GeoJSON FeatureCollection whose features are volumes. `party` may "
    "be left out (it is the caller). See docs/notices.md.",
    "required": ["volumes"],
    "properties": {
        "id": {"type": "string", "description": "Your id for the notice (1–200 characters); the broker makes one."},
        "party": {"type": "string", "description": "Must be the calling party, or left out."},
        "kind": {"type": "string", "default": "activity"},
        "volumes": {"type": "array", "minItems": 1, "items": {"type": "object"}},
    },
}

NOTICE_EXAMPLE: dict[str, Any] = {
    "id": "vks-latamneh",
    "kind": "air-activity",
    "volumes": [
        {
            "volume": {
                "outline_circle": {"center": {"lat": 35.322, "lng": 36.623}, "radius": {"value": 8, "units": "KM"}},
                "altitude_lower": {"value": 3000, "reference": "AMSL", "units": "M"},
                "altitude_upper": {"value": 8000, "reference": "AMSL", "units": "M"},
            },
            "time_start": {"value": "2015-09-30T07:30:00Z", "format": "RFC3339"},
            "time_end": {"value": "2015-09-30T10:30:00Z", "format": "RFC3339"},
        }
    ],
}

SITE_EXAMPLE: dict[str, Any] = {
    "id": "homs-hospital",
    "volumes": [
        {
            "volume": {
                "outline_circle": {"center": {"lat": 34.73, "lng": 36.71}, "radius": {"value": 2, "units": "KM"}},
                "altitude_lower": {"value": 0, "reference": "AMSL", "units": "M"},
                "altitude_upper": {"value": 3000, "reference": "AMSL", "units": "M"},
            },
            "time_start": {"value": "2015-09-29T00:00:00Z", "format": "RFC3339"},
            "time_end": {"value": "2015-10-06T00:00:00Z", "format": "RFC3339"},
        }
    ],
}


def notice_body(example: dict[str, Any], update: bool = False) -> dict[str, Any]:
    schema = dict(NOTICE_SCHEMA)
    ex = dict(example)
    if update:
        props = dict(schema["properties"])
        props["replaces_version"] = {"type": "integer", "minimum": 1, "description": "The version this replaces."}
        schema = {**schema, "properties": props, "required": ["volumes", "replaces_version"]}
        ex = {"replaces_version": 1, **ex}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema, "example": ex}}}}
