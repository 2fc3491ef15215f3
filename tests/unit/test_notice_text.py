"""A notice's words (name, ACM type, description): kept as given, each bad one refused with its
field and the reason; an ACO's NAME and ACM type become them, and a bad one is named at the ACMID."""

from __future__ import annotations

from typing import Any

import pytest

from deconflict.domain.errors import ValidationError
from deconflict.domain.notice_json import notice_to_json, parse_notice
from deconflict.formats.aco import read_aco
from deconflict.formats.aco_export import AcoExportError, write_aco

CIRCLE = {
    "volume": {
        "outline_circle": {"center": {"lat": 35.0, "lng": 38.0}, "radius": {"value": 5000, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "AMSL", "units": "M"},
        "altitude_upper": {"value": 3000, "reference": "AMSL", "units": "M"},
    },
    "time_start": {"value": "2035-09-30T06:00:00Z", "format": "RFC3339"},
    "time_end": {"value": "2035-09-30T08:00:00Z", "format": "RFC3339"},
}


def notice(**words: Any) -> dict[str, Any]:
    return {"party": "coalition", "id": "n1", "volumes": [CIRCLE], **words}


def test_a_name_and_an_acm_type_are_kept_and_written_back() -> None:
    n = parse_notice(notice(name="RAQQA NORTH — CAP", acm_type="ROZ", description="Two lines.\nHere."))
    assert (n.name, n.acm_type, n.description) == ("RAQQA NORTH — CAP", "ROZ", "Two lines.\nHere.")
    back = notice_to_json(n)
    assert (back["name"], back["acm_type"], back["description"]) == (n.name, n.acm_type, n.description)
    plain = parse_notice(notice())
    assert plain.name is None and not {"name", "acm_type", "description"} & set(notice_to_json(plain))


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("name", "", "must not be empty"),
        ("name", "   ", "must not be empty"),
        ("name", "x" * 101, "101 characters is more than 100"),
        ("name", "A\tB", "U+0009"),
        ("name", "A\x85B", "U+0085"),
        ("name", "A\u2028B", "a name is one line"),
        ("name", "A\ud800B", "unpaired surrogate U+D800"),
        ("description", "x\udfffy", "unpaired surrogate U+DFFF"),
        ("name", "A\u2029B", "a name is one line"),
        ("name", ["A"], "must be a string, got a list"),
        ("acm_type", "roz", "not an ACM type"),
        ("acm_type", "R-Z", "not an ACM type"),
        ("acm_type", "A" * 17, "not an ACM type"),
        ("acm_type", 3, "must be a string, got a number"),
        ("description", "a\x07b", "U+0007"),
    ],
)
def test_bad_words_are_refused_with_the_field_and_the_reason(key: str, value: Any, reason: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_notice(notice(**{key: value}), path="notices[2]")
    assert e.value.errors[0].path == f"notices[2].{key}" and reason in e.value.errors[0].reason


HEADER = "OPER/X//\nMSGID/ACO/CAOC//\nGEODATUM/WGE//\nPERIOD/300400ZSEP2035/301600ZSEP2035//\n"
SHAPE = "CIRCLE/LATM:3557N03901E/RADIUS:15NM//\nEFFLEVEL/FLFL:FL200-FL300//\n"


def test_an_aco_s_name_and_type_become_the_notice_s_and_an_export_writes_them() -> None:
    got = read_aco(HEADER + "ACMID/ACM:aar/NAME:TANKER BLUE/CIRCLE/USE:REFUEL//\n" + SHAPE, "coalition")
    n = got.notices[0]
    assert (n.id, n.name, n.acm_type) == ("TANKER BLUE", "TANKER BLUE", "AAR")
    named = parse_notice(notice(name="TRACK 7", acm_type="CORRTE"))
    text = write_aco([named, parse_notice({**notice(), "id": "n2"})], "X", "coalition", "T")
    assert "ACMID/ACM:CORRTE/NAME:TRACK 7/CIRCLE/" in text and "ACMID/ACM:ROZ/NAME:n2/CIRCLE/" in text


@pytest.mark.parametrize(
    ("acmid", "field", "reason"),
    [
        ("ACMID/ACM:ROZ/NAME:" + "N" * 101 + "/CIRCLE/USE:CAP//", "NAME", "more than 100"),
        ("ACMID/ACM:R-Z/NAME:OK/CIRCLE/USE:CAP//", "ACM", "not an ACM type"),
    ],
)
def test_a_bad_aco_name_or_type_is_named_at_the_acmid(acmid: str, field: str, reason: str) -> None:
    got = read_aco(HEADER + acmid + "\n" + SHAPE, "coalition")
    assert got.notices == [] and (got.problems[0].line, got.problems[0].set, got.problems[0].field) == (
        5,
        "ACMID",
        field,
    )
    assert reason in got.problems[0].reason


def test_an_aco_export_names_a_measure_by_its_id_when_its_name_is_taken_or_not_an_aco_field() -> None:
    notices = [
        parse_notice({**notice(name="CAP"), "id": "a"}),
        parse_notice({**notice(name="CAP"), "id": "b"}),  # the same name: NAME is unique in an ACO
        parse_notice({**notice(name="TRACK A/B"), "id": "c"}),  # a '/' would end the field
        parse_notice({**notice(name="b"), "id": "d"}),  # taken by the second, named by its id
    ]
    text = write_aco(notices, "X", "CAOC", "ACO-1")
    got = read_aco(text, "coalition")
    assert got.problems == []
    assert [(n.id, n.name) for n in got.notices] == [("CAP", "CAP"), ("b", "b"), ("c", "c"), ("d", "d")]
    # Two parties' notices of one id and no name (the host's export of every party): refused, named.
    twins = [parse_notice({**notice(), "id": "b"}), parse_notice({**notice(), "party": "ru-vks", "id": "b"})]
    with pytest.raises(AcoExportError, match=r"notice 'b': its NAME 'b' is already a measure's"):
        write_aco(twins, "X", "C", "A")


def _feature(nid: str, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [38.0, lat]},
        "properties": {
            "party": "coalition",
            "id": nid,
            "radius": {"value": 5000, "units": "M"},
            "altitude_lower": CIRCLE["volume"]["altitude_lower"],
            "altitude_upper": CIRCLE["volume"]["altitude_upper"],
            "time_start": CIRCLE["time_start"],
            "time_end": CIRCLE["time_end"],
            **props,
        },
    }


def test_a_geojson_notice_file_carries_the_words_on_any_feature_and_they_must_agree() -> None:
    from deconflict.domain.notice_json import parse_notices

    doc = {
        "type": "FeatureCollection",
        "features": [
            _feature("cap", 35.0, name="CAP NORTH", acm_type="CAP"),
            _feature("cap", 35.2, acm_type="CAP", description="Two orbits.\nFL200-300."),
            _feature("plain", 36.0),
        ],
    }
    cap, plain = parse_notices(doc)
    assert (cap.name, cap.acm_type, cap.description) == ("CAP NORTH", "CAP", "Two orbits.\nFL200-300.")
    assert len(cap.volumes) == 2 and plain.extra == {}
    doc["features"][1]["properties"]["name"] = "CAP SOUTH"
    with pytest.raises(ValidationError) as e:
        parse_notices(doc)
    assert e.value.errors[0].path == "features[1].properties.name"
    assert "differs from the name earlier features of 'cap' give" in e.value.errors[0].reason
    doc["features"][1]["properties"]["name"] = "x\u2028y"
    with pytest.raises(ValidationError, match=r"features\[1\]\.properties\.name: .*one line"):
        parse_notices(doc)


def test_an_aco_export_never_gives_a_name_that_another_notice_can_only_have_as_its_id() -> None:
    named = parse_notice({**notice(name="X"), "id": "a1"})
    plain = parse_notice({**notice(), "id": "X"})  # no name: its id is its only NAME
    for order in ([named, plain], [plain, named]):
        got = read_aco(write_aco(order, "X", "CAOC", "ACO-1"), "coalition")
        assert got.problems == []
        assert sorted(n.id for n in got.notices) == ["X", "a1"]
