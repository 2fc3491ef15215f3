"""The hotline must not tell one party who another is (issue 11, items 1, 3, 4, 5), over HTTP on both
stores: the attacks of the issue played as written, and a search of everything each side receives
(responses, GETs, the event stream, the audit export) for the other side's name.

In the cast (``api_support``) ru-vks and tr-af see each other only at ``existence``: each may learn
that something conflicts, not who. un-obs is an observer granted ``conflicts-only`` on ru-vks only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
from api_support import T0, Api, circle_notice
from test_api import Receiver
from typer.testing import CliRunner

from deconflict.adapters.broker_webhooks import BrokerWebhookStore
from deconflict.adapters.webhooks import WebhookDeliverer
from deconflict.cli import app
from deconflict.domain.parties import Party, Role
from deconflict.domain.times import format_time
from deconflict.services.broker import new_token, token_hash

AROUND_T0 = {"start": format_time(T0 - 3600), "end": format_time(T0 + 3 * 3600)}


def post(api: Api, sender: str, **body: object) -> Any:
    return api.as_(sender).post("/v1/messages", json={"subject": "Hold west", "text": "text-marker", **body})


def sent(api: Api, sender: str, **body: object) -> dict[str, Any]:
    r = post(api, sender, **body)
    assert r.status_code == 201, r.text
    reply: dict[str, Any] = r.json()
    return reply


def everything(api: Api, viewer: str, *bodies: object) -> str:
    """All a viewer gets: the given response bodies, its messages one by one and as a list, its
    event stream and its audit export, as one text to search."""
    listed = api.as_(viewer).get("/v1/messages").json()
    one_by_one = [api.as_(viewer).get(f"/v1/messages/{m['id']}").json() for m in listed]
    export = api.as_(viewer).get("/v1/audit/export")
    assert export.status_code == 200, export.text
    return json.dumps([bodies, listed, one_by_one, api.events(viewer, after=0), export.json()])


def existence_thread(api: Api) -> dict[str, Any]:
    """A conflict between ru-vks and tr-af; the broker's thread about it as ru-vks sees it."""
    assert api.as_("tr-af").post("/v1/notices", json=circle_notice(id="tr-1")).status_code == 201
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1")).status_code == 201
    [thread] = api.as_("ru-vks").get("/v1/messages").json()
    assert thread["auto"] and thread["from"] == "broker"
    return dict(thread)


def test_a_reply_without_to_in_an_existence_thread_is_relayed_without_names_either_way(api: Api) -> None:
    thread = existence_thread(api)
    reply = sent(api, "ru-vks", in_reply_to=thread["id"], ack_within_s=60)
    assert [r["party"] for r in reply["to"]] == [None] and reply["relayed"] is True
    [got] = [m for m in api.as_("tr-af").get("/v1/messages").json() if m["id"] == reply["id"]]
    assert got["text"] == "text-marker" and got["from"] is None and got["relayed"] is True  # delivered
    assert got["to"][0]["party"] == "tr-af"
    api.clock.t = T0 + 61  # tr-af is overdue: both sides hear of it, without the other's name
    assert api.hotline.tick() == 1
    for viewer in ("ru-vks", "tr-af"):
        [e] = [e for e in api.events(viewer) if e["event"] == "message.overdue"]
        assert e["data"]["data"]["message"]["id"] == reply["id"], viewer
    ack = api.as_("tr-af").post(f"/v1/messages/{reply['id']}/ack")
    assert ack.status_code == 201
    [e] = [e for e in api.events("ru-vks") if e["event"] == "message.acknowledged"]
    assert e["data"]["data"]["party"] is None
    answer = sent(api, "tr-af", in_reply_to=reply["id"])  # and back, through the broker again
    assert [r["party"] for r in answer["to"]] == [None] and answer["from"] == "tr-af"
    [back] = [m for m in api.as_("ru-vks").get("/v1/messages").json() if m["id"] == answer["id"]]
    assert back["from"] is None and back["to"][0]["party"] == "ru-vks"
    assert "tr-af" not in everything(api, "ru-vks", reply, back)
    assert "ru-vks" not in everything(api, "tr-af", got, ack.json(), answer)
    # the admin sees who it was between
    whole = api.as_("root").get(f"/v1/messages/{reply['id']}").json()
    assert whole["from"] == "ru-vks" and [r["party"] for r in whole["to"]] == ["tr-af"]


def test_a_hidden_party_cannot_be_named_in_a_reply_and_is_answered_as_an_unknown_name(api: Api) -> None:
    thread = existence_thread(api)
    r = post(api, "ru-vks", in_reply_to=thread["id"], to=["tr-af"])
    unknown = post(api, "ru-vks", in_reply_to=thread["id"], to=["zz-nobody"])
    assert r.status_code == unknown.status_code == 422
    assert r.content == unknown.content and b"tr-af" not in r.content


def fly(api: Api, t: float) -> None:
    aircraft = {"ru-vks": ("r2-secret", 35.30, 38.00, 4050), "tr-af": ("t1-secret", 35.30, 38.02, 3850)}
    for party, (a, lat, lon, alt) in aircraft.items():
        state = {"aircraft": a, "callsign": a.upper(), "time": t, "lat": lat, "lon": lon, "alt_m": alt}
        state |= {"alt_ref": "AMSL", "gs_mps": 0.0, "trk_deg": 0.0, "vs_mps": 0.0}
        r = api.as_(party).post("/v1/tracks", json={"states": [state]})
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


def test_a_reply_in_a_tactical_alert_thread_keeps_the_hidden_aircraft_s_party_hidden(api: Api) -> None:
    for party, (lower, upper) in {"ru-vks": (4000, 5100), "tr-af": (3000, 3900)}.items():
        body = circle_notice(lat=35.0, lon=38.3, radius_km=150, lower_m=lower, upper_m=upper, id="area", **AROUND_T0)
        assert api.as_(party).post("/v1/notices", json=body).status_code == 201
    fly(api, api.clock.t)
    api.tactical.cycle()
    threads = [m for m in api.as_("ru-vks").get("/v1/messages").json() if (m["ref"] or {}).get("kind") == "alert"]
    assert len(threads) == 1
    reply = sent(api, "ru-vks", in_reply_to=threads[0]["id"])
    assert [r["party"] for r in reply["to"]] == [None]
    [got] = [m for m in api.as_("tr-af").get("/v1/messages").json() if m["id"] == reply["id"]]
    assert got["from"] is None and got["relayed"] is True
    answer = sent(api, "tr-af", in_reply_to=reply["id"])
    assert "tr-af" not in everything(api, "ru-vks", reply) and "t1-secret" not in everything(api, "ru-vks")
    assert "ru-vks" not in everything(api, "tr-af", got, answer) and "r2-secret" not in everything(api, "tr-af")


def test_all_names_only_the_recipients_the_sender_may_name(api: Api) -> None:
    m = sent(api, "ru-vks", to="all")
    named = [r["party"] for r in m["to"] if r["party"] is not None]
    assert named == ["sy-gcaa", "uk-raf", "us-af"]  # sorted; tr-af (existence) and un-obs (an observer) not
    assert len(m["to"]) == 5 and [r["party"] for r in m["to"][3:]] == [None, None]  # delivered to them too
    assert "tr-af" not in json.dumps(m) and "un-obs" not in json.dumps(m)
    for recipient, sender in (("tr-af", None), ("un-obs", "ru-vks")):  # un-obs's grant names ru-vks
        [got] = api.as_(recipient).get("/v1/messages").json()
        assert got["text"] == "text-marker" and got["from"] == sender, recipient
    # the observer sees of a broadcast only itself and the parties its grants name (ru-vks)
    us = sent(api, "us-af", to="all")
    [got] = [x for x in api.as_("un-obs").get("/v1/messages").json() if x["id"] == us["id"]]
    assert got["from"] is None and [r["party"] for r in got["to"] if r["party"]] == ["ru-vks", "un-obs"]
    text = everything(api, "un-obs")
    for other in ("us-af", "uk-raf", "tr-af", "sy-gcaa"):
        assert other not in text, other


def test_a_name_one_may_not_address_a_revoked_and_an_unknown_name_get_the_same_answer(api: Api) -> None:
    api.broker.revoke_party("sy-gcaa")
    answers = {name: post(api, "ru-vks", to=["us-af", name]) for name in ("tr-af", "un-obs", "sy-gcaa", "zz-guess")}
    assert {r.status_code for r in answers.values()} == {422}
    bodies = {r.content for r in answers.values()}
    assert len(bodies) == 1, bodies
    [body] = bodies
    assert b"to[1]" in body and b"tr-af" not in body and b"zz-guess" not in body
    with api.store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM messages")).scalar_one() == 0


def test_the_position_of_an_unnamed_recipient_tells_nothing(api: Api) -> None:
    existence_thread(api)  # the broker's thread goes to ru-vks and tr-af, stored in name order
    for viewer in ("ru-vks", "tr-af"):
        [m] = api.as_(viewer).get("/v1/messages").json()
        assert [r["party"] for r in m["to"]] == [viewer, None], viewer
    a = sent(api, "us-af", to=["uk-raf"])  # nothing hidden: named, sorted
    assert [r["party"] for r in a["to"]] == ["uk-raf"] and a["relayed"] is False


def add_legacy_party(api: Api, name: str) -> str:
    """A party registered under a now reserved name, as an older broker allowed."""
    token = new_token()
    with api.store.begin() as repo:
        repo.add_party(Party(name, Role.PARTY), T0)
        repo.add_credential(token_hash(token), name, T0)
    return token


def test_a_legacy_party_under_a_reserved_name_can_neither_act_nor_be_addressed(api: Api) -> None:
    tokens = {name: add_legacy_party(api, name) for name in ("broker", "admin")}
    for name, token in tokens.items():
        h = {"Authorization": f"Bearer {token}"}
        r = api.as_("nobody").post("/v1/messages", json={"to": ["us-af"], "subject": "s", "text": "t"}, headers=h)
        assert r.status_code == 401 and "reserved" in r.text, (name, r.text)
        assert api.as_("nobody").get("/v1/audit/export", headers=h).status_code == 401, name
    unknown = post(api, "us-af", to=["zz-nobody"])
    for name in tokens:
        assert post(api, "us-af", to=[name]).content == unknown.content, name
    m = sent(api, "us-af", to="all")
    whole = api.as_("root").get(f"/v1/messages/{m['id']}").json()
    assert not {"broker", "admin"} & {r["party"] for r in whole["to"]}


def test_party_add_refuses_the_broker_s_own_names_on_the_command_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECONFLICT_KEY_FILE", str(tmp_path / "broker.key"))
    for name in ("admin", "broker", "all"):
        r = CliRunner().invoke(app, ["party", "add", name, "--role", "party", "--db", db_url])
        assert r.exit_code == 2 and f"name: {name!r} is reserved" in r.stderr, (name, r.output)
        assert r.stdout == ""  # no token
    listed = CliRunner().invoke(app, ["party", "list", "--json", "--db", db_url])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


def test_webhooks_carry_a_relayed_reply_without_the_other_side_s_name(api: Api) -> None:
    receivers = {party: Receiver() for party in ("ru-vks", "tr-af")}
    try:
        for party, rx in receivers.items():
            r = api.as_(party).put("/v1/webhook", json={"url": rx.url, "secret": "s" * 20})
            assert r.status_code == 200, r.text
        thread = existence_thread(api)
        reply = sent(api, "ru-vks", in_reply_to=thread["id"])
        assert api.as_("tr-af").post(f"/v1/messages/{reply['id']}/ack").status_code == 201
        sent(api, "tr-af", in_reply_to=reply["id"])

        async def deliver() -> None:
            async with httpx.AsyncClient() as client:
                d = WebhookDeliverer(BrokerWebhookStore(api.broker, api.store), api.clock, client)
                for _ in range(3):
                    await d.deliver_due()

        anyio.run(deliver)
        for party, other in (("ru-vks", "tr-af"), ("tr-af", "ru-vks")):
            types = [h["x-deconflict-event-type"] for h, _ in receivers[party].requests]
            assert types.count("message.sent") == 3 and "message.acknowledged" in types, (party, types)
            for _, body in receivers[party].requests:
                assert other.encode() not in body, (party, body)
    finally:
        for rx in receivers.values():
            rx.close()
