"""The ACO's RADARC and POLYARC: read as polygons that contain the true area (checked against our
geodesic shapes at random points of it), reaching past it by no more than the stated tolerance,
and every malformed set refused by line, set and field."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.geodesy import destination, geod
from deconflict.domain.horizontal import separation
from deconflict.domain.shapes import Shape, ShapeKind, make_shape
from deconflict.domain.units import NAUTICAL_MILE_M
from deconflict.formats.aco import read_aco
from deconflict.formats.aco_arcs import ARC_STEP_DEG, OUTWARD
from deconflict.formats.aco_text import read_position, write_position

HEADER = "OPER/TEST//\nMSGID/ACO/CAOC//\nGEODATUM/WGE//\nPERIOD/300400ZSEP2015/301600ZSEP2015//\n"
LEVEL = "EFFLEVEL/FLFL:FL200-FL300//\n"
GOLDEN = (
    HEADER
    + "ACMID/ACM:ROZ/NAME:SECTOR-EAST/RADARC/USE:CAP//\n"
    + "RADARC/LATM:3557N03901E/045T/135T/5NM/20NM//\n"
    + LEVEL
    + "ACMID/ACM:ROZ/NAME:PIE/RADARC/USE:CAP//\n"
    + "RADARC/LATM:3557N03901E/BRG:350T/BRG:010T/0NM/10NM//\n"
    + LEVEL
    + "ACMID/ACM:ROZ/NAME:D-SHAPE/POLYARC/USE:CAP//\n"
    + "POLYARC/LATM:3500N03800E/RADIUS:10NM/000T/180T/LATM:3450N03800E/LATM:3510N03800E//\n"
    + LEVEL
)


def polygon(text: str) -> Shape:
    got = read_aco(text, "coalition")
    assert got.problems == [], got.problems
    [n] = got.notices
    shape = n.volumes[0].shape
    assert shape.kind is ShapeKind.POLYGON
    return shape


def inside(shape: Shape, lat: float, lon: float) -> float:
    """How far a point is outside the shape (0 when inside), by our geodesic separation (the core
    distance from the polygon to the centre of a circle: the point itself)."""
    return separation(shape, make_shape(ShapeKind.CIRCLE, [(lat, lon)], buffer_m=1.0)).core_distance_m


def test_the_golden_measures_read_as_polygons_of_their_areas() -> None:
    got = read_aco(GOLDEN, "coalition")
    assert got.problems == []
    sector, pie, d_shape = (n.volumes[0].shape for n in got.notices)
    centre = (35 + 57 / 60, 39 + 1 / 60)
    # 90 degrees of arc at 1 degree: 91 points outside, 91 inside
    assert len(sector.points) == 182
    assert len(pie.points) == 22 and pie.points[-1] == centre  # a pie slice closes at the centre
    for lat, lon in [destination(*centre, np.array([90.0]), np.array([d * NAUTICAL_MILE_M])) for d in (5.1, 12, 19.9)]:
        assert inside(sector, float(lat[0]), float(lon[0])) == 0
    for d, az in ((4.8, 90), (20.2, 90), (12, 30), (12, 140)):
        lat, lon = destination(*centre, np.array([float(az)]), np.array([d * NAUTICAL_MILE_M]))
        assert inside(sector, float(lat[0]), float(lon[0])) > 0, (d, az)
    # the D: the eastern half disc of 10 NM closed by the meridian
    lat, lon = destination(35.0, 38.0, np.array([90.0, 270.0]), np.array([9.9 * NAUTICAL_MILE_M] * 2))
    assert inside(d_shape, float(lat[0]), float(lon[0])) == 0 and inside(d_shape, float(lat[1]), float(lon[1])) > 0


@st.composite
def sectors(draw: st.DrawFn) -> tuple[float, float, float, float, float, float, float]:
    lat = draw(st.floats(-70, 70))
    lon = draw(st.floats(-179, 179))
    a1 = draw(st.integers(0, 359))
    sweep = draw(st.integers(5, 350))
    inner = draw(st.sampled_from([0.0, *range(1, 40)]))
    outer = inner + draw(st.integers(1, 60))
    return lat, lon, float(a1), float((a1 + sweep) % 360), float(sweep), inner * 1000.0, outer * 1000.0


@settings(max_examples=25, deadline=None)
@given(sectors(), st.data())
def test_a_radarc_polygon_contains_the_area_and_reaches_past_it_no_more_than_the_tolerance(
    s: tuple[float, float, float, float, float, float, float], data: st.DataObject
) -> None:
    lat, lon, a1, a2, sweep, inner, outer = s
    centre = write_position(lat, lon)
    text = HEADER + "ACMID/ACM:ROZ/NAME:R/RADARC/USE:CAP//\n"
    text += f"RADARC/{centre}/{a1:.0f}T/{a2:.0f}T/{inner:.0f}M/{outer:.0f}M//\n" + LEVEL
    shape = polygon(text)
    clat, clon = read_position(centre, "centre")  # as written, to 0.01 arc-second
    # every point of the true area is inside (our geodesic shapes; 1 cm of rounding allowed)
    for _ in range(12):
        az = a1 + data.draw(st.floats(0, 1)) * sweep
        d = inner + data.draw(st.floats(0, 1)) * (outer - inner)
        if d == 0:
            continue
        plat, plon = destination(clat, clon, np.array([az]), np.array([d]))
        assert inside(shape, float(plat[0]), float(plon[0])) <= 0.01, (az, d)
    # and no vertex lies farther out than r / cos(step / 2), nor nearer in than the inner radius
    lats = np.array([p[0] for p in shape.points])
    lons = np.array([p[1] for p in shape.points])
    _, _, dist = geod().inv(np.full(lats.shape, clon), np.full(lats.shape, clat), lons, lats)
    assert float(dist.max()) <= outer * OUTWARD + 1e-6 * outer
    assert float(dist.min()) >= (inner - 1e-6 * outer if inner else 0.0)
    assert OUTWARD - 1 < 4e-5 and ARC_STEP_DEG == 1.0  # the stated 0.004 % of the radius


HEAD = HEADER + "ACMID/ACM:ROZ/NAME:R/{shape}/USE:CAP//\n"
BAD = [
    ("RADARC", "RADARC/LATM:3557N03901E/045T/135T/5NM//", "", "two radii; got 4"),
    ("RADARC", "RADARC/LATM:3557N03901E/045M/135T/5NM/20NM//", "2", "magnetic"),
    ("RADARC", "RADARC/LATM:3557N03901E/045T/400T/5NM/20NM//", "3", "at most 360"),
    ("RADARC", "RADARC/LATM:3557N03901E/045T/BRG:EAST/5NM/20NM//", "3 (BRG)", "not a bearing"),
    ("RADARC", "RADARC/LATM:3557N03901E/045T/135T/20NM/5NM//", "5", "larger than the inner"),
    ("RADARC", "RADARC/LATM:3557N03901E/045T/045T/5NM/20NM//", "3", "whole ring"),
    ("RADARC", "RADARC/LATM:3557N03901E/045T/135T/5/20NM//", "4", "not a distance"),
    ("RADARC", "RADARC/LATM:3599N03901E/045T/135T/5NM/20NM//", "1 (LATM)", "below 60"),
    ("POLYARC", "POLYARC/LATM:3500N03800E/RADIUS:10NM/000T/180T//", "", "at least one position"),
    ("POLYARC", "POLYARC/LATM:3500N03800E/RADIUS:0NM/000T/180T/LATM:3450N03800E//", "2 (RADIUS)", "positive"),
    ("POLYARC", "POLYARC/LATM:3500N03800E/RADIUS:10NM/000T/180T/3450N03800E//", "5", "not a position"),
]


@pytest.mark.parametrize(("shape", "set_text", "field", "reason"), BAD)
def test_every_bad_arc_set_is_named_by_line_set_and_field(shape: str, set_text: str, field: str, reason: str) -> None:
    got = read_aco(HEAD.format(shape=shape) + set_text + "\n" + LEVEL, "coalition")
    assert got.notices == []
    [p] = got.problems
    assert (p.line, p.set, p.field) == (6, shape, field), p
    assert reason in p.reason, p


def test_a_crossing_polyarc_is_refused_as_any_polygon() -> None:
    text = HEAD.format(shape="POLYARC")
    text += "POLYARC/LATM:3500N03800E/RADIUS:10NM/000T/180T/LATM:3500N03830E/LATM:3500N03730E//\n" + LEVEL
    [p] = read_aco(text, "coalition").problems
    assert (p.line, p.set) == (6, "POLYARC") and "cross" in p.reason, p
    assert math.isfinite(OUTWARD)
