"""Our JSON Schema (draft 2020-12) of an ED-269 UAS geographical zone document, written from the
published description of the ED-269 data model (EUROCAE ED-269, "Minimum Operational Performance
Standard for Geo-fencing", its UAS geographical zone JSON encoding): a document with ``features``,
each a zone with its identifier, country, type, restriction, reasons, authorities, time
``applicability`` and ``geometry`` (volumes with limits and a horizontal projection, a GeoJSON
``Polygon`` or ED-269's ``Circle``).

It is not a copy of any published schema file. It holds what the format allows where we read it,
and is strict where the format is: an object has exactly the keys listed (``extendedProperties``
holds anything). Time applicability holds ED-269's ``schedule`` items (read as recurring volumes)
and keeps the names ``dailyPeriod``/``weekdays`` (guesses at the recurring model) so that a
document using them is refused by name, with where a daily period goes, rather than as unknown keys.
"""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string", "maxLength": 1000}
COUNTRY = {"type": "string", "pattern": "^[A-Z]{3}$"}
"""ISO 3166-1 alpha-3."""
REGION = {"type": "integer", "minimum": 0, "maximum": 65535}
YES_NO = {"enum": ["YES", "NO"]}
REFERENCE = {"enum": ["AGL", "AMSL", "WGS84"]}
POSITION = {
    "type": "array",
    "items": {"type": "number", "minimum": -180, "maximum": 180},
    "minItems": 2,
    "maxItems": 2,
}
"""A GeoJSON position: longitude, latitude (no height: the limits give the heights). The
latitude's range is checked by the reader (a tuple schema, ``prefixItems``, is not read the same
way by every OpenAPI tool)."""

_POLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "Polygon"},
        "coordinates": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "array", "minItems": 4, "items": POSITION},
        },
    },
}
_CIRCLE = {
    "type": "object",
    "required": ["type", "center", "radius"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "Circle"},
        "center": POSITION,
        "radius": {"type": "number", "exclusiveMinimum": 0},
    },
}
_AUTHORITY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _TEXT,
        "service": _TEXT,
        "email": _TEXT,
        "contactName": _TEXT,
        "siteURL": _TEXT,
        "phone": _TEXT,
        "purpose": {"enum": ["AUTHORIZATION", "NOTIFICATION", "INFORMATION"]},
        "intervalBefore": _TEXT,
    },
}
DAY = {"enum": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN", "ANY"]}
_SCHEDULE_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "day": {"type": "array", "items": DAY},
        "startTime": _TEXT,
        "endTime": _TEXT,
        "startEvent": {"enum": ["BMCT", "SR", "SS", "EECT"]},
        "endEvent": {"enum": ["BMCT", "SR", "SS", "EECT"]},
    },
}
_APPLICABILITY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "permanent": YES_NO,
        "startDateTime": {"type": "string", "maxLength": 40},
        "endDateTime": {"type": "string", "maxLength": 40},
        "schedule": {"type": "array", "items": _SCHEDULE_ITEM},
        "dailyPeriod": {"type": "array", "items": {"type": "object"}},
        "weekdays": {"type": "array", "items": DAY},
    },
}
_VOLUME = {
    "type": "object",
    "required": [
        "uomDimensions",
        "lowerLimit",
        "lowerVerticalReference",
        "upperLimit",
        "upperVerticalReference",
        "horizontalProjection",
    ],
    "additionalProperties": False,
    "properties": {
        "uomDimensions": {"enum": ["M", "FT"]},
        "lowerLimit": {"type": "number"},
        "lowerVerticalReference": REFERENCE,
        "upperLimit": {"type": "number"},
        "upperVerticalReference": REFERENCE,
        "horizontalProjection": {"oneOf": [_CIRCLE, _POLYGON]},
    },
}
REASONS = [
    "AIR_TRAFFIC",
    "SENSITIVE",
    "PRIVACY",
    "POPULATION",
    "NATURE",
    "NOISE",
    "FOREIGN_TERRITORY",
    "EMERGENCY",
    "OTHER",
]
_ZONE = {
    "type": "object",
    "required": ["identifier", "country", "type", "restriction", "geometry"],
    "additionalProperties": False,
    "properties": {
        "identifier": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9._-]+$"},
        "country": COUNTRY,
        "name": _TEXT,
        "type": {"enum": ["COMMON", "CUSTOMIZED"]},
        "restriction": {"enum": ["PROHIBITED", "REQ_AUTHORISATION", "CONDITIONAL", "NO_RESTRICTION"]},
        "restrictionConditions": {"type": "array", "items": _TEXT},
        "region": REGION,
        "reason": {"type": "array", "maxItems": 9, "items": {"enum": REASONS}},
        "otherReasonInfo": _TEXT,
        "regulationExemption": YES_NO,
        "uSpaceClass": {"enum": ["EUROCONTROL", "CORUS"]},
        "message": _TEXT,
        "zoneAuthority": {"type": "array", "items": _AUTHORITY},
        "applicability": {"type": "array", "items": _APPLICABILITY},
        "geometry": {"type": "array", "minItems": 1, "items": _VOLUME},
        "extendedProperties": {"type": "object"},
    },
}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "UAS geographical zones (ED-269), as deconflict reads them",
    "type": "object",
    "required": ["features"],
    "additionalProperties": False,
    "properties": {
        "title": _TEXT,
        "description": _TEXT,
        "features": {"type": "array", "items": _ZONE},
    },
}
