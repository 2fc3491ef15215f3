"""Every request body refuses what it does not understand, over HTTP, on both stores (issue 10 §1).

The property test takes a valid body of every kind the API reads (notices in F3548 and GeoJSON
form, an update, a protected site, a message, an acknowledgement, tracks, a webhook), changes one
key anywhere in it, and checks that the broker answers 422 naming exactly that key, and that no
row, event or receipt was left behind. A changed key inside one track state refuses that state
(the rest of a batch is kept, as for any bad state) and holds nothing of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import T0, Api, start_api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from deconflict.adapters.sql import tables
from deconflict.cli import app
from unit.test_strict_input import ALL_KEYS, f3548_notice, geojson_notices, misspellings, objects, track_state

UNCOUNTED = {"heartbeat", "filing_lock"}
"""Tables that say nothing about what was filed."""


def rows(api: Api) -> dict[str, int]:
    """Rows in every table of the store."""
    with api.store.engine.connect() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in tables.metadata.sorted_tables
            if t.name not in UNCOUNTED
        }


@dataclass(frozen=True)
class Call:
    """One kind of request: who sends it, where, and a valid body."""

    party: str
    method: str
    path: str
    body: Callable[[], Any]


def _notice(party: str) -> dict[str, Any]:
    doc = f3548_notice()
    doc["party"] = party
    doc["id"] = "probe"
    return doc


def _collection() -> dict[str, Any]:
    doc = geojson_notices()
    for f in doc["features"]:
        f["properties"]["party"] = "us-af"
    return doc


def _state() -> dict[str, Any]:
    return track_state() | {"time": T0}


CALLS: dict[str, Call] = {
    "file a notice": Call("us-af", "POST", "/v1/notices", lambda: _notice("us-af")),
    "file GeoJSON": Call("us-af", "POST", "/v1/notices", _collection),
    "update a notice": Call(
        "us-af", "PUT", "/v1/notices/us-af:base", lambda: _notice("us-af") | {"id": "base", "replaces_version": 1}
    ),
    "file a site": Call("sy-gcaa", "POST", "/v1/protected-sites", lambda: _notice("sy-gcaa")),
    "send a message": Call(
        "us-af",
        "POST",
        "/v1/messages",
        lambda: {
            "to": ["ru-vks"],
            "subject": "Sortie",
            "text": "Moved 30 min later",
            "priority": "immediate",
            "ref": {"kind": "notice", "id": "us-af:base"},
            "ack_within_s": 900,
        },
    ),
    "acknowledge a message": Call("ru-vks", "POST", "/v1/messages/{message}/ack", lambda: {"state": "received"}),
    "report tracks": Call("us-af", "POST", "/v1/tracks", lambda: {"states": [_state()]}),
    "set a webhook": Call(
        "us-af", "PUT", "/v1/webhook", lambda: {"url": "http://127.0.0.1:9/hook", "secret": "s" * 16}
    ),
}


@pytest.fixture
def broker(db_url: str) -> Iterator[tuple[Api, str]]:
    """A broker holding one notice of us-af (``us-af:base``) and a message to ru-vks."""
    api = start_api(db_url)
    base = _notice("us-af") | {"id": "base"}
    assert api.as_("us-af").post("/v1/notices", json=base).status_code == 201
    r = api.as_("us-af").post("/v1/messages", json={"to": ["ru-vks"], "subject": "s", "text": "t"})
    assert r.status_code == 201, r.text
    yield api, r.json()["id"]
    api.close()


def test_the_valid_bodies_are_accepted(broker: tuple[Api, str]) -> None:
    api, message = broker
    for name, call in CALLS.items():
        body = call.body()
        if name in ("file a notice", "file a site"):
            body["id"] = "valid"
        r = api.as_(call.party).request(call.method, call.path.format(message=message), json=body)
        assert r.status_code < 300, (name, r.text)
        if name == "report tracks":
            assert r.json() == {"accepted": 1, "rejected": []}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(CALLS)), st.data())
def test_an_added_or_misspelt_key_is_refused_and_leaves_nothing_behind(
    broker: tuple[Api, str], name: str, data: st.DataObject
) -> None:
    api, message = broker
    call = CALLS[name]
    body = json.loads(json.dumps(call.body()))
    path, obj = data.draw(st.sampled_from(list(objects(body))), label="object")
    if obj and data.draw(st.booleans(), label="misspell"):
        old = data.draw(st.sampled_from(sorted(obj)), label="key")
        new = data.draw(misspellings(old).filter(lambda k: k not in ALL_KEYS and k not in obj), label="as")
        obj[new] = obj.pop(old)
    else:
        # (a NUL character is refused before any key is read: test_api.py covers it)
        key = st.text(min_size=1, max_size=12).filter(lambda k: k not in ALL_KEYS and "\x00" not in k)
        new = data.draw(key, label="added")
        obj[new] = data.draw(st.sampled_from([1, "M", None, {"value": 1}, [1]]), label="value")
    where = f"{path}.{new}" if path else new
    before = rows(api)
    tracks_before = api.as_("root").get("/v1/tracks").json()
    r = api.as_(call.party).request(call.method, call.path.format(message=message), json=body)
    if name == "report tracks" and path.startswith("states["):
        # A bad state is refused on its own: the batch answers which, and holds nothing of it.
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 0
        [rejected] = r.json()["rejected"]
        assert rejected["field"] == where and rejected["reason"].startswith("unknown key"), rejected
    else:
        assert r.status_code == 422, (where, r.text)
        detail = r.json()["detail"]
        assert any(d["field"] == where and d["reason"].startswith("unknown key") for d in detail), (where, detail)
    assert rows(api) == before
    assert api.as_("root").get("/v1/tracks").json() == tracks_before


def test_a_misspelt_radius_unit_is_refused_with_its_suggestion(broker: tuple[Api, str]) -> None:
    # Seen on main: 201, the radius read as 10 m, "units": "M" echoed back.
    api, _ = broker
    body = _notice("us-af")
    body["volumes"][0]["volume"]["outline_circle"]["radius"] = {"value": 10, "unit": "NM"}
    before = rows(api)
    r = api.as_("us-af").post("/v1/notices", json=body)
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"field": "volumes[0].volume.outline_circle.radius.unit", "reason": 'unknown key; did you mean "units"?'}
    ]
    assert rows(api) == before


def test_the_response_names_every_default_the_broker_applied(broker: tuple[Api, str]) -> None:
    api, _ = broker
    body = _notice("us-af")
    del body["party"], body["id"], body["kind"]
    del body["volumes"][1]["time_end"]["format"]
    r = api.as_("us-af").post("/v1/notices", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["defaults"] == [
        {"field": "party", "value": "us-af"},
        {"field": "id", "value": "assigned by the broker"},
        {"field": "kind", "value": "activity"},
        {"field": "volumes[0].volume.altitude_lower.reference", "value": "STD"},  # a flight level's only one
        {"field": "volumes[1].time_end.format", "value": "RFC3339"},
    ]
    # an update says the same, but its id is the URL's, not a default
    r = api.as_("us-af").put("/v1/notices/us-af:base", json=_notice("us-af") | {"id": "base", "replaces_version": 1})
    assert r.status_code == 200 and r.json()["defaults"] == [
        {"field": "volumes[0].volume.altitude_lower.reference", "value": "STD"}
    ]


def test_a_key_written_twice_is_refused_over_http_and_on_the_command_line(
    broker: tuple[Api, str], tmp_path: Path
) -> None:
    api, _ = broker
    text = json.dumps(_notice("us-af")).replace('"units": "KM"', '"units": "NM", "units": "M"', 1)
    before = rows(api)
    r = api.as_("us-af").post("/v1/notices", content=text, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "volumes[0].volume.outline_circle.radius.units"
    assert rows(api) == before
    f = tmp_path / "twice.json"
    f.write_text(text)
    result = CliRunner().invoke(app, ["check", str(f)])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "volumes[0].volume.outline_circle.radius.units: is given more than once; give each key once\n"
    )


def test_a_conflict_acknowledgement_refuses_a_body_it_would_ignore(broker: tuple[Api, str]) -> None:
    # Seen in review: {"state": "received"} (or anything) was accepted and recorded as understood.
    api, _ = broker
    c = api.as_("ru-vks").post("/v1/notices", json=_notice("ru-vks")).json()["conflicts"][0]
    before = rows(api)
    for body in ({"state": "received"}, {"junk": 1}, []):
        r = api.as_("ru-vks").post(f"/v1/conflicts/{c['id']}/ack", json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body", r.text
    assert rows(api) == before
    assert api.as_("ru-vks").post(f"/v1/conflicts/{c['id']}/ack", json={}).status_code == 201
    assert api.as_("ru-vks").post(f"/v1/conflicts/{c['id']}/ack").status_code == 200
