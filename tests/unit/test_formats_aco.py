"""Reading an Airspace Control Order: the theater's ACO lands on the same volumes as its JSON, and
every record that cannot be read is named by line, set and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deconflict.domain.geodesy import distance_m
from deconflict.domain.notice_json import parse_notices
from deconflict.domain.schedule import MAX_SPAN_S, DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind
from deconflict.domain.units import FLIGHT_LEVEL_M, NAUTICAL_MILE_M
from deconflict.domain.volumes import AltitudeReference
from deconflict.formats.aco import DESCRIPTION, read_aco
from deconflict.formats.aco_levels import LevelRules

EXAMPLES = Path(__file__).parents[2] / "examples"

HEADER = """OPER/INHERENT RESOLVE//
MSGID/ACO/CAOC//
ACOID/SYRIA/30A//
GEODATUM/WGE//
PERIOD/300400ZSEP2015/301600ZSEP2015//
"""


def measure(shape: str, shape_set: str, level: str = "EFFLEVEL/FLFL:FL200-FL300//", extra: str = "") -> str:
    return f"ACMID/ACM:ROZ/NAME:M1/{shape}/USE:CAP//\n{shape_set}\n{level}\n{extra}"


CIRCLE = measure("CIRCLE", "CIRCLE/LATM:3557N03901E/RADIUS:15NM//")


def test_the_theater_aco_gives_the_same_volumes_as_the_theater_json() -> None:
    got = read_aco((EXAMPLES / "coalition-2015-09-30.aco").read_text(), "coalition")
    assert got.problems == [] and got.header_ok and got.measures == 4
    doc = json.loads((EXAMPLES / "coalition-and-sites-2015-09-30.json").read_text())
    expected = {n.id: n for n in parse_notices([d for d in doc if d["party"] == "coalition"])}
    assert {n.id for n in got.notices} == set(expected)
    for n in got.notices:
        want = expected[n.id]
        assert n.kind == want.kind and n.party == "coalition"
        assert len(n.volumes) == len(want.volumes) == 1
        a, b = n.volumes[0], want.volumes[0]
        assert (a.altitude, a.time_start, a.time_end) == (b.altitude, b.time_start, b.time_end)
        assert a.shape.kind is b.shape.kind
        assert a.shape.buffer_m == pytest.approx(b.shape.buffer_m)
        for p, q in zip(a.shape.points, b.shape.points, strict=True):
            assert distance_m(*p, *q) < 0.05  # the JSON's decimal degrees, written in seconds
    described = {n.id: n.extra.get(DESCRIPTION) for n in got.notices}
    assert described["coalition-isr-west"] == "ISR ORBIT WEST OF HAMA; DECONFLICTION CHANNEL ON THE HOTLINE"


def test_a_circle_lands_on_our_geodesic_circle_with_the_radius_in_metres() -> None:
    n = read_aco(HEADER + CIRCLE, "coalition").notices[0]
    shape = n.volumes[0].shape
    assert shape.kind is ShapeKind.CIRCLE and shape.buffer_m == 15 * NAUTICAL_MILE_M
    assert shape.points == ((35 + 57 / 60, 39 + 1 / 60),)
    assert n.volumes[0].altitude.lower_m == 200 * FLIGHT_LEVEL_M
    assert n.volumes[0].altitude.reference is AltitudeReference.STD
    assert n.volumes[0].time_end - n.volumes[0].time_start == 12 * 3600  # the header's PERIOD


def test_each_aperiod_is_a_volume_and_ampn_is_the_description() -> None:
    text = HEADER + measure(
        "CIRCLE",
        "CIRCLE/LATM:3557N03901E/RADIUS:15NM//",
        extra="APERIOD/DISCRETE/300600ZSEP2015/300800ZSEP2015//\nAPERIOD/INTERVAL/301000Z SEP2015/301200ZSEP2015//\n"
        "AMPN/TANKER TRACK/ALT BLOCK//",
    ).replace("301000Z SEP2015", "301000ZSEP2015")
    n = read_aco(text, "coalition").notices[0]
    assert [(v.time_end - v.time_start) / 3600 for v in n.volumes] == [2, 2]
    assert n.extra[DESCRIPTION] == "TANKER TRACK/ALT BLOCK"


def test_a_recurring_aperiod_is_one_scheduled_volume() -> None:
    """Weekdays 0600Z for 8 hours, until further notice: one volume whose schedule says so, to the
    31-day horizon, instead of a row per day."""
    text = HEADER + CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/UFN/WKDAY/8HR//\n"
    got = read_aco(text, "coalition")
    assert got.problems == []
    (v,) = got.notices[0].volumes
    assert v.time_end - v.time_start == MAX_SPAN_S
    assert v.schedule == Schedule((DailyWindow(6 * 3600, 14 * 3600),), frozenset(range(5)))
    night = HEADER + CIRCLE + "APERIOD/INTERVAL/302200ZSEP2015/071200ZOCT2015/MON-WED,FRI/0530Z//\n"
    (w,) = read_aco(night, "coalition").notices[0].volumes
    assert w.schedule == Schedule((DailyWindow(22 * 3600, 5 * 3600 + 1800),), frozenset({0, 1, 2, 4}))
    every = HEADER + CIRCLE + "APERIOD/DISCRETE/300600ZSEP2015/UFN//\n"
    (x,) = read_aco(every, "coalition").notices[0].volumes
    assert x.schedule == Schedule((DailyWindow(0, 86400),)) and x.time_end - x.time_start == MAX_SPAN_S
    weekly = HEADER + CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/UFN/WEEKLY/1HR30MIN//\n"
    (y,) = read_aco(weekly, "coalition").notices[0].volumes
    assert y.schedule == Schedule((DailyWindow(6 * 3600, 7 * 3600 + 1800),), frozenset({2}))  # Wednesdays
    header_ufn = read_aco(HEADER.replace("301600ZSEP2015//", "UFN//") + CIRCLE, "coalition")
    p = header_ufn.problems[0]
    assert (p.line, p.set, p.field) == (5, "PERIOD", "2") and "read in a measure's APERIOD" in p.reason


def test_an_orbit_aligned_right_lies_right_of_its_two_points() -> None:
    text = HEADER + measure("AORBIT", "AORBIT/LATM:3521N03645E/LATM:3539N03645E/WIDTH:16KM/ORBALIGN:R//")
    shape = read_aco(text, "coalition").notices[0].volumes[0].shape
    assert shape.kind is ShapeKind.ORBIT and shape.width_m == 16_000
    (lat_a, lon_a), (lat_b, lon_b) = shape.points
    # Northbound, right is east: each end moved 8 km east, so the given points are on the edge.
    assert lon_a > 36.75 and lon_b > 36.75
    assert distance_m(lat_a, lon_a, 35.35, 36.75) == pytest.approx(8000, abs=0.5)
    assert distance_m(lat_b, lon_b, 35.65, 36.75) == pytest.approx(8000, abs=0.5)


def test_sfc_and_unl_are_read_only_by_an_explicit_rule() -> None:
    text = HEADER + measure("CIRCLE", "CIRCLE/LATM:3557N03901E/RADIUS:5NM//", "EFFLEVEL/BRRA:SFC-5000FTMSL//")
    refused = read_aco(text, "coalition")
    assert not refused.notices and "SFC is ground level" in refused.problems[0].reason
    band = read_aco(text, "coalition", rules=LevelRules(surface_m=0.0)).notices[0].volumes[0].altitude
    assert (band.lower_m, band.reference) == (0.0, AltitudeReference.AMSL)
    assert band.upper_m == pytest.approx(5000 * 0.3048)
    unl = HEADER + measure("CIRCLE", "CIRCLE/LATM:3557N03901E/RADIUS:5NM//", "EFFLEVEL/FLFL:FL200-UNL//")
    assert "UNL has no height" in read_aco(unl, "coalition").problems[0].reason
    band = read_aco(unl, "coalition", rules=LevelRules(unlimited_fl=660)).notices[0].volumes[0].altitude
    assert band.upper_m == pytest.approx(660 * FLIGHT_LEVEL_M)


BAD = [
    # (what, text replacing the measure, line, set, field, words of the reason)
    (
        "minutes past 59",
        measure("POLYGON", "POLYGON/LATM:3561N03901E/LATM:3530N03957E/LATM:3530N04021E//"),
        7,
        "POLYGON",
        "1 (LATM)",
        "below 60",
    ),
    ("no radius", measure("CIRCLE", "CIRCLE/LATM:3557N03901E//"), 7, "CIRCLE", "RADIUS", "needs RADIUS"),
    (
        "a bad distance",
        measure("CIRCLE", "CIRCLE/LATM:3557N03901E/RADIUS:15XX//"),
        7,
        "CIRCLE",
        "2 (RADIUS)",
        "not a distance",
    ),
    (
        "AGL",
        measure("CIRCLE", CIRCLE.splitlines()[1], "EFFLEVEL/RARA:500FTAGL-5000FTMSL//"),
        8,
        "EFFLEVEL",
        "1 (RARA)",
        "AGL",
    ),
    (
        "two references",
        measure("CIRCLE", CIRCLE.splitlines()[1], "EFFLEVEL/RAFL:5000FTMSL-FL200//"),
        8,
        "EFFLEVEL",
        "1 (RAFL)",
        "one vertical reference",
    ),
    (
        "an unknown qualifier",
        measure("CIRCLE", CIRCLE.splitlines()[1], "EFFLEVEL/XXFL:FL1-FL200//"),
        8,
        "EFFLEVEL",
        "1 (XXFL)",
        "not a level qualifier",
    ),
    (
        "lower above upper",
        measure("CIRCLE", CIRCLE.splitlines()[1], "EFFLEVEL/FLFL:FL300-FL200//"),
        8,
        "EFFLEVEL",
        "1 (FLFL)",
        "",
    ),
    (
        "a schedule without a duration",
        CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/301200ZSEP2015/DAILY//",
        9,
        "APERIOD",
        "5",
        "INTERVAL/<start>/<stop or UFN>/<frequency>/<duration or end>",
    ),
    ("a frequency not known", CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/UFN/DAYLY/2HR//", 9, "APERIOD", "4", "DAYLY"),
    ("a bad duration", CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/UFN/DAILY/2H//", 9, "APERIOD", "5", "not a duration"),
    ("over a day", CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/UFN/DAILY/25HR//", 9, "APERIOD", "5", "at most 24HR"),
    ("an empty end time", CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/UFN/DAILY/0600Z//", 9, "APERIOD", "5", "start's"),
    ("a recurring DISCRETE", CIRCLE + "APERIOD/DISCRETE/300600ZSEP2015/UFN/DAILY/2HR//", 9, "APERIOD", "4", "INTERVAL"),
    (
        "never active",  # 30 September 2015 was a Wednesday
        CIRCLE + "APERIOD/INTERVAL/300600ZSEP2015/011200ZOCT2015/SAT/2HR//",
        9,
        "APERIOD",
        "4",
        "never active",
    ),
    ("a bad month", CIRCLE + "APERIOD/DISCRETE/300600ZSPT2015/301200ZSEP2015//", 9, "APERIOD", "2", "not a month"),
    ("end before start", CIRCLE + "APERIOD/DISCRETE/301200ZSEP2015/300600ZSEP2015//", 9, "APERIOD", "3", "after"),
    (
        "a line without a width",
        measure("LINE", "LINE/LATM:3557N03901E/LATM:3600N03910E//"),
        7,
        "LINE",
        "WIDTH",
        "a LINE is a line, no area",
    ),
    (
        "a bow-tie polygon",
        measure("POLYGON", "POLYGON/LATM:3500N03900E/LATM:3510N03910E/LATM:3500N03910E/LATM:3510N03900E//"),
        7,
        "POLYGON",
        "",
        "edges cross",
    ),
    (
        "no level",
        "ACMID/ACM:ROZ/NAME:M1/CIRCLE/USE:CAP//\nCIRCLE/LATM:3557N03901E/RADIUS:15NM//\n",
        6,
        "ACMID",
        "",
        "no EFFLEVEL",
    ),
    ("no name", CIRCLE.replace("NAME:M1/", ""), 6, "ACMID", "NAME", "needs its name"),
    ("an open set", CIRCLE + "AMPN/NO END", 9, "AMPN", "", "does not end with //"),
    ("a shape the ACMID does not name", CIRCLE + "POLYGON/LATM:3500N03900E//", 9, "POLYGON", "", "names CIRCLE"),
]


@pytest.mark.parametrize(("what", "text", "line", "set_", "field", "reason"), BAD, ids=[b[0] for b in BAD])
def test_every_bad_record_is_named_by_line_set_and_field(
    what: str, text: str, line: int, set_: str, field: str, reason: str
) -> None:
    got = read_aco(HEADER + text, "coalition")
    assert got.notices == [], what
    p = got.problems[0]
    assert (p.line, p.set, p.field) == (line, set_, field), str(p)
    assert reason.lower() in p.reason.lower()
    assert str(p).startswith(f"line {line}, set {set_}")


def test_a_bad_header_spoils_the_message_and_a_bad_measure_only_itself() -> None:
    good = (
        "ACMID/ACM:ROZ/NAME:OK/CIRCLE/USE:CAP//\nCIRCLE/LATM:3557N03901E/RADIUS:15NM//\nEFFLEVEL/FLFL:FL200-FL300//\n"
    )
    bad = CIRCLE.replace("RADIUS:15NM", "RADIUS:-1NM")
    got = read_aco(HEADER + bad + good, "coalition")
    assert [n.id for n in got.notices] == ["OK"] and got.header_ok and len(got.problems) == 1
    wgs = read_aco(HEADER.replace("GEODATUM/WGE", "GEODATUM/ED50") + good, "coalition")
    assert not wgs.header_ok and "not WGS84" in wgs.problems[0].reason and wgs.problems[0].line == 4
    no_msgid = read_aco(HEADER.replace("MSGID/ACO/CAOC//\n", "") + good, "coalition")
    assert not no_msgid.header_ok and no_msgid.problems[0].set == "MSGID"
    not_aco = read_aco(HEADER.replace("MSGID/ACO", "MSGID/ATO") + good, "coalition")
    assert not not_aco.header_ok and not_aco.problems[0].field == "1"


def test_two_measures_of_one_name_are_refused_at_the_second() -> None:
    got = read_aco(HEADER + CIRCLE + CIRCLE, "coalition")
    assert [n.id for n in got.notices] == ["M1"]
    assert got.problems[0].line == 9 and got.problems[0].field == "NAME"


def test_a_set_may_run_over_several_lines_and_is_named_by_its_first() -> None:
    polygon = "POLYGON/LATM:3512N03957E/\nLATM:3530N03957E/\nLATM:3530N04021E/LATM:3512N04021E//"
    got = read_aco(HEADER + measure("POLYGON", polygon), "coalition")
    assert got.problems == [] and len(got.notices[0].volumes[0].shape.points) == 4
    bad = read_aco(HEADER + measure("POLYGON", polygon.replace("3530N04021E", "3530N04021X")), "coalition")
    assert (bad.problems[0].line, bad.problems[0].field) == (7, "3 (LATM)")
