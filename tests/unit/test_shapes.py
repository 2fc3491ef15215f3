"""make_shape: every bad shape is refused with the caller's field path and a clear reason."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import LocalFrame, destination, distance_m
from deconflict.domain.shapes import Shape, ShapeKind, ShapeLimits, make_shape

SQUARE = [(0.0, 0.0), (0.0, 0.01), (0.01, 0.01), (0.01, 0.0)]
"""About 1.1 km × 1.1 km at the equator, counter-clockwise in (lat, lon) order."""


def ngon(n: int, radius_m: float = 10_000.0, lat: float = 35.0, lon: float = 36.0) -> list[tuple[float, float]]:
    """A regular n-gon (a valid, simple polygon) of ``n`` distinct vertices."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lats, lons = destination(lat, lon, az, radius_m)
    return list(zip(lats.tolist(), lons.tolist(), strict=True))


def refused(path: str, *words: str, **kwargs: object) -> str:
    """Call make_shape(**kwargs); assert one error at exactly ``path`` whose reason has ``words``."""
    with pytest.raises(ValidationError) as info:
        make_shape(**kwargs)  # type: ignore[arg-type]
    errors = info.value.errors
    assert len(errors) == 1, errors
    assert errors[0].path == path, errors[0]
    reason = errors[0].reason
    for w in words:
        assert w.lower() in reason.lower(), f"{w!r} not in {reason!r}"
    return reason


# ------------------------------------------------------------------ accepted shapes


def test_polygon_accepted() -> None:
    s = make_shape(ShapeKind.POLYGON, SQUARE)
    assert s.kind is ShapeKind.POLYGON
    assert s.points == tuple(SQUARE)
    assert s.buffer_m == 0.0
    assert s.center == pytest.approx((0.005, 0.005), abs=1e-4)
    for lat, lon in SQUARE:
        assert distance_m(s.center[0], s.center[1], lat, lon) <= s.bound_m


def test_polygon_ignores_buffer() -> None:
    assert make_shape(ShapeKind.POLYGON, SQUARE, 500.0).buffer_m == 0.0


def test_polygon_clockwise_accepted() -> None:
    s = make_shape(ShapeKind.POLYGON, SQUARE[::-1])
    assert s.points == tuple(SQUARE[::-1])


def test_closed_ring_is_accepted_and_opened() -> None:
    s = make_shape(ShapeKind.POLYGON, [*SQUARE, SQUARE[0]])
    assert s.points == tuple(SQUARE)
    assert s == make_shape(ShapeKind.POLYGON, SQUARE)


def test_polygon_area_in_local_frame() -> None:
    s = make_shape(ShapeKind.POLYGON, SQUARE)
    area = s.core_in(LocalFrame(*s.center)).area
    assert area == pytest.approx(1113.2 * 1105.7, rel=0.01)


def test_circle_accepted() -> None:
    s = make_shape(ShapeKind.CIRCLE, [(35.0, 36.0)], 5000.0)
    assert s.kind is ShapeKind.CIRCLE
    assert s.center == (35.0, 36.0)
    assert s.buffer_m == 5000.0
    assert s.width_m == 10_000.0
    assert 5000.0 <= s.bound_m <= 5002.0


def test_corridor_accepted() -> None:
    s = make_shape(ShapeKind.CORRIDOR, [(35.0, 36.0), (35.2, 36.3), (35.1, 36.6)], 1000.0)
    assert s.kind is ShapeKind.CORRIDOR
    assert s.buffer_m == 1000.0
    assert s.width_m == 2000.0
    # densified: no core segment longer than about 10 km
    assert len(s.core_lat) > 3


def test_corridor_with_a_repeated_point_accepted() -> None:
    s = make_shape(ShapeKind.CORRIDOR, [(0.0, 0.0), (0.0, 0.0), (0.0, 0.1)], 100.0)
    assert len(s.points) == 3


def test_orbit_accepted() -> None:
    s = make_shape(ShapeKind.ORBIT, [(35.0, 36.0), (35.0, 36.5)], 3704.0)
    assert s.kind is ShapeKind.ORBIT
    assert s.points == ((35.0, 36.0), (35.0, 36.5))
    assert s.center[1] == pytest.approx(36.25, abs=1e-3)


def test_shape_equality_and_hash() -> None:
    a = make_shape(ShapeKind.CIRCLE, [(1.0, 2.0)], 100.0)
    b = make_shape(ShapeKind.CIRCLE, [(1.0, 2.0)], 100.0)
    c = make_shape(ShapeKind.CIRCLE, [(1.0, 2.0)], 101.0)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != "circle"


# ------------------------------------------------------------------ antimeridian and poles


def test_polygon_across_antimeridian_accepted_and_centred_near_180() -> None:
    pts = [(0.0, 179.9), (0.0, -179.9), (0.1, -179.9), (0.1, 179.9)]
    s = make_shape(ShapeKind.POLYGON, pts)
    assert abs(abs(s.center[1]) - 180.0) < 1e-6
    assert s.center[0] == pytest.approx(0.05, abs=1e-3)
    # The short way round: about 22 km × 11 km, not most of the globe.
    assert s.bound_m < 15_000
    area = s.core_in(LocalFrame(*s.center)).area
    assert area == pytest.approx(22_264 * 11_057, rel=0.01)


def test_corridor_and_circle_across_antimeridian_accepted() -> None:
    c = make_shape(ShapeKind.CORRIDOR, [(10.0, 179.95), (10.0, -179.95)], 500.0)
    assert abs(abs(c.center[1]) - 180.0) < 1e-6
    assert c.bound_m < 10_000
    o = make_shape(ShapeKind.ORBIT, [(-5.0, -179.99), (-5.0, 179.99)], 500.0)
    assert o.bound_m < 5_000
    circle = make_shape(ShapeKind.CIRCLE, [(0.0, 180.0)], 20_000.0)
    assert circle.center == (0.0, 180.0)


def test_polygon_around_the_pole_accepted() -> None:
    s = make_shape(ShapeKind.POLYGON, [(89.9, 0.0), (89.9, 120.0), (89.9, -120.0)])
    assert s.center[0] == pytest.approx(90.0, abs=1e-6)
    assert s.bound_m < 12_000


# ------------------------------------------------------------------ polygon refusals


def test_bow_tie_refused_with_location() -> None:
    reason = refused(
        "vertices",
        "cross",
        kind=ShapeKind.POLYGON,
        points=[(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)],
    )
    # Names where, in degrees (not in some internal plane).
    assert "lat 0.5" in reason and "lng 0.5" in reason


def test_bow_tie_refused_at_caller_path() -> None:
    refused(
        "area.ring",
        "cross",
        kind=ShapeKind.POLYGON,
        points=[(0.0, 0.0), (0.01, 0.01), (0.0, 0.01), (0.01, 0.0)],
        points_path="area.ring",
    )


def test_spike_polygon_refused() -> None:
    refused("vertices", "cross", kind=ShapeKind.POLYGON, points=[(0.0, 0.0), (0.0, 1.0), (0.0, 0.5), (1.0, 1.0)])


@pytest.mark.parametrize(
    "points",
    [
        [(0.0, 0.0), (0.0, 1.0), (0.0, 2.0)],
        [(0.0, 0.0), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0)],
        [(30.0, 5.0), (31.0, 5.0), (32.0, 5.0)],  # along a meridian (a geodesic)
        [(0.0, 0.0), (0.0, 1.0), (0.000001, 2.0)],  # nearly on one line: 11 cm off
        [(0.0, 0.0), (0.0, 2.0), (0.0, 1.0), (0.0, 0.5)],  # doubling back along one line
    ],
    ids=["equator", "four-on-equator", "meridian", "nearly-collinear", "doubling-back"],
)
def test_degenerate_polygon_refused(points: list[tuple[float, float]]) -> None:
    reason = refused("vertices", "degenerate", "line", kind=ShapeKind.POLYGON, points=points)
    assert "cross" not in reason


@pytest.mark.parametrize(
    ("points", "distinct"),
    [
        ([], 0),
        ([(1.0, 1.0)], 1),
        ([(1.0, 1.0), (2.0, 2.0)], 2),
        ([(1.0, 1.0), (1.0, 1.0), (1.0, 1.0)], 1),
        ([(1.0, 1.0), (2.0, 2.0), (1.0, 1.0), (2.0, 2.0)], 2),
        ([(1.0, 1.0), (2.0, 2.0), (1.0, 1.0)], 2),  # a closed 2-gon
        ([(1.0, 1.0), (1.0, 1.0 + 1e-12), (2.0, 2.0)], 2),  # equal to within 1e-9 degrees
    ],
)
def test_fewer_than_three_distinct_vertices_refused(points: list[tuple[float, float]], distinct: int) -> None:
    refused("vertices", "at least 3 distinct", f"got {distinct}", kind=ShapeKind.POLYGON, points=points)


def test_repeated_vertices_with_three_distinct_accepted() -> None:
    s = make_shape(ShapeKind.POLYGON, [(0.0, 0.0), (0.0, 0.0), (0.01, 0.01), (0.0, 0.01)])
    assert len(s.points) == 4


# ------------------------------------------------------------------ vertex cap


def test_default_cap_is_1000() -> None:
    assert ShapeLimits().max_vertices == 1000
    make_shape(ShapeKind.POLYGON, ngon(1000))
    refused("vertices", "1001", "limit of 1000", kind=ShapeKind.POLYGON, points=ngon(1001))


def test_cap_allows_the_closing_vertex() -> None:
    pts = ngon(1000)
    assert len(make_shape(ShapeKind.POLYGON, [*pts, pts[0]]).points) == 1000


def test_custom_cap() -> None:
    limits = ShapeLimits(max_vertices=10)
    make_shape(ShapeKind.POLYGON, ngon(10), limits=limits)
    refused("vertices", "11", "limit of 10", kind=ShapeKind.POLYGON, points=ngon(11), limits=limits)
    line = [(0.0, i * 0.001) for i in range(11)]
    refused(
        "centerline",
        "limit of 10",
        kind=ShapeKind.CORRIDOR,
        points=line,
        buffer_m=50.0,
        limits=limits,
        points_path="centerline",
    )


def test_ten_million_vertices_refused_before_per_vertex_work() -> None:
    # Every vertex is the same point: had the count not been checked first, the refusal would be
    # about distinct vertices instead.
    reason = refused("vertices", "10000000", "limit of 1000", kind=ShapeKind.POLYGON, points=[(0.0, 0.0)] * 10_000_000)
    assert "distinct" not in reason


# ------------------------------------------------------------------ circles, corridors, orbits


def test_circle_needs_exactly_one_centre() -> None:
    refused(
        "center",
        "one centre",
        kind=ShapeKind.CIRCLE,
        points=[(0.0, 0.0), (1.0, 1.0)],
        buffer_m=10.0,
        points_path="center",
    )
    refused("center", "one centre", kind=ShapeKind.CIRCLE, points=[], buffer_m=10.0, points_path="center")


@pytest.mark.parametrize(
    ("buffer_m", "words"),
    [
        (0.0, ("positive",)),
        (-5.0, ("positive",)),
        (math.nan, ("finite",)),
        (math.inf, ("finite",)),
        (-math.inf, ("finite",)),
        (0.5, ("at least 1 m",)),
        (600_000.0, ("radius", "600000", "500000")),
    ],
)
def test_bad_radius_refused(buffer_m: float, words: tuple[str, ...]) -> None:
    refused("radius", *words, kind=ShapeKind.CIRCLE, points=[(0.0, 0.0)], buffer_m=buffer_m)


@pytest.mark.parametrize("kind", [ShapeKind.CORRIDOR, ShapeKind.ORBIT])
@pytest.mark.parametrize(
    ("half_width", "words"),
    [
        (0.0, ("positive",)),
        (-1.0, ("positive",)),
        (math.nan, ("finite",)),
        (math.inf, ("finite",)),
        (0.25, ("at least 1 m",)),
        (600_000.0, ("width of 1200000 m", "limit of 1000000 m")),
    ],
)
def test_bad_width_refused(kind: ShapeKind, half_width: float, words: tuple[str, ...]) -> None:
    refused(
        "width",
        *words,
        kind=kind,
        points=[(0.0, 0.0), (0.0, 0.1)],
        buffer_m=half_width,
        points_path="points",
        size_path="width",
    )


def test_smallest_sizes_accepted() -> None:
    assert make_shape(ShapeKind.CIRCLE, [(0.0, 0.0)], 1.0).buffer_m == 1.0
    assert make_shape(ShapeKind.CORRIDOR, [(0.0, 0.0), (0.0, 0.1)], 0.5).width_m == 1.0


@pytest.mark.parametrize("points", [[(0.0, 0.0)], [(0.0, 0.0), (0.0, 0.0)], [(2.0, 3.0)] * 5, []])
def test_corridor_needs_two_distinct_points(points: list[tuple[float, float]]) -> None:
    refused(
        "centerline",
        "2 distinct",
        kind=ShapeKind.CORRIDOR,
        points=points,
        buffer_m=50.0,
        points_path="centerline",
        size_path="width",
    )


@pytest.mark.parametrize("n", [0, 1, 3, 4])
def test_orbit_needs_exactly_two_points(n: int) -> None:
    pts = [(0.0, 0.01 * i) for i in range(n)]
    refused("points", "exactly 2", f"got {n}", kind=ShapeKind.ORBIT, points=pts, buffer_m=50.0, points_path="points")


def test_orbit_points_must_differ() -> None:
    refused(
        "points",
        "must differ",
        kind=ShapeKind.ORBIT,
        points=[(1.0, 1.0), (1.0, 1.0)],
        buffer_m=50.0,
        points_path="points",
    )


# ------------------------------------------------------------------ extent


def test_continent_sized_polygon_refused() -> None:
    refused(
        "vertices",
        "reaches",
        "limit of 500000 m",
        kind=ShapeKind.POLYGON,
        points=[(0.0, 0.0), (0.0, 30.0), (30.0, 30.0), (30.0, 0.0)],
    )


def test_polygon_spanning_the_globe_refused() -> None:
    refused("vertices", "reaches", kind=ShapeKind.POLYGON, points=[(0.0, 0.0), (0.0, 120.0), (0.0, -120.0)])


def test_long_corridor_refused() -> None:
    refused(
        "centerline",
        "reaches",
        kind=ShapeKind.CORRIDOR,
        points=[(0.0, 0.0), (0.0, 20.0)],
        buffer_m=100.0,
        points_path="centerline",
    )


def test_buffer_counts_towards_extent() -> None:
    # The centreline reaches ~445 km from its centre; a 100 km half-width takes it past 500 km.
    pts = [(0.0, 0.0), (0.0, 8.0)]
    make_shape(ShapeKind.CORRIDOR, pts, 10_000.0)
    refused(
        "width",
        "width of 200000 m",
        kind=ShapeKind.CORRIDOR,
        points=pts,
        buffer_m=100_000.0,
        size_path="width",
        limits=ShapeLimits(max_extent_m=150_000.0),
    )
    refused("vertices", "reaches", kind=ShapeKind.CORRIDOR, points=pts, buffer_m=100_000.0)


def test_custom_extent() -> None:
    limits = ShapeLimits(max_extent_m=10_000.0)
    make_shape(ShapeKind.CIRCLE, [(0.0, 0.0)], 5_000.0, limits)
    refused(
        "radius", "5001", "limit of 5000 m", kind=ShapeKind.CIRCLE, points=[(0.0, 0.0)], buffer_m=5_001.0, limits=limits
    )
    refused("vertices", "reaches", kind=ShapeKind.POLYGON, points=ngon(6, radius_m=6_000.0), limits=limits)


def test_shape_is_frozen() -> None:
    s = make_shape(ShapeKind.CIRCLE, [(0.0, 0.0)], 10.0)
    assert isinstance(s, Shape)
    with pytest.raises(AttributeError):
        s.buffer_m = 20.0  # type: ignore[misc]
