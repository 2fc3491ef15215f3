"""AIXM 5.1 SAA.ACT activations in: the golden file on our own shapes, every malformed or unsupported
element refused with its path and line, XML attacks refused; notices out that read back as the same
notices (property)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import LocalFrame
from deconflict.domain.policy import Limits
from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Notice, Volume4D
from deconflict.formats.aixm import read_aixm
from deconflict.formats.aixm_write import write_aixm
from deconflict.formats.openair import NM_M

FIXTURE = Path(__file__).parent.parent / "fixtures" / "formats" / "activation.aixm.xml"
GOLDEN = FIXTURE.read_text()
T = 1_916_978_400.0  # 2030-09-30T06:00Z


def read(text: str) -> tuple[list, list]:  # type: ignore[type-arg]
    return read_aixm(text, "syria-caa", "protected-site")


def test_the_golden_file_reads_as_a_polygon_and_a_circle_on_our_shapes() -> None:
    imported, problems = read(GOLDEN)
    assert problems == []
    assert [(i.notice.id, i.lines) for i in imported] == [("HMEIMIM-TSA", (39,)), ("OSP12", (89,))]
    tsa = imported[0].notice.volumes[0]
    # lat lon order (EPSG:4326): the first vertex is 35.30°N 35.80°E
    ring = [(35.30, 35.80), (35.30, 36.10), (35.55, 36.10), (35.55, 35.80)]
    assert tsa.shape == make_shape(ShapeKind.POLYGON, ring, 0.0)
    assert tsa.altitude == AltitudeBand(50 * 30.48, 150 * 30.48, AltitudeReference.STD)
    assert (tsa.time_start, tsa.time_end) == (T, T + 12 * 3600)
    site = imported[1].notice.volumes[0]
    assert site.shape == make_shape(ShapeKind.CIRCLE, [(34.7333, 36.7167)], 3 * NM_M)
    assert site.altitude == AltitudeBand(Limits().min_altitude_m, 5000 * 0.3048, AltitudeReference.AMSL)
    assert (site.time_start, site.time_end) == (T - 6 * 3600, T - 6 * 3600 + 2 * 86400 - 60)
    assert any("SFC" in s for s in imported[1].said)  # the rule applied is said
    assert all(i.notice.protected for i in imported)


def test_the_golden_polygon_holds_its_vertices_and_not_a_point_outside() -> None:
    v = read(GOLDEN)[0][0].notice.volumes[0]
    frame = LocalFrame(35.4, 35.95)
    core = shapely.Polygon(np.column_stack(frame.forward(v.shape.core_lat, v.shape.core_lon)))
    inside = shapely.points(*frame.forward(np.array([35.31, 35.54, 35.42]), np.array([35.81, 36.09, 35.95])))
    outside = shapely.points(*frame.forward(np.array([35.56, 35.29, 35.42]), np.array([35.95, 35.95, 36.11])))
    assert shapely.contains(core, inside).all() and not shapely.intersects(core, outside).any()


def swap(old: str, new: str, count: int = 1) -> str:
    """The golden file with ``old`` replaced after the event (in the airspaces)."""
    head, _, rest = GOLDEN.partition("</event:Event>")
    assert old in rest, old
    return head + "</event:Event>" + rest.replace(old, new, count)


RING = "<gml:LinearRing>"
BAD = [
    (swap("<aixm:status>ACTIVE</aixm:status>", "<aixm:status>INACTIVE</aixm:status>"), "status", "only an activation"),
    (swap("<aixm:status>ACTIVE</aixm:status>", ""), "AirspaceActivation/status", "missing"),
    (
        swap("<aixm:activity>MILOPS</aixm:activity>", "<aixm:timeInterval/>"),
        "AirspaceActivation/timeInterval",
        "timesheet is not supported",
    ),
    (swap("<aixm:activity>MILOPS</aixm:activity>", "<aixm:levels/>"), "levels", "activation levels"),
    (swap('<aixm:upperLimit uom="FL">', '<aixm:upperLimit uom="KM">'), "upperLimit@uom", "must be FL, FT or M"),
    (swap('uom="FL">150<', 'uom="FT">150<'), "upperLimit@uom", "a STD limit is a flight level"),
    (swap(">STD</aixm:upperLimitReference>", ">W84</aixm:upperLimitReference>"), "upperLimitReference", "STD or MSL"),
    (
        swap('<aixm:upperLimit uom="FT">5000', '<aixm:upperLimit uom="FT">5000').replace(
            '<aixm:lowerLimit uom="FT">GND', '<aixm:lowerLimit uom="FT">300'
        ),
        "lowerLimitReference",
        "needs terrain data",
    ),
    (swap(">150</aixm:upperLimit>", ">high</aixm:upperLimit>"), "upperLimit", "not a number"),
    (swap(">150</aixm:upperLimit>", ">GND</aixm:upperLimit>"), "upperLimit", "GND cannot be a ceiling"),
    (swap(">50</aixm:lowerLimit>", ">200</aixm:lowerLimit>"), "geometryComponent: altitude_lower", "above upper"),
    (swap("</gml:exterior>", "</gml:exterior><gml:interior/>"), "PolygonPatch/interior", "a hole is not supported"),
    (
        swap('<gml:CircleByCenterPoint numArc="1">', '<gml:ArcByCenterPoint numArc="1">').replace(
            "</gml:CircleByCenterPoint>", "</gml:ArcByCenterPoint>"
        ),
        "segments/ArcByCenterPoint",
        "only one gml:CircleByCenterPoint",
    ),
    (swap('numArc="1"', 'numArc="2"'), "CircleByCenterPoint@numArc", "numArc 1"),
    (swap('<gml:radius uom="NM">', '<gml:radius uom="deg">'), "radius@uom", "M, KM, NM or FT"),
    (swap("35.30 35.80 35.30 36.10", "35.30 35.80 35.30"), "LinearRing/posList", "even count"),
    (swap("35.30 35.80 35.30 36.10", "35.30 east 35.30 36.10"), "LinearRing/posList", "must be numbers"),
    (swap("35.30 35.80 35.30 36.10", "95.30 35.80 35.30 36.10"), "geometryComponent: outline_polygon", "lat"),
    (
        swap('srsName="urn:ogc:def:crs:EPSG::4326"', 'srsName="urn:ogc:def:crs:OGC:1.3:CRS84"'),
        "Surface@srsName",
        "only EPSG:4326",
    ),
    (swap("<gml:posList>", '<gml:posList srsDimension="3">'), "posList@srsDimension", "only 2"),
    # GML lets every geometry element name its CRS: a lon-lat one anywhere would mirror the area.
    (
        swap("<gml:posList>", '<gml:posList srsName="urn:ogc:def:crs:OGC:1.3:CRS84">'),
        "posList@srsName",
        "only EPSG:4326",
    ),
    (
        swap("<gml:LinearRing>", '<gml:LinearRing srsName="urn:ogc:def:crs:OGC:1.3:CRS84">'),
        "LinearRing@srsName",
        "only EPSG:4326",
    ),
    (
        swap("<gml:pos>", '<gml:pos srsName="urn:ogc:def:crs:OGC:1.3:CRS84">'),
        "CircleByCenterPoint/pos@srsName",
        "only EPSG:4326",
    ),
    (
        swap(RING, "<gml:LineString>").replace("</gml:LinearRing>", "</gml:LineString>", 1),
        "exterior/LineString",
        "Ring",
    ),
    (swap("<gml:endPosition>2030-09-30T18", "<gml:endPosition>2030-09-29T18"), "endPosition", "after beginPosition"),
    (
        swap(
            "<gml:endPosition>2030-09-30T18:00:00Z</gml:endPosition>",
            '<gml:endPosition indeterminatePosition="unknown"/>',
            2,
        ),
        "endPosition",
        "open or unknown end",
    ),
    (
        swap("2030-09-30T06:00:00Z</gml:beginPosition>", "2030-09-30T06:00:00</gml:beginPosition>"),
        "beginPosition",
        "offset",
    ),
    (
        swap("<aixm:operation>BASE</aixm:operation>", "<aixm:operation>SUBTR</aixm:operation>"),
        "operation",
        "no subtraction",
    ),
    (swap("<aixm:upperLimit ", "<aixm:contributorAirspace/><aixm:upperLimit "), "contributorAirspace", "not supported"),
    (swap("<aixm:type>TSA</aixm:type>", "<aixm:centreline/>"), "AirspaceTimeSlice/centreline", "not read here"),
    (GOLDEN.replace(">SAA.ACT<", ">RWY.CLS<"), "Event/…/scenario", "only SAA.ACT"),
    (
        swap('<aixm:Airspace gml:id="A1">', '<aixm:Unit gml:id="A1">').replace("</aixm:Airspace>", "</aixm:Unit>", 1),
        "hasMember[2]/Unit",
        "only aixm:Airspace",
    ),
]


@pytest.mark.parametrize(("text", "where", "why"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_every_malformed_or_unsupported_element_is_refused_by_its_path(text: str, where: str, why: str) -> None:
    imported, problems = read(text)
    assert problems, "refused"
    p = problems[0]
    assert where in p.field and why in p.reason, str(p)
    assert p.line > 1 and p.field.startswith("AIXMBasicMessage/")
    assert len(imported) == (2 if "Event" in where else 1)  # the other airspace is read whole


def test_the_line_named_is_the_offending_elements() -> None:
    text = GOLDEN.replace("</gml:exterior>", "</gml:exterior>\n<gml:interior/>", 1)
    _, problems = read(text)
    assert text.splitlines()[problems[0].line - 1].strip() == "<gml:interior/>"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<a>", "not well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', "refused"),
        ('<!DOCTYPE r SYSTEM "http://example.invalid/r.dtd"><r/>', "refused"),
        ('<r xmlns="urn:x"/>', "the root must be message:AIXMBasicMessage"),
    ],
)
def test_bad_xml_dtds_and_entities_are_refused_unread(text: str, why: str) -> None:
    imported, problems = read(text)
    assert imported == [] and len(problems) == 1 and why in problems[0].reason


def test_a_problem_of_the_notice_is_named_by_its_component() -> None:
    text = swap("35.30 35.80 35.30 36.10 35.55 36.10 35.55 35.80 35.30 35.80", "35.30 35.80 35.30 36.10 35.30 35.80")
    _, problems = read(text)
    assert problems[0].line == 39 and problems[0].field.endswith("geometryComponent: outline_polygon.vertices")


def _notice(points: list[tuple[float, float]], radius: float | None, lo: float, hi: float, std: bool) -> Notice:
    ref = AltitudeReference.STD if std else AltitudeReference.AMSL
    shape = (
        make_shape(ShapeKind.CIRCLE, points[:1], radius)
        if radius is not None
        else make_shape(ShapeKind.POLYGON, points, 0.0)
    )
    v = Volume4D(shape, AltitudeBand(lo, hi, ref), T, T + 3600.5)
    return Notice("syria-caa", (v,), id="syria-caa:site-1", kind="protected-site", protected=True)


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-60, 60),
    lon=st.floats(-179, 179),
    size=st.floats(0.01, 0.5),
    circle=st.booleans(),
    std=st.booleans(),
    lo=st.floats(0, 5000),
    depth=st.floats(50, 5000),
)
def test_an_export_reads_back_as_the_same_volumes(
    lat: float, lon: float, size: float, circle: bool, std: bool, lo: float, depth: float
) -> None:
    pts = [(lat, lon), (lat, lon + size), (lat + size, lon + size / 2)]
    n = _notice(pts, size * 50_000 if circle else None, lo, lo + depth, std)
    imported, problems = read(write_aixm([n]))
    assert problems == []
    [back] = [i.notice for i in imported]
    assert back.id == "site-1" and back.protected
    [v], [w] = n.volumes, back.volumes
    assert w.shape.kind is v.shape.kind and w.altitude.reference is v.altitude.reference
    for (a, b), (c, d) in zip(v.shape.points, w.shape.points, strict=True):
        assert a == pytest.approx(c, abs=1e-9) and b == pytest.approx(d, abs=1e-9)
    assert w.shape.buffer_m == pytest.approx(v.shape.buffer_m, abs=1e-3)
    assert w.altitude.lower_m == pytest.approx(v.altitude.lower_m, abs=0.01)
    assert w.altitude.upper_m == pytest.approx(v.altitude.upper_m, abs=0.01)
    assert (w.time_start, w.time_end) == pytest.approx((v.time_start, v.time_end), abs=1e-3)


def test_what_has_no_aixm_form_here_is_refused_naming_the_volume() -> None:
    corridor = make_shape(ShapeKind.CORRIDOR, [(35.0, 36.0), (35.1, 36.1)], 2000.0)
    n = _notice([(35.0, 36.0), (35.0, 36.2), (35.2, 36.1)], None, 0.0, 1000.0, False)
    cases = [
        (Volume4D(corridor, n.volumes[0].altitude, T, T + 60), "corridor"),
        (Volume4D(n.volumes[0].shape, AltitudeBand(0, 100, AltitudeReference.W84), T, T + 60), "W84"),
        (
            Volume4D(n.volumes[0].shape, n.volumes[0].altitude, T, T + 86400 * 3, Schedule((DailyWindow(0, 3600),))),
            "timesheets",
        ),
    ]
    for v, why in cases:
        with pytest.raises(ValidationError) as e:
            write_aixm([Notice("syria-caa", (v,), id="syria-caa:x", kind="activity")])
        assert why in e.value.errors[0].reason and e.value.errors[0].path == "syria-caa:x: volumes[0]"


def test_the_export_is_xml_we_read_safely_and_names_each_notice() -> None:
    imported, _ = read(GOLDEN)
    text = write_aixm([i.notice for i in imported])
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "<!DOCTYPE" not in text
    assert text.count("<aixm:Airspace ") == 2 and "<aixm:status>ACTIVE</aixm:status>" in text
    assert write_aixm([i.notice for i in imported]) == text  # the same identifiers every time
