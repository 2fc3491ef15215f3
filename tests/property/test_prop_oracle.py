"""The oracle checked against itself and against distances known by construction.

The horizontal properties are only as good as the oracle, so its two promises are tested here:
it never under-estimates (every value is a distance between points of the cores), and its sampled
minimum exceeds the truth by at most ``step / 2``.
"""

from __future__ import annotations

import math

import oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from prop_shapes import Spec, fwd, pairs, places

COARSE_M = 150.0
FINE_M = 25.0


@given(pair=pairs())
@settings(max_examples=50, deadline=None)
def test_sampling_error_is_at_most_half_a_step(pair: tuple[Spec, Spec]) -> None:
    a, b = pair
    coarse = oracle.distance(a.oracle, b.oracle, COARSE_M)
    fine = oracle.distance(a.oracle, b.oracle, FINE_M)
    assert coarse.intersect == fine.intersect
    if coarse.intersect:
        return
    # true <= each value; each sampled value <= true + step/2.
    assert coarse.core_m <= coarse.sampled_m
    assert coarse.sampled_m - fine.core_m <= COARSE_M / 2 + 1e-6
    assert fine.sampled_m - coarse.core_m <= FINE_M / 2 + 1e-6
    assert coarse.sampled_m - coarse.core_m <= COARSE_M / 2 + 1e-6


@given(a=places, az=st.floats(0, 360), d=st.floats(0, 40_000), ra=st.floats(1, 9_000), rb=st.floats(1, 9_000))
@settings(max_examples=60, deadline=None)
def test_two_circles_exact(a: tuple[float, float], az: float, d: float, ra: float, rb: float) -> None:
    b = fwd(*a, az, d)
    o = oracle.distance(oracle.oshape("circle", [a], ra), oracle.oshape("circle", [b], rb), COARSE_M)
    assert math.isclose(o.core_m, oracle.geodesic_m(*a, *b), rel_tol=1e-12, abs_tol=1e-9)
    assert o.distance_m == max(0.0, o.core_m - ra - rb)


@given(
    p=places,
    az=st.floats(0, 360),
    length=st.floats(500, 20_000),
    frac=st.floats(0.05, 0.95),
    side=st.sampled_from([-90.0, 90.0]),
    d=st.floats(1, 3_000),
)
@settings(max_examples=60, deadline=None)
def test_point_off_the_middle_of_a_segment(
    p: tuple[float, float], az: float, length: float, frac: float, side: float, d: float
) -> None:
    """A point reached by going ``d`` perpendicular off a segment's interior is ``d`` from it."""
    lon2, lat2, _ = oracle.GEOD.fwd(p[1], p[0], az, length)
    lon_x, lat_x, back = oracle.GEOD.fwd(p[1], p[0], az, frac * length)
    along = (float(back) + 180.0) % 360.0
    q = fwd(float(lat_x), float(lon_x), along + side, d)
    line = oracle.oshape("corridor", [p, (float(lat2), float(lon2))], 10.0)
    o = oracle.distance(line, oracle.oshape("circle", [q], 5.0), COARSE_M)
    assert not o.intersect
    assert d - 1e-6 <= o.sampled_m <= d + COARSE_M / 2
    assert abs(o.core_m - d) <= 1e-3  # the vertex–edge search finds the foot of the perpendicular
