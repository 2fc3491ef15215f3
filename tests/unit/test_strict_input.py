"""Refuse what is not understood (issue 10 §1): every document the broker reads refuses an unknown
key with its path, a near miss gets the key it was probably meant to be, and no unit or reference
is silently defaulted.

The property test takes a valid document of every kind, changes one key anywhere in it (an added
key, or a misspelling of one that is there) and checks that the parser refuses exactly that key.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.errors import ValidationError
from deconflict.domain.fields import Said
from deconflict.domain.hotline import parse_ack_state, parse_draft
from deconflict.domain.notice_json import parse_notices
from deconflict.domain.strict import KEYS, loads
from deconflict.domain.tracks import parse_state

T0, T1 = "2015-09-30T06:00:00Z", "2015-09-30T08:00:00Z"
NOW = 1_443_592_800.0  # 2015-09-30T06:00:00Z


def _alt(value: float, units: str = "M") -> dict[str, Any]:
    return {"value": value, "reference": "AMSL", "units": units}


def _time(text: str) -> dict[str, Any]:
    return {"value": text, "format": "RFC3339"}


def f3548_notice() -> dict[str, Any]:
    """A notice with one volume of every outline kind: every object type of the F3548 form."""

    def window() -> dict[str, Any]:
        return {"time_start": _time(T0), "time_end": _time(T1)}

    band = {
        "altitude_lower": {"value": 50, "units": "FL"},
        "altitude_upper": {"value": 100, "reference": "STD", "units": "FL"},
    }
    km = {"value": 2, "units": "KM"}
    return {
        "party": "blue",
        "id": "n1",
        "kind": "exercise",
        "volumes": [
            {
                "volume": {"outline_circle": {"center": {"lat": 35.0, "lng": 36.0}, "radius": km}, **band},
                **window(),
            },
            {
                "volume": {
                    "outline_polygon": {
                        "vertices": [{"lat": 35.0, "lng": 36.0}, {"lat": 35.0, "lng": 36.1}, {"lat": 35.1, "lng": 36.1}]
                    },
                    "altitude_lower": _alt(0),
                    "altitude_upper": _alt(3000),
                },
                **window(),
            },
            {
                "volume": {
                    "outline_corridor": {
                        "centerline": [{"lat": 35.0, "lng": 36.0}, {"lat": 35.2, "lng": 36.2}],
                        "width": km,
                    },
                    "altitude_lower": _alt(0, "FT"),
                    "altitude_upper": _alt(9000, "FT"),
                },
                **window(),
            },
            {
                "volume": {
                    "outline_orbit": {"points": [{"lat": 35.0, "lng": 36.0}, {"lat": 35.0, "lng": 36.4}], "width": km},
                    "altitude_lower": _alt(0),
                    "altitude_upper": _alt(3000),
                },
                **window(),
                "schedule": {"days": ["WED"], "windows": [{"start": "06:30", "end": "07:00"}]},
            },
        ],
    }


def geojson_notices() -> dict[str, Any]:
    """A FeatureCollection with a feature of every geometry type."""

    def props(**shape: Any) -> dict[str, Any]:
        return {
            "party": "blue",
            "id": "n1",
            "kind": "exercise",
            "altitude_lower": _alt(0),
            "altitude_upper": _alt(3000),
            "time_start": _time(T0),
            "time_end": T1,
            **shape,
        }

    ring = [[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.0]]
    line = [[36.0, 35.0], [36.2, 35.2]]
    m500 = {"value": 500, "units": "M"}
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props()},
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [36.0, 35.0]},
                "properties": props(radius=m500),
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": props(width=m500, shape="orbit"),
            },
        ],
    }


def message() -> dict[str, Any]:
    return {
        "to": ["red"],
        "subject": "Sortie",
        "text": "Moved 30 min later",
        "priority": "immediate",
        "ref": {"kind": "notice", "id": "blue:n1"},
        "ack_within_s": 900,
        "in_reply_to": "m1",
    }


def track_state() -> dict[str, Any]:
    return {
        "aircraft": "3c6444",
        "time": NOW,
        "lat": 35.0,
        "lon": 36.0,
        "alt_m": 6000,
        "alt_ref": "STD",
        "gs_mps": 200,
        "trk_deg": 90,
        "vs_mps": 0,
        "callsign": "RSD101",
    }


DOCUMENTS: dict[str, tuple[Callable[[], Any], Callable[[Any], object]]] = {
    "notice (F3548)": (f3548_notice, parse_notices),
    "notices (GeoJSON)": (geojson_notices, parse_notices),
    "message": (message, parse_draft),
    "acknowledgement": (lambda: {"state": "received"}, parse_ack_state),
    "track state": (track_state, lambda doc: parse_state(doc, NOW, 60.0, "")),
}
"""Each kind of document the domain reads, with a valid instance and its parser."""

ALL_KEYS = frozenset().union(*KEYS.values())


def objects(doc: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in ``doc`` with its path as the parsers write it."""
    if isinstance(doc, dict):
        yield path, doc
        for k, v in doc.items():
            yield from objects(v, f"{path}.{k}" if path else k)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from objects(v, f"{path}[{i}]")


def refusal(fn: Callable[[], object]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        fn()
    return info.value


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_valid_document_parses(name: str) -> None:
    make, parse = DOCUMENTS[name]
    parse(make())


# ------------------------------------------------------------------ the cases seen on main


def test_a_misspelt_radius_unit_is_refused_with_a_suggestion() -> None:
    # It was read as 10 metres: a real conflict reported as a 7 km miss.
    doc = f3548_notice()
    doc["volumes"][0]["volume"]["outline_circle"]["radius"] = {"value": 10, "unit": "NM"}
    e = refusal(lambda: parse_notices(doc))
    assert str(e) == 'volumes[0].volume.outline_circle.radius.unit: unknown key; did you mean "units"?'


def test_a_misspelt_altitude_unit_is_refused() -> None:
    doc = f3548_notice()
    doc["volumes"][1]["volume"]["altitude_upper"] = {"value": 9000, "reference": "AMSL", "unit": "FT"}
    e = refusal(lambda: parse_notices(doc))
    assert [str(x) for x in e.errors] == ['volumes[1].volume.altitude_upper.unit: unknown key; did you mean "units"?']


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("idd", 'idd: unknown key; did you mean "id"?'),
        ("knd", 'knd: unknown key; did you mean "kind"?'),
        ("Party", 'Party: unknown key; did you mean "party"?'),
        ("colour", "colour: unknown key; known keys: acm_type, description, id, kind, name, party, volumes"),
    ],
)
def test_a_notice_with_an_unknown_key_is_refused(key: str, expected: str) -> None:
    doc = f3548_notice()
    del doc["id"]
    doc[key] = "protected-site" if key == "knd" else "x"
    if key == "Party":
        del doc["party"]
    e = refusal(lambda: parse_notices(doc))
    assert str(e) == expected


def test_geojson_properties_refuse_unknown_keys() -> None:
    doc = geojson_notices()
    doc["features"][0]["properties"]["colour"] = "red"
    e = refusal(lambda: parse_notices(doc))
    assert e.errors[0].path == "features[0].properties.colour"
    assert e.errors[0].reason.startswith("unknown key")


def test_a_shape_property_on_the_wrong_geometry_is_refused() -> None:
    # A radius on a Polygon was ignored: the author meant a circle, or a buffer.
    doc = geojson_notices()
    doc["features"][0]["properties"]["radius"] = {"value": 5, "units": "NM"}
    e = refusal(lambda: parse_notices(doc))
    assert str(e) == "features[0].properties.radius: applies to a Point geometry, not to a Polygon"


def test_a_feature_id_outside_properties_is_refused() -> None:
    doc = geojson_notices()
    doc["features"][1]["id"] = "n2"
    e = refusal(lambda: parse_notices(doc))
    assert e.errors[0].path == "features[1].id"


def test_geojson_bbox_is_accepted() -> None:
    doc = geojson_notices()
    doc["bbox"] = [36.0, 35.0, 36.2, 35.2]
    doc["features"][0]["geometry"]["bbox"] = [36.0, 35.0, 36.1, 35.1]
    assert len(parse_notices(doc)) == 1


def test_every_unknown_key_of_an_object_is_named() -> None:
    doc = f3548_notice()
    doc["volumes"][0]["volume"]["outline_circle"]["center"] |= {"alt": 1, "lon": 2}
    e = refusal(lambda: parse_notices(doc))
    assert [x.path for x in e.errors] == [
        "volumes[0].volume.outline_circle.center.alt",
        "volumes[0].volume.outline_circle.center.lon",
    ]


def test_a_track_state_needs_its_altitude_reference() -> None:
    # It was taken as W84: a pressure altitude read as geometric is hundreds of metres off.
    state = track_state()
    del state["alt_ref"]
    e = refusal(lambda: parse_state(state, NOW, 60.0, "states[0]"))
    assert e.errors[0].path == "states[0].alt_ref" and "required" in e.errors[0].reason


def test_message_keys_get_suggestions() -> None:
    body = message() | {"subjet": "x"}
    assert str(refusal(lambda: parse_draft(body))) == 'subjet: unknown key; did you mean "subject"?'
    body = message() | {"ref": {"kind": "notice", "idd": "x"}}
    assert str(refusal(lambda: parse_draft(body))) == 'ref.idd: unknown key; did you mean "id"?'
    assert str(refusal(lambda: parse_ack_state({"stat": "received"}))) == 'stat: unknown key; did you mean "state"?'


# ------------------------------------------------------------------ the property


def misspellings(key: str) -> st.SearchStrategy[str]:
    alphabet = string.ascii_lowercase + "_"
    i = st.integers(0, len(key))
    return st.one_of(
        st.builds(lambda n: key[:n] + key[n + 1 :], st.integers(0, len(key) - 1)),  # a letter dropped
        st.builds(lambda n, c: key[:n] + c + key[n:], i, st.sampled_from(alphabet)),  # a letter added
        st.builds(lambda n, c: key[:n] + c + key[n + 1 :], st.integers(0, len(key) - 1), st.sampled_from(alphabet)),
        st.just(key.upper()),
    )


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(DOCUMENTS)), st.data())
def test_any_added_or_misspelt_key_anywhere_is_refused_at_its_path(name: str, data: st.DataObject) -> None:
    make, parse = DOCUMENTS[name]
    doc = json.loads(json.dumps(make()))  # no object shared between two places
    path, obj = data.draw(st.sampled_from(list(objects(doc))), label="object")
    if obj and data.draw(st.booleans(), label="misspell"):
        old = data.draw(st.sampled_from(sorted(obj)), label="key")
        new = data.draw(misspellings(old).filter(lambda k: k and k not in ALL_KEYS), label="as")
        value = obj.pop(old)
        obj[new] = value
    else:
        new = data.draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in ALL_KEYS), label="added")
        obj[new] = data.draw(st.sampled_from([1, "M", None, {"value": 1}, [1]]), label="value")
    snapshot = copy.deepcopy(doc)
    e = refusal(lambda: parse(doc))
    where = f"{path}.{new}" if path else new
    assert any(err.path == where and err.reason.startswith("unknown key") for err in e.errors), (where, str(e))
    assert doc == snapshot  # the parser changed nothing it was given


def test_a_feature_must_say_it_is_one() -> None:
    doc = geojson_notices()
    del doc["features"][2]["type"]
    assert str(refusal(lambda: parse_notices(doc))) == 'features[2].type: must be "Feature" (a GeoJSON Feature)'


def test_a_key_written_twice_is_refused_not_read_as_the_last() -> None:
    # json.loads keeps the last: "NM" then "M" was 10 metres.
    text = json.dumps(f3548_notice()).replace('"units": "KM"', '"units": "NM", "units": "M"', 1)
    with pytest.raises(ValidationError) as e:
        loads(text)
    assert [str(x) for x in e.value.errors] == [
        "volumes[0].volume.outline_circle.radius.units: is given more than once; give each key once"
    ]
    assert loads(json.dumps(f3548_notice())) == f3548_notice()


def test_every_default_applied_is_named_whatever_the_case_or_blank() -> None:
    doc = f3548_notice()
    doc["kind"] = "  "
    doc["volumes"][0]["volume"]["altitude_lower"] = {"value": 50, "units": "fl"}
    said: Said = []
    parse_notices(doc, said=said)
    assert said == [
        {"field": "kind", "value": "activity"},
        {"field": "volumes[0].volume.altitude_lower.reference", "value": "STD"},
    ]
