"""The grid slice against brute force: it holds the exact slice and is within one grid step of it.

The exact overlap is drawn as a polygon (a star-shaped ring of 3 to 24 vertices, 0.5 to 400 km
across, anywhere between 70° S and 70° N); the oracle is shapely in longitude and latitude, which
knows nothing of S2.
"""

from __future__ import annotations

import math

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.grid import SliceGrid, cells_geojson, covering
from deconflict.domain.times import format_time, parse_time

KM_PER_DEG = 111.195


@st.composite
def overlaps(draw: st.DrawFn) -> dict[str, object]:
    lat = draw(st.floats(-70, 70))
    lon = draw(st.floats(-170, 170))  # the shapely oracle does not wrap at the antimeridian
    radius_km = draw(st.floats(0.5, 200))
    n = draw(st.integers(3, 24))
    scales = draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n))
    ring = []
    for i, k in enumerate(scales):
        a = 2 * math.pi * i / n
        r = radius_km * k / KM_PER_DEG
        ring.append([round(lon + r * math.cos(a) / math.cos(math.radians(lat)), 7), round(lat + r * math.sin(a), 7)])
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@settings(max_examples=150, deadline=None)
@given(overlaps(), st.integers(8, 12))
def test_property_the_grid_overlap_holds_the_exact_one_and_each_cell_touches_it(
    overlap: dict[str, object], level: int
) -> None:
    exact = shapely.geometry.shape(overlap)
    shown = shapely.geometry.shape(cells_geojson(covering(overlap, level)))
    # holds it: every point of the exact overlap is in a shown cell (to within a metre, 1e-5°:
    # great-circle cell edges are drawn as short straight lon/lat segments)
    assert shown.buffer(1e-5).covers(exact)
    # within one step: each shown cell touches the exact overlap (a merged parent's four children
    # each did), so no shown point is farther from it than a cell's diagonal (S2 cells of a level
    # are at most about twice the average across)
    for cell in shown.geoms:
        assert cell.distance(exact) < 1e-5
    diagonal_km = 2.5 * SliceGrid(s2_level=level).cell_size_m / 1000
    widest_lat = max(abs(y) for _, y in exact.exterior.coords) + 2
    bound_deg = diagonal_km / (KM_PER_DEG * math.cos(math.radians(widest_lat)))
    points = shapely.points([xy for cell in shown.geoms for xy in cell.exterior.coords])
    assert float(shapely.distance(exact, points).max()) < bound_deg


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-500, 20000),
    st.floats(0, 5000),
    st.floats(1_400_000_000, 1_500_000_000),
    st.floats(0, 7 * 86400),
    st.floats(-1e5, 1e6),
)
def test_property_steps_are_outward_and_within_one_step(
    lower: float, height: float, start: float, length: float, gap: float
) -> None:
    grid = SliceGrid()
    start = float(int(start))
    exact = {
        "min_distance_m": max(gap, 0.0),
        "vertical_gap_m": gap,
        "time_gap_s": gap,
        "altitude": {"lower_m": lower, "upper_m": lower + height},
        "time_window": {"start": format_time(start), "end": format_time(start + int(length))},
        "overlap": {"type": "Point", "coordinates": [36.0, 35.0]},
    }
    got = grid.slice(exact)
    lo, hi = got["altitude"]["lower_m"], got["altitude"]["upper_m"]
    assert lo <= lower < lo + grid.altitude_m + 1e-6 and hi - grid.altitude_m - 1e-6 < lower + height <= hi
    t0, t1 = parse_time(got["time_window"]["start"], "s"), parse_time(got["time_window"]["end"], "e")
    assert t0 % grid.time_s == 0 and t1 % grid.time_s == 0
    assert t0 <= start < t0 + grid.time_s and t1 - grid.time_s < start + int(length) <= t1
    for key, step in (("vertical_gap_m", grid.altitude_m), ("time_gap_s", grid.time_s)):
        assert got[key] <= gap < got[key] + step + 1e-6  # rounded towards "closer"
    assert got["min_distance_m"] <= max(gap, 0.0) < got["min_distance_m"] + grid.distance_m + 1e-6
