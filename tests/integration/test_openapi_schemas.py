"""The OpenAPI document describes every body with its real schema, so that a client generator and a
fuzzer can use it:

1. no request body and no 2xx JSON response is left as "anything";
2. every request object lists exactly the keys ``domain/strict.py`` says its parser accepts, and
   refuses others (``additionalProperties: false``): the documentation and the parser cannot drift;
3. what a real server sends, through a flow that calls every operation, validates against the
   schema the document gives for that operation and status (strictly: a key the schema does not
   name fails, so a key added to a response must be documented);
4. the document's examples validate against their own schemas.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_support import T0, Api, circle_notice, start_api
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from deconflict.api.examples import SITE_EXAMPLE
from deconflict.api.formats_export import AIXM_EXAMPLE
from deconflict.domain.strict import KEYS
from deconflict.domain.times import format_time

NOT_JSON = {
    ("get", "/v1/events"): "Server-Sent Events: an endless text/event-stream, not a JSON document",
    ("get", "/v1/metrics"): "Prometheus text exposition format (text/plain)",
    ("get", "/v1/tracks/live"): "Server-Sent Events: an endless text/event-stream of pictures, not a JSON document",
    ("get", "/v1/exports/aco"): "an ACO message (text/plain)",
    ("get", "/v1/exports/openair"): "an OpenAir file (text/plain)",
    ("get", "/v1/exports/notam"): "NOTAM drafts (text/plain)",
    ("get", "/v1/exports/acmreq"): "an ACMREQ draft (text/plain)",
    ("get", "/v1/exports/geojson"): "a GeoJSON FeatureCollection (application/geo+json)",
    ("get", "/v1/exports/kml"): "a KML document (application/vnd.google-earth.kml+xml)",
    ("get", "/v1/exports/aixm"): "an AIXM 5.1 message (application/xml)",
}
"""Operations whose 2xx answer is not JSON, and why."""

READS_A_BODY = {
    ("post", "/v1/notices"),
    ("put", "/v1/notices/{notice_id}"),
    ("post", "/v1/protected-sites"),
    ("put", "/v1/protected-sites/{notice_id}"),
    ("post", "/v1/messages"),
    ("post", "/v1/messages/{message_id}/ack"),
    ("post", "/v1/tracks"),
    ("put", "/v1/webhook"),
}
"""Every operation whose route reads a JSON body (``Body`` or ``optional_body``)."""

READS_TEXT = {
    ("post", "/v1/imports/aco"),
    ("post", "/v1/imports/openair"),
    ("post", "/v1/imports/notam"),
    ("post", "/v1/imports/geozones"),
    ("post", "/v1/imports/aixm"),
}
"""Every operation whose body is a file's text (``text/plain``): the airspace formats' imports."""

OBJECT_KEYS: dict[str, frozenset[str]] = {
    "Notice": KEYS["notice"],
    "NoticeUpdate": KEYS["notice"] | KEYS["notice_update"],
    "NoticeCollection": KEYS["feature_collection"],
    "NoticeCollectionUpdate": KEYS["feature_collection"] | KEYS["notice_update"],
    "NoticeFeature": KEYS["feature"],
    "NoticeFeatureProperties": KEYS["feature_properties"] | KEYS["notice_properties"],
    "Feature": KEYS["feature"],
    "FeatureProperties": KEYS["feature_properties"],
    "PolygonGeometry": KEYS["geometry"],
    "PointGeometry": KEYS["geometry"],
    "LineStringGeometry": KEYS["geometry"],
    "Volume4D": KEYS["volume4d"],
    "Schedule": KEYS["schedule"],
    "DailyWindow": KEYS["daily_window"],
    "Volume3D": KEYS["volume3d"],
    "OutlinePolygon": KEYS["outline_polygon"],
    "OutlineCircle": KEYS["outline_circle"],
    "OutlineCorridor": KEYS["outline_corridor"],
    "OutlineOrbit": KEYS["outline_orbit"],
    "LatLng": KEYS["latlng"],
    "Distance": KEYS["distance"],
    "Altitude": KEYS["altitude"],
    "Time": KEYS["time"],
    "MessageDraft": KEYS["message"],
    "MessageRef": KEYS["message_ref"],
    "Acknowledgement": KEYS["acknowledgement"],
    "TrackBatch": KEYS["tracks"],
    "TrackStateIn": KEYS["track_state"],
    "Webhook": KEYS["webhook"],
}
"""Which document type of ``KEYS`` each request object of the OpenAPI document is."""

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The document as a real server serves it."""
    api = start_api(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'deconflict.sqlite'}")
    try:
        r = api.as_("nobody").get("/openapi.json")
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        yield doc
    finally:
        api.close()


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return schema


SHAPING = ("type", "$ref", "oneOf", "anyOf", "allOf", "enum", "const", "properties", "items", "pattern")


def says_anything(doc: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """Whether ``schema`` lets any JSON through (``{}``, an object of anything, a list of anything)."""
    if schema is None:
        return True
    schema = resolve(doc, schema)
    if not any(k in schema for k in SHAPING):
        return True
    if schema.get("type") == "object" and "properties" not in schema:
        return schema.get("additionalProperties", True) in (True, {})
    if schema.get("type") == "array":
        return says_anything(doc, schema.get("items"))
    return False


# ------------------------------------------------------------------------------------------ 1


def test_every_body_and_every_2xx_json_response_has_a_real_schema(spec: dict[str, Any]) -> None:
    seen_bodies = set()
    for method, path, op in operations(spec):
        body = op.get("requestBody")
        if body is not None and (method, path) in READS_TEXT:
            assert body["content"]["text/plain"]["schema"]["type"] == "string", (method, path)
            assert "application/json" not in body["content"], (method, path)
        elif body is not None:
            seen_bodies.add((method, path))
            media = body["content"]["application/json"]
            assert not says_anything(spec, media.get("schema")), (method, path, "request body")
        for status, response in op["responses"].items():
            if not status.startswith("2") or (method, path) in NOT_JSON:
                continue
            content = response.get("content", {})
            if status == "204":
                assert not content, (method, path, "a 204 has no body")
                continue
            assert "application/json" in content, (method, path, status)
            assert not says_anything(spec, content["application/json"].get("schema")), (method, path, status)
        if (method, path) not in NOT_JSON:
            assert any(s.startswith("2") for s in op["responses"]), (method, path)
            assert "default" in op["responses"], (method, path, "its errors are not documented")
    assert seen_bodies == READS_A_BODY
    for method, path in NOT_JSON:
        content = spec["paths"][path][method]["responses"]["200"]["content"]
        assert "application/json" not in content, (method, path)
    # FastAPI's own 422 shape is never sent: every refusal is the API's Error
    assert "HTTPValidationError" not in spec["components"]["schemas"]


# ------------------------------------------------------------------------------------------ 2


def _components_in(schema: Any) -> Iterator[str]:
    """The components ``schema`` names, not looking into if/then/else (they constrain, never add keys)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield schema["$ref"].removeprefix(REF)
        for key, value in schema.items():
            if key not in ("if", "then", "else", "discriminator", "example", "examples", "default"):
                yield from _components_in(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _components_in(item)


def _inline_objects(schema: Any, top: bool = True) -> Iterator[dict[str, Any]]:
    """Object schemas with properties written inline (not components of their own)."""
    if isinstance(schema, dict):
        if not top and "properties" in schema:
            yield schema
        for key, value in schema.items():
            if key not in ("if", "then", "else", "properties"):
                yield from _inline_objects(value, top=False)
            elif key == "properties":
                for prop in value.values():
                    yield from _inline_objects(prop, top=False)
    elif isinstance(schema, list):
        for item in schema:
            yield from _inline_objects(item, top=False)


def request_objects(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component a request body uses, by name, followed through references."""
    todo = [
        op["requestBody"]["content"]["application/json"]["schema"]
        for _, _, op in operations(doc)
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]
    found: dict[str, dict[str, Any]] = {}
    while todo:
        for name in _components_in(todo.pop()):
            if name not in found:
                found[name] = doc["components"]["schemas"][name]
                todo.append(found[name])
    return found


def test_every_request_object_holds_exactly_the_keys_its_parser_accepts(spec: dict[str, Any]) -> None:
    objects = request_objects(spec)
    checked = set()
    for name, schema in objects.items():
        assert not list(_inline_objects(schema)), f"{name}: an object written inline escapes this check"
        if "properties" not in schema:
            assert "oneOf" in schema, f"{name}: neither an object nor a choice of objects"
            continue
        assert name in OBJECT_KEYS, f"{name}: which document type of domain/strict.py KEYS is it?"
        assert schema["additionalProperties"] is False, f"{name}: the parser refuses unknown keys; say so"
        assert set(schema["properties"]) == OBJECT_KEYS[name], (
            f"{name}: documented {sorted(schema['properties'])}, the parser knows {sorted(OBJECT_KEYS[name])}"
        )
        checked.add(name)
    assert checked == set(OBJECT_KEYS), f"not in any request body: {sorted(set(OBJECT_KEYS) - checked)}"
    used = {k for k, keys in KEYS.items() if any(keys <= v for v in OBJECT_KEYS.values())}
    assert used == set(KEYS), f"document types of KEYS no request schema describes: {sorted(set(KEYS) - used)}"


# ------------------------------------------------------------------------------------------ 3 and 4


def strictly(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with every object schema closed (``additionalProperties: false`` where it says nothing),
    so that validation also fails on a key the documentation does not name."""

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for item in node:
                close(item)

    out = copy.deepcopy(doc)
    close(out["components"]["schemas"])
    close(out["paths"])
    return out


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class Documented:
    """Validates bodies against the schemas of a document (references resolved in the document)."""

    URI = "urn:deconflict:openapi"

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = strictly(doc)
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(self.URI, resource)

    def errors(self, instance: Any, *pointer: str) -> list[str]:
        validator = Draft202012Validator({"$ref": f"{self.URI}#{_pointer(*pointer)}"}, registry=self.registry)
        deepest = [best_match([e]) for e in validator.iter_errors(instance)]  # into oneOf/anyOf: the likeliest branch
        return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in deepest if e is not None]

    def check(self, instance: Any, *pointer: str) -> None:
        errors = self.errors(instance, *pointer)
        assert not errors, f"{'/'.join(pointer)}: " + "; ".join(errors[:5])


class Flow:
    """Calls operations as parties and checks every request and answer against the document."""

    def __init__(self, api: Api, spec: dict[str, Any]) -> None:
        self.api = api
        self.spec = spec
        self.documented = Documented(spec)
        self.covered: set[tuple[str, str, str]] = set()

    def call(
        self,
        who: str,
        method: str,
        template: str,
        *,
        path: str | None = None,
        status: int,
        documented_body: bool = True,
        **kwargs: Any,
    ) -> Any:
        """``documented_body=False``: the body holds something the parser refuses in part (a bad track
        state), and the document must refuse it too."""
        op = self.spec["paths"][template][method]
        body = kwargs.get("json")
        if body is not None:
            at = ("paths", template, method, "requestBody", "content", "application/json", "schema")
            if documented_body:
                self.documented.check(body, *at)
            else:
                assert self.documented.errors(body, *at), "the document accepts what the parser refuses"
        r: httpx.Response = self.api.as_(who).request(method.upper(), path or template, **kwargs)
        assert r.status_code == status, (method, path or template, r.status_code, r.text)
        self.covered.add((method, template, str(status)))
        assert str(status) in op["responses"], (method, template, status, "status not documented")
        if status == 204:
            assert not r.content
            return None
        assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
        schema_at = ("paths", template, method, "responses", str(status), "content", "application/json", "schema")
        self.documented.check(r.json(), *schema_at)
        return r.json()


def _state(t: float, aircraft: str, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    return {
        "aircraft": aircraft,
        "time": format_time(t),
        "lat": lat,
        "lon": lon,
        "alt_m": 5000,
        "alt_ref": "AMSL",
        **extra,
    }


def _collection(id: str, lat: float, lon: float) -> dict[str, Any]:
    """A notice as a GeoJSON FeatureCollection: a corridor and an orbit."""
    props = {
        "id": id,
        "kind": "air-activity",
        "width": {"value": 4, "units": "NM"},
        "altitude_lower": {"value": 100, "reference": "STD", "units": "FL"},
        "altitude_upper": {"value": 250, "units": "FL"},
        "time_start": "2015-09-30T07:00:00Z",
        "time_end": {"value": "2015-09-30T11:00:00+00:00", "format": "RFC3339"},
    }
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[lon - 0.3, lat], [lon + 0.3, lat]]},
                "properties": props,
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[lon, lat - 0.2], [lon, lat + 0.2]]},
                "properties": {**props, "shape": "orbit"},
            },
        ],
    }


def _polygon(id: str, lat: float, lon: float) -> dict[str, Any]:
    ring = [{"lat": lat - 0.1, "lng": lon - 0.1}, {"lat": lat - 0.1, "lng": lon + 0.1}, {"lat": lat + 0.1, "lng": lon}]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "radius": {"value": 3000, "units": "M"},
            "altitude_lower": {"value": 9000, "reference": "W84", "units": "FT"},
            "altitude_upper": {"value": 20000, "reference": "W84", "units": "FT"},
            "time_start": "2015-09-30T07:00:00Z",
            "time_end": "2015-09-30T12:00:00Z",
        },
    }
    volume = {
        "volume": {
            "outline_polygon": {"vertices": ring},
            "altitude_lower": {"value": 3000, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 6000, "reference": "W84", "units": "M"},
        },
        "time_start": {"value": "2015-09-30T07:00:00Z"},
        "time_end": "2015-09-30T12:00:00Z",
    }
    return {"id": id, "volumes": [volume, feature]}


def test_real_responses_validate_against_their_documented_schemas(api: Api, spec: dict[str, Any]) -> None:
    f = Flow(api, spec)
    here = (35.32, 36.62)

    # health, who, what rules
    f.call("nobody", "get", "/healthz", status=200)
    f.call("nobody", "get", "/readyz", status=200)
    f.call("nobody", "get", "/leaderz", status=200)
    for who in ("ru-vks", "un-obs", "root"):
        f.call(who, "get", "/v1/me", status=200)
    f.call("ru-vks", "get", "/v1/policy", status=200)

    # a protected site and notices that conflict with it and with each other, at every disclosure level
    site_body = {**SITE_EXAMPLE, "volumes": [circle_notice(*here, radius_km=2, lower_m=0, upper_m=9000)["volumes"][0]]}
    site = f.call("sy-gcaa", "post", "/v1/protected-sites", json=site_body, status=201)["notice"]
    # a recurring volume (Wednesdays 07:00-11:00: 30 September 2015 was one), so its schedule is
    # held to the response schemas too
    vks_body = circle_notice(*here, id="vks-1")
    vks_body["volumes"][0]["schedule"] = {"days": ["WED"], "windows": [{"start": "07:00", "end": "11:00"}]}
    vks = f.call("ru-vks", "post", "/v1/notices", json=vks_body, status=201)
    assert vks["notice"]["volumes"][0]["schedule"] == vks_body["volumes"][0]["schedule"]
    headers = {"Idempotency-Key": "k-1"}
    us = f.call("us-af", "post", "/v1/notices", json=circle_notice(*here, id="us-1"), headers=headers, status=201)
    again = f.call("us-af", "post", "/v1/notices", json=circle_notice(*here, id="us-1"), headers=headers, status=201)
    assert again == us
    assert us["conflicts"] and vks["conflicts"]
    uk = f.call("uk-raf", "post", "/v1/notices", json=_polygon("raf-1", *here), status=201)
    assert uk["conflicts"]
    assert {"field": "volumes[0].time_start.format", "value": "RFC3339"} in uk["defaults"]
    assert vks["hints"] is not None, "ru-vks conflicts only with the site (public, seen whole): hints"
    tr = f.call("tr-af", "post", "/v1/notices", json=_collection("haf-1", *here), status=201)
    assert any(c.get("disclosure") == "existence" for c in tr["conflicts"]), "tr-af sees ru-vks at existence"
    assert tr["hints"] is None and tr["hints_withheld"]
    assert {"field": "features[0].properties.altitude_upper.reference", "value": "STD"} in tr["defaults"]

    # read them back
    for who in ("ru-vks", "us-af", "un-obs", "root"):
        f.call(who, "get", "/v1/notices", status=200)
        f.call(who, "get", "/v1/protected-sites", status=200)
    nid = vks["notice"]["id"]
    for who in ("ru-vks", "root"):
        assert "receipt" in f.call(who, "get", "/v1/notices/{notice_id}", path=f"/v1/notices/{nid}", status=200)
    us_view = f.call("uk-raf", "get", "/v1/notices/{notice_id}", path=f"/v1/notices/{us['notice']['id']}", status=200)
    assert "receipt" not in us_view
    sid = site["id"]
    f.call("ru-vks", "get", "/v1/protected-sites/{notice_id}", path=f"/v1/protected-sites/{sid}", status=200)

    # conflicts: every viewer, one of each level, and acknowledgements
    for who in ("ru-vks", "us-af", "tr-af", "sy-gcaa", "un-obs", "root"):
        f.call(who, "get", "/v1/conflicts", status=200)
    [ru_us] = [c for c in us["conflicts"] if any(s.get("party") == "ru-vks" for s in c["sides"])]
    one = f"/v1/conflicts/{ru_us['id']}"
    for who in ("ru-vks", "un-obs", "root"):
        f.call(who, "get", "/v1/conflicts/{conflict_id}", path=one, status=200)
    f.call("ru-vks", "post", "/v1/conflicts/{conflict_id}/ack", path=one + "/ack", status=201)
    acked = f.call("ru-vks", "post", "/v1/conflicts/{conflict_id}/ack", path=one + "/ack", status=200)
    assert acked["acknowledgements"]

    # a change: the conflicts move, some resolve
    moved = circle_notice(here[0] + 0.05, here[1], id="vks-1")
    changed = f.call(
        "ru-vks",
        "put",
        "/v1/notices/{notice_id}",
        path=f"/v1/notices/{nid}",
        json={"replaces_version": 1, **moved},
        status=200,
    )
    assert changed["notice"]["version"] == 2

    # the hotline: a message, the broker's own threads, acknowledgements
    draft = {
        "to": ["ru-vks"],
        "subject": "Sortie moved",
        "text": "Starts 30 min later.",
        "priority": "priority",
        "ref": {"kind": "notice", "id": us["notice"]["id"]},
        "ack_within_s": 900,
    }
    sent = f.call("us-af", "post", "/v1/messages", json=draft, status=201)
    f.call("ru-vks", "post", "/v1/messages", json={"to": "all", "subject": "Hello", "text": "All of you."}, status=201)
    f.call(
        "us-af", "post", "/v1/messages", json={"in_reply_to": sent["id"], "subject": "Re", "text": "And"}, status=201
    )
    for who in ("ru-vks", "us-af", "tr-af", "root"):
        f.call(who, "get", "/v1/messages", status=200)
    mid = f"/v1/messages/{sent['id']}"
    f.call("ru-vks", "get", "/v1/messages/{message_id}", path=mid, status=200)
    f.call("ru-vks", "post", "/v1/messages/{message_id}/ack", path=mid + "/ack", json={"state": "received"}, status=201)
    f.call("ru-vks", "post", "/v1/messages/{message_id}/ack", path=mid + "/ack", json={"state": "received"}, status=200)
    f.call("ru-vks", "post", "/v1/messages/{message_id}/ack", path=mid + "/ack", status=201)  # no body: understood
    auto = [m for m in f.call("tr-af", "get", "/v1/messages", status=200) if m["auto"]]
    assert any(r["party"] is None for m in auto for r in m["to"]), "tr-af is not told who the hidden side is"

    # tactical: tracks in the notices' time, a loss of separation, incursions, a nonconformance
    t = T0 + 8 * 3600
    api.clock.t = t
    states = [
        _state(t, "vks-a", here[0] + 0.05, here[1], gs_mps=200, trk_deg=90, vs_mps=0, callsign="VKS1"),
        _state(t, "vks-b", 10.0, 10.0),  # far from every volume of its party
        _state(t, "vks-c", 95.0, 0.0),  # refused
    ]
    ingest = f.call("ru-vks", "post", "/v1/tracks", json={"states": states}, status=200, documented_body=False)
    assert ingest["accepted"] == 2 and ingest["rejected"]
    f.call("us-af", "post", "/v1/tracks", json={"states": [_state(t, "usaf-1", here[0] + 0.06, here[1])]}, status=200)
    f.call(
        "tr-af", "post", "/v1/tracks", json={"states": [_state(t, "haf-1", here[0] + 0.05, here[1] + 0.02)]}, status=200
    )
    api.tactical.cycle()
    t += 31
    api.clock.t = t
    for who, aircraft, lat, lon in (
        ("ru-vks", "vks-b", 10.0, 10.0),
        ("us-af", "usaf-1", here[0] + 0.06, here[1]),
        ("tr-af", "haf-1", here[0] + 0.05, here[1] + 0.02),
    ):
        f.call(who, "post", "/v1/tracks", json={"states": [_state(t, aircraft, lat, lon)]}, status=200)
    api.tactical.cycle()
    for who in ("ru-vks", "root"):
        f.call(who, "get", "/v1/tracks", status=200)
    kinds = set()
    for who in ("ru-vks", "us-af", "tr-af", "sy-gcaa", "un-obs", "root"):
        kinds |= {a["kind"] for a in f.call(who, "get", "/v1/alerts", status=200)}
    assert kinds == {"separation", "incursion", "nonconformance"}, kinds
    api.clock.t = t + 61  # every track ages out: the alerts clear
    for _ in range(3):
        api.tactical.cycle()
    cleared = f.call("root", "get", "/v1/alerts", params={"state": "all"}, status=200)
    assert any(a["state"] == "cleared" for a in cleared)
    f.call("ru-vks", "get", "/v1/alerts", params={"state": "cleared"}, status=200)

    # state changes
    f.call("ru-vks", "post", "/v1/notices/{notice_id}/activate", path=f"/v1/notices/{nid}/activate", status=200)
    f.call("ru-vks", "post", "/v1/notices/{notice_id}/end", path=f"/v1/notices/{nid}/end", status=200)
    f.call("us-af", "delete", "/v1/notices/{notice_id}", path=f"/v1/notices/{us['notice']['id']}", status=200)
    site_path = f"/v1/protected-sites/{sid}"
    f.call(
        "sy-gcaa",
        "put",
        "/v1/protected-sites/{notice_id}",
        path=site_path,
        json={"replaces_version": 1, **site_body},
        status=200,
    )
    f.call("sy-gcaa", "post", "/v1/protected-sites/{notice_id}/activate", path=site_path + "/activate", status=200)
    f.call("sy-gcaa", "post", "/v1/protected-sites/{notice_id}/end", path=site_path + "/end", status=200)
    f.call("tr-af", "delete", "/v1/notices/{notice_id}", path=f"/v1/notices/{tr['notice']['id']}", status=200)
    site2 = f.call("sy-gcaa", "post", "/v1/protected-sites", json={**site_body, "id": "site-2"}, status=201)
    f.call(
        "sy-gcaa",
        "delete",
        "/v1/protected-sites/{notice_id}",
        path=f"/v1/protected-sites/{site2['notice']['id']}",
        status=200,
    )

    # webhooks, audit, the report
    hook = {"url": "http://127.0.0.1:9/hook", "secret": "s" * 16}
    f.call("us-af", "put", "/v1/webhook", json=hook, status=200)
    f.call("us-af", "delete", "/v1/webhook", status=204)
    f.call("ru-vks", "get", "/v1/audit/key", status=200)
    for who in ("ru-vks", "root"):
        f.call(who, "get", "/v1/audit/export", status=200)
    period = {"since": "2015-09-30T00:00:00Z", "until": format_time(api.clock.t)}
    for who in ("ru-vks", "us-af", "root"):
        f.call(who, "get", "/v1/reports/compliance", params=period, status=200)

    # the airspace formats: a file's text in, the filings' answers out (the exports are not JSON)
    text = {"Content-Type": "text/plain"}
    aco = "OPER/X//\nMSGID/ACO/X//\nACMID/ACM:ROZ/NAME:far/CIRCLE/USE:CAP//\nCIRCLE/LATM:2000N05000E/RADIUS:5NM//\n"
    aco += "EFFLEVEL/FLFL:FL200-FL300//\nAPERIOD/DISCRETE/301300ZSEP2015/301500ZSEP2015//\n"
    f.call("us-af", "post", "/v1/imports/aco", content=aco, headers=text, status=201)
    f.call("us-af", "post", "/v1/imports/aco", content="OPER/X//\n", headers=text, status=422)
    openair = "AC R\nAN FAR\nAL FL100\nAH FL200\nV X=20:30:00 N 050:30:00 E\nDC 3\n"
    params = {"start": "2015-09-30T13:00Z", "end": "2015-09-30T14:00Z"}
    f.call("uk-raf", "post", "/v1/imports/openair", content=openair, headers=text, params=params, status=201)
    notam = "(A0001/15 NOTAMN\nQ) OSTT/QRTCA/IV/BO/W/000/150/2100N05100E005\nA) OSTT B) 1509301300 C) 1509301500\n"
    notam += "E) TEST)\n"
    f.call("sy-gcaa", "post", "/v1/imports/notam", content=notam, headers=text, params={"site": "true"}, status=201)
    ring = "21.30 51.80 21.30 52.10 21.55 52.10 21.55 51.80 21.30 51.80"  # far from everything else filed
    aixm = AIXM_EXAMPLE.replace("35.30 35.80 35.30 36.10 35.55 36.10 35.55 35.80 35.30 35.80", ring)
    aixm = aixm.replace("HMEIMIM-TRA", "FAR-TRA").replace("T06:00", "T13:00")
    filed = f.call("uk-raf", "post", "/v1/imports/aixm", content=aixm, headers=text, status=201)
    assert filed["filed"][0]["filing"]["notice"]["id"] == "uk-raf:FAR-TRA"
    f.call("uk-raf", "post", "/v1/imports/aixm", content="<a/>", headers=text, status=422)
    zone = {"identifier": "Z1", "country": "SYR", "type": "COMMON", "restriction": "PROHIBITED"}
    zone["applicability"] = [{"startDateTime": "2015-09-30T13:00:00Z", "endDateTime": "2015-09-30T15:00:00Z"}]
    circle = {"type": "Circle", "center": [51.5, 21.5], "radius": 3000}
    limits = {"lowerLimit": 0, "lowerVerticalReference": "AMSL", "upperLimit": 500, "upperVerticalReference": "AMSL"}
    zone["geometry"] = [{"uomDimensions": "M", **limits, "horizontalProjection": circle}]
    zones = json.dumps({"features": [zone]})
    filed = f.call("sy-gcaa", "post", "/v1/imports/geozones", content=zones, headers=text, status=201)
    assert filed["filed"][0]["zone"] == "features[0]"
    back = f.call("sy-gcaa", "get", "/v1/exports/geozones", params={"country": "SYR"}, status=200)
    assert [z["identifier"] for z in back["features"]][-1] == "Z1"

    every = {
        (method, path, status)
        for method, path, op in operations(spec)
        if (method, path) not in NOT_JSON
        for status in op["responses"]
        if status.startswith("2")
    }
    assert every - f.covered == set(), "operations and statuses the flow did not reach"


def _examples(doc: dict[str, Any]) -> Iterator[tuple[Any, tuple[str, ...]]]:
    for method, path, op in operations(doc):
        places = [("requestBody", "content")] if "requestBody" in op else []
        places += [("responses", status, "content") for status, r in op["responses"].items() if "content" in r]
        for place in places:
            node: Any = op
            for key in place:
                node = node[key]
            for media_type, media in node.items():
                at = ("paths", path, method, *place, media_type)
                if "example" in media:
                    yield media["example"], at
                for name, example in media.get("examples", {}).items():
                    yield example["value"], (*at, "examples", name)


def test_examples_validate_against_their_own_schemas(spec: dict[str, Any]) -> None:
    documented = Documented(spec)
    seen = 0
    for example, at in _examples(spec):
        media_at = at[: at.index("examples")] if "examples" in at else at
        documented.check(example, *media_at, "schema")
        seen += 1
    assert seen >= 8, "the notices, sites, updates, messages, ack, tracks, webhook and report examples"
    schemas = spec["components"]["schemas"]
    for name, schema in schemas.items():
        for i, example in enumerate(schema.get("examples", [])):
            errors = documented.errors(example, "components", "schemas", name)
            assert not errors, (name, i, errors)


def test_every_operation_declares_the_errors_it_can_answer(spec: dict[str, Any]) -> None:
    """401, 429 and 503 wherever a token is needed, 403 where a role or ownership can refuse, 404
    under a path parameter, 422 where there is input: each in the one error shape."""
    error = {"$ref": f"{REF}Error"}
    for method, path, op in operations(spec):
        declared = op["responses"]
        expected = set()
        if op.get("security"):
            expected |= {"401", "429", "503"}
        if path.startswith("/v1/") and path not in ("/v1/me", "/v1/policy", "/v1/audit/key"):
            expected.add("403")
        if "{" in path:
            expected.add("404")
        if op.get("parameters") or "requestBody" in op:
            expected.add("422")
        assert expected <= set(declared), (method, path, sorted(expected - set(declared)))
        for status in expected:
            assert declared[status]["content"]["application/json"]["schema"] == error, (method, path, status)
        for status in ("429", "503"):
            if status in expected:
                assert "Retry-After" in declared[status]["headers"], (method, path, status)
    assert "403" not in spec["paths"]["/v1/me"]["get"]["responses"]
    assert set(spec["paths"]["/healthz"]["get"]["responses"]) == {"200", "default"}


def test_refusals_validate_against_the_schemas_documented_for_their_status(api: Api, spec: dict[str, Any]) -> None:
    f = Flow(api, spec)
    f.call("nobody", "get", "/v1/me", status=401)
    f.call("un-obs", "post", "/v1/notices", json=circle_notice(), status=403)
    f.call("us-af", "get", "/v1/notices/{notice_id}", path="/v1/notices/nope", status=404)
    f.call("us-af", "post", "/v1/notices", json=circle_notice(start="2015-09-30T11:00:00Z"), status=422)
    f.call("us-af", "get", "/v1/notices", params={"limit": "0"}, status=422)  # refused by FastAPI, not a parser
    f.call("us-af", "get", "/v1/conflicts/{conflict_id}", path="/v1/conflicts/x", status=404)
    f.call("root", "get", "/v1/reports/compliance", params={"until": "0001-01-01T00:00:00Z"}, status=422)
    f.call("us-af", "get", "/v1/messages", params={"cursor": "x" * 501}, status=422)
