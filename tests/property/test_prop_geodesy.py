"""Accuracy of the local frame: LocalFrame distances against Geod.inv within 500 km of the origin.

The engine measures every distance in a local azimuthal equidistant frame. For any two points
within 500 km of the frame's origin, anywhere on the globe (poles and antimeridian included), the
straight-line distance in the frame must be within 0.5 % of the geodesic distance; distances from
the origin must be exact, and ``inverse`` must undo ``forward``.
"""

from __future__ import annotations

import math

import numpy as np
import oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from prop_shapes import fwd, places

from deconflict.domain.geodesy import LocalFrame

points_near = st.tuples(st.floats(0, 360), st.floats(0, 500_000) | st.floats(0, 5_000))


@given(
    origin=places | st.tuples(st.floats(88, 90) | st.floats(-90, -88), st.floats(-180, 180)),
    p=points_near,
    q=points_near,
)
@settings(max_examples=400, deadline=None)
def test_local_frame_distances_within_half_a_percent(
    origin: tuple[float, float], p: tuple[float, float], q: tuple[float, float]
) -> None:
    frame = LocalFrame(*origin)
    a = fwd(*origin, *p)
    b = fwd(*origin, *q)
    x, y = frame.forward(np.array([a[0], b[0]]), np.array([a[1], b[1]]))
    plane = math.hypot(float(x[1] - x[0]), float(y[1] - y[0]))
    true = oracle.geodesic_m(*a, *b)
    assert abs(plane - true) <= 0.005 * true + 1e-6, (plane, true)
    # Radial distances are exact.
    assert math.isclose(math.hypot(float(x[0]), float(y[0])), p[1], rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(math.hypot(float(x[1]), float(y[1])), q[1], rel_tol=1e-9, abs_tol=1e-6)
    # inverse ∘ forward is the identity (to a millimetre).
    lat, lon = frame.inverse(x, y)
    for (la, lo), pt in zip(zip(lat, lon, strict=True), (a, b), strict=True):
        assert oracle.geodesic_m(float(la), float(lo), *pt) < 1e-3
