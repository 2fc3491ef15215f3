"""ACO line and point sets: a ``LINE`` or ``GEOLINE`` with a ``WIDTH`` lands on our corridor, an
``APOINT`` with a ``RADIUS`` on our circle; the set it came from is kept so an export writes it
back; a line without a width or a point without a radius (no area) is refused at its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconflict.domain.geodesy import distance_m
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.units import NAUTICAL_MILE_M
from deconflict.formats.aco import ACO_SHAPE, read_aco
from deconflict.formats.aco_export import write_aco

GOLDEN = Path(__file__).parents[1] / "fixtures" / "formats" / "lines-and-points.aco"

HEADER = """OPER/INHERENT RESOLVE//
MSGID/ACO/CAOC//
ACOID/SYRIA/30A//
GEODATUM/WGE//
PERIOD/300400ZSEP2015/301600ZSEP2015//
"""
LEVEL = "EFFLEVEL/FLFL:FL200-FL300//\n"


def measure(shape: str, shape_set: str) -> str:
    return f"{HEADER}ACMID/ACM:ROZ/NAME:M1/{shape}/USE:CAP//\n{shape_set}\n{LEVEL}"


def test_the_golden_file_lands_on_our_corridors_and_circle_and_is_written_back_as_it_was() -> None:
    text = GOLDEN.read_text()
    got = read_aco(text, "coalition")
    assert got.problems == [] and [n.id for n in got.notices] == ["TRANSIT-EAST", "RETURN-WEST", "LZ-PALMYRA"]
    line, geoline, point = got.notices
    shapes = [n.volumes[0].shape for n in got.notices]
    assert [s.kind for s in shapes] == [ShapeKind.CORRIDOR, ShapeKind.CORRIDOR, ShapeKind.CIRCLE]
    assert [n.extra[ACO_SHAPE] for n in got.notices] == ["LINE", "GEOLINE", "APOINT"]
    # the very shapes our geometry builds from the same centreline and width, centre and radius
    east = [(35 + 57 / 60, 39 + 1 / 60), (36.0, 39 + 10 / 60), (36 + 5 / 60 + 30.5 / 3600, 39 + 20 / 60)]
    assert shapes[0] == make_shape(ShapeKind.CORRIDOR, east, 3704 / 2)
    assert shapes[0].width_m == pytest.approx(2 * NAUTICAL_MILE_M)
    assert shapes[1] == make_shape(ShapeKind.CORRIDOR, [(35.0, 37.0), (35.25, 36.75)], 2500)
    assert shapes[2] == make_shape(ShapeKind.CIRCLE, [(34.55, 38 + 16 / 60)], NAUTICAL_MILE_M)
    assert geoline.description == "RETURN ROUTE FOR THE WESTERN PACKAGE" and line.description is None
    assert point.kind == "landing"
    # golden: the export of what was read is the file, byte for byte
    assert write_aco(got.notices, "DEMO", "coalition", "TEST") == text


def test_a_corridor_without_a_line_set_is_written_as_a_corridor() -> None:
    got = read_aco(measure("CORRIDOR", "CORRIDOR/WIDTH:2NM/LATM:3557N03901E/LATM:3600N03910E//"), "coalition")
    assert ACO_SHAPE not in got.notices[0].extra
    assert "/CORRIDOR/" in write_aco(got.notices, "DEMO", "coalition", "TEST")


def test_geoline_and_line_name_the_same_set() -> None:
    got = read_aco(measure("LINE", "GEOLINE/WIDTH:2NM/LATM:3557N03901E/LATM:3600N03910E//"), "coalition")
    assert got.problems == [] and got.notices[0].volumes[0].shape.kind is ShapeKind.CORRIDOR
    assert got.notices[0].extra[ACO_SHAPE] == "LINE"


def test_a_point_s_radius_and_a_line_s_width_are_kept_to_the_centimetre() -> None:
    got = read_aco(measure("APOINT", "APOINT/LATM:3557N03901E/RADIUS:2.5KM//"), "coalition")
    shape = got.notices[0].volumes[0].shape
    assert shape.buffer_m == 2500 and distance_m(*shape.points[0], 35 + 57 / 60, 39 + 1 / 60) < 1e-6


BAD = [
    ("a line without a width", "LINE", "LINE/LATM:3557N03901E/LATM:3600N03910E//", "WIDTH", "no area"),
    ("a geoline without a width", "GEOLINE", "GEOLINE/LATM:3557N03901E/LATM:3600N03910E//", "WIDTH", "no area"),
    ("a point without a radius", "APOINT", "APOINT/LATM:3557N03901E//", "RADIUS", "must have an area"),
    ("a zero width", "LINE", "LINE/WIDTH:0NM/LATM:3557N03901E/LATM:3600N03910E//", "1 (WIDTH)", "more than 0"),
    ("a zero radius", "APOINT", "APOINT/LATM:3557N03901E/RADIUS:0M//", "2 (RADIUS)", "more than 0"),
    ("a negative width", "LINE", "LINE/WIDTH:-2NM/LATM:3557N03901E/LATM:3600N03910E//", "1 (WIDTH)", "not a distance"),
    ("a bad point", "APOINT", "APOINT/LATM:3599N03901E/RADIUS:2NM//", "1 (LATM)", "below 60"),
    ("a point with no key", "APOINT", "APOINT/3557N03901E/RADIUS:2NM//", "1", "not a position"),
    ("a bad line position", "LINE", "LINE/WIDTH:2NM/LATM:3557N03901E/LATM:36X0N03910E//", "3 (LATM)", "not a LATM"),
    ("a line of one position", "LINE", "LINE/WIDTH:2NM/LATM:3557N03901E//", "", "two or more positions"),
    ("a point of two positions", "APOINT", "APOINT/LATM:3557N03901E/LATM:3600N03910E/RADIUS:2NM//", "", "one position"),
]


@pytest.mark.parametrize(("what", "shape", "shape_set", "field", "reason"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_line_or_point_is_refused_at_its_line_set_and_field(
    what: str, shape: str, shape_set: str, field: str, reason: str
) -> None:
    got = read_aco(measure(shape, shape_set), "coalition")
    assert got.notices == [] and got.problems, what
    p = got.problems[0]
    assert (p.line, p.set, p.field) == (7, shape_set.split("/")[0], field), str(p)
    assert reason in p.reason, str(p)
