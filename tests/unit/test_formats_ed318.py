"""ED-318 geozones: our golden document (the ED-269 golden's zones in the GeoJSON-shaped encoding,
and a recurring zone of two shapes) reads to the same protected sites as ED-269 does, every
malformed document is refused with the JSON path of each fault (schema first, then our rules), and
a document is read as ED-269 or ED-318 by its shape, or refused as neither."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind
from deconflict.domain.volumes import PROTECTED_SITE_KIND, AltitudeReference
from deconflict.formats import ed269, ed318
from deconflict.formats.geozones import read_geozones
from geozone_docs import DAY, DELETE, edited, set_at, t

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats"
GOLDEN = (FIXTURES / "geozones.ed318.json").read_text()
ED269 = (FIXTURES / "geozones.json").read_text()


def test_the_golden_document_reads_to_the_sites_it_describes() -> None:
    zones, problems = read_geozones(GOLDEN, "sy-gcaa", window=DAY)
    assert problems == []
    assert [(z.path, z.notice.id) for z in zones] == [(f"features[{i}]", f"OSH00{i + 1}") for i in range(4)]
    assert {(z.notice.kind, z.notice.protected) for z in zones} == {(PROTECTED_SITE_KIND, True)}
    hmeimim, palmyra, damascus, tartus = (z.notice for z in zones)
    [v] = hmeimim.volumes
    assert v.shape.kind is ShapeKind.CIRCLE and v.shape.points == ((35.4011, 35.9486),) and v.shape.buffer_m == 9260
    assert v.altitude.reference is AltitudeReference.AMSL
    assert (v.altitude.lower_m, v.altitude.upper_m) == (-500, pytest.approx(5000 * 0.3048))
    assert zones[0].said == ("features[0].geometry.layer.lower 0 AGL is -500 m AMSL, the theater's lowest altitude",)
    assert hmeimim.extra == {"name": "HMEIMIM AIR BASE", "country": "SYR", "restriction": "PROHIBITED"}
    assert palmyra.extra["restriction"] == "REQ_AUTHORISATION", "ED-318's REQ_AUTHORIZATION in ED-269's spelling"
    assert palmyra.volumes[0].altitude.reference is AltitudeReference.W84
    assert [(x.time_start, x.time_end) for x in damascus.volumes] == [DAY]  # no period: the window given
    assert zones[2].said == ("features[2].properties.limitedApplicability: permanent, active in the window given",)
    # a collection of two shapes, each in each of the period's two daily windows: four volumes
    assert [(x.shape.kind, x.altitude.lower_m, x.altitude.upper_m) for x in tartus.volumes] == [
        (ShapeKind.POLYGON, 0, 600),
        (ShapeKind.POLYGON, 0, 600),
        (ShapeKind.CIRCLE, 600, 1200),
        (ShapeKind.CIRCLE, 600, 1200),
    ]
    assert tartus.volumes[2].shape.buffer_m == 500


def test_the_zones_both_goldens_describe_read_to_the_same_volumes_and_site() -> None:
    ours = read_geozones(GOLDEN, "p", window=DAY)[0][:3]
    theirs, problems = ed269.read_geozones(ED269, "p", window=DAY)
    assert problems == []
    assert [z.notice.volumes for z in ours] == [z.notice.volumes for z in theirs]
    assert [z.notice.extra for z in ours] == [z.notice.extra for z in theirs]


def test_a_recurring_zone_is_the_scheduled_volumes_ed269_schedule_items_give() -> None:
    zones, _ = read_geozones(GOLDEN, "p", window=DAY)
    tartus = zones[3].notice
    week = {"startDateTime": "2015-09-28T00:00:00Z", "endDateTime": "2015-10-12T00:00:00Z"}
    items = [
        {"day": ["MON", "TUE", "WED", "THU", "FRI"], "startTime": "08:00Z", "endTime": "16:00Z"},
        {"day": ["ANY"], "startTime": "22:00", "endTime": "02:00"},
    ]
    ring = [[35.86, 34.88], [35.90, 34.88], [35.90, 34.91], [35.86, 34.91], [35.86, 34.88]]
    limits = {"uomDimensions": "M", "lowerVerticalReference": "AMSL", "upperVerticalReference": "AMSL"}
    polygon = {"type": "Polygon", "coordinates": [ring]}
    circle = {"type": "Circle", "center": [35.88, 34.895], "radius": 500}
    same = {
        "features": [
            {
                "identifier": "OSH004",
                "country": "SYR",
                "name": "TARTUS PORT",
                "type": "COMMON",
                "restriction": "CONDITIONAL",
                "applicability": [{**week, "schedule": items}],
                "geometry": [
                    {**limits, "lowerLimit": 0, "upperLimit": 600, "horizontalProjection": polygon},
                    {**limits, "lowerLimit": 600, "upperLimit": 1200, "horizontalProjection": circle},
                ],
            }
        ]
    }
    [theirs], problems = read_geozones(json.dumps(same), "p")
    assert problems == []
    assert tartus.volumes == theirs.notice.volumes
    assert tartus.extra == theirs.notice.extra
    assert [v.schedule for v in tartus.volumes[:2]] == [
        Schedule((DailyWindow(8 * 3600, 16 * 3600),), frozenset(range(5))),
        Schedule((DailyWindow(22 * 3600, 2 * 3600),)),
    ]
    assert {(v.time_start, v.time_end) for v in tartus.volumes} == {(t(week["startDateTime"]), t(week["endDateTime"]))}


def _golden() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(GOLDEN)
    return doc


P0, G0 = ["features", 0, "properties"], ["features", 0, "geometry"]
A3 = ["features", 3, "properties", "limitedApplicability", 0]
S3 = "features[3].properties.limitedApplicability[0].schedule"
C3 = ["features", 3, "geometry", "geometries"]

SCHEMA_CASES = [
    (set_at(["type"], "Feature"), "type", "'FeatureCollection' was expected"),
    (set_at(["features", 0, "type"], "Zone"), "features[0].type", ""),
    (set_at([*P0, "identifier"], "OSH00001"), "features[0].properties.identifier", "too long"),
    (set_at([*P0, "country"], "SY"), "features[0].properties.country", "does not match"),
    (set_at([*P0, "type"], "FORBIDDEN"), "features[0].properties.type", "is not one of"),
    (set_at([*P0, "variant"], DELETE), "features[0].properties.variant", "is required"),
    (set_at([*P0, "zoneAuthority"], []), "features[0].properties.zoneAuthority", "should be non-empty"),
    (set_at([*P0, "colour"], "red"), "features[0].properties.colour", "is not a field here"),
    (set_at([*P0, "reason"], ["FOREIGN_TERRITORY"]), "features[0].properties.reason[0]", "is not one of"),
    (set_at([*P0, "name"], [{"text": "X", "lang": "english"}]), "features[0].properties.name", ""),
    (
        set_at([*G0, "type"], "LineString"),
        "features[0].geometry.type",
        "must be Point or Polygon or GeometryCollection",
    ),
    (set_at([*G0, "layer", "uom"], "NM"), "features[0].geometry.layer.uom", "is not one of"),
    (set_at([*G0, "layer", "upper"], "5000"), "features[0].geometry.layer.upper", "is not of type 'number'"),
    (set_at([*G0, "layer"], DELETE), "features[0].geometry.layer", "is required"),
    (set_at([*G0, "extent", "radius"], 0), "features[0].geometry.extent.radius", ""),
    (set_at([*G0, "coordinates"], [200, 35]), "features[0].geometry.coordinates[0]", ""),
    (set_at([*C3, 1, "layer", "lowerReference"], "QNH"), "features[3].geometry.geometries[1].layer.lowerReference", ""),
    (set_at([*A3, "schedule", 0, "day"], ["MONDAY"]), f"{S3}[0].day[0]", ""),
    (set_at([*A3, "schedule", 0, "day"], DELETE), f"{S3}[0].day", "is required"),
    (set_at([*A3, "dailyPeriod"], []), "features[3].properties.limitedApplicability[0].dailyPeriod", "not a field"),
]


@pytest.mark.parametrize(("change", "path", "reason"), SCHEMA_CASES)
def test_a_document_that_breaks_the_schema_is_refused_naming_the_json_path(change: Any, path: str, reason: str) -> None:
    text = edited(GOLDEN, change)
    [fault] = ed318.validate(json.loads(text))
    assert (fault.path, reason in fault.reason) == (path, True), fault
    assert read_geozones(text, "sy-gcaa", window=DAY) == ([], [fault]), "nothing of the document is read"


def test_every_schema_fault_is_named_not_only_the_first() -> None:
    doc = _golden()
    doc["features"][0]["properties"]["country"] = "sy"
    doc["features"][3]["geometry"]["geometries"][0]["layer"]["uom"] = "NM"
    assert [e.path for e in ed318.validate(doc)] == [
        "features[0].properties.country",
        "features[3].geometry.geometries[0].layer.uom",
    ]


RULE_CASES = [
    (set_at([*G0, "extent"], DELETE), "features[0].geometry.extent"),
    (set_at([*G0, "layer", "upperReference"], "AGL"), "features[0].geometry.layer.upperReference"),
    (set_at([*G0, "layer", "lower"], 100), "features[0].geometry.layer.lowerReference"),
    (set_at([*G0, "coordinates"], [35.9, 95.0]), "features[0].geometry"),
    (set_at([*G0, "layer", "upper"], -5000), "features[0].geometry.layer.upper"),  # below the floor
    (set_at([*P0, "name"], "HMEIMIM\nAIR BASE"), "features[0].properties.name"),
    (
        set_at(
            ["features", 1, "geometry", "coordinates"],
            [
                [[38.25, 34.54], [38.30, 34.54], [38.30, 34.57], [38.25, 34.57], [38.25, 34.54]],
                [[38.26, 34.55], [38.27, 34.55], [38.27, 34.56], [38.26, 34.55]],  # a hole
            ],
        ),
        "features[1].geometry.coordinates",
    ),
    (set_at(["features", 1, "geometry", "coordinates", 0, 4], [38.26, 34.54]), "features[1].geometry.coordinates[0]"),
    (
        set_at(["features", 1, "properties", "limitedApplicability", 1, "endDateTime"], "2015-09-30T13:00:00Z"),
        "features[1].properties.limitedApplicability[1].endDateTime",
    ),
    (
        set_at(["features", 1, "properties", "limitedApplicability", 0], {"endDateTime": "2015-09-30T12:00:00Z"}),
        "features[1].properties.limitedApplicability[0].startDateTime",
    ),
    (set_at(["features", 1, "properties", "identifier"], "OSH001"), "features[1].properties.identifier"),
    (
        set_at([*A3, "schedule", 1], {"day": ["SAT"], "startEvent": "SR", "endTime": "10:00"}),
        f"{S3}[1].startEvent",
    ),
    (
        set_at([*A3, "schedule", 1, "startTime"], "22:00+02:00"),
        f"{S3}[1].startTime",
    ),
    (set_at([*A3, "schedule", 1, "endTime"], "25:00"), "features[3].properties.limitedApplicability[0].schedule"),
    (set_at([*C3, 1, "layer", "lowerReference"], "WGS84"), "features[3].geometry.geometries[1].layer.upperReference"),
]


@pytest.mark.parametrize(("change", "path"), RULE_CASES)
def test_what_our_rules_refuse_is_named_by_its_json_path_and_the_other_zones_still_read(change: Any, path: str) -> None:
    zones, problems = read_geozones(edited(GOLDEN, change), "sy-gcaa", window=DAY)
    # the other zones are read (the command files nothing unless asked)
    assert ([p.path for p in problems], len(zones)) == ([path], 3), problems


def test_a_zone_without_a_period_needs_the_window_the_user_gives() -> None:
    zones, [p] = read_geozones(GOLDEN, "sy-gcaa")
    assert p.path == "features[2].properties.limitedApplicability" and "window" in p.reason
    assert [z.notice.id for z in zones] == ["OSH001", "OSH002", "OSH004"]


def test_the_encoding_is_told_by_the_document_s_shape() -> None:
    assert [z.notice.id for z in read_geozones(ED269, "p", window=DAY)[0]] == ["OSH001", "OSH002", "OSH003"]
    for text in ("[]", '{"zones": []}', '"FeatureCollection"'):
        zones, [p] = read_geozones(text, "p")
        assert zones == [] and p.path == "document" and "neither an ED-269" in p.reason and "ED-318" in p.reason
    assert [p.path for p in read_geozones("{", "p")[1]] == ["document"]
    # an ED-269 document's zones in a FeatureCollection are ED-318 features that lack their parts
    mixed = {"type": "FeatureCollection", "features": json.loads(ED269)["features"][:1]}
    paths = [p.path for p in read_geozones(json.dumps(mixed), "p")[1]]
    assert "features[0].properties" in paths and "features[0].type" in paths, paths
