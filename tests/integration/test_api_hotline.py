"""The hotline over HTTP on both stores, with the broker's clock moved by the test (no sleeps):
delivery, acknowledgement, escalation at and after the deadline, and the threads the broker opens."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from api_support import T0, Api, circle_notice

from deconflict.config import Config, theater_policy


def send(api: Api, sender: str, **body: object) -> dict[str, Any]:
    r = api.as_(sender).post("/v1/messages", json={"subject": "Sortie moved", "text": "30 min later", **body})
    assert r.status_code == 201, r.text
    reply: dict[str, Any] = r.json()
    return reply


def overdue_events(api: Api, viewer: str, after: int) -> list[dict[str, Any]]:
    return [e for e in api.events(viewer, after=after) if e["event"] == "message.overdue"]


def test_a_message_is_delivered_acknowledged_and_logged(api: Api) -> None:
    start = api.broker.last_seq()
    m = send(api, "us-af", to=["ru-vks"], priority="immediate", ack_within_s=900)
    assert m["from"] == "us-af" and m["to"][0]["party"] == "ru-vks" and m["to"][0]["state"] == "pending"
    [e] = api.events("ru-vks", after=start)
    assert e["event"] == "message.sent" and e["data"]["data"]["message"]["text"] == "30 min later"
    assert api.events("uk-raf", after=start) == []  # not a recipient, not the sender
    inbox = api.as_("ru-vks").get("/v1/messages", params={"box": "inbox"}).json()
    assert [x["id"] for x in inbox] == [m["id"]]
    assert api.as_("us-af").get("/v1/messages", params={"box": "inbox"}).json() == []
    assert api.as_("uk-raf").get(f"/v1/messages/{m['id']}").status_code == 404
    api.clock.t = T0 + 60
    r = api.as_("ru-vks").post(f"/v1/messages/{m['id']}/ack", json={"state": "received"})
    assert r.status_code == 201 and r.json()["to"][0]["state"] == "received"
    assert r.json()["to"][0]["standing"] == "on-time"
    r = api.as_("ru-vks").post(f"/v1/messages/{m['id']}/ack")  # empty body: understood
    assert r.status_code == 201 and r.json()["to"][0]["state"] == "understood"
    assert api.as_("ru-vks").post(f"/v1/messages/{m['id']}/ack").status_code == 200  # once only
    assert api.as_("us-af").post(f"/v1/messages/{m['id']}/ack").status_code == 403  # the sender does not ack
    acks = [e for e in api.events("us-af", after=start) if e["event"] == "message.acknowledged"]
    assert [a["data"]["data"]["state"] for a in acks] == ["received", "understood"]
    # a reply goes to the thread's other participants
    reply = send(api, "ru-vks", in_reply_to=m["id"])
    assert reply["thread_id"] == m["id"] and [r["party"] for r in reply["to"]] == ["us-af"]
    thread = api.as_("us-af").get("/v1/messages", params={"thread": m["id"]}).json()
    assert [x["id"] for x in thread] == [m["id"], reply["id"]]


def test_bad_messages_name_the_field_and_write_nothing(api: Api) -> None:
    with api.store.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM messages")).scalar_one()
    cases = {
        "to": {"subject": "s", "text": "t"},
        "to[0]": {"to": ["nobody"], "subject": "s", "text": "t"},
        "subject": {"to": ["ru-vks"], "text": "t"},
        "priority": {"to": ["ru-vks"], "subject": "s", "text": "t", "priority": "urgent"},
        "ack_within_s": {"to": ["ru-vks"], "subject": "s", "text": "t", "ack_within_s": 0},
        "ref.kind": {"to": ["ru-vks"], "subject": "s", "text": "t", "ref": {"kind": "target", "id": "x"}},
    }
    for field, body in cases.items():
        r = api.as_("us-af").post("/v1/messages", json=body)
        assert r.status_code == 422, (field, r.text)
        assert field in [d["field"] for d in r.json()["detail"]], (field, r.text)
    r = api.as_("ru-vks").post("/v1/messages/x/ack", json={"state": "approved"})
    assert r.status_code == 422 and "never approved" in r.text
    assert (
        api.as_("un-obs").post("/v1/messages", json={"to": ["ru-vks"], "subject": "s", "text": "t"}).status_code == 403
    )
    with api.store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM messages")).scalar_one() == before


def test_an_unanswered_message_escalates_after_its_deadline_and_again_each_interval(api: Api) -> None:
    interval = api.broker.hotline.escalation_interval_s
    m = send(api, "us-af", to=["ru-vks", "tr-af"], ack_within_s=900)
    start = api.broker.last_seq()
    api.clock.t = T0 + 900  # at the deadline: still on time
    assert api.hotline.tick() == 0
    api.as_("tr-af").post(f"/v1/messages/{m['id']}/ack")  # tr-af answers exactly at the deadline
    api.clock.t = T0 + 900.5  # just after: ru-vks is overdue, tr-af is not
    assert api.hotline.tick() == 1
    assert api.hotline.tick() == 0  # one event per round, however often the broker looks
    for viewer in ("us-af", "ru-vks", "root", "un-obs"):  # sender, recipient, admin, observer
        [e] = overdue_events(api, viewer, start)
        assert e["data"]["data"]["round"] == 1, viewer
    assert overdue_events(api, "tr-af", start) == []
    assert overdue_events(api, "uk-raf", start) == []
    obs = overdue_events(api, "un-obs", start)[0]["data"]["data"]
    assert obs["party"] == "ru-vks" and obs["message"]["from"] is None  # granted on ru-vks only
    assert "text" not in obs["message"] and "30 min later" not in str(obs)
    api.clock.t = T0 + 900 + interval  # one interval later, exactly: not yet round 2
    assert api.hotline.tick() == 0
    api.clock.t = T0 + 900 + interval + 0.5
    assert api.hotline.tick() == 1
    assert [e["data"]["data"]["round"] for e in overdue_events(api, "us-af", start)] == [1, 2]
    api.clock.t = T0 + 900 + 5 * interval + 1  # the broker was away: the current round, once
    assert api.hotline.tick() == 1
    assert [e["data"]["data"]["round"] for e in overdue_events(api, "us-af", start)] == [1, 2, 6]
    r = api.as_("ru-vks").post(f"/v1/messages/{m['id']}/ack").json()
    # ru-vks sees its co-recipient tr-af only as disclosure lets it (existence: not named)
    assert {x["party"]: x["standing"] for x in r["to"]} == {"ru-vks": "late", None: "on-time"}
    whole = api.as_("us-af").get(f"/v1/messages/{m['id']}").json()
    assert {x["party"]: x["standing"] for x in whole["to"]} == {"ru-vks": "late", "tr-af": "on-time"}
    api.clock.t += 10 * interval
    assert api.hotline.tick() == 0  # answered: no more escalation


def test_a_new_conflict_opens_a_thread_with_a_deadline_by_how_soon_it_starts(api: Api) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))  # starts 07:30Z, in 7.5 h
    [c] = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1")).json()["conflicts"]
    [m] = api.as_("ru-vks").get("/v1/messages").json()
    assert m["auto"] and m["from"] == "broker" and m["ref"] == {"kind": "conflict", "id": c["id"]}
    assert {r["party"] for r in m["to"]} == {"ru-vks", "us-af"}
    assert m["to"][0]["deadline"] == "2015-09-30T01:00:00Z"  # starts after 6 h: 3600 s to answer
    api.as_("ru-vks").post(f"/v1/conflicts/{c['id']}/ack")  # acknowledging the conflict answers it
    api.clock.t = T0 + 3601
    assert api.hotline.tick() == 1  # us-af has not answered
    [e] = overdue_events(api, "us-af", 0)  # told again; ru-vks, which answered, is not told of us-af
    assert e["data"]["data"]["party"] == "us-af"
    assert overdue_events(api, "ru-vks", 0) == []


def test_an_existence_conflicts_thread_does_not_name_the_other_side(api: Api) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
    api.as_("tr-af").post("/v1/notices", json=circle_notice(id="tr-1"))
    [m] = api.as_("ru-vks").get("/v1/messages").json()
    assert sorted(r["party"] or "" for r in m["to"]) == ["", "ru-vks"]
    assert "tr-af" not in str(api.as_("ru-vks").get("/v1/messages").json())
    assert "tr-af" not in str(api.events("ru-vks", after=0))


def test_the_policy_is_shown_and_its_changes_are_logged(api: Api) -> None:
    doc = theater_policy(Config())
    assert api.as_("ru-vks").get("/v1/policy").json()["recorded"] is None
    ev = api.broker.record_policy(doc)
    assert ev is not None and api.broker.record_policy(doc) is None  # unchanged: not logged again
    changed = {**doc, "notice": {"min_notice_s": 3600.0}}
    ev2 = api.broker.record_policy(changed)
    assert ev2 is not None and ev2.payload["previous_sha256"] == ev.payload["policy_sha256"]
    seen = [e for e in api.events("tr-af", after=0) if e["event"] == "policy.recorded"]
    assert len(seen) == 2 and seen[1]["data"]["data"]["policy"]["notice"]["min_notice_s"] == 3600.0
    shown = api.as_("tr-af").get("/v1/policy").json()
    assert shown["hotline"]["escalation_interval_s"] == 300.0 and shown["recorded"]["seq"] == ev2.seq
