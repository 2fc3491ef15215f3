"""ED-269 geozones: our golden document reads to exactly the protected sites it describes, every
malformed document is refused with the JSON path of each fault (schema first, then our rules), and
protected sites written out read back to the same volumes (a property test)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import PROTECTED_SITE_KIND, AltitudeBand, AltitudeReference, Notice, Volume4D
from deconflict.formats.ed269 import read_geozones, validate, write_geozones
from geozone_docs import DAY, DELETE, edited, set_at, t

GOLDEN = (Path(__file__).parents[1] / "fixtures" / "formats" / "geozones.json").read_text()


def test_the_golden_document_reads_to_the_sites_it_describes() -> None:
    zones, problems = read_geozones(GOLDEN, "sy-gcaa", window=DAY)
    assert problems == []
    assert [(z.path, z.notice.id, z.notice.kind, z.notice.protected) for z in zones] == [
        ("features[0]", "OSH001", PROTECTED_SITE_KIND, True),
        ("features[1]", "OSH002", PROTECTED_SITE_KIND, True),
        ("features[2]", "OSH003", PROTECTED_SITE_KIND, True),
    ]
    hmeimim, palmyra, damascus = (z.notice for z in zones)
    [v] = hmeimim.volumes
    assert v.shape.kind is ShapeKind.CIRCLE and v.shape.points == ((35.4011, 35.9486),) and v.shape.buffer_m == 9260
    assert v.altitude.reference is AltitudeReference.AMSL
    assert (v.altitude.lower_m, v.altitude.upper_m) == (-500, pytest.approx(5000 * 0.3048))
    assert (v.time_start, v.time_end) == (t("2015-09-30T04:00:00Z"), t("2015-09-30T20:00:00Z"))
    assert zones[0].said == ("features[0].geometry[0].lowerLimit 0 AGL is -500 m AMSL, the theater's lowest altitude",)
    assert hmeimim.extra == {"name": "HMEIMIM AIR BASE", "country": "SYR", "restriction": "PROHIBITED"}
    # one geometry in two windows: two volumes
    assert [(x.time_start, x.time_end) for x in palmyra.volumes] == [
        (t("2015-09-30T06:00:00Z"), t("2015-09-30T12:00:00Z")),
        (t("2015-09-30T14:00:00Z"), t("2015-09-30T18:00:00Z")),
    ]
    assert palmyra.volumes[0].shape.kind is ShapeKind.POLYGON and len(palmyra.volumes[0].shape.points) == 4
    assert palmyra.volumes[0].altitude.reference is AltitudeReference.W84
    assert [(x.time_start, x.time_end) for x in damascus.volumes] == [DAY]  # permanent: the window given


def _golden() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(GOLDEN)
    return doc


F0, G0 = ["features", 0], ["features", 0, "geometry", 0]

SCHEMA_CASES = [
    (set_at([*F0, "identifier"], DELETE), "features[0].identifier", "is required"),
    (set_at([*F0, "colour"], "red"), "features[0].colour", "is not a field here"),
    (set_at([*F0, "restriction"], "FORBIDDEN"), "features[0].restriction", "is not one of"),
    (set_at([*F0, "country"], "SY"), "features[0].country", "does not match"),
    (set_at([*F0, "geometry"], []), "features[0].geometry", "should be non-empty"),
    (set_at([*G0, "uomDimensions"], "NM"), "features[0].geometry[0].uomDimensions", "is not one of"),
    (set_at([*G0, "horizontalProjection", "radius"], -5), "features[0].geometry[0].horizontalProjection.radius", ""),
    (
        set_at([*G0, "horizontalProjection", "center"], [200, 35]),
        "features[0].geometry[0].horizontalProjection.center[0]",
        "",
    ),
    (set_at([*G0, "lowerLimit"], "0"), "features[0].geometry[0].lowerLimit", "is not of type 'number'"),
    (set_at(["features", 1, "applicability", 0, "permanent"], "MAYBE"), "features[1].applicability[0].permanent", ""),
    (set_at(["features"], DELETE), "features", "is required"),
    (set_at([*G0, "horizontalProjection", "type"], "Square"), "features[0].geometry[0].horizontalProjection.type", ""),
    (
        set_at([*G0, "horizontalProjection", "edge"], 1),
        "features[0].geometry[0].horizontalProjection.edge",
        "not a field",
    ),
]


@pytest.mark.parametrize(("change", "path", "reason"), SCHEMA_CASES)
def test_a_document_that_breaks_the_schema_is_refused_naming_the_json_path(change: Any, path: str, reason: str) -> None:
    zones, problems = read_geozones(edited(GOLDEN, change), "sy-gcaa", window=DAY)
    assert zones == [], "nothing of a document that breaks the schema is read"
    assert [p.path for p in problems] == [path], problems
    assert reason in problems[0].reason


def test_every_schema_fault_is_named_not_only_the_first() -> None:
    doc = _golden()
    doc["features"][0]["country"] = "sy"
    doc["features"][2]["geometry"][0]["upperVerticalReference"] = "QNH"
    assert [e.path for e in validate(doc)] == [
        "features[0].country",
        "features[2].geometry[0].upperVerticalReference",
    ]


RULE_CASES = [
    (
        set_at(["features", 1, "applicability", 0, "schedule"], [{"day": ["MON"]}]),
        "features[1].applicability[0].schedule[0].startTime",
    ),
    (
        set_at(
            ["features", 1, "applicability", 0, "schedule"],
            [{"startTime": "07:00", "endTime": "08:00"}, {"startEvent": "SR"}],
        ),
        "features[1].applicability[0].schedule[1].startEvent",
    ),
    (
        set_at(["features", 1, "applicability", 0, "schedule"], [{"startTime": "07:00", "endTime": "25:00"}]),
        "features[1].applicability[0].schedule",
    ),
    (set_at(["features", 1, "applicability", 1, "dailyPeriod"], [{}]), "features[1].applicability[1].dailyPeriod"),
    (set_at(["features", 1, "applicability", 0, "weekdays"], ["SAT"]), "features[1].applicability[0].weekdays"),
    (set_at([*G0, "upperVerticalReference"], "AGL"), "features[0].geometry[0].upperVerticalReference"),
    (set_at([*G0, "lowerLimit"], 100), "features[0].geometry[0].lowerVerticalReference"),
    (
        set_at(["features", 2, "geometry", 0, "upperVerticalReference"], "WGS84"),
        "features[2].geometry[0].upperVerticalReference",
    ),
    (
        set_at(["features", 1, "applicability", 0, "endDateTime"], "2015-09-30T05:00:00Z"),
        "features[1].applicability[0].endDateTime",
    ),
    (
        set_at(["features", 1, "applicability", 0, "startDateTime"], "30 Sep 2015"),
        "features[1].applicability[0].startDateTime",
    ),
    (
        set_at(["features", 1, "applicability", 0], {"endDateTime": "2015-09-30T05:00:00Z"}),
        "features[1].applicability[0].startDateTime",
    ),
    (
        set_at(
            ["features", 1, "geometry", 0, "horizontalProjection", "coordinates", 0],
            [[38.25, 34.54], [38.30, 34.57], [38.30, 34.54], [38.25, 34.57], [38.25, 34.54]],  # edges cross
        ),
        "features[1].geometry[0].horizontalProjection",
    ),
    (
        set_at(["features", 1, "geometry", 0, "horizontalProjection", "coordinates", 0, 4], [38.26, 34.54]),
        "features[1].geometry[0].horizontalProjection.coordinates[0]",
    ),
    (set_at(["features", 2, "identifier"], "OSH001"), "features[2].identifier"),
    (set_at([*G0, "upperLimit"], -5000), "features[0].geometry[0].upperLimit"),  # below the floor
    (set_at([*G0, "horizontalProjection", "center"], [35.9, 95.0]), "features[0].geometry[0].horizontalProjection"),
]


@pytest.mark.parametrize(("change", "path"), RULE_CASES)
def test_what_our_rules_refuse_is_named_by_its_json_path_and_the_other_zones_still_read(change: Any, path: str) -> None:
    zones, problems = read_geozones(edited(GOLDEN, change), "sy-gcaa", window=DAY)
    assert [p.path for p in problems] == [path], problems
    assert len(zones) == 2, "the other zones are read (the command files nothing unless asked)"


def test_a_schedule_item_is_a_recurring_volume_and_a_guessed_daily_period_key_is_refused_by_name() -> None:
    week = {"startDateTime": "2015-09-28T00:00:00Z", "endDateTime": "2015-10-12T00:00:00Z"}
    items = [
        {"day": ["MON", "TUE"], "startTime": "08:00Z", "endTime": "16:00Z"},
        {"day": ["ANY"], "startTime": "22:00", "endTime": "02:00"},
    ]
    zones, problems = read_geozones(
        edited(GOLDEN, set_at(["features", 1, "applicability"], [{**week, "schedule": items}])), "p", window=DAY
    )
    assert problems == []
    palmyra = zones[1].notice
    assert [(v.time_start, v.time_end) for v in palmyra.volumes] == [
        (t(week["startDateTime"]), t(week["endDateTime"]))
    ] * 2
    assert [v.schedule for v in palmyra.volumes] == [
        Schedule((DailyWindow(8 * 3600, 16 * 3600),), frozenset({0, 1})),
        Schedule((DailyWindow(22 * 3600, 2 * 3600),)),
    ]
    back, again = write_geozones([palmyra], "SYR"), None
    again, problems = read_geozones(json.dumps(back), "p")
    assert problems == [] and again[0].notice.volumes == palmyra.volumes
    text = edited(GOLDEN, set_at(["features", 1, "applicability", 0, "dailyPeriod"], [{"day": "MON"}]))
    [p] = read_geozones(text, "sy-gcaa", window=DAY)[1]
    assert p.path == "features[1].applicability[0].dailyPeriod" and "ED-318" in p.reason


def test_a_permanent_zone_needs_the_window_the_user_gives() -> None:
    zones, [p] = read_geozones(GOLDEN, "sy-gcaa")
    assert p.path == "features[2].applicability[0].permanent" and "window" in p.reason
    assert [z.notice.id for z in zones] == ["OSH001", "OSH002"]


def test_text_that_is_not_json_is_refused() -> None:
    assert [p.path for p in read_geozones("{", "x")[1]] == ["document"]


# ---------------------------------------------------------------- out


def _site(volumes: list[Volume4D], id: str = "S1") -> Notice:
    return Notice("sy-gcaa", tuple(volumes), id=f"sy-gcaa:{id}", kind=PROTECTED_SITE_KIND, protected=True)


def _vol(shape: Any, lo: float, hi: float, ref: AltitudeReference, a: float, b: float) -> Volume4D:
    return Volume4D(shape, AltitudeBand(lo, hi, ref), a, b)


def test_export_refuses_what_a_zone_cannot_say_naming_the_site() -> None:
    circle = make_shape(ShapeKind.CIRCLE, [(35.0, 36.0)], buffer_m=1000)
    corridor = make_shape(ShapeKind.CORRIDOR, [(35.0, 36.0), (35.1, 36.1)], buffer_m=1000)
    day = DAY
    cases = [
        _site([_vol(corridor, 0, 100, AltitudeReference.AMSL, *day)]),
        _site([_vol(circle, 0, 100, AltitudeReference.STD, *day)]),
        _site(
            [
                _vol(circle, 0, 100, AltitudeReference.AMSL, *day),
                _vol(circle, 0, 200, AltitudeReference.AMSL, day[0], day[0] + 60),
            ]
        ),
    ]
    for n in cases:
        with pytest.raises(Exception) as e:
            write_geozones([n], "SYR")
        assert "sy-gcaa:S1" in str(e.value)


lat = st.floats(-60, 60)
lon = st.floats(-179, 179)


@st.composite
def sites(draw: st.DrawFn) -> Notice:
    a, b = draw(lat), draw(lon)
    if draw(st.booleans()):
        shape = make_shape(ShapeKind.CIRCLE, [(a, b)], buffer_m=draw(st.floats(10, 50_000)))
    else:
        d = draw(st.floats(0.01, 0.5))
        shape = make_shape(ShapeKind.POLYGON, [(a, b), (a, b + d), (a + d, b + d), (a + d, b)])
    ref = draw(st.sampled_from([AltitudeReference.AMSL, AltitudeReference.W84]))
    lo = draw(st.floats(-400, 5000))
    hi = lo + draw(st.floats(1, 5000))
    starts = sorted(set(draw(st.lists(st.integers(0, 20), min_size=1, max_size=3))))
    windows = [(DAY[0] + 3600 * s, DAY[0] + 3600 * s + 1800) for s in starts]
    return _site([_vol(shape, lo, hi, ref, w0, w1) for w0, w1 in windows])


@settings(max_examples=60, deadline=None)
@given(sites())
def test_sites_written_as_zones_read_back_to_the_same_volumes(site: Notice) -> None:
    doc = write_geozones([site], "SYR")
    assert validate(doc) == [], "what we write passes our own schema"
    [zone], problems = read_geozones(json.dumps(doc), "sy-gcaa")
    assert problems == []
    assert zone.notice.id == "S1"
    assert zone.notice.volumes == site.volumes


def test_the_golden_document_round_trips() -> None:
    zones, _ = read_geozones(GOLDEN, "sy-gcaa", window=DAY)
    back, problems = read_geozones(json.dumps(write_geozones([z.notice for z in zones], "SYR")), "sy-gcaa")
    assert problems == []
    assert [z.notice.volumes for z in back] == [z.notice.volumes for z in zones]
    assert copy.deepcopy(back[0].notice.extra)["name"] == "HMEIMIM AIR BASE"
