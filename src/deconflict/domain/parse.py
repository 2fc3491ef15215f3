"""Converters at the boundary: ASTM F3548-21 ``Volume4D`` JSON and GeoJSON Features ⇄ domain, with
their units converted to SI (points, distances, altitudes; times in :mod:`.times`); notices and
notice files in :mod:`.notice_json`.

Every refusal is a :class:`ValidationError` whose path names the field as the user wrote it, for
example ``volumes[2].volume.outline_polygon.vertices[3].lat``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.fields import Said, as_list, as_number, as_object, as_string, join_path, required, say
from deconflict.domain.policy import Limits
from deconflict.domain.schedule_json import parse_schedule, schedule_to_json
from deconflict.domain.shapes import Shape, ShapeKind, make_shape
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.times import TIMES, format_time, parse_time
from deconflict.domain.units import ALTITUDE_UNITS, LENGTH_UNITS
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Volume4D

OUTLINES = ("outline_polygon", "outline_circle", "outline_corridor", "outline_orbit")


def parse_latlng(value: Any, path: str) -> tuple[float, float]:
    """``{"lat": .., "lng": ..}`` in degrees → (lat, lon)."""
    obj = as_object(value, path, "latlng")
    lat = as_number(required(obj, "lat", path), join_path(path, "lat"))
    lng = as_number(required(obj, "lng", path), join_path(path, "lng"))
    return _check_latlng(lat, lng, path, "lat", "lng")


def _check_latlng(lat: float, lon: float, path: str, lat_key: str, lon_key: str) -> tuple[float, float]:
    if not -90.0 <= lat <= 90.0:
        raise ValidationError.at(join_path(path, lat_key), f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise ValidationError.at(join_path(path, lon_key), f"longitude {lon} is outside [-180, 180]")
    return lat, lon


def parse_distance_m(value: Any, path: str) -> float:
    """``{"value": 5, "units": "NM"}`` → metres. The unit is required: a bare number, or a
    missing or misspelt ``units``, is refused rather than read as metres."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValidationError.at(
            path, f'a bare number has no unit: write {{"value": {value}, "units": "M"}} (or KM, FT, NM)'
        )
    obj = as_object(value, path, "distance")
    v = as_number(required(obj, "value", path), join_path(path, "value"))
    units = as_string(required(obj, "units", path), join_path(path, "units")).upper()
    if units not in LENGTH_UNITS:
        raise ValidationError.at(
            join_path(path, "units"), f"unknown unit {units!r}; use one of {', '.join(LENGTH_UNITS)}"
        )
    return v * LENGTH_UNITS[units]


def parse_altitude(value: Any, path: str, said: Said | None = None) -> tuple[float, AltitudeReference]:
    """``{"value", "reference": "W84"|"AMSL", "units": "M"|"FT"|"FL"}`` → (metres, reference).
    ``units`` is required; ``reference`` too, except with ``FL``, whose only reference is ``STD``
    (noted in ``said``)."""
    obj = as_object(value, path, "altitude")
    v = as_number(required(obj, "value", path), join_path(path, "value"))
    units = as_string(required(obj, "units", path), join_path(path, "units")).upper()
    if units not in ALTITUDE_UNITS:
        raise ValidationError.at(
            join_path(path, "units"), f"unknown unit {units!r}; use one of {', '.join(ALTITUDE_UNITS)}"
        )
    raw_ref = obj.get("reference")
    if raw_ref is None and units == "FL":
        raw_ref = "STD"
        say(said, join_path(path, "reference"), "STD")
    if raw_ref is None:
        raise ValidationError.at(join_path(path, "reference"), "is required (W84 or AMSL)")
    ref = as_string(raw_ref, join_path(path, "reference")).upper()
    if ref == "AGL":
        raise ValidationError.at(
            join_path(path, "reference"),
            "AGL is not accepted: it needs terrain data the broker does not have; give W84 or AMSL",
        )
    if units == "FL":
        if ref != "STD":
            raise ValidationError.at(
                join_path(path, "reference"),
                "a flight level is a pressure altitude: use STD or omit it",
            )
        if v < 0:
            raise ValidationError.at(join_path(path, "value"), "a flight level cannot be negative")
    elif ref not in ("W84", "AMSL"):
        raise ValidationError.at(join_path(path, "reference"), f"unknown reference {ref!r}; use W84 or AMSL")
    return v * ALTITUDE_UNITS[units], AltitudeReference(ref)


def parse_volume4d(
    value: Any, limits: Limits | None = None, path: str = "", said: Said | None = None, *, stored: bool = False
) -> Volume4D:
    """An F3548-21 ``Volume4D`` (with our ``outline_corridor`` and ``outline_orbit``), or a GeoJSON
    Feature (see :func:`parse_feature`). ``stored``: a volume the store kept, read back as it was
    accepted (its times are not held to :data:`TIMES`: a notice stored before they were bounded
    stays readable)."""
    limits = limits or Limits()
    obj = as_object(value, path or "volume4d")
    if obj.get("type") == "Feature":
        return parse_feature(obj, limits, path, said=said)
    check_keys(obj, KEYS["volume4d"], path)
    vpath = join_path(path, "volume")
    vol = as_object(required(obj, "volume", path), vpath, "volume3d")
    present = [k for k in OUTLINES if vol.get(k) is not None]
    if not present:
        raise ValidationError.at(vpath, f"needs one outline: {', '.join(OUTLINES)}")
    if len(present) > 1:
        raise ValidationError.at(vpath, f"has {len(present)} outlines ({', '.join(present)}); give exactly one")
    key = present[0]
    shape = _parse_outline(key, vol[key], limits, join_path(vpath, key))
    band = _parse_band(vol, limits, vpath, said)
    if obj.get("schedule") is None:
        start, end = _parse_window(obj, limits, path, said, None if stored else TIMES)
        return Volume4D(shape=shape, altitude=band, time_start=start, time_end=end)
    span = math.inf if stored else limits.max_schedule_span_s
    start, end = _parse_window(obj, limits, path, said, None if stored else TIMES, span, "a scheduled envelope")
    schedule = parse_schedule(obj["schedule"], join_path(path, "schedule"), start, end, limits.max_window_s)
    return Volume4D(shape=shape, altitude=band, time_start=start, time_end=end, schedule=schedule)


def _parse_outline(key: str, value: Any, limits: Limits, path: str) -> Shape:
    obj = as_object(value, path, key)
    try:
        if key == "outline_polygon":
            pts = _points(obj, "vertices", path, limits)
            return make_shape(ShapeKind.POLYGON, pts, 0.0, limits.shape, points_path="vertices")
        if key == "outline_circle":
            center = parse_latlng(required(obj, "center", path), join_path(path, "center"))
            radius = parse_distance_m(required(obj, "radius", path), join_path(path, "radius"))
            return make_shape(ShapeKind.CIRCLE, [center], radius, limits.shape, "center", "radius")
        if key == "outline_corridor":
            pts = _points(obj, "centerline", path, limits)
            width = parse_distance_m(required(obj, "width", path), join_path(path, "width"))
            return make_shape(ShapeKind.CORRIDOR, pts, width / 2, limits.shape, "centerline", "width")
        pts = _points(obj, "points", path, limits)
        width = parse_distance_m(required(obj, "width", path), join_path(path, "width"))
        return make_shape(ShapeKind.ORBIT, pts, width / 2, limits.shape, "points", "width")
    except ValidationError as e:
        if all(err.path.startswith(path) for err in e.errors):
            raise
        raise e.prefixed(path) from None


def _points(obj: Mapping[str, Any], key: str, path: str, limits: Limits) -> list[tuple[float, float]]:
    raw = _vertex_list(required(obj, key, path), join_path(path, key), limits)
    return [parse_latlng(p, join_path(join_path(path, key), i)) for i, p in enumerate(raw)]


def _vertex_list(value: Any, path: str, limits: Limits) -> list[Any]:
    """A list of vertices, refused when oversized before any per-vertex work (one more than the
    cap is let through for a closed ring's repeated first vertex)."""
    raw = as_list(value, path)
    if len(raw) > limits.shape.max_vertices + 1:
        raise ValidationError.at(path, f"{len(raw)} vertices is more than the limit of {limits.shape.max_vertices}")
    return raw


def _parse_band(vol: Mapping[str, Any], limits: Limits, vpath: str, said: Said | None) -> AltitudeBand:
    lo, lo_ref = parse_altitude(required(vol, "altitude_lower", vpath), join_path(vpath, "altitude_lower"), said)
    hi, hi_ref = parse_altitude(required(vol, "altitude_upper", vpath), join_path(vpath, "altitude_upper"), said)
    if lo_ref != hi_ref:
        raise ValidationError.at(
            join_path(vpath, "altitude_upper.reference"),
            f"must match altitude_lower.reference ({lo_ref.value}), got {hi_ref.value}",
        )
    for v, k in ((lo, "altitude_lower"), (hi, "altitude_upper")):
        if not limits.min_altitude_m <= v <= limits.max_altitude_m:
            raise ValidationError.at(
                join_path(vpath, k),
                f"{v:.0f} m is outside the accepted range [{limits.min_altitude_m:.0f}, {limits.max_altitude_m:.0f}] m",
            )
    if lo > hi:
        raise ValidationError.at(join_path(vpath, "altitude_lower"), f"lower ({lo:.1f} m) is above upper ({hi:.1f} m)")
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
    start = parse_time(required(obj, "time_start", path), join_path(path, "time_start"), said, within)
    end = parse_time(required(obj, "time_end", path), join_path(path, "time_end"), said, within)
    if end <= start:
        raise ValidationError.at(join_path(path, "time_end"), "must be after time_start")
    limit = limits.max_window_s if max_s is None else max_s
    if end - start > limit:
        raise ValidationError.at(
            join_path(path, "time_end"),
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
    obj = as_object(value, path or "feature")
    check_keys(obj, KEYS["feature"], path)
    gpath = join_path(path, "geometry")
    ppath = join_path(path, "properties")
    geom = as_object(required(obj, "geometry", path), gpath, "geometry")
    props = as_object(required(obj, "properties", path), ppath)
    gtype = as_string(required(geom, "type", gpath), join_path(gpath, "type"))
    _check_properties(props, gtype, ppath, notice_properties)
    cpath = join_path(gpath, "coordinates")
    coords = required(geom, "coordinates", gpath)
    try:
        if gtype == "Polygon":
            rings = as_list(coords, cpath)
            if not rings:
                raise ValidationError.at(cpath, "a polygon needs one ring of positions")
            if len(rings) != 1:
                raise ValidationError.at(cpath, f"a polygon with holes is not supported ({len(rings)} rings)")
            pts = _positions(rings[0], join_path(cpath, 0), limits)
            shape = make_shape(ShapeKind.POLYGON, pts, 0.0, limits.shape, points_path=join_path(cpath, 0))
        elif gtype == "Point":
            center = _position(coords, cpath)
            radius = parse_distance_m(required(props, "radius", ppath), join_path(ppath, "radius"))
            shape = make_shape(ShapeKind.CIRCLE, [center], radius, limits.shape, cpath, join_path(ppath, "radius"))
        elif gtype == "LineString":
            pts = _positions(coords, cpath, limits)
            width = parse_distance_m(required(props, "width", ppath), join_path(ppath, "width"))
            style = props.get("shape")
            if style not in (None, "corridor", "orbit"):
                raise ValidationError.at(
                    join_path(ppath, "shape"), f"{style!r} is not a line shape; use 'corridor' (the default) or 'orbit'"
                )
            kind = ShapeKind.ORBIT if style == "orbit" else ShapeKind.CORRIDOR
            shape = make_shape(kind, pts, width / 2, limits.shape, cpath, join_path(ppath, "width"))
        else:
            raise ValidationError.at(
                join_path(gpath, "type"),
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
                    join_path(ppath, key), f"applies to a {' or '.join(takes)} geometry, not to a {gtype}"
                )
    check_keys(props, known, ppath)


def _positions(value: Any, path: str, limits: Limits) -> list[tuple[float, float]]:
    raw = _vertex_list(value, path, limits)
    return [_position(p, join_path(path, i)) for i, p in enumerate(raw)]


def _position(value: Any, path: str) -> tuple[float, float]:
    """A GeoJSON position ``[longitude, latitude, (altitude)]`` → (lat, lon)."""
    pos = as_list(value, path)
    if len(pos) < 2:
        raise ValidationError.at(path, "a position needs [longitude, latitude]")
    lon = as_number(pos[0], join_path(path, 0))
    lat = as_number(pos[1], join_path(path, 1))
    if not -90.0 <= lat <= 90.0:
        raise ValidationError.at(join_path(path, 1), f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise ValidationError.at(join_path(path, 0), f"longitude {lon} is outside [-180, 180]")
    return lat, lon


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
