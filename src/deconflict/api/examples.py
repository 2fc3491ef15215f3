"""Examples shown in the OpenAPI documentation."""

from __future__ import annotations

from typing import Any

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
