"""Refuse what is not understood: every object the broker reads names the keys it knows.

A safety system must not read ``"radius": {"value": 10, "unit": "NM"}`` as 10 metres because the
misspelt ``unit`` was dropped and a default used instead. Every parser calls :func:`check_keys`
on every object it reads; an unknown key is refused with its path, and a near miss gets the key
it was probably meant to be.

:data:`KEYS` is the one list of what each document holds; the OpenAPI schemas are checked
against it (``tests/integration/test_openapi_schemas.py``), so the documentation and the parser
cannot drift apart.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from deconflict.domain.errors import FieldError, ValidationError

KEYS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # F3548-21 and our extensions (docs/notices.md)
        "notice": frozenset({"id", "party", "kind", "name", "acm_type", "description", "volumes"}),
        "volume4d": frozenset({"volume", "time_start", "time_end", "schedule"}),
        "schedule": frozenset({"days", "windows"}),
        "daily_window": frozenset({"start", "end"}),
        "volume3d": frozenset(
            {
                "outline_polygon",
                "outline_circle",
                "outline_corridor",
                "outline_orbit",
                "altitude_lower",
                "altitude_upper",
            }
        ),
        "outline_polygon": frozenset({"vertices"}),
        "outline_circle": frozenset({"center", "radius"}),
        "outline_corridor": frozenset({"centerline", "width"}),
        "outline_orbit": frozenset({"points", "width"}),
        "latlng": frozenset({"lat", "lng"}),
        "distance": frozenset({"value", "units"}),
        "altitude": frozenset({"value", "reference", "units"}),
        "time": frozenset({"value", "format"}),
        # GeoJSON (RFC 7946); bbox is the format's own, derived from the coordinates, and ignored
        "feature_collection": frozenset({"type", "features", "bbox"}),
        "feature": frozenset({"type", "geometry", "properties", "bbox"}),
        "geometry": frozenset({"type", "coordinates", "bbox"}),
        "feature_properties": frozenset(
            {"radius", "width", "shape", "altitude_lower", "altitude_upper", "time_start", "time_end"}
        ),
        "notice_properties": frozenset({"party", "id", "kind", "name", "acm_type", "description"}),
        # request bodies of the API beyond notices (docs/api.md)
        "notice_update": frozenset({"replaces_version"}),
        "message": frozenset({"to", "subject", "text", "priority", "ref", "ack_within_s", "in_reply_to"}),
        "message_ref": frozenset({"kind", "id"}),
        "acknowledgement": frozenset({"state"}),
        "tracks": frozenset({"states"}),
        "track_state": frozenset(
            {"aircraft", "time", "lat", "lon", "alt_m", "alt_ref", "gs_mps", "trk_deg", "vs_mps", "callsign"}
        ),
        "webhook": frozenset({"url", "secret"}),
    }
)
"""The keys each object may hold, by document type."""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def suggestion(key: str, known: Iterable[str]) -> str | None:
    """The known key ``key`` was most probably meant to be, if one is close.

    >>> suggestion("unit", ["value", "units", "reference"])
    'units'
    >>> suggestion("idd", ["id", "party", "kind", "volumes"])
    'id'
    >>> suggestion("colour", ["id", "party", "kind", "volumes"]) is None
    True
    """
    lowered = {k.lower(): k for k in known}
    if key.lower() in lowered:  # a case slip: Units, LAT
        return lowered[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def unknown_keys(obj: Mapping[str, Any], known: Iterable[str], path: str) -> list[FieldError]:
    """One :class:`FieldError` per key of ``obj`` not in ``known``, in the order written."""
    allowed = frozenset(known)
    out = []
    for key in obj:
        if key in allowed:
            continue
        name = str(key)
        near = suggestion(name, allowed)
        hint = f'; did you mean "{near}"?' if near else f"; known keys: {', '.join(sorted(allowed))}"
        out.append(FieldError(_join(path, name), "unknown key" + hint))
    return out


def check_keys(obj: Mapping[str, Any], known: Iterable[str], path: str) -> None:
    """Refuse ``obj`` if it holds a key not in ``known``.

    >>> check_keys({"value": 10, "unit": "NM"}, KEYS["distance"], "radius")
    Traceback (most recent call last):
    deconflict.domain.errors.ValidationError: radius.unit: unknown key; did you mean "units"?
    """
    errors = unknown_keys(obj, known, path)
    if errors:
        raise ValidationError(errors)


class _Repeated(dict[str, Any]):
    """An object in which a key was written more than once (only while :func:`loads` reports it)."""

    repeated: list[str]


def _repeated_keys(value: Any, path: str) -> Iterator[FieldError]:
    if isinstance(value, dict):
        for key in getattr(value, "repeated", ()):
            yield FieldError(_join(path, key), "is given more than once; give each key once")
        for key, item in value.items():
            yield from _repeated_keys(item, _join(path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _repeated_keys(item, f"{path}[{i}]")


def loads(text: str, **options: Any) -> Any:
    """JSON text as Python values, refusing a key written twice in one object: Python's parser keeps
    the last one silently (``{"units": "NM", "units": "M"}`` would be read as metres). ``options``
    go to :func:`json.loads`; a syntax error is its :class:`json.JSONDecodeError`. The document is
    walked for the paths only when a key was repeated.

    >>> loads('{"radius": {"value": 10, "units": "NM", "units": "M"}}')
    Traceback (most recent call last):
    deconflict.domain.errors.ValidationError: radius.units: is given more than once; give each key once
    """
    found = False

    def obj(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        out = dict(pairs)
        if len(out) == len(pairs):
            return out
        found = True
        marked = _Repeated(out)
        seen: set[str] = set()
        marked.repeated = []
        for key, _ in pairs:
            if key in seen and key not in marked.repeated:
                marked.repeated.append(key)
            seen.add(key)
        return marked

    value = json.loads(text, object_pairs_hook=obj, **options)
    if found:
        raise ValidationError(list(_repeated_keys(value, "")))
    return value
