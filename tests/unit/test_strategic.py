"""The horizontal tolerance is on the minimum only, and the index agrees with the exact test."""

from __future__ import annotations

import pytest

from deconflict.domain.geodesy import destination
from deconflict.domain.index import VolumeIndex
from deconflict.domain.policy import ABSOLUTE_TOLERANCE_M, RELATIVE_TOLERANCE, SeparationPolicy
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.strategic import volume_conflict
from deconflict.domain.volumes import AltitudeBand, Notice, Volume4D

POLICY = SeparationPolicy()


def circles(radius_m: float, gap_m: float) -> tuple[Volume4D, Volume4D]:
    lat, lon = destination(45.0, 10.0, [90.0], [2 * radius_m + gap_m])
    a = make_shape(ShapeKind.CIRCLE, [(45.0, 10.0)], radius_m)
    b = make_shape(ShapeKind.CIRCLE, [(float(lat[0]), float(lon[0]))], radius_m)
    band = AltitudeBand(0.0, 1000.0)
    return Volume4D(a, band, 0.0, 3600.0), Volume4D(b, band, 0.0, 3600.0)


@pytest.mark.parametrize("radius_m", [500.0, 20_000.0, 200_000.0])
@pytest.mark.parametrize(
    ("gap_factor", "expected"),
    [(0.0, True), (1.0, True), (1 + RELATIVE_TOLERANCE / 2, True), (1 + 2 * RELATIVE_TOLERANCE, False)],
)
def test_tolerance_scales_with_the_minimum_not_the_shapes(radius_m: float, gap_factor: float, expected: bool) -> None:
    gap = POLICY.horizontal_m * gap_factor
    if gap_factor > 1:
        gap += 2 * ABSOLUTE_TOLERANCE_M
    a, b = circles(radius_m, gap)
    found = volume_conflict(a, b, POLICY)
    assert (found is not None) is expected
    if found is not None:
        assert found.min_distance_m == pytest.approx(gap, rel=1e-4, abs=0.05)
    index = VolumeIndex()
    index.add("b", Notice("p2", (b,), id="b"))
    assert len(index.conflicts(Notice("p1", (a,), id="a"), POLICY)) == int(expected)
