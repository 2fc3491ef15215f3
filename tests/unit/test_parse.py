"""Parsing at the boundary: every bad input is refused with the exact field path and a clear reason;
good F3548-21 Volume4D JSON, GeoJSON Features and notice files parse to the right domain values."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.geodesy import destination
from deconflict.domain.notice_json import notice_to_json, parse_notice, parse_notices
from deconflict.domain.parse import (
    parse_altitude,
    parse_distance_m,
    parse_feature,
    parse_latlng,
    parse_volume4d,
    volume_to_f3548,
)
from deconflict.domain.policy import Limits
from deconflict.domain.shapes import ShapeKind, ShapeLimits
from deconflict.domain.times import format_time, parse_time
from deconflict.domain.volumes import AltitudeReference, Notice

T0 = "2015-09-30T06:00:00Z"
T1 = "2015-09-30T08:00:00Z"
EPOCH_T0 = datetime(2015, 9, 30, 6, tzinfo=UTC).timestamp()
EPOCH_T1 = EPOCH_T0 + 7200

SQUARE = [(35.0, 36.0), (35.0, 36.1), (35.1, 36.1), (35.1, 36.0)]
BOW_TIE = [(35.0, 36.0), (35.1, 36.1), (35.0, 36.1), (35.1, 36.0)]

P = "volumes[0].volume"
"""The volume of the first volume of a notice."""


# ------------------------------------------------------------------ builders


def latlngs(pts: list[tuple[float, float]]) -> list[dict[str, Any]]:
    return [{"lat": a, "lng": b} for a, b in pts]


def polygon(pts: list[tuple[float, float]] = SQUARE) -> dict[str, Any]:
    return {"outline_polygon": {"vertices": latlngs(pts)}}


def metres(value: Any) -> Any:
    """A number as a distance in metres (the unit is required); anything else as it is."""
    return {"value": value, "units": "M"} if isinstance(value, int | float) and not isinstance(value, bool) else value


def circle(lat: float = 35.0, lng: float = 36.0, radius: Any = None) -> dict[str, Any]:
    return {
        "outline_circle": {
            "center": {"lat": lat, "lng": lng},
            "radius": {"value": 5, "units": "NM"} if radius is None else metres(radius),
        }
    }


def corridor(pts: list[tuple[float, float]] | None = None, width: Any = 2000) -> dict[str, Any]:
    pts = [(35.0, 36.0), (35.2, 36.2), (35.3, 36.5)] if pts is None else pts
    return {"outline_corridor": {"centerline": latlngs(pts), "width": metres(width)}}


def orbit(pts: list[tuple[float, float]] | None = None, width: Any = None) -> dict[str, Any]:
    pts = [(35.0, 36.0), (35.0, 36.4)] if pts is None else pts
    width = {"value": 4, "units": "NM"} if width is None else metres(width)
    return {"outline_orbit": {"points": latlngs(pts), "width": width}}


def alt(value: Any, reference: Any = "W84", units: Any = "M") -> dict[str, Any]:
    out: dict[str, Any] = {"value": value}
    if reference is not None:
        out["reference"] = reference
    if units is not None:
        out["units"] = units
    return out


def vol(
    outline: dict[str, Any] | None = None,
    lower: Any = None,
    upper: Any = None,
    start: Any = T0,
    end: Any = T1,
) -> dict[str, Any]:
    return {
        "volume": {
            **(polygon() if outline is None else outline),
            "altitude_lower": alt(0) if lower is None else lower,
            "altitude_upper": alt(3000) if upper is None else upper,
        },
        "time_start": {"value": start, "format": "RFC3339"},
        "time_end": {"value": end, "format": "RFC3339"},
    }


def notice(*vols: dict[str, Any], party: str = "blue", **extra: Any) -> dict[str, Any]:
    return {"party": party, **extra, "volumes": list(vols) or [vol()]}


def feature(geometry: dict[str, Any], party: str = "blue", nid: str | None = "n1", **props: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "party": party,
        "altitude_lower": alt(0),
        "altitude_upper": alt(3000),
        "time_start": T0,
        "time_end": T1,
    }
    if nid is not None:
        properties["id"] = nid
    properties.update({k: metres(v) if k in ("radius", "width") else v for k, v in props.items()})
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def volume_feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A Feature as one volume: no notice properties (party, id, kind)."""
    f = feature(geometry, **props)
    f["properties"] = {k: v for k, v in f["properties"].items() if k not in ("party", "id", "kind")}
    return f


def gj_polygon(pts: list[tuple[float, float]] = SQUARE, close: bool = True) -> dict[str, Any]:
    ring = [[b, a] for a, b in pts]
    if close:
        ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def ngon(n: int, radius_m: float = 10_000.0) -> list[tuple[float, float]]:
    lats, lons = destination(35.0, 36.0, np.linspace(0.0, 360.0, n, endpoint=False), radius_m)
    return list(zip(lats.tolist(), lons.tolist(), strict=True))


def refused(fn: Callable[[], Any], path: str, *words: str) -> FieldError:
    """``fn()`` must raise a ValidationError with one error at exactly ``path`` whose reason
    contains every one of ``words`` (case-insensitive)."""
    with pytest.raises(ValidationError) as info:
        fn()
    errors = info.value.errors
    assert len(errors) == 1, errors
    err = errors[0]
    assert err.path == path, f"path {err.path!r} != {path!r} ({err.reason})"
    for w in words:
        assert w.lower() in err.reason.lower(), f"{w!r} not in {err.reason!r}"
    assert path in str(info.value)
    return err


def refused_notice(doc: dict[str, Any], path: str, *words: str, limits: Limits | None = None) -> FieldError:
    return refused(lambda: parse_notice(doc, limits), path, *words)


def with_volume(mutate: Callable[[dict[str, Any]], Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A notice with one volume, changed in place by ``mutate(volume4d)``."""
    v = copy.deepcopy(base if base is not None else vol())
    mutate(v)
    return notice(v)


# ================================================================== good inputs


def test_polygon_notice_parses() -> None:
    n = parse_notice(notice(vol(), id=" n-1 ", kind="exercise"))
    assert n.party == "blue"
    assert n.id == "n-1"
    assert n.kind == "exercise"
    (v,) = n.volumes
    assert v.shape.kind is ShapeKind.POLYGON
    assert v.shape.points == tuple(SQUARE)
    assert v.altitude.lower_m == 0.0
    assert v.altitude.upper_m == 3000.0
    assert v.altitude.reference is AltitudeReference.W84
    assert v.time_start == EPOCH_T0
    assert v.time_end == EPOCH_T1


def test_notice_defaults() -> None:
    n = parse_notice({"party": " red ", "volumes": [vol()]})
    assert n.party == "red"
    assert n.id is None
    assert n.kind == "activity"


def test_circle_parses_with_units() -> None:
    v = parse_volume4d(vol(circle()))
    assert v.shape.kind is ShapeKind.CIRCLE
    assert v.shape.center == (35.0, 36.0)
    assert v.shape.buffer_m == pytest.approx(5 * 1852.0)


@pytest.mark.parametrize(
    ("radius", "metres"),
    [
        ({"value": 1500, "units": "M"}, 1500.0),
        ({"value": 1500.5, "units": "m"}, 1500.5),
        ({"value": 1.5, "units": "KM"}, 1500.0),
        ({"value": 2, "units": "NM"}, 3704.0),
        ({"value": 1000, "units": "FT"}, 304.8),
        ({"value": 1000, "units": "ft"}, 304.8),
    ],
)
def test_distance_units(radius: Any, metres: float) -> None:
    assert parse_volume4d(vol(circle(radius=radius))).shape.buffer_m == pytest.approx(metres)


def test_corridor_parses_half_width_buffer() -> None:
    v = parse_volume4d(vol(corridor(width={"value": 2, "units": "KM"})))
    assert v.shape.kind is ShapeKind.CORRIDOR
    assert v.shape.buffer_m == 1000.0
    assert v.shape.width_m == 2000.0
    assert len(v.shape.points) == 3


def test_orbit_parses() -> None:
    v = parse_volume4d(vol(orbit()))
    assert v.shape.kind is ShapeKind.ORBIT
    assert v.shape.points == ((35.0, 36.0), (35.0, 36.4))
    assert v.shape.width_m == pytest.approx(4 * 1852.0)


def test_flight_levels_convert_to_metres_with_std_reference() -> None:
    v = parse_volume4d(vol(lower=alt(100, None, "FL"), upper=alt(250, "STD", "fl")))
    assert v.altitude.lower_m == pytest.approx(3048.0)
    assert v.altitude.upper_m == pytest.approx(7620.0)
    assert v.altitude.reference is AltitudeReference.STD


def test_feet_convert_to_metres() -> None:
    v = parse_volume4d(vol(lower=alt(500, "AMSL", "FT"), upper=alt(10_000, "amsl", "ft")))
    assert v.altitude.lower_m == pytest.approx(152.4)
    assert v.altitude.upper_m == pytest.approx(3048.0)
    assert v.altitude.reference is AltitudeReference.AMSL


def test_altitude_without_units_refused() -> None:
    # It was read as metres: 1000 meant in feet became 1000 m.
    refused(lambda: parse_altitude({"value": 120, "reference": "W84"}, "a"), "a.units", "required")
    assert parse_altitude({"value": 120, "reference": "W84", "units": "M"}, "a") == (120.0, AltitudeReference.W84)


@pytest.mark.parametrize(("radius", "path"), [(1500, ""), (1500.5, ""), ({"value": 1500}, ".units")])
def test_distance_without_units_refused(radius: Any, path: str) -> None:
    # A bare number or a missing unit was read as metres: 10 meant in NM became 10 m.
    doc = notice(vol(circle()))
    doc["volumes"][0]["volume"]["outline_circle"]["radius"] = radius
    refused_notice(doc, f"{P}.outline_circle.radius{path}", "unit" if not path else "required")


def test_equal_altitudes_accepted() -> None:
    v = parse_volume4d(vol(lower=alt(1000), upper=alt(1000)))
    assert v.altitude.lower_m == v.altitude.upper_m == 1000.0


def test_negative_altitude_within_range_accepted() -> None:
    assert parse_volume4d(vol(lower=alt(-400), upper=alt(0))).altitude.lower_m == -400.0


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2015-09-30T06:00:00Z", EPOCH_T0),
        ("2015-09-30t06:00:00z", EPOCH_T0),
        ("2015-09-30 06:00:00Z", EPOCH_T0),
        ("2015-09-30T09:00:00+03:00", EPOCH_T0),
        ("2015-09-30T01:00:00-05:00", EPOCH_T0),
        ("2015-09-30T06:00:00.250Z", EPOCH_T0 + 0.25),
        ("2015-09-30T06:00:00+00:00", EPOCH_T0),
        (" 2015-09-30T06:00:00Z ", EPOCH_T0),
    ],
)
def test_rfc3339_times_parse(text: str, epoch: float) -> None:
    assert parse_time(text, "t") == pytest.approx(epoch)
    assert parse_time({"value": text, "format": "RFC3339"}, "t") == pytest.approx(epoch)
    assert parse_time({"value": text}, "t") == pytest.approx(epoch)


def test_format_time_round_trips() -> None:
    assert format_time(EPOCH_T0) == "2015-09-30T06:00:00Z"
    assert parse_time(format_time(EPOCH_T0 + 0.5), "t") == EPOCH_T0 + 0.5


def test_window_at_the_default_cap_accepted() -> None:
    v = parse_volume4d(vol(start="2015-09-30T00:00:00Z", end="2015-10-07T00:00:00Z"))
    assert v.time_end - v.time_start == 7 * 86400


def test_closed_ring_accepted() -> None:
    v = parse_volume4d(vol(polygon([*SQUARE, SQUARE[0]])))
    assert v.shape.points == tuple(SQUARE)


def test_polygon_across_antimeridian_accepted() -> None:
    pts = [(-17.0, 179.9), (-17.0, -179.9), (-16.9, -179.9), (-16.9, 179.9)]
    v = parse_volume4d(vol(polygon(pts)))
    assert abs(abs(v.shape.center[1]) - 180.0) < 0.01
    assert v.shape.center[0] == pytest.approx(-16.95, abs=0.01)
    assert v.shape.bound_m < 20_000  # the short way round, not around the globe


def test_antimeridian_geojson_polygon_accepted() -> None:
    pts = [(-17.0, 179.9), (-17.0, -179.9), (-16.9, -179.9), (-16.9, 179.9)]
    v = parse_feature(volume_feature(gj_polygon(pts)))
    assert abs(abs(v.shape.center[1]) - 180.0) < 0.01


def test_vertex_cap_accepts_1000_and_closing_vertex() -> None:
    pts = ngon(1000)
    assert len(parse_volume4d(vol(polygon(pts))).shape.points) == 1000
    assert len(parse_volume4d(vol(polygon([*pts, pts[0]]))).shape.points) == 1000


def test_json_text_with_extra_fields_refused() -> None:
    doc = json.loads(json.dumps(notice(vol(circle()), id="n1")))
    doc["volumes"][0]["volume"]["note"] = "ignored"
    refused_notice(doc, f"{P}.note", "unknown key")


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    "volume4d",
    [
        vol(polygon()),
        vol(circle()),
        vol(corridor()),
        vol(orbit()),
        vol(polygon([(-17.0, 179.9), (-17.0, -179.9), (-16.9, -179.9)])),
        vol(circle(), lower=alt(100, None, "FL"), upper=alt(245, None, "FL")),
        vol(corridor(), lower=alt(1000, "AMSL", "FT"), upper=alt(5500, "AMSL", "FT")),
        vol(orbit(), start="2015-09-30T06:00:00.5Z", end="2015-09-30T08:30:00+02:00"),
    ],
    ids=["polygon", "circle", "corridor", "orbit", "antimeridian", "flight-levels", "feet-amsl", "fraction-offset"],
)
def test_volume_round_trip(volume4d: dict[str, Any]) -> None:
    v = parse_volume4d(volume4d)
    out = volume_to_f3548(v)
    back = parse_volume4d(json.loads(json.dumps(out)))
    assert back.shape == v.shape
    assert back.altitude.reference is v.altitude.reference
    assert back.altitude.lower_m == pytest.approx(v.altitude.lower_m, abs=1e-9)
    assert back.altitude.upper_m == pytest.approx(v.altitude.upper_m, abs=1e-9)
    assert (back.time_start, back.time_end) == (v.time_start, v.time_end)
    assert out["time_start"]["format"] == "RFC3339"


def test_notice_to_json_round_trip() -> None:
    n = parse_notice(notice(vol(polygon()), vol(circle()), vol(orbit()), id="n-7", kind="exercise"))
    doc = notice_to_json(n)
    assert doc["id"] == "n-7"
    back = parse_notice(json.loads(json.dumps(doc)))
    assert back == n


def test_notice_to_json_without_id() -> None:
    n = parse_notice(notice(vol(corridor())))
    doc = notice_to_json(n)
    assert "id" not in doc
    assert parse_notice(doc) == n


def test_notice_to_json_round_trips_through_parse_notices() -> None:
    ns = parse_notices([notice(vol(), id="a"), notice(vol(circle()), party="red")])
    assert parse_notices([notice_to_json(n) for n in ns]) == ns


# ------------------------------------------------------------------ notice files


def test_parse_notices_single_object() -> None:
    (n,) = parse_notices(notice(vol(), id="n1"))
    assert isinstance(n, Notice) and n.id == "n1"


def test_parse_notices_list() -> None:
    ns = parse_notices([notice(vol(), id="a"), notice(vol(circle()), party="red", id="b")])
    assert [(n.party, n.id) for n in ns] == [("blue", "a"), ("red", "b")]


def test_parse_notices_empty_list() -> None:
    assert parse_notices([]) == []


def test_feature_collection_groups_by_party_and_id() -> None:
    doc = collection(
        feature(gj_polygon(), nid="n1", kind="exercise"),
        feature({"type": "Point", "coordinates": [36.0, 35.0]}, nid="n1", radius=1000, kind="exercise"),
        feature({"type": "Point", "coordinates": [36.0, 35.0]}, party="red", nid="n1", radius=500),
        feature({"type": "LineString", "coordinates": [[36.0, 35.0], [36.2, 35.2]]}, nid="n2", width=300),
        feature(gj_polygon(), nid=None),
        feature(gj_polygon(), nid=None),
    )
    ns = parse_notices(doc)
    assert [(n.party, n.id, len(n.volumes)) for n in ns] == [
        ("blue", "n1", 2),
        ("red", "n1", 1),
        ("blue", "n2", 1),
        ("blue", None, 1),
        ("blue", None, 1),
    ]
    assert ns[0].kind == "exercise"
    assert [v.shape.kind for v in ns[0].volumes] == [ShapeKind.POLYGON, ShapeKind.CIRCLE]
    assert ns[1].kind == "activity"


def test_geojson_point_with_radius_is_a_circle() -> None:
    point = {"type": "Point", "coordinates": [36.0, 35.0]}
    v = parse_feature(volume_feature(point, radius={"value": 3, "units": "NM"}))
    assert v.shape.kind is ShapeKind.CIRCLE
    assert v.shape.points == ((35.0, 36.0),)  # GeoJSON is [lon, lat]
    assert v.shape.buffer_m == pytest.approx(3 * 1852.0)


def test_geojson_point_with_altitude_component_accepted() -> None:
    v = parse_feature(volume_feature({"type": "Point", "coordinates": [36.0, 35.0, 120.0]}, radius=100))
    assert v.shape.points == ((35.0, 36.0),)


def test_geojson_linestring_with_width_is_a_corridor() -> None:
    v = parse_feature(volume_feature({"type": "LineString", "coordinates": [[36.0, 35.0], [36.2, 35.1]]}, width=1000))
    assert v.shape.kind is ShapeKind.CORRIDOR
    assert v.shape.points == ((35.0, 36.0), (35.1, 36.2))
    assert v.shape.width_m == 1000.0


def test_geojson_linestring_shape_corridor_explicit() -> None:
    geom = {"type": "LineString", "coordinates": [[36.0, 35.0], [36.2, 35.1]]}
    assert parse_feature(volume_feature(geom, width=1000, shape="corridor")).shape.kind is ShapeKind.CORRIDOR


def test_geojson_linestring_with_shape_orbit_is_an_orbit() -> None:
    geom = {"type": "LineString", "coordinates": [[36.0, 35.0], [36.4, 35.0]]}
    v = parse_feature(volume_feature(geom, width={"value": 4, "units": "NM"}, shape="orbit"))
    assert v.shape.kind is ShapeKind.ORBIT
    assert v.shape.width_m == pytest.approx(4 * 1852.0)


def test_geojson_polygon_open_or_closed_ring() -> None:
    closed = parse_feature(volume_feature(gj_polygon(close=True)))
    opened = parse_feature(volume_feature(gj_polygon(close=False)))
    assert closed.shape == opened.shape
    assert closed.shape.points == tuple(SQUARE)
    assert closed.altitude.upper_m == 3000.0
    assert (closed.time_start, closed.time_end) == (EPOCH_T0, EPOCH_T1)


def test_parse_volume4d_accepts_a_feature() -> None:
    v = parse_volume4d(volume_feature(gj_polygon()))
    assert v.shape.kind is ShapeKind.POLYGON


def test_notice_volume_may_be_a_feature() -> None:
    n = parse_notice(notice(vol(), volume_feature({"type": "Point", "coordinates": [36.0, 35.0]}, radius=500)))
    assert [v.shape.kind for v in n.volumes] == [ShapeKind.POLYGON, ShapeKind.CIRCLE]


# ================================================================== polygon refusals


def test_self_intersecting_polygon_refused() -> None:
    err = refused_notice(notice(vol(polygon(BOW_TIE))), f"{P}.outline_polygon.vertices", "cross")
    assert "lat 35.05" in err.reason  # says where, in degrees


def test_degenerate_polygon_refused() -> None:
    pts = [(35.0, 36.0), (35.1, 36.0), (35.2, 36.0)]  # on a meridian
    err = refused_notice(notice(vol(polygon(pts))), f"{P}.outline_polygon.vertices", "degenerate", "line")
    assert "cross" not in err.reason


@pytest.mark.parametrize(
    "pts",
    [
        [],
        [(35.0, 36.0)],
        [(35.0, 36.0), (35.1, 36.1)],
        [(35.0, 36.0), (35.0, 36.0), (35.0, 36.0)],
        [(35.0, 36.0), (35.1, 36.1), (35.0, 36.0), (35.1, 36.1)],
        [(35.0, 36.0), (35.1, 36.1), (35.0, 36.0)],
    ],
    ids=["none", "one", "two", "one-repeated", "two-repeated", "closed-two"],
)
def test_fewer_than_three_distinct_vertices_refused(pts: list[tuple[float, float]]) -> None:
    refused_notice(notice(vol(polygon(pts))), f"{P}.outline_polygon.vertices", "at least 3 distinct")


def test_more_vertices_than_default_cap_refused() -> None:
    refused_notice(notice(vol(polygon(ngon(1001)))), f"{P}.outline_polygon.vertices", "1001", "limit of 1000")
    pts = ngon(1001)
    refused_notice(notice(vol(polygon([*pts, pts[0]]))), f"{P}.outline_polygon.vertices", "limit of 1000")


def test_more_vertices_than_custom_cap_refused() -> None:
    limits = Limits(shape=ShapeLimits(max_vertices=8))
    assert parse_notice(notice(vol(polygon(ngon(8)))), limits).volumes[0].shape.kind is ShapeKind.POLYGON
    refused_notice(
        notice(vol(polygon(ngon(9)))), f"{P}.outline_polygon.vertices", "9 vertices", "limit of 8", limits=limits
    )
    refused_notice(notice(vol(polygon(ngon(20)))), f"{P}.outline_polygon.vertices", "limit of 8", limits=limits)
    line = [(35.0, 36.0 + 0.01 * i) for i in range(12)]
    refused_notice(notice(vol(corridor(line))), f"{P}.outline_corridor.centerline", "limit of 8", limits=limits)


def test_ten_million_vertices_refused_before_any_vertex_is_read() -> None:
    # Every entry is invalid: had any vertex been parsed, the refusal would name vertices[0].
    doc = notice(vol({"outline_polygon": {"vertices": ["not a vertex"] * 10_000_000}}))
    refused_notice(doc, f"{P}.outline_polygon.vertices", "10000000 vertices", "limit of 1000")


def test_ten_million_positions_refused_in_geojson() -> None:
    geom = {"type": "Polygon", "coordinates": [["x"] * 10_000_000]}
    refused(
        lambda: parse_notices(collection(feature(geom))),
        "features[0].geometry.coordinates[0]",
        "10000000",
        "limit of 1000",
    )
    line = {"type": "LineString", "coordinates": ["x"] * 10_000_000}
    refused(
        lambda: parse_notices(collection(feature(line, width=10))),
        "features[0].geometry.coordinates",
        "10000000",
        "limit of 1000",
    )


def test_continent_sized_polygon_refused() -> None:
    pts = [(30.0, 0.0), (30.0, 40.0), (60.0, 40.0), (60.0, 0.0)]
    refused_notice(notice(vol(polygon(pts))), f"{P}.outline_polygon.vertices", "reaches", "limit")


def test_extent_custom_cap() -> None:
    limits = Limits(shape=ShapeLimits(max_extent_m=5_000.0))
    refused_notice(notice(vol(polygon())), f"{P}.outline_polygon.vertices", "reaches", "limit of 2500 m", limits=limits)


# ================================================================== circle, corridor, orbit refusals


def test_continent_sized_circle_refused() -> None:
    doc = notice(vol(circle(radius={"value": 3000, "units": "KM"})))
    refused_notice(doc, f"{P}.outline_circle.radius", "radius of 3000000 m", "limit of 500000 m")


@pytest.mark.parametrize(
    ("radius", "path", "words"),
    [
        (0, "", ("positive",)),
        (-100, "", ("positive",)),
        ({"value": 0, "units": "NM"}, "", ("positive",)),
        ({"value": -1, "units": "M"}, "", ("positive",)),
        (0.5, "", ("at least 1 m",)),
        (1e12, "", ("larger than the limit",)),
        ({"value": 600, "units": "KM"}, "", ("larger than the limit",)),
        (math.nan, ".value", ("finite",)),
        (math.inf, ".value", ("finite",)),
        (-math.inf, ".value", ("finite",)),
        ({"value": math.nan, "units": "M"}, ".value", ("finite",)),
        ({"value": math.inf, "units": "M"}, ".value", ("finite",)),
        ({"value": 10**400, "units": "M"}, ".value", ("finite",)),
        (True, "", ("must be an object", "boolean")),
        ({"value": True, "units": "M"}, ".value", ("number", "boolean")),
        ({"value": "5", "units": "M"}, ".value", ("number", "string")),
        ("5 NM", "", ("object", "string")),
        ({"units": "M"}, ".value", ("required",)),
        ({"value": 5, "units": "furlong"}, ".units", ("unknown unit", "FURLONG", "NM")),
        ({"value": 5, "units": 3}, ".units", ("string",)),
    ],
)
def test_bad_radius_refused(radius: Any, path: str, words: tuple[str, ...]) -> None:
    refused_notice(notice(vol(circle(radius=radius))), f"{P}.outline_circle.radius{path}", *words)


@pytest.mark.parametrize("make", [corridor, orbit], ids=["corridor", "orbit"])
@pytest.mark.parametrize(
    ("width", "path", "words"),
    [
        (0, "", ("positive",)),
        (-5, "", ("positive",)),
        ({"value": 0, "units": "NM"}, "", ("positive",)),
        ({"value": -2, "units": "KM"}, "", ("positive",)),
        (0.5, "", ("at least 1 m",)),
        (2_000_000, "", ("width of 2000000 m", "limit of 1000000 m")),
        (math.nan, ".value", ("finite",)),
        (math.inf, ".value", ("finite",)),
        ({"value": math.nan}, ".value", ("finite",)),
        (False, "", ("must be an object", "boolean")),
        ({"value": True}, ".value", ("number", "boolean")),
        ({"value": 5, "units": "parsec"}, ".units", ("unknown unit",)),
    ],
)
def test_bad_width_refused(make: Callable[..., dict[str, Any]], width: Any, path: str, words: tuple[str, ...]) -> None:
    outline = make(width=width)
    key = next(iter(outline))
    refused_notice(notice(vol(outline)), f"{P}.{key}.width{path}", *words)


@pytest.mark.parametrize(
    "pts",
    [[(35.0, 36.0)], [(35.0, 36.0), (35.0, 36.0)], [(35.0, 36.0)] * 4, []],
    ids=["one-point", "two-identical", "four-identical", "empty"],
)
def test_corridor_with_one_distinct_point_refused(pts: list[tuple[float, float]]) -> None:
    refused_notice(notice(vol(corridor(pts))), f"{P}.outline_corridor.centerline", "2 distinct")


def test_long_corridor_refused() -> None:
    refused_notice(notice(vol(corridor([(0.0, 0.0), (0.0, 10.0)]))), f"{P}.outline_corridor.centerline", "reaches")


@pytest.mark.parametrize("n", [0, 1, 3])
def test_orbit_with_other_than_two_points_refused(n: int) -> None:
    pts = [(35.0, 36.0 + 0.1 * i) for i in range(n)]
    refused_notice(notice(vol(orbit(pts))), f"{P}.outline_orbit.points", "exactly 2", f"got {n}")


def test_orbit_with_identical_points_refused() -> None:
    refused_notice(notice(vol(orbit([(35.0, 36.0), (35.0, 36.0)]))), f"{P}.outline_orbit.points", "must differ")


# ================================================================== coordinates


@pytest.mark.parametrize(
    ("vertex", "field", "words"),
    [
        ({"lat": 91.0, "lng": 36.0}, "lat", ("latitude 91.0", "[-90, 90]")),
        ({"lat": -90.5, "lng": 36.0}, "lat", ("latitude", "[-90, 90]")),
        ({"lat": 35.0, "lng": 180.5}, "lng", ("longitude 180.5", "[-180, 180]")),
        ({"lat": 35.0, "lng": -181}, "lng", ("longitude", "[-180, 180]")),
        ({"lat": math.nan, "lng": 36.0}, "lat", ("finite", "NaN")),
        ({"lat": 35.0, "lng": math.nan}, "lng", ("finite", "NaN")),
        ({"lat": math.inf, "lng": 36.0}, "lat", ("finite",)),
        ({"lat": 35.0, "lng": -math.inf}, "lng", ("finite",)),
        ({"lat": True, "lng": 36.0}, "lat", ("number", "boolean")),
        ({"lat": 35.0, "lng": False}, "lng", ("number", "boolean")),
        ({"lat": "35", "lng": 36.0}, "lat", ("number", "string")),
        ({"lat": [35], "lng": 36.0}, "lat", ("number", "list")),
        ({"lat": 10**400, "lng": 36.0}, "lat", ("finite",)),
        ({"lng": 36.0}, "lat", ("required",)),
        ({"lat": 35.0}, "lng", ("required",)),
        ({"lat": None, "lng": 36.0}, "lat", ("required",)),
        ([35.0, 36.0], "", ("must be an object", "list")),
        (None, "", ("must be an object", "null")),
    ],
)
def test_bad_vertex_refused_at_its_index(vertex: Any, field: str, words: tuple[str, ...]) -> None:
    doc = with_volume(lambda v: v["volume"]["outline_polygon"]["vertices"].__setitem__(3, vertex))
    path = f"{P}.outline_polygon.vertices[3]" + (f".{field}" if field else "")
    refused_notice(doc, path, *words)


def test_bad_vertex_in_second_volume_of_second_notice() -> None:
    bad = vol()
    bad["volume"]["outline_polygon"]["vertices"][2]["lng"] = math.nan
    refused(
        lambda: parse_notices([notice(vol()), notice(vol(), bad)]),
        "[1].volumes[1].volume.outline_polygon.vertices[2].lng",
        "finite",
    )


@pytest.mark.parametrize(
    ("center", "field", "words"),
    [
        ({"lat": 100.0, "lng": 0.0}, ".lat", ("latitude",)),
        ({"lat": 0.0, "lng": 200.0}, ".lng", ("longitude",)),
        ({"lat": math.nan, "lng": 0.0}, ".lat", ("finite",)),
        ({"lat": 0.0, "lng": math.inf}, ".lng", ("finite",)),
        ({"lat": 0.0, "lng": True}, ".lng", ("boolean",)),
        ("35,36", "", ("object",)),
    ],
)
def test_bad_circle_center_refused(center: Any, field: str, words: tuple[str, ...]) -> None:
    doc = with_volume(lambda v: v["volume"]["outline_circle"].__setitem__("center", center), vol(circle()))
    refused_notice(doc, f"{P}.outline_circle.center{field}", *words)


@pytest.mark.parametrize(
    ("make", "key", "points"),
    [(corridor, "outline_corridor", "centerline"), (orbit, "outline_orbit", "points")],
)
def test_bad_line_point_refused_at_its_index(make: Callable[..., dict[str, Any]], key: str, points: str) -> None:
    v = vol(make())
    v["volume"][key][points][1]["lat"] = math.inf
    refused_notice(notice(v), f"{P}.{key}.{points}[1].lat", "finite")


def test_json_nan_and_infinity_refused() -> None:
    text = json.dumps(notice(vol())).replace('"lat": 35.1', '"lat": NaN', 1)
    refused_notice(json.loads(text), f"{P}.outline_polygon.vertices[2].lat", "finite")
    text = json.dumps(notice(vol())).replace('"value": 3000', '"value": Infinity', 1)
    refused_notice(json.loads(text), f"{P}.altitude_upper.value", "finite")


# ================================================================== altitude


@pytest.mark.parametrize("which", ["altitude_lower", "altitude_upper"])
@pytest.mark.parametrize(
    ("value", "words"),
    [
        (math.nan, ("finite", "NaN")),
        (math.inf, ("finite",)),
        (-math.inf, ("finite",)),
        (10**400, ("finite",)),
        (True, ("number", "boolean")),
        (False, ("number", "boolean")),
        ("100", ("number", "string")),
        ([100], ("number", "list")),
        ({"v": 1}, ("number", "object")),
    ],
)
def test_bad_altitude_value_refused(which: str, value: Any, words: tuple[str, ...]) -> None:
    doc = with_volume(lambda v: v["volume"][which].__setitem__("value", value))
    refused_notice(doc, f"{P}.{which}.value", *words)


@pytest.mark.parametrize("which", ["altitude_lower", "altitude_upper"])
def test_agl_refused_mentioning_terrain(which: str) -> None:
    for ref in ("AGL", "agl"):
        doc = with_volume(lambda v, ref=ref: v["volume"][which].__setitem__("reference", ref))
        err = refused_notice(doc, f"{P}.{which}.reference", "AGL", "terrain")
        assert "W84" in err.reason and "AMSL" in err.reason


def test_both_agl_refused_at_lower_first() -> None:
    refused_notice(notice(vol(lower=alt(0, "AGL"), upper=alt(100, "AGL"))), f"{P}.altitude_lower.reference", "terrain")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("units", "YD", ("unknown unit", "'YD'", "M, FT, FL")),
        ("units", "metres", ("unknown unit",)),
        ("units", 1, ("string", "number")),
        ("reference", "QFE", ("unknown reference", "'QFE'", "W84", "AMSL")),
        ("reference", "STD", ("unknown reference",)),
        ("reference", 84, ("string", "number")),
    ],
)
def test_bad_altitude_units_and_reference_refused(field: str, value: Any, words: tuple[str, ...]) -> None:
    doc = with_volume(lambda v: v["volume"]["altitude_upper"].__setitem__(field, value))
    refused_notice(doc, f"{P}.altitude_upper.{field}", *words)


def test_missing_reference_refused_unless_flight_level() -> None:
    refused_notice(notice(vol(lower=alt(0, None))), f"{P}.altitude_lower.reference", "required", "W84", "AMSL")
    refused_notice(notice(vol(lower=alt(0, None, None))), f"{P}.altitude_lower.units", "required")


def test_flight_level_with_geometric_reference_refused() -> None:
    doc = notice(vol(lower=alt(100, "W84", "FL"), upper=alt(200, "W84", "FL")))
    refused_notice(doc, f"{P}.altitude_lower.reference", "flight level", "STD")


def test_negative_flight_level_refused() -> None:
    refused_notice(
        notice(vol(lower=alt(-5, None, "FL"), upper=alt(100, None, "FL"))),
        f"{P}.altitude_lower.value",
        "flight level",
        "negative",
    )


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        (alt(0, "W84"), alt(100, "AMSL")),
        (alt(0, "AMSL"), alt(100, "W84")),
        (alt(10, None, "FL"), alt(100, "W84")),
        (alt(0, "AMSL", "FT"), alt(50, None, "FL")),
    ],
)
def test_mismatched_altitude_references_refused(lower: dict[str, Any], upper: dict[str, Any]) -> None:
    refused_notice(
        notice(vol(lower=lower, upper=upper)), f"{P}.altitude_upper.reference", "must match", "altitude_lower"
    )


def test_lower_above_upper_refused() -> None:
    err = refused_notice(notice(vol(lower=alt(3000), upper=alt(1000))), f"{P}.altitude_lower", "above upper")
    assert "3000" in err.reason and "1000" in err.reason


def test_lower_above_upper_after_unit_conversion_refused() -> None:
    # 1000 m is above 3000 ft (914.4 m)
    refused_notice(notice(vol(lower=alt(1000), upper=alt(3000, units="FT"))), f"{P}.altitude_lower", "above upper")
    refused_notice(
        notice(vol(lower=alt(300, None, "FL"), upper=alt(290, None, "FL"))), f"{P}.altitude_lower", "above upper"
    )


@pytest.mark.parametrize(
    ("lower", "upper", "path"),
    [
        (alt(-1000), alt(0), "altitude_lower"),
        (alt(0), alt(200_000), "altitude_upper"),
        (alt(0, None, "FL"), alt(5000, None, "FL"), "altitude_upper"),
    ],
)
def test_altitude_out_of_accepted_range_refused(lower: dict[str, Any], upper: dict[str, Any], path: str) -> None:
    refused_notice(notice(vol(lower=lower, upper=upper)), f"{P}.{path}", "outside the accepted range")


@pytest.mark.parametrize("which", ["altitude_lower", "altitude_upper"])
def test_altitude_not_an_object_refused(which: str) -> None:
    doc = with_volume(lambda v: v["volume"].__setitem__(which, 1000))
    refused_notice(doc, f"{P}.{which}", "must be an object", "number")


# ================================================================== time


def test_end_equal_to_start_refused() -> None:
    refused_notice(notice(vol(start=T0, end=T0)), "volumes[0].time_end", "after time_start")


def test_end_before_start_refused() -> None:
    refused_notice(notice(vol(start=T1, end=T0)), "volumes[0].time_end", "after time_start")


def test_end_equal_to_start_with_other_offset_refused() -> None:
    refused_notice(notice(vol(start=T0, end="2015-09-30T09:00:00+03:00")), "volumes[0].time_end", "after time_start")


def test_window_longer_than_default_cap_refused() -> None:
    doc = notice(vol(start="2015-09-30T00:00:00Z", end="2015-10-07T00:00:01Z"))
    refused_notice(doc, "volumes[0].time_end", "longer than the limit", "168.0 h")


def test_window_longer_than_custom_cap_refused() -> None:
    limits = Limits(max_window_s=3600.0)
    assert parse_notice(notice(vol(end="2015-09-30T07:00:00Z")), limits).volumes[0].time_end == EPOCH_T0 + 3600
    err = refused_notice(notice(vol()), "volumes[0].time_end", "2.0 h", "limit of 1.0 h", limits=limits)
    assert "window" in err.reason


@pytest.mark.parametrize("which", ["time_start", "time_end"])
@pytest.mark.parametrize(
    "text",
    ["2015-09-30T06:00:00", "2015-09-30T06:00:00.5", "2015-09-30 06:00:00"],
)
def test_naive_time_refused(which: str, text: str) -> None:
    doc = with_volume(lambda v: v[which].__setitem__("value", text))
    refused_notice(doc, f"volumes[0].{which}.value", "no UTC offset")


@pytest.mark.parametrize("which", ["time_start", "time_end"])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "2015-09-30",
        "06:00:00Z",
        "20150930T060000Z",
        "2015-09-30T06Z",
        "2015-09-30T06:00Z",
        "2015-W40-3T06:00:00Z",
        "2015-273T06:00:00Z",
        "2015-09-30T06:00:00+0300",
        "2015-09-30T06:00:00+03",
        "2015-09-30T06:00:00 Z",
        "2015-13-30T06:00:00Z",
        "2015-09-31T06:00:00Z",
        "2015-09-30T25:00:00Z",
        "1443592800",
        "Wed, 30 Sep 2015 06:00:00 GMT",
        "２０１５-09-30T06:00:00Z",
    ],
)
def test_non_rfc3339_time_refused(which: str, text: str) -> None:
    doc = with_volume(lambda v: v[which].__setitem__("value", text))
    refused_notice(doc, f"volumes[0].{which}.value", "not an RFC 3339 time", "2015-09-30T06:00:00Z")


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        (1443592800, "", ("must be a string", "number")),
        (True, "", ("must be a string", "boolean")),
        (None, "", ("required",)),
        ({"value": 1443592800, "format": "RFC3339"}, ".value", ("string", "number")),
        ({"format": "RFC3339"}, ".value", ("required",)),
        ({"value": T0, "format": "ISO8601"}, ".format", ("only RFC3339", "ISO8601")),
        ({"value": T0, "format": None}, ".format", ("only RFC3339",)),
    ],
)
def test_bad_time_field_refused(value: Any, path: str, words: tuple[str, ...]) -> None:
    doc = with_volume(lambda v: v.__setitem__("time_start", value))
    refused_notice(doc, f"volumes[0].time_start{path}", *words)


# ================================================================== structure and required fields


@pytest.mark.parametrize(
    ("remove", "path"),
    [
        (lambda n: n.pop("party"), "party"),
        (lambda n: n.pop("volumes"), "volumes"),
        (lambda n: n["volumes"][0].pop("volume"), "volumes[0].volume"),
        (lambda n: n["volumes"][0].pop("time_start"), "volumes[0].time_start"),
        (lambda n: n["volumes"][0].pop("time_end"), "volumes[0].time_end"),
        (lambda n: n["volumes"][0]["volume"].pop("altitude_lower"), f"{P}.altitude_lower"),
        (lambda n: n["volumes"][0]["volume"].pop("altitude_upper"), f"{P}.altitude_upper"),
        (lambda n: n["volumes"][0]["volume"]["altitude_lower"].pop("value"), f"{P}.altitude_lower.value"),
        (lambda n: n["volumes"][0]["volume"]["altitude_upper"].pop("value"), f"{P}.altitude_upper.value"),
        (lambda n: n["volumes"][0]["time_end"].pop("value"), "volumes[0].time_end.value"),
        (lambda n: n["volumes"][0]["volume"]["outline_polygon"].pop("vertices"), f"{P}.outline_polygon.vertices"),
        (
            lambda n: n["volumes"][0]["volume"]["outline_polygon"]["vertices"][1].pop("lng"),
            f"{P}.outline_polygon.vertices[1].lng",
        ),
        (lambda n: n.__setitem__("party", None), "party"),
    ],
)
def test_missing_required_field_named(remove: Callable[[dict[str, Any]], Any], path: str) -> None:
    doc = notice(vol())
    remove(doc)
    refused_notice(doc, path, "required")


@pytest.mark.parametrize(
    ("outline", "key", "field"),
    [
        (circle(), "outline_circle", "center"),
        (circle(), "outline_circle", "radius"),
        (corridor(), "outline_corridor", "centerline"),
        (corridor(), "outline_corridor", "width"),
        (orbit(), "outline_orbit", "points"),
        (orbit(), "outline_orbit", "width"),
    ],
)
def test_missing_outline_field_named(outline: dict[str, Any], key: str, field: str) -> None:
    outline = copy.deepcopy(outline)
    del outline[key][field]
    refused_notice(notice(vol(outline)), f"{P}.{key}.{field}", "required")


def test_two_outlines_refused() -> None:
    v = vol(polygon())
    v["volume"].update(circle())
    err = refused_notice(notice(v), P, "2 outlines", "exactly one")
    assert "outline_polygon" in err.reason and "outline_circle" in err.reason


def test_four_outlines_refused() -> None:
    v = vol(polygon())
    v["volume"].update({**circle(), **corridor(), **orbit()})
    refused_notice(notice(v), P, "4 outlines")


def test_no_outline_refused() -> None:
    v = vol()
    del v["volume"]["outline_polygon"]
    err = refused_notice(notice(v), P, "needs one outline")
    for name in ("outline_polygon", "outline_circle", "outline_corridor", "outline_orbit"):
        assert name in err.reason


def test_null_outline_counts_as_absent() -> None:
    v = vol(circle())
    v["volume"]["outline_polygon"] = None
    assert parse_notice(notice(v)).volumes[0].shape.kind is ShapeKind.CIRCLE


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda n: n.__setitem__("party", "  "), "party", ("must not be empty",)),
        (lambda n: n.__setitem__("party", 7), "party", ("string", "number")),
        (lambda n: n.__setitem__("id", ""), "id", ("1 to 200",)),
        (lambda n: n.__setitem__("id", "x" * 201), "id", ("1 to 200",)),
        (lambda n: n.__setitem__("id", 42), "id", ("string", "number")),
        (lambda n: n.__setitem__("kind", ["a"]), "kind", ("string", "list")),
        (lambda n: n.__setitem__("volumes", []), "volumes", ("at least one volume",)),
        (lambda n: n.__setitem__("volumes", {"0": vol()}), "volumes", ("must be a list", "object")),
        (lambda n: n["volumes"].__setitem__(0, "polygon"), "volumes[0]", ("must be an object", "string")),
        (lambda n: n["volumes"][0].__setitem__("volume", []), "volumes[0].volume", ("must be an object", "list")),
        (
            lambda n: n["volumes"][0]["volume"].__setitem__("outline_polygon", [1]),
            f"{P}.outline_polygon",
            ("must be an object",),
        ),
        (
            lambda n: n["volumes"][0]["volume"]["outline_polygon"].__setitem__("vertices", {}),
            f"{P}.outline_polygon.vertices",
            ("must be a list",),
        ),
    ],
)
def test_bad_notice_structure_refused(
    mutate: Callable[[dict[str, Any]], Any], path: str, words: tuple[str, ...]
) -> None:
    doc = notice(vol())
    mutate(doc)
    refused_notice(doc, path, *words)


def test_too_many_volumes_refused() -> None:
    refused_notice(notice(*[vol()] * 101), "volumes", "101 volumes", "limit of 100")
    limits = Limits(max_volumes_per_notice=2)
    assert len(parse_notice(notice(vol(), vol()), limits).volumes) == 2
    refused_notice(notice(vol(), vol(), vol()), "volumes", "3 volumes", "limit of 2", limits=limits)


def test_error_in_later_volume_names_its_index() -> None:
    refused_notice(notice(vol(), vol(), vol(start=T1, end=T0)), "volumes[2].time_end", "after time_start")


@pytest.mark.parametrize("doc", [None, 5, "notice", True])
def test_notice_must_be_an_object(doc: Any) -> None:
    err = refused(lambda: parse_notice(doc), "notice", "must be an object")
    assert "got" in err.reason


@pytest.mark.parametrize("doc", [None, 5, "notice", True])
def test_notice_file_must_be_object_list_or_collection(doc: Any) -> None:
    refused(lambda: parse_notices(doc), "", "notice object", "list", "FeatureCollection")


def test_parse_volume4d_top_level_paths() -> None:
    refused(lambda: parse_volume4d(None), "volume4d", "must be an object")
    refused(lambda: parse_volume4d({}), "volume", "required")
    v = vol(polygon(BOW_TIE))
    refused(lambda: parse_volume4d(v), "volume.outline_polygon.vertices", "cross")
    refused(lambda: parse_volume4d(vol(start=T1, end=T0)), "time_end", "after")


def test_validation_error_lists_path_and_reason() -> None:
    with pytest.raises(ValidationError) as info:
        parse_notice(notice(vol(start=T1, end=T0)))
    assert str(info.value) == "volumes[0].time_end: must be after time_start"
    assert isinstance(info.value, ValueError)


def test_helpers_name_their_path() -> None:
    refused(lambda: parse_latlng({"lat": 0, "lng": 999}, "here"), "here.lng", "longitude")
    refused(lambda: parse_distance_m({"value": 1, "units": "X"}, "d"), "d.units", "unknown unit")
    refused(lambda: parse_distance_m({"value": math.nan, "units": "M"}, "d"), "d.value", "finite")
    refused(lambda: parse_distance_m(5, "d"), "d", "no unit")
    refused(lambda: parse_altitude({"value": 1, "reference": "AGL", "units": "M"}, "a"), "a.reference", "terrain")
    refused(lambda: parse_time("2015-09-30T06:00:00", "t"), "t", "no UTC offset")


# ================================================================== GeoJSON refusals


def test_geojson_polygon_with_holes_refused() -> None:
    ring = [[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.1], [36.0, 35.0]]
    hole = [[36.02, 35.02], [36.08, 35.02], [36.08, 35.08], [36.02, 35.02]]
    doc = collection(feature({"type": "Polygon", "coordinates": [ring, hole]}))
    refused(lambda: parse_notices(doc), "features[0].geometry.coordinates", "holes", "not supported", "2 rings")


def test_geojson_polygon_without_rings_refused() -> None:
    doc = collection(feature({"type": "Polygon", "coordinates": []}))
    err = refused(lambda: parse_notices(doc), "features[0].geometry.coordinates", "one ring")
    assert "holes" not in err.reason


def test_geojson_self_intersecting_polygon_refused_at_ring() -> None:
    doc = collection(feature(gj_polygon()), feature(gj_polygon(BOW_TIE), nid="n2"))
    refused(lambda: parse_notices(doc), "features[1].geometry.coordinates[0]", "cross")


def test_geojson_degenerate_polygon_refused_at_ring() -> None:
    doc = collection(feature(gj_polygon([(35.0, 36.0), (35.1, 36.0), (35.2, 36.0)])))
    refused(lambda: parse_notices(doc), "features[0].geometry.coordinates[0]", "degenerate")


def test_geojson_lower_above_upper_refused() -> None:
    doc = collection(
        feature(gj_polygon(), nid="a"),
        feature(gj_polygon(), nid="b"),
        feature(gj_polygon(), nid="c", altitude_lower=alt(5000), altitude_upper=alt(100)),
    )
    refused(lambda: parse_notices(doc), "features[2].properties.altitude_lower", "above upper")


def test_geojson_agl_refused() -> None:
    doc = collection(
        feature(gj_polygon()),
        feature(gj_polygon(), nid="x"),
        feature(gj_polygon(), nid="y", altitude_lower=alt(0, "AGL")),
    )
    refused(lambda: parse_notices(doc), "features[2].properties.altitude_lower.reference", "terrain")


@pytest.mark.parametrize(
    ("position", "path", "words"),
    [
        ([36.0, 91.0], "[1]", ("latitude",)),
        ([181.0, 35.0], "[0]", ("longitude",)),
        ([math.nan, 35.0], "[0]", ("finite",)),
        ([36.0, math.inf], "[1]", ("finite",)),
        ([True, 35.0], "[0]", ("number", "boolean")),
        (["36", 35.0], "[0]", ("number", "string")),
        ([36.0], "", ("[longitude, latitude]",)),
        ({"lat": 35, "lng": 36}, "", ("must be a list", "object")),
    ],
)
def test_geojson_bad_polygon_position_refused(position: Any, path: str, words: tuple[str, ...]) -> None:
    geom = gj_polygon()
    geom["coordinates"][0][2] = position
    doc = collection(feature(gj_polygon()), feature(geom, nid="n2"))
    refused(lambda: parse_notices(doc), f"features[1].geometry.coordinates[0][2]{path}", *words)


@pytest.mark.parametrize(
    ("coordinates", "path", "words"),
    [
        ([36.0, 95.0], "features[0].geometry.coordinates[1]", ("latitude",)),
        ([200.0, 35.0], "features[0].geometry.coordinates[0]", ("longitude",)),
        ([math.nan, 35.0], "features[0].geometry.coordinates[0]", ("finite",)),
        ([36.0], "features[0].geometry.coordinates", ("[longitude, latitude]",)),
        ("36,35", "features[0].geometry.coordinates", ("must be a list",)),
        ([[36.0, 35.0], [36.1, 35.0]], "features[0].geometry.coordinates[0]", ("number", "list")),
    ],
)
def test_geojson_bad_point_refused(coordinates: Any, path: str, words: tuple[str, ...]) -> None:
    doc = collection(feature({"type": "Point", "coordinates": coordinates}, radius=100))
    refused(lambda: parse_notices(doc), path, *words)


@pytest.mark.parametrize(
    ("props", "path", "words"),
    [
        ({}, "radius", ("required",)),
        ({"radius": 0}, "radius", ("positive",)),
        ({"radius": -1}, "radius", ("positive",)),
        ({"radius": math.nan}, "radius.value", ("finite",)),
        ({"radius": True}, "radius", ("boolean",)),
        ({"radius": {"value": 2000, "units": "KM"}}, "radius", ("larger than the limit",)),
    ],
)
def test_geojson_bad_radius_refused(props: dict[str, Any], path: str, words: tuple[str, ...]) -> None:
    doc = collection(feature({"type": "Point", "coordinates": [36.0, 35.0]}, **props))
    refused(lambda: parse_notices(doc), f"features[0].properties.{path}", *words)


@pytest.mark.parametrize(
    ("coords", "props", "path", "words"),
    [
        ([[36.0, 35.0], [36.2, 35.1]], {}, "properties.width", ("required",)),
        ([[36.0, 35.0], [36.2, 35.1]], {"width": 0}, "properties.width", ("positive",)),
        ([[36.0, 35.0], [36.2, 35.1]], {"width": math.inf}, "properties.width.value", ("finite",)),
        ([[36.0, 35.0], [36.0, 35.0]], {"width": 10}, "geometry.coordinates", ("2 distinct",)),
        ([[36.0, 35.0], [56.0, 35.0]], {"width": 10}, "geometry.coordinates", ("reaches",)),
        (
            [[36.0, 35.0], [36.1, 35.0], [36.2, 35.0]],
            {"width": 10, "shape": "orbit"},
            "geometry.coordinates",
            ("exactly 2",),
        ),
        ([[36.0, 35.0], [36.0, 35.0]], {"width": 10, "shape": "orbit"}, "geometry.coordinates", ("must differ",)),
        (
            [[36.0, 35.0], [36.2, 35.1]],
            {"width": 10, "shape": "racetrack"},
            "properties.shape",
            ("'racetrack'", "corridor", "orbit"),
        ),
        ([[36.0, 35.0], [36.2, 35.1]], {"width": 10, "shape": 1}, "properties.shape", ("corridor", "orbit")),
        ([[36.0, 35.0], [36.2, 95.0]], {"width": 10}, "geometry.coordinates[1][1]", ("latitude",)),
        ([36.0, 35.0], {"width": 10}, "geometry.coordinates[0]", ("must be a list", "number")),
    ],
)
def test_geojson_bad_linestring_refused(coords: Any, props: dict[str, Any], path: str, words: tuple[str, ...]) -> None:
    doc = collection(feature({"type": "LineString", "coordinates": coords}, **props))
    refused(lambda: parse_notices(doc), f"features[0].{path}", *words)


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda f: f["properties"].pop("party"), "features[0].properties.party", ("required",)),
        (lambda f: f["properties"].__setitem__("party", " "), "features[0].properties.party", ("must not be empty",)),
        (lambda f: f["properties"].__setitem__("party", 3), "features[0].properties.party", ("string",)),
        (lambda f: f["properties"].__setitem__("id", ""), "features[0].properties.id", ("1 to 200",)),
        (lambda f: f["properties"].__setitem__("id", "x" * 201), "features[0].properties.id", ("1 to 200",)),
        (lambda f: f["properties"].__setitem__("id", 5), "features[0].properties.id", ("string",)),
        (lambda f: f["properties"].__setitem__("kind", 5), "features[0].properties.kind", ("string",)),
        (lambda f: f.pop("properties"), "features[0].properties", ("required",)),
        (lambda f: f.pop("geometry"), "features[0].geometry", ("required",)),
        (lambda f: f["geometry"].pop("type"), "features[0].geometry.type", ("required",)),
        (lambda f: f["geometry"].pop("coordinates"), "features[0].geometry.coordinates", ("required",)),
        (
            lambda f: f["geometry"].__setitem__("type", "MultiPolygon"),
            "features[0].geometry.type",
            ("'MultiPolygon'", "not supported", "Polygon", "Point", "LineString"),
        ),
        (lambda f: f["properties"].pop("altitude_upper"), "features[0].properties.altitude_upper", ("required",)),
        (
            lambda f: f["properties"]["altitude_lower"].__setitem__("value", math.nan),
            "features[0].properties.altitude_lower.value",
            ("finite",),
        ),
        (
            lambda f: f["properties"]["altitude_lower"].__setitem__("units", "YD"),
            "features[0].properties.altitude_lower.units",
            ("unknown unit",),
        ),
        (
            lambda f: f["properties"].__setitem__("altitude_upper", alt(900, "AMSL")),
            "features[0].properties.altitude_upper.reference",
            ("must match",),
        ),
        (lambda f: f["properties"].pop("time_start"), "features[0].properties.time_start", ("required",)),
        (
            lambda f: f["properties"].__setitem__("time_end", T0),
            "features[0].properties.time_end",
            ("after time_start",),
        ),
        (
            lambda f: f["properties"].__setitem__("time_end", "2015-10-30T00:00:00Z"),
            "features[0].properties.time_end",
            ("longer than the limit",),
        ),
        (
            lambda f: f["properties"].__setitem__("time_start", "2015-09-30T06:00:00"),
            "features[0].properties.time_start",
            ("no UTC offset",),
        ),
        (
            lambda f: f["properties"].__setitem__("time_start", {"value": "2015/09/30 06:00"}),
            "features[0].properties.time_start.value",
            ("not an RFC 3339 time",),
        ),
    ],
)
def test_geojson_bad_feature_refused(
    mutate: Callable[[dict[str, Any]], Any], path: str, words: tuple[str, ...]
) -> None:
    f = feature(gj_polygon())
    mutate(f)
    refused(lambda: parse_notices(collection(f)), path, *words)


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        ({"type": "FeatureCollection"}, "features", ("required",)),
        ({"type": "FeatureCollection", "features": {}}, "features", ("must be a list",)),
        ({"type": "FeatureCollection", "features": [7]}, "features[0]", ("must be an object", "number")),
    ],
)
def test_bad_feature_collection_refused(doc: dict[str, Any], path: str, words: tuple[str, ...]) -> None:
    refused(lambda: parse_notices(doc), path, *words)


def test_feature_collection_group_volume_cap() -> None:
    limits = Limits(max_volumes_per_notice=2)
    ok = collection(feature(gj_polygon()), feature(gj_polygon()), feature(gj_polygon(), nid="other"))
    assert [len(n.volumes) for n in parse_notices(ok, limits)] == [2, 1]
    doc = collection(feature(gj_polygon()), feature(gj_polygon()), feature(gj_polygon()))
    refused(lambda: parse_notices(doc, limits), "features[2]", "more than the limit of 2 volumes", "'n1'")


def test_feature_collection_conflicting_kinds_refused() -> None:
    doc = collection(feature(gj_polygon(), kind="exercise"), feature(gj_polygon(), kind="transit"))
    refused(lambda: parse_notices(doc), "features[1].properties.kind", "'transit'", "'exercise'")


def test_feature_collection_custom_vertex_cap() -> None:
    limits = Limits(shape=ShapeLimits(max_vertices=8))
    doc = collection(feature(gj_polygon(ngon(9))))
    refused(lambda: parse_notices(doc, limits), "features[0].geometry.coordinates[0]", "limit of 8")
    assert parse_notices(collection(feature(gj_polygon(ngon(8)))), limits)[0].volumes[0].shape.kind is ShapeKind.POLYGON


def test_parse_feature_top_level_paths() -> None:
    refused(lambda: parse_feature(None), "feature", "must be an object")
    refused(lambda: parse_feature(volume_feature(gj_polygon(BOW_TIE))), "geometry.coordinates[0]", "cross")
    refused(
        lambda: parse_feature(volume_feature({"type": "Point", "coordinates": [36.0, 35.0]})),
        "properties.radius",
        "required",
    )
