"""Our JSON Schema (draft 2020-12) of an ED-318 UAS geographical zone document, written from the
published description of the ED-318 data model (EUROCAE ED-318, "Technical Specification for
Geographical and Aeronautical Information for UAS", its GeoJSON encoding): a GeoJSON
``FeatureCollection`` (with the data set's ``name`` and ``metadata``) of ``Feature``\\ s, each a zone
whose ``properties`` are the UAS zone (identifier, country, name, type, variant, reasons,
authorities, ``limitedApplicability`` time periods with their daily ``schedule``) and whose
``geometry`` is a GeoJSON geometry carrying its vertical ``layer`` (upper and lower limits, their
references, ``uom``), a ``Point`` being a circle by its ``extent``.

It is not a copy of any published schema file. It holds what the format allows where we read it,
and is strict where the format is: an object has exactly the keys listed (``extendedProperties``
holds anything). Shapes the format allows that have no area (``LineString``, ``MultiPoint``, …) are
not in it: they are refused by name.
"""

from __future__ import annotations

from typing import Any

from deconflict.formats.ed269_schema import COUNTRY, DAY, POSITION, REFERENCE, REGION, YES_NO

_SHORT = {"type": "string", "maxLength": 200}
_LONG = {"type": "string", "maxLength": 1000}
_LANG = {"type": "string", "pattern": "^[a-zA-Z]{2}-[a-zA-Z]{2}$"}


def _text(text: dict[str, Any]) -> dict[str, Any]:
    """A text: a string, or a list of texts each with its language."""
    item = {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {"text": text, "lang": _LANG},
    }
    return {"anyOf": [text, {"type": "array", "minItems": 1, "items": item}]}


_TEXT_SHORT = _text(_SHORT)
_TEXT_LONG = _text(_LONG)
_INSTANT = {"type": "string", "maxLength": 40}
_EVENT = {"enum": ["BMCT", "SR", "SS", "EECT"]}

_LAYER = {
    "type": "object",
    "required": ["upper", "upperReference", "lower", "lowerReference"],
    "additionalProperties": False,
    "properties": {
        "upper": {"type": "number"},
        "upperReference": REFERENCE,
        "lower": {"type": "number"},
        "lowerReference": REFERENCE,
        "uom": {"enum": ["m", "ft", "M", "FT"]},
    },
}


def _geometry(kind: str, **members: Any) -> dict[str, Any]:
    """A GeoJSON geometry of ``kind`` with its ED-318 vertical ``layer`` and other ``members``."""
    return {
        "type": "object",
        "required": ["type", "coordinates", "layer"],
        "additionalProperties": False,
        "properties": {"type": {"const": kind}, **members, "layer": _LAYER, "bbox": {"type": "array"}},
    }


_CIRCLE = {
    "type": "object",
    "required": ["subType", "radius"],
    "additionalProperties": False,
    "properties": {"subType": {"const": "Circle"}, "radius": {"type": "number", "exclusiveMinimum": 0}},
}
_POINT = _geometry("Point", coordinates=POSITION, extent=_CIRCLE)
_RING = {"type": "array", "minItems": 4, "items": POSITION}
_POLYGON = _geometry("Polygon", coordinates={"type": "array", "minItems": 1, "items": _RING})
SHAPES = {"Point": 0, "Polygon": 1, "GeometryCollection": 2}
"""The ``oneOf`` branch of each geometry ``type`` (a collection's members: the first two)."""
_COLLECTION = {
    "type": "object",
    "required": ["type", "geometries"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "GeometryCollection"},
        "geometries": {"type": "array", "minItems": 1, "items": {"oneOf": [_POINT, _POLYGON]}},
        "bbox": {"type": "array"},
    },
}
_DAILY_PERIOD = {
    "type": "object",
    "required": ["day"],
    "additionalProperties": False,
    "properties": {
        "day": {"type": "array", "minItems": 1, "maxItems": 7, "items": DAY},
        "startTime": {"type": "string", "maxLength": 20},
        "startEvent": _EVENT,
        "endTime": {"type": "string", "maxLength": 20},
        "endEvent": _EVENT,
    },
}
_TIME_PERIOD = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "startDateTime": _INSTANT,
        "endDateTime": _INSTANT,
        "schedule": {"type": "array", "items": _DAILY_PERIOD},
    },
}
_AUTHORITY = {
    "type": "object",
    "required": ["purpose"],
    "additionalProperties": False,
    "properties": {
        "purpose": {"enum": ["AUTHORIZATION", "NOTIFICATION", "INFORMATION"]},
        "intervalBefore": {"type": "string", "maxLength": 40},
        **dict.fromkeys(("name", "service", "contactName", "siteURL", "email", "phone"), _TEXT_SHORT),
    },
}
REASONS = ["AIR_TRAFFIC", "SENSITIVE", "PRIVACY", "POPULATION", "NATURE", "NOISE", "EMERGENCY", "DAR", "OTHER"]
_ZONE = {
    "type": "object",
    "required": ["identifier", "country", "type", "variant", "zoneAuthority"],
    "additionalProperties": False,
    "properties": {
        "identifier": {"type": "string", "minLength": 1, "maxLength": 7, "pattern": "^[A-Za-z0-9_-]+$"},
        "country": COUNTRY,
        "name": _TEXT_SHORT,
        "type": {"enum": ["USPACE", "PROHIBITED", "REQ_AUTHORIZATION", "CONDITIONAL", "NO_RESTRICTION"]},
        "variant": {"enum": ["COMMON", "CUSTOMIZED"]},
        "restrictionConditions": {"type": "string", "maxLength": 10000},
        "region": REGION,
        "reason": {"type": "array", "maxItems": 9, "items": {"enum": REASONS}},
        "otherReasonInfo": _TEXT_SHORT,
        "regulationExemption": YES_NO,
        "message": _TEXT_LONG,
        "extendedProperties": {"type": "object"},
        "limitedApplicability": {"type": "array", "items": _TIME_PERIOD},
        "zoneAuthority": {"type": "array", "minItems": 1, "items": _AUTHORITY},
        "dataSource": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"creationDateTime": _INSTANT, "updateDateTime": _INSTANT, "originator": _SHORT},
        },
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "Feature"},
        "id": {"type": ["string", "number"]},
        "geometry": {"oneOf": [_POINT, _POLYGON, _COLLECTION]},
        "properties": _ZONE,
        "bbox": {"type": "array"},
    },
}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "UAS geographical zones (ED-318), as deconflict reads them",
    "type": "object",
    "required": ["type", "features"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "FeatureCollection"},
        "name": _SHORT,
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "provider": _TEXT_SHORT,
                "issued": _INSTANT,
                "validFrom": _INSTANT,
                "validTo": _INSTANT,
                "description": _TEXT_SHORT,
                "otherGeoid": {"type": "string", "pattern": "^[uU][rR][nN]:.+:.*$"},
                "technicalLimitation": _TEXT_SHORT,
            },
        },
        "bbox": {"type": "array"},
        "features": {"type": "array", "items": _FEATURE},
    },
}
