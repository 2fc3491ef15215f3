"""The OpenAPI request schemas and the parsers agree on what is required.

``test_openapi_schemas.py`` checks that each schema object holds exactly the keys its parser
knows; this checks the other half: take a valid body of every kind, leave out any one key of any
object, and the schema and the parser must give the same verdict (both accept it, or both refuse
it). A schema that marks a key optional while the parser requires it (or the reverse) would send
a client generator's users into 422s, or let a fuzzer miss what the parser refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from test_openapi_schemas import spec  # noqa: F401  (the served document, a module fixture)

from deconflict.domain.errors import ValidationError
from deconflict.domain.hotline import parse_ack_state, parse_draft
from deconflict.domain.notice_json import parse_notices
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.tracks import parse_state
from unit.test_strict_input import NOW, f3548_notice, geojson_notices, message, objects, track_state

CALLER = "blue"


def parse_notice_body(doc: Any) -> object:
    """What the broker does with a notice body: the caller's name where ``party`` is left out."""
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        for f in doc.get("features", []):
            if isinstance(f, dict) and isinstance(f.get("properties"), dict):
                f["properties"].setdefault("party", CALLER)
    elif isinstance(doc, dict):
        doc.setdefault("party", CALLER)
    return parse_notices(doc)


def parse_tracks(doc: Any) -> object:
    check_keys(doc, KEYS["tracks"], "")
    if not isinstance(doc.get("states"), list):
        raise ValidationError.at("states", "must be a list of states")
    return [parse_state(s, NOW, 60.0, f"states[{i}]") for i, s in enumerate(doc["states"])]


def separate_notices() -> dict[str, Any]:
    """The GeoJSON body with each feature a notice of its own: features of one notice must agree on
    their kind, a rule between features that a schema cannot state."""
    doc = geojson_notices()
    for i, f in enumerate(doc["features"]):
        f["properties"]["id"] = f"n{i}"
    return doc


BODIES: dict[str, tuple[str, Callable[[], Any], Callable[[Any], object]]] = {
    "notice (F3548)": ("NoticeBody", f3548_notice, parse_notice_body),
    "notices (GeoJSON)": ("NoticeBody", separate_notices, parse_notice_body),
    "message": ("MessageDraft", message, parse_draft),
    "acknowledgement": ("Acknowledgement", lambda: {"state": "received"}, parse_ack_state),
    "tracks": ("TrackBatch", lambda: {"states": [track_state()]}, parse_tracks),
}
"""Each body kind: its schema in the OpenAPI document, a valid instance, and what parses it."""


@pytest.fixture(scope="module")
def validators(spec: dict[str, Any]) -> dict[str, Draft202012Validator]:  # noqa: F811
    root = {"components": spec["components"]}
    return {
        name: Draft202012Validator({**root, "$ref": f"#/components/schemas/{name}"})
        for name in {schema for schema, _, _ in BODIES.values()}
    }


def accepted_by_parser(parse: Callable[[Any], object], doc: Any) -> bool:
    try:
        parse(json.loads(json.dumps(doc)))
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_the_valid_bodies_are_valid_for_both(kind: str, validators: dict[str, Draft202012Validator]) -> None:
    schema, make, parse = BODIES[kind]
    assert accepted_by_parser(parse, make())
    assert validators[schema].is_valid(make())


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(BODIES)), data=st.data())
def test_leaving_out_any_key_gets_the_same_verdict_from_the_schema_and_the_parser(
    validators: dict[str, Draft202012Validator], kind: str, data: st.DataObject
) -> None:
    schema, make, parse = BODIES[kind]
    doc = json.loads(json.dumps(make()))
    path, obj = data.draw(st.sampled_from([(p, o) for p, o in objects(doc) if o]), label="object")
    key = data.draw(st.sampled_from(sorted(obj)), label="key")
    del obj[key]
    parser = accepted_by_parser(parse, doc)
    documented = validators[schema].is_valid(doc)
    assert parser == documented, f"without {path + '.' if path else ''}{key}: parser {parser}, schema {documented}"
