"""Converters at the boundary: ASTM F3548-21 ``Volume4D`` JSON and GeoJSON Features ⇄ domain.

Every refusal is a :class:`ValidationError` whose path names the field as the user wrote it, for
example ``volumes[2].volume.outline_polygon.vertices[3].lat``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.notice_text import notice_text_json, read_notice_text
from deconflict.domain.policy import Limits
from deconflict.domain.schedule_json import parse_schedule, schedule_to_json
from deconflict.domain.shapes import Shape, ShapeKind, make_shape
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.units import ALTITUDE_UNITS, LENGTH_UNITS
from deconflict.domain.volumes import PROTECTED_SITE_KIND, AltitudeBand, AltitudeReference, Notice, Volume4D

OUTLINES = ("outline_polygon", "outline_circle", "outline_corridor", "outline_orbit")

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
"""RFC 3339 ``date-time``; the offset is optional here only to give naive times their own message."""

TIMES = (0.0, 221845392000.0)
"""The times the broker takes, ``[1970-01-01T00:00:00Z, 9000-01-01T00:00:00Z)`` in epoch seconds:
every window it widens (by a separation minimum, a lead time, a report's period) stays far inside
the years RFC 3339 and Python's ``datetime`` can write (1 to 9999)."""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _obj(value: Any, path: str, keys: str | None = None) -> Mapping[str, Any]:
    """``value`` as an object; with ``keys`` (a document type of :data:`KEYS`), refused if it holds
    a key that type does not have."""
    if not isinstance(value, Mapping):
        raise ValidationError.at(path, f"must be an object, got {_kind(value)}")
    if keys is not None:
        check_keys(value, KEYS[keys], path)
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError.at(path, f"must be a list, got {_kind(value)}")
    return value


def _req(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj or obj[key] is None:
        raise ValidationError.at(_join(path, key), "is required")
    return obj[key]


def _num(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at(path, f"must be a number, got {_kind(value)}")
    try:
        f = float(value)
    except OverflowError:  # an integer too large for a float
        f = math.inf
    if not math.isfinite(f):
        raise ValidationError.at(path, "must be a finite number (NaN and infinity are refused)")
    return f


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ValidationError.at(path, f"must be a string, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def parse_latlng(value: Any, path: str) -> tuple[float, float]:
    """``{"lat": .., "lng": ..}`` in degrees → (lat, lon)."""
    obj = _obj(value, path, "latlng")
    lat = _num(_req(obj, "lat", path), _join(path, "lat"))
    lng = _num(_req(obj, "lng", path), _join(path, "lng"))
    return _check_latlng(lat, lng, path, "lat", "lng")


def _check_latlng(lat: float, lon: float, path: str, lat_key: str, lon_key: str) -> tuple[float, float]:
    if not -90.0 <= lat <= 90.0:
        raise ValidationError.at(_join(path, lat_key), f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise ValidationError.at(_join(path, lon_key), f"longitude {lon} is outside [-180, 180]")
    return lat, lon


def parse_distance_m(value: Any, path: str) -> float:
    """``{"value": 5, "units": "NM"}`` → metres. The unit is required: a bare number, or a
    missing or misspelt ``units``, is refused rather than read as metres."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValidationError.at(
            path, f'a bare number has no unit: write {{"value": {value}, "units": "M"}} (or KM, FT, NM)'
        )
    obj = _obj(value, path, "distance")
    v = _num(_req(obj, "value", path), _join(path, "value"))
    units = _str(_req(obj, "units", path), _join(path, "units")).upper()
    if units not in LENGTH_UNITS:
        raise ValidationError.at(_join(path, "units"), f"unknown unit {units!r}; use one of {', '.join(LENGTH_UNITS)}")
    return v * LENGTH_UNITS[units]


Said = list[dict[str, str]]
"""Where a parser notes each default it applies, ``{"field": path, "value": what}``, so a response
can say so (the API's ``defaults``). Units are never defaulted: a missing one is refused."""


def _say(said: Said | None, path: str, value: str) -> None:
    if said is not None:
        said.append({"field": path, "value": value})


def parse_altitude(value: Any, path: str, said: Said | None = None) -> tuple[float, AltitudeReference]:
    """``{"value", "reference": "W84"|"AMSL", "units": "M"|"FT"|"FL"}`` → (metres, reference).
    ``units`` is required; ``reference`` too, except with ``FL``, whose only reference is ``STD``
    (noted in ``said``)."""
    obj = _obj(value, path, "altitude")
    v = _num(_req(obj, "value", path), _join(path, "value"))
    units = _str(_req(obj, "units", path), _join(path, "units")).upper()
    if units not in ALTITUDE_UNITS:
        raise ValidationError.at(
            _join(path, "units"), f"unknown unit {units!r}; use one of {', '.join(ALTITUDE_UNITS)}"
        )
    raw_ref = obj.get("reference")
    if raw_ref is None and units == "FL":
        raw_ref = "STD"
        _say(said, _join(path, "reference"), "STD")
    if raw_ref is None:
        raise ValidationError.at(_join(path, "reference"), "is required (W84 or AMSL)")
    ref = _str(raw_ref, _join(path, "reference")).upper()
    if ref == "AGL":
        raise ValidationError.at(
            _join(path, "reference"),
            "AGL is not accepted: it needs terrain data the broker does not have; give W84 or AMSL",
        )
    if units == "FL":
        if ref != "STD":
            raise ValidationError.at(
                _join(path, "reference"),
                "a flight level is a pressure altitude: use STD or omit it",
            )
        if v < 0:
            raise ValidationError.at(_join(path, "value"), "a flight level cannot be negative")
    elif ref not in ("W84", "AMSL"):
        raise ValidationError.at(_join(path, "reference"), f"unknown reference {ref!r}; use W84 or AMSL")
    return v * ALTITUDE_UNITS[units], AltitudeReference(ref)


def parse_time(value: Any, path: str, said: Said | None = None, within: tuple[float, float] | None = TIMES) -> float:
    """``{"value": "2015-09-30T06:00:00Z", "format": "RFC3339"}`` (or the bare string) → epoch s;
    a ``format`` left out is RFC 3339, the only one (noted in ``said``). A time outside ``within``
    (:data:`TIMES` unless told, ``None`` for any) is refused."""
    if isinstance(value, Mapping):
        check_keys(value, KEYS["time"], path)
        if "format" not in value:
            _say(said, _join(path, "format"), "RFC3339")
        fmt = value.get("format", "RFC3339")
        if fmt != "RFC3339":
            raise ValidationError.at(_join(path, "format"), f"only RFC3339 is supported, got {fmt!r}")
        text = _str(_req(value, "value", path), _join(path, "value"))
        path = _join(path, "value")
    else:
        text = _str(value, path)
    # datetime.fromisoformat also takes ISO 8601 forms that RFC 3339 does not (20150930T0600Z,
    # week dates, hours only, +0100): check the RFC 3339 form first.
    m = _RFC3339.fullmatch(text.strip())
    if m is None:
        raise ValidationError.at(path, f"{text!r} is not an RFC 3339 time such as 2015-09-30T06:00:00Z")
    if m["offset"] is None:
        raise ValidationError.at(path, f"{text!r} has no UTC offset; RFC 3339 needs one (for example Z)")
    try:
        t = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise ValidationError.at(path, f"{text!r} is not an RFC 3339 time such as 2015-09-30T06:00:00Z") from None
    epoch_s = t.timestamp()
    if within is not None and not within[0] <= epoch_s < within[1]:
        first, last = (format_time(x) for x in within)
        raise ValidationError.at(path, f"must be from {first} and before {last}, got {text!r}")
    return epoch_s


_FIRST = datetime(1, 1, 1, tzinfo=UTC)
_LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def format_time(epoch_s: float) -> str:
    """Epoch seconds → RFC 3339 in UTC with a ``Z``. A time past the years RFC 3339 can write (1
    to 9999), as a window widened by a separation minimum around a notice stored before times
    were bounded, is written as the first or last instant it can:

    >>> format_time(1443571200.0), format_time(253402300740.0 + 300), format_time(-7e10)
    ('2015-09-30T00:00:00Z', '9999-12-31T23:59:59.999999Z', '0001-01-01T00:00:00Z')
    """
    try:
        t = datetime.fromtimestamp(epoch_s, tz=UTC)
    except (ValueError, OverflowError, OSError):  # out of datetime's years
        t = _FIRST if epoch_s < 0 else _LAST
    text = t.isoformat(timespec="microseconds" if t.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def format_time_or_none(epoch_s: float | None) -> str | None:
    """:func:`format_time`, with ``None`` (a time not yet reached: not received, not cleared) kept."""
    return None if epoch_s is None else format_time(epoch_s)


def parse_volume4d(
    value: Any, limits: Limits | None = None, path: str = "", said: Said | None = None, *, stored: bool = False
) -> Volume4D:
    """An F3548-21 ``Volume4D`` (with our ``outline_corridor`` and ``outline_orbit``), or a GeoJSON
    Feature (see :func:`parse_feature`). ``stored``: a volume the store kept, read back as it was
    accepted (its times are not held to :data:`TIMES`: a notice stored before they were bounded
    stays readable)."""
    limits = limits or Limits()
    obj = _obj(value, path or "volume4d")
    if obj.get("type") == "Feature":
        return parse_feature(obj, limits, path, said=said)
    check_keys(obj, KEYS["volume4d"], path)
    vpath = _join(path, "volume")
    vol = _obj(_req(obj, "volume", path), vpath, "volume3d")
    present = [k for k in OUTLINES if vol.get(k) is not None]
    if not present:
        raise ValidationError.at(vpath, f"needs one outline: {', '.join(OUTLINES)}")
    if len(present) > 1:
        raise ValidationError.at(vpath, f"has {len(present)} outlines ({', '.join(present)}); give exactly one")
    key = present[0]
    shape = _parse_outline(key, vol[key], limits, _join(vpath, key))
    band = _parse_band(vol, limits, vpath, said)
    if obj.get("schedule") is None:
        start, end = _parse_window(obj, limits, path, said, None if stored else TIMES)
        return Volume4D(shape=shape, altitude=band, time_start=start, time_end=end)
    span = math.inf if stored else limits.max_schedule_span_s
    start, end = _parse_window(obj, limits, path, said, None if stored else TIMES, span, "a scheduled envelope")
    schedule = parse_schedule(obj["schedule"], _join(path, "schedule"), start, end, limits.max_window_s)
    return Volume4D(shape=shape, altitude=band, time_start=start, time_end=end, schedule=schedule)


def _parse_outline(key: str, value: Any, limits: Limits, path: str) -> Shape:
    obj = _obj(value, path, key)
    try:
        if key == "outline_polygon":
            pts = _points(obj, "vertices", path, limits)
            return make_shape(ShapeKind.POLYGON, pts, 0.0, limits.shape, points_path="vertices")
        if key == "outline_circle":
            center = parse_latlng(_req(obj, "center", path), _join(path, "center"))
            radius = parse_distance_m(_req(obj, "radius", path), _join(path, "radius"))
            return make_shape(ShapeKind.CIRCLE, [center], radius, limits.shape, "center", "radius")
        if key == "outline_corridor":
            pts = _points(obj, "centerline", path, limits)
            width = parse_distance_m(_req(obj, "width", path), _join(path, "width"))
            return make_shape(ShapeKind.CORRIDOR, pts, width / 2, limits.shape, "centerline", "width")
        pts = _points(obj, "points", path, limits)
        width = parse_distance_m(_req(obj, "width", path), _join(path, "width"))
        return make_shape(ShapeKind.ORBIT, pts, width / 2, limits.shape, "points", "width")
    except ValidationError as e:
        if all(err.path.startswith(path) for err in e.errors):
            raise
        raise e.prefixed(path) from None


def _points(obj: Mapping[str, Any], key: str, path: str, limits: Limits) -> list[tuple[float, float]]:
    raw = _vertex_list(_req(obj, key, path), _join(path, key), limits)
    return [parse_latlng(p, _join(_join(path, key), i)) for i, p in enumerate(raw)]


def _vertex_list(value: Any, path: str, limits: Limits) -> list[Any]:
    """A list of vertices, refused when oversized before any per-vertex work (one more than the
    cap is let through for a closed ring's repeated first vertex)."""
    raw = _list(value, path)
    if len(raw) > limits.shape.max_vertices + 1:
        raise ValidationError.at(path, f"{len(raw)} vertices is more than the limit of {limits.shape.max_vertices}")
    return raw


def _parse_band(vol: Mapping[str, Any], limits: Limits, vpath: str, said: Said | None) -> AltitudeBand:
    lo, lo_ref = parse_altitude(_req(vol, "altitude_lower", vpath), _join(vpath, "altitude_lower"), said)
    hi, hi_ref = parse_altitude(_req(vol, "altitude_upper", vpath), _join(vpath, "altitude_upper"), said)
    if lo_ref != hi_ref:
        raise ValidationError.at(
            _join(vpath, "altitude_upper.reference"),
            f"must match altitude_lower.reference ({lo_ref.value}), got {hi_ref.value}",
        )
    for v, k in ((lo, "altitude_lower"), (hi, "altitude_upper")):
        if not limits.min_altitude_m <= v <= limits.max_altitude_m:
            raise ValidationError.at(
                _join(vpath, k),
                f"{v:.0f} m is outside the accepted range [{limits.min_altitude_m:.0f}, {limits.max_altitude_m:.0f}] m",
            )
    if lo > hi:
        raise ValidationError.at(_join(vpath, "altitude_lower"), f"lower ({lo:.1f} m) is above upper ({hi:.1f} m)")
    return AltitudeBand(lo, hi, lo_ref)


def _parse_window(
    obj: Mapping[str, Any],
    limits: Limits,
    path: str,
    said: Said | None,
    within: tuple[float, float] | None = TIMES,
    max_s: float | None = None,
    what: str = "the window",
) -> tuple[float, float]:
    """``time_start`` and ``time_end``, at most ``max_s`` apart (the theater's window limit unless
    given: a scheduled volume's envelope has its own)."""
    start = parse_time(_req(obj, "time_start", path), _join(path, "time_start"), said, within)
    end = parse_time(_req(obj, "time_end", path), _join(path, "time_end"), said, within)
    if end <= start:
        raise ValidationError.at(_join(path, "time_end"), "must be after time_start")
    limit = limits.max_window_s if max_s is None else max_s
    if end - start > limit:
        raise ValidationError.at(
            _join(path, "time_end"),
            f"{what} is {(end - start) / 3600:.1f} h, longer than the limit of {limit / 3600:.1f} h",
        )
    return start, end


_GEOMETRY_PROPERTIES = {
    "Polygon": frozenset(),
    "Point": frozenset({"radius"}),
    "LineString": frozenset({"width", "shape"}),
}
"""The shape properties each geometry type takes (a radius on a Polygon would be silently ignored)."""


def parse_feature(
    value: Any,
    limits: Limits | None = None,
    path: str = "",
    notice_properties: bool = False,
    said: Said | None = None,
) -> Volume4D:
    """A GeoJSON Feature as a volume. ``geometry`` is a Polygon (polygon), a Point with
    ``properties.radius`` (circle), a LineString with ``properties.width`` (corridor; with
    ``properties.shape = "orbit"`` and two positions, an orbit). ``properties`` also carry
    ``altitude_lower``, ``altitude_upper``, ``time_start`` and ``time_end`` as in F3548, and, in a
    notice file's FeatureCollection (``notice_properties``), the notice's ``party``, ``id`` and
    ``kind``. Any other key is refused."""
    limits = limits or Limits()
    obj = _obj(value, path or "feature")
    check_keys(obj, KEYS["feature"], path)
    gpath = _join(path, "geometry")
    ppath = _join(path, "properties")
    geom = _obj(_req(obj, "geometry", path), gpath, "geometry")
    props = _obj(_req(obj, "properties", path), ppath)
    gtype = _str(_req(geom, "type", gpath), _join(gpath, "type"))
    _check_properties(props, gtype, ppath, notice_properties)
    cpath = _join(gpath, "coordinates")
    coords = _req(geom, "coordinates", gpath)
    try:
        if gtype == "Polygon":
            rings = _list(coords, cpath)
            if not rings:
                raise ValidationError.at(cpath, "a polygon needs one ring of positions")
            if len(rings) != 1:
                raise ValidationError.at(cpath, f"a polygon with holes is not supported ({len(rings)} rings)")
            pts = _positions(rings[0], _join(cpath, 0), limits)
            shape = make_shape(ShapeKind.POLYGON, pts, 0.0, limits.shape, points_path=_join(cpath, 0))
        elif gtype == "Point":
            center = _position(coords, cpath)
            radius = parse_distance_m(_req(props, "radius", ppath), _join(ppath, "radius"))
            shape = make_shape(ShapeKind.CIRCLE, [center], radius, limits.shape, cpath, _join(ppath, "radius"))
        elif gtype == "LineString":
            pts = _positions(coords, cpath, limits)
            width = parse_distance_m(_req(props, "width", ppath), _join(ppath, "width"))
            style = props.get("shape")
            if style not in (None, "corridor", "orbit"):
                raise ValidationError.at(
                    _join(ppath, "shape"), f"{style!r} is not a line shape; use 'corridor' (the default) or 'orbit'"
                )
            kind = ShapeKind.ORBIT if style == "orbit" else ShapeKind.CORRIDOR
            shape = make_shape(kind, pts, width / 2, limits.shape, cpath, _join(ppath, "width"))
        else:
            raise ValidationError.at(
                _join(gpath, "type"),
                f"{gtype!r} is not supported; use Polygon, Point (+radius) or LineString (+width)",
            )
    except ValidationError as e:
        raise (e if all(err.path.startswith(path) for err in e.errors) else e.prefixed(path)) from None
    band = _parse_band(props, limits, ppath, said)
    start, end = _parse_window(props, limits, ppath, said)
    return Volume4D(shape=shape, altitude=band, time_start=start, time_end=end)


_SHAPE_PROPERTIES = frozenset().union(*_GEOMETRY_PROPERTIES.values())


def _check_properties(props: Mapping[str, Any], gtype: str, ppath: str, notice_properties: bool) -> None:
    known = KEYS["feature_properties"] | (KEYS["notice_properties"] if notice_properties else frozenset())
    own = _GEOMETRY_PROPERTIES.get(gtype)
    if own is not None:
        for key in props:
            if key in _SHAPE_PROPERTIES and key not in own:
                takes = [g for g, keys in _GEOMETRY_PROPERTIES.items() if key in keys]
                raise ValidationError.at(
                    _join(ppath, key), f"applies to a {' or '.join(takes)} geometry, not to a {gtype}"
                )
    check_keys(props, known, ppath)


def _positions(value: Any, path: str, limits: Limits) -> list[tuple[float, float]]:
    raw = _vertex_list(value, path, limits)
    return [_position(p, _join(path, i)) for i, p in enumerate(raw)]


def _position(value: Any, path: str) -> tuple[float, float]:
    """A GeoJSON position ``[longitude, latitude, (altitude)]`` → (lat, lon)."""
    pos = _list(value, path)
    if len(pos) < 2:
        raise ValidationError.at(path, "a position needs [longitude, latitude]")
    lon = _num(pos[0], _join(path, 0))
    lat = _num(pos[1], _join(path, 1))
    if not -90.0 <= lat <= 90.0:
        raise ValidationError.at(_join(path, 1), f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise ValidationError.at(_join(path, 0), f"longitude {lon} is outside [-180, 180]")
    return lat, lon


def _id_and_kind(props: Mapping[str, Any], path: str, said: Said | None) -> tuple[str | None, str]:
    """A notice's ``id`` (``None``: the broker assigns one) and ``kind`` (``activity`` when left out
    or blank), each default noted in ``said``."""
    nid = props.get("id")
    if nid is None:
        _say(said, _join(path, "id"), "assigned by the broker")
    else:
        nid = _str(nid, _join(path, "id")).strip()
        if not nid or len(nid) > 200:
            raise ValidationError.at(_join(path, "id"), "must be 1 to 200 characters")
    kind = _str(props.get("kind", ""), _join(path, "kind")).strip()
    if not kind:
        _say(said, _join(path, "kind"), "activity")
    return nid, kind or "activity"


def parse_notice(value: Any, limits: Limits | None = None, path: str = "", said: Said | None = None) -> Notice:
    """``{"party", "id"?, "kind"?, "volumes": [Volume4D, …]}`` → :class:`Notice`; each default
    applied is noted in ``said``."""
    limits = limits or Limits()
    obj = _obj(value, path or "notice")
    check_keys(obj, KEYS["notice"], path)
    party = _str(_req(obj, "party", path), _join(path, "party")).strip()
    if not party:
        raise ValidationError.at(_join(path, "party"), "must not be empty")
    nid, kind = _id_and_kind(obj, path, said)
    vols = _list(_req(obj, "volumes", path), _join(path, "volumes"))
    if not vols:
        raise ValidationError.at(_join(path, "volumes"), "needs at least one volume")
    if len(vols) > limits.max_volumes_per_notice:
        raise ValidationError.at(
            _join(path, "volumes"),
            f"{len(vols)} volumes is more than the limit of {limits.max_volumes_per_notice}",
        )
    volumes: list[Volume4D] = []
    total = 0
    for i, v in enumerate(vols):
        vpath = _join(_join(path, "volumes"), i)
        volumes.append(parse_volume4d(v, limits, vpath, said))
        total = _within_budget(total, volumes[-1], limits, vpath)
    extra = read_notice_text(obj, path)
    notice = Notice(party=party, id=nid, kind=kind, volumes=tuple(volumes), protected=kind == PROTECTED_SITE_KIND)
    return replace(notice, extra=extra) if extra else notice


def _within_budget(total: int, volume: Volume4D, limits: Limits, path: str) -> int:
    """``total`` plus the vertices of ``volume``; refused at ``path`` once the notice's volumes
    hold more than :attr:`Limits.max_vertices_per_notice` together."""
    total += len(volume.shape.points)
    if total > limits.max_vertices_per_notice:
        raise ValidationError.at(
            path,
            f"the notice's volumes hold {total} vertices up to this one, "
            f"the theater allows {limits.max_vertices_per_notice} in one notice",
        )
    return total


def parse_notices(doc: Any, limits: Limits | None = None, said: Said | None = None) -> list[Notice]:
    """A notice file: one notice, a JSON list of them, or a GeoJSON FeatureCollection whose
    features carry ``party``, ``id`` and ``kind`` as properties (features with the same party and
    id form one notice). Each default applied is noted in ``said``."""
    limits = limits or Limits()
    if isinstance(doc, list):
        return [parse_notice(n, limits, f"[{i}]", said) for i, n in enumerate(doc)]
    if not isinstance(doc, Mapping):
        raise ValidationError.at(
            "", f"must be a notice object, a list of notices or a GeoJSON FeatureCollection, got {_kind(doc)}"
        )
    obj = doc
    if obj.get("type") == "FeatureCollection":
        return _parse_collection(obj, limits, said)
    return [parse_notice(obj, limits, said=said)]


def _parse_collection(obj: Mapping[str, Any], limits: Limits, said: Said | None) -> list[Notice]:
    check_keys(obj, KEYS["feature_collection"], "")
    feats = _list(_req(obj, "features", ""), "features")
    groups: dict[tuple[str, str], list[Volume4D]] = {}
    meta: dict[tuple[str, str], tuple[str | None, str]] = {}
    texts: dict[tuple[str, str], dict[str, str]] = {}
    vertices: dict[tuple[str, str], int] = {}
    errors: list[FieldError] = []
    for i, f in enumerate(feats):
        fpath = f"features[{i}]"
        fobj = _obj(f, fpath, "feature")
        if fobj.get("type") != "Feature":
            raise ValidationError.at(_join(fpath, "type"), 'must be "Feature" (a GeoJSON Feature)')
        props = _obj(_req(fobj, "properties", fpath), _join(fpath, "properties"))
        check_keys(props, KEYS["feature_properties"] | KEYS["notice_properties"], _join(fpath, "properties"))
        party = _str(_req(props, "party", _join(fpath, "properties")), _join(fpath, "properties.party")).strip()
        if not party:
            errors.append(FieldError(_join(fpath, "properties.party"), "must not be empty"))
            continue
        nid, kind = _id_and_kind(props, _join(fpath, "properties"), said)
        key = (party, nid if nid is not None else f"\0{i}")
        group = groups.setdefault(key, [])
        if len(group) >= limits.max_volumes_per_notice:
            raise ValidationError.at(
                fpath,
                f"notice {nid!r} of party {party!r} has more than the limit of {limits.max_volumes_per_notice} volumes",
            )
        if key in meta and meta[key][1] != kind:
            raise ValidationError.at(
                _join(fpath, "properties.kind"),
                f"{kind!r} differs from the kind {meta[key][1]!r} of earlier features of notice {nid!r}",
            )
        group.append(parse_feature(fobj, limits, fpath, notice_properties=True, said=said))
        vertices[key] = _within_budget(vertices.get(key, 0), group[-1], limits, fpath)
        meta[key] = (nid, kind)
        _agreeing_text(texts.setdefault(key, {}), props, _join(fpath, "properties"), nid)
    if errors:
        raise ValidationError(errors)
    return [
        Notice(
            party=k[0],
            id=meta[k][0],
            kind=meta[k][1],
            volumes=tuple(v),
            protected=meta[k][1] == PROTECTED_SITE_KIND,
            extra=texts[k],
        )
        for k, v in groups.items()
    ]


def _agreeing_text(known: dict[str, str], props: Mapping[str, Any], path: str, nid: str | None) -> None:
    """A feature's ``name``, ``acm_type`` and ``description`` into its notice's ``known`` words: any
    feature of a notice may give them, and features that give the same one must agree."""
    for key, value in read_notice_text(props, path).items():
        if known.get(key, value) != value:
            (field,) = notice_text_json({key: value})
            raise ValidationError.at(_join(path, field), f"differs from the {field} earlier features of {nid!r} give")
        known[key] = value


# ---------------------------------------------------------------- out


def shape_to_f3548(shape: Shape) -> dict[str, Any]:
    pts = [{"lat": a, "lng": b} for a, b in shape.points]
    if shape.kind is ShapeKind.POLYGON:
        return {"outline_polygon": {"vertices": pts}}
    if shape.kind is ShapeKind.CIRCLE:
        return {"outline_circle": {"center": pts[0], "radius": {"value": shape.buffer_m, "units": "M"}}}
    width = {"value": shape.width_m, "units": "M"}
    if shape.kind is ShapeKind.CORRIDOR:
        return {"outline_corridor": {"centerline": pts, "width": width}}
    return {"outline_orbit": {"points": pts, "width": width}}


def volume_to_f3548(v: Volume4D) -> dict[str, Any]:
    """Domain → F3548 JSON (metres), parseable back by :func:`parse_volume4d`."""
    ref = v.altitude.reference.value
    if ref == "STD":
        lower = {
            "value": v.altitude.lower_m / ALTITUDE_UNITS["FL"],
            "reference": "STD",
            "units": "FL",
        }
        upper = {
            "value": v.altitude.upper_m / ALTITUDE_UNITS["FL"],
            "reference": "STD",
            "units": "FL",
        }
    else:
        lower = {"value": v.altitude.lower_m, "reference": ref, "units": "M"}
        upper = {"value": v.altitude.upper_m, "reference": ref, "units": "M"}
    out: dict[str, Any] = {
        "volume": {**shape_to_f3548(v.shape), "altitude_lower": lower, "altitude_upper": upper},
        "time_start": {"value": format_time(v.time_start), "format": "RFC3339"},
        "time_end": {"value": format_time(v.time_end), "format": "RFC3339"},
    }
    if v.schedule is not None:
        out["schedule"] = schedule_to_json(v.schedule)
    return out


def notice_to_json(n: Notice, volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``n`` in its F3548 form; ``volumes``: its volumes' forms when made already."""
    out: dict[str, Any] = {
        "party": n.party,
        "kind": n.kind,
        "volumes": [volume_to_f3548(v) for v in n.volumes] if volumes is None else volumes,
    }
    if n.id is not None:
        out = {"id": n.id, **out}
    out.update(notice_text_json(n.extra))
    return out
