"""OpenAir in: the golden file, every malformed record refused with its line and field, and arcs
checked against our own geodesic shapes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deconflict.domain.geodesy import LocalFrame, destination, distances_m, geod
from deconflict.domain.policy import PRESSURE_ALLOWANCE_M, Limits
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import AltitudeReference
from deconflict.formats.openair import ARC_STEP_DEG, NM_M, parse_coord, read_openair
from deconflict.formats.openair_write import format_coord

FIXTURE = Path(__file__).parent.parent / "fixtures" / "formats" / "theater.openair"
DAY = (1_443_571_200.0, 1_443_657_600.0)  # 30 Sep 2015, UTC


def read(text: str, window: tuple[float, float] | None = DAY, kind: str = "activity") -> tuple[list, list]:  # type: ignore[type-arg]
    return read_openair(text, "syria-caa", kind, window)


def test_the_golden_file_reads_as_three_sites_with_the_rules_it_applied() -> None:
    imported, problems = read(FIXTURE.read_text(), kind="protected-site")
    assert problems == []
    by_id = {i.notice.id: i for i in imported}
    assert sorted(by_id) == ["OSL-CTR", "OSL-D1", "OSL-R2"]
    assert all(i.notice.protected and i.notice.party == "syria-caa" for i in imported)

    d1 = by_id["OSL-D1"].notice.volumes[0]
    assert d1.shape.kind is ShapeKind.POLYGON
    assert d1.altitude.reference is AltitudeReference.AMSL  # SFC with FL150: made AMSL by the rule
    assert d1.altitude.lower_m == Limits().min_altitude_m
    assert d1.altitude.upper_m == pytest.approx(150 * 30.48 + PRESSURE_ALLOWANCE_M)
    assert (d1.time_start, d1.time_end) == DAY
    assert any("SFC" in s for s in by_id["OSL-D1"].said) and any("FL150" in s for s in by_id["OSL-D1"].said)

    ctr = by_id["OSL-CTR"].notice.volumes[0]
    expected = make_shape(ShapeKind.CIRCLE, [parse_coord("35:24:04 N 035:56:55 E")], 5 * NM_M)
    assert ctr.shape == expected
    assert ctr.altitude.upper_m == pytest.approx(2500 * 0.3048)

    r2 = by_id["OSL-R2"]
    assert r2.lines == (23, 23)  # two AA windows: two volumes of one record
    assert [(v.time_start, v.time_end) for v in r2.notice.volumes] == [
        (1_443_592_800.0, 1_443_607_200.0),
        (1_443_621_600.0, 1_443_628_800.0),
    ]
    band = r2.notice.volumes[0].altitude
    assert band.reference is AltitudeReference.STD and band.lower_m == pytest.approx(3048.0)
    assert band.upper_m == pytest.approx(math.floor(100_000 / 30.48) * 30.48)  # UNL: the theater's top


def test_records_with_one_ai_are_one_notice_and_records_without_are_each_their_own() -> None:
    rec = "AC Q\nAN A\n{ai}AL FL50\nAH FL60\nV X=34:00:00 N 036:00:00 E\nDC 2\n"
    imported, problems = read(rec.format(ai="AI X\n") * 2 + rec.format(ai="") * 2)
    assert problems == []
    assert [(i.notice.id, len(i.notice.volumes)) for i in imported] == [("X", 2), (None, 1), (None, 1)]


def test_a_db_arc_is_cut_into_chords_of_at_most_one_degree_on_its_circle() -> None:
    imported, problems = read(FIXTURE.read_text())
    assert problems == []
    poly = next(i for i in imported if i.notice.id == "OSL-D1").notice.volumes[0].shape
    centre = parse_coord("35:20:00 N 036:05:00 E")
    pts = np.array(poly.points)
    g = geod()
    az, _, dist = g.inv(np.full(len(pts), centre[1]), np.full(len(pts), centre[0]), pts[:, 1], pts[:, 0])
    on_arc = np.abs(dist - dist[1]) < 0.01
    assert on_arc.sum() >= 180  # a half circle, clockwise from north to south through east
    assert np.all(np.asarray(az)[on_arc] % 360 <= 180.0 + 1e-6)


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-179, 179),
    radius_nm=st.floats(0.5, 80),
    a1=st.floats(0, 359.9),
    a2=st.floats(0, 359.9),
    clockwise=st.booleans(),
)
def test_a_da_arc_lies_on_its_geodesic_circle_and_the_chords_stay_within_the_stated_sag(
    lat: float, lon: float, radius_nm: float, a1: float, a2: float, clockwise: bool
) -> None:
    """Oracle: the true arc sampled every 0.05° by the geodesic solver; each sample lies within
    r·(1-cos(step/2)) (plus a centimetre) of the polygon's boundary, and the polygon stays on the
    arc's side of the chord from its ends."""
    sweep = (a2 - a1) % 360 if clockwise else (a1 - a2) % 360
    assume(sweep >= 5.0)  # under 3 vertices, or a sliver: refused as such by make_shape
    text = (
        f"AC Q\nAN T\nAL FL10\nAH FL20\nV X={format_coord(lat, lon)}\nV D={'+' if clockwise else '-'}\n"
        f"DA {radius_nm!r},{a1!r},{a2!r}\n"
    )
    imported, problems = read(text)
    assert problems == []
    shape = imported[0].notice.volumes[0].shape
    clat, clon = parse_coord(format_coord(lat, lon))
    r = radius_nm * NM_M
    pts = np.array(shape.points)
    d = distances_m(np.full(len(pts), clat), np.full(len(pts), clon), pts[:, 0], pts[:, 1])
    assert np.allclose(d, r, atol=0.01)
    n = max(2, math.ceil(sweep / 0.05))
    samples = a1 + np.linspace(0, sweep if clockwise else -sweep, n)
    slat, slon = destination(clat, clon, samples, np.full(samples.shape, r))
    frame = LocalFrame(clat, clon)
    ring = shapely.LinearRing(np.column_stack(frame.forward(shape.core_lat, shape.core_lon)))
    sx, sy = frame.forward(slat, slon)
    gaps = shapely.distance(ring, shapely.points(sx, sy))
    sag = r * (1 - math.cos(math.radians(ARC_STEP_DEG / 2)))
    assert float(np.max(gaps)) <= sag + 0.01


BAD = [
    # (file text, line, field, words in the reason)
    ("AC R\nAN A\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\nAC R\nAN B\nAL SFC\nAH FL10\nDC 5\n", 11, "DC",
     "no centre"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nDP 34:99:00 N 036:00:00 E\n", 5, "DP", "below 60"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nDP 34:00:00 N 036:00:00 E junk\n", 5, "DP", "not a coordinate"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nDP 91:00:00 N 036:00:00 E\n", 5, "DP", "beyond 90"),
    ("AC R\nAN A\nAL 1000ft AGL\nAH FL10\n", 3, "AL", "terrain"),
    ("AC R\nAN A\nAL SFC\nAH 2500ft\n", 4, "AH", "no reference"),
    ("AC R\nAN A\nAL SFC\nAH 2500 MSL\n", 4, "AH", "no unit"),
    ("AC R\nAN A\nAL SFC\nAH high\n", 4, "AH", "not an altitude"),
    ("AC R\nAN A\nAL FL10\nAH SFC\nV X=34:00:00 N 036:00:00 E\nDC 5\n", 4, "AH", "ceiling"),
    ("AC R\nAN A\nAL UNL\nAH UNL\nV X=34:00:00 N 036:00:00 E\nDC 5\n", 3, "AL", "floor"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDA 5,90\n", 6, "DA", "radius (NM), start angle"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDB 34:05:00 N 036:00:00 E, 34:00:00 N 036:10:00 E\n",
     6, "DB", "not on one circle"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nXX 1\n", 5, "XX", "unknown record type"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nDY 34:00:00 N 036:00:00 E\n", 5, "DY", "airways"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nV D=x\n", 5, "V", "direction"),
    ("AC R\nAN A\nAA 2015-09-30T06:00/2015-09-30T07:00Z\nAL SFC\nAH FL10\n", 3, "AA", "no offset"),
    ("AC R\nAN A\nAA 2015-09-30T08:00Z/2015-09-30T07:00Z\nAL SFC\nAH FL10\n", 3, "AA", "not after"),
    ("AC R\nAN A\nAA tomorrow\nAL SFC\nAH FL10\n", 3, "AA", "start/end"),
    ("AC R\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\n", 1, "AN", "missing"),
    ("AC R\nAN " + "X" * 101 + "\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\n", 1, "AN", "more than 100"),
    ("AC R\nAN A\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\n", 1, "AL", "missing"),
    ("AC R\nAN A\nAL SFC\nAH FL10\n", 1, "outline", "no shape"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\nDP 34:00:00 N 036:00:00 E\n", 7, "DP", "only"),
    ("AC R\nAN A\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 0\n", 6, "DC", "positive"),
    ("AN A\nAC R\nAN A\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\n", 1, "AN", "no AC line"),
    ("TO HILL\nDP 34:00:00 N 036:00:00 E\n", 1, "TO", "terrain"),
    (
        "AC R\nAN A\nAL SFC\nAH FL10\nDP 34:00:00 N 036:00:00 E\nDP 34:10:00 N 036:10:00 E\n"
        "DP 34:00:00 N 036:10:00 E\nDP 34:10:00 N 036:00:00 E\n",
        1, "volume.outline_polygon.vertices", "cross",
    ),
    ("AC R\nAN A\nAL FL100\nAH FL50\nV X=34:00:00 N 036:00:00 E\nDC 5\n", 1, "volume.altitude_lower", "above upper"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD)
def test_every_malformed_record_is_refused_with_its_line_and_field(
    text: str, line: int, field: str, words: str
) -> None:
    imported, problems = read(text)
    assert imported == [] or all(i.notice.volumes for i in imported)
    assert [(p.line, p.field) for p in problems] == [(line, field)], problems
    assert words in problems[0].reason, problems[0].reason


def test_a_record_without_a_window_is_refused_when_no_window_is_given() -> None:
    imported, problems = read("AC R\nAN A\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\n", window=None)
    assert imported == [] and [(p.line, p.field) for p in problems] == [(1, "AA")]


def test_every_bad_record_is_reported_and_the_good_ones_kept_apart() -> None:
    good = "AC R\nAN G\nAL SFC\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\n"
    bad = "AC R\nAN B\nAL 500ft AGL\nAH FL10\nV X=34:00:00 N 036:00:00 E\nDC 5\nXX\n"
    imported, problems = read(good + bad + good)
    assert [(p.line, p.field) for p in problems] == [(9, "AL"), (13, "XX")]
    assert len(imported) == 2


def test_surface_and_amsl_and_comments() -> None:
    text = "* a comment\nAC R * trailing\nAN A\nAL GND\nAH 800 m AMSL\nV X=34:00.5 N 036:00.25 E\nDC 1.5\n"
    imported, problems = read(text)
    assert problems == []
    v = imported[0].notice.volumes[0]
    assert (v.altitude.lower_m, v.altitude.upper_m) == (Limits().min_altitude_m, 800.0)
    assert v.shape.points[0] == pytest.approx((34 + 0.5 / 60, 36 + 0.25 / 60))
    assert v.shape.buffer_m == pytest.approx(1.5 * NM_M)
