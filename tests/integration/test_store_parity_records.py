"""The in-memory store's records answer as the SQL stores' do where the broker's day
(``test_broker_parity.py``) does not reach them one by one: a script of the repository's own
operations (webhook delivery state, the heartbeat, receipts by page, events by type, alerts whose
parties change, escalations, notices ended by a time, look-ups among given notices, duplicate keys,
a block that raises) run on memory and on each SQL store, every answer compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlstore_builders import T0, circle
from test_broker_parity import plain

from clocks import SetClock
from deconflict.adapters.memory import MemoryStore
from deconflict.adapters.sql import SqlStore
from deconflict.domain.alerts import Alert, AlertKind, AlertState, Severity
from deconflict.domain.audit import Event, Receipt
from deconflict.domain.hotline import AckState, Message, Priority, Recipient, Reference
from deconflict.domain.parties import Party, Role
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.volumes import Notice, NoticeState
from deconflict.services.ports import BrokerRepository, BrokerUnitOfWork

Said = list[tuple[str, Any]]


def event(seq: int, type_: str, t: float, payload: dict[str, Any]) -> Event:
    return Event(seq, t, "tester", type_, payload, f"d{seq}", f"h{seq - 1}", f"h{seq}")


def alert(aid: str, t: float, parties: tuple[str, ...], kind: AlertKind = AlertKind.SEPARATION) -> Alert:
    body = {"kind": kind.value, "sides": [{"party": p} for p in parties], "n": [1, 2]}
    return Alert(aid, f"key-{aid}", kind, Severity.MEDIUM, parties, body, AlertState.OPEN, t, t)


def message(mid: str, t: float, to: list[tuple[str, float | None]], ref: Reference | None, auto: bool) -> Message:
    recipients = tuple(Recipient(p, deadline=d, next_escalation_at=d) for p, d in to)
    return Message(mid, mid, "broker", "s", "t", Priority.FLASH, t, recipients, ref=ref, auto=auto)


def script(store: BrokerUnitOfWork, clock: SetClock) -> Said:
    said: Said = []

    def step(name: str, call: Callable[[BrokerRepository], Any], write: bool = True) -> None:
        clock.t += 1.0
        try:
            with store.begin(write=write) as r:
                out = call(r)
        except Exception as e:  # the SQL store's IntegrityError is the memory store's DuplicateKey
            said.append(
                (
                    name,
                    "raised"
                    if "ntegrity" in type(e).__name__ or "Duplicate" in type(e).__name__
                    else (type(e).__name__, str(e)),
                )
            )
            return
        said.append((name, plain(out)))

    red = Notice(party="red", volumes=(circle(35.0, 36.0), circle(35.0, 36.2, t0=T0 + 7200, t1=T0 + 9000)), id="n-red")
    blue = Notice(party="blue", volumes=(circle(35.01, 36.0),), id="n-blue")
    site = Notice(party="auth", volumes=(circle(35.0, 36.01, 2000.0),), id="n-site", kind="site", protected=True)
    step("parties", lambda r: [r.add_party(Party(n, Role.PARTY), clock.t) for n in ("red", "blue", "auth")])
    step("credentials", lambda r: [r.add_credential(f"h-{n}", n, clock.t) for n in ("red", "blue")])
    step("a credential twice", lambda r: r.add_credential("h-red", "red", clock.t))
    step("revoked", lambda r: (r.revoke_party("blue", clock.t), r.party_for_token("h-blue"), r.get_party("blue")))
    step("credentials revoked", lambda r: (r.revoke_credentials("red", clock.t), r.revoke_credentials("red", clock.t)))
    step("filed", lambda r: [r.add(n) for n in (red, blue, site)])
    step("a notice twice", lambda r: r.add(red))
    step("seq", lambda r: r.last_seq())
    step(
        "events",
        lambda r: r.append_events(
            [
                event(1, "notice.filed", T0, {"notice": {"id": "n-red"}}),
                event(2, "x.other", T0 + 10, {"a": [1, 2.5, "é"]}),
                event(3, "notice.state_changed", T0 + 20, {"notice": {"id": "n-blue"}}),
                event(4, "x.other", T0 + 30, {"b": None}),
            ]
        ),
    )
    step("a seq twice", lambda r: r.append_event(event(4, "x.other", T0, {})))
    step("changed since", lambda r: (r.notices_changed_since(0), r.notices_changed_since(1), r.last_seq()))
    step("after", lambda r: [e.to_json() for e in r.events_after(1, 2)], write=False)
    step("of type", lambda r: [e.seq for e in r.events_of_type({"x.other"}, T0 + 10, T0 + 31, 3)], write=False)
    step("of type from the start", lambda r: [e.seq for e in r.events_of_type({"x.other"}, None, T0 + 100)])
    step("last of type", lambda r: (r.last_event_of_type("x.other"), r.last_event_of_type("none")))
    step(
        "times of an actor's events",
        lambda r: (
            r.event_times("x.other", "tester", T0, T0 + 100, 5),  # after since, not at it: seq 2 and 4
            r.event_times("x.other", "tester", T0 - 1, T0 + 100, 1),  # the newest only
            r.event_times("x.other", "someone", T0 - 1, T0 + 100, 5),
            r.event_times("x.other", "tester", T0 + 10, T0 + 30, 5),  # both ends open
        ),
        write=False,
    )
    step("replaced", lambda r: r.replace(Notice(party="blue", volumes=blue.volumes, id="n-blue", version=2), 1))
    step("stale", lambda r: r.replace(Notice(party="blue", volumes=blue.volumes, id="n-blue", version=2), 1))
    step(
        "ended",
        lambda r: r.replace(
            Notice(party="red", volumes=red.volumes, id="n-red", version=2, state=NoticeState.ENDED), 1
        ),
    )
    step("versions", lambda r: [(n.id, n.version) for n in r.list_notices()])
    for who, n in (("red", red), ("blue", blue), ("site", site)):
        step(
            f"among for {who}",
            lambda r, n=n: [
                (m.id, j)
                for v in n.volumes
                for m, j in r.candidates_among(v, SeparationPolicy(), n, ["n-red", "n-blue", "n-site"])
            ],
        )
    step("ended by", lambda r: (r.notices_ended_by(T0 + 3600), r.notices_ended_by(T0 + 9000, 1)))
    step("beats", lambda r: (r.last_beat(), r.beat(10.0), r.beat(5.0), r.last_beat()))
    receipts = [
        Receipt(f"n{i}", 1 + i % 2, "red" if i % 3 else "blue", "c", T0, 10 - i, "lh", "k", "sig") for i in range(6)
    ]
    step("receipts", lambda r: [r.save_receipt(x) for x in receipts])
    step("a receipt twice", lambda r: r.save_receipt(receipts[0]))
    step("receipt pages", lambda r: (r.receipts_page("red", 5, 9, 2), r.receipts_page(None, 0, 100, 10), r.receipts()))
    step("a receipt", lambda r: (r.receipt("n1", 2), r.receipt("n1", 1), r.receipts("blue")))
    step("keys", lambda r: r.save_idempotent_response("red", "k", "dg", 201, {"a": [1, {"b": 2}]}, clock.t))
    step("a key twice", lambda r: r.save_idempotent_response("red", "k", "other", 201, {}, clock.t))
    step("key", lambda r: (r.idempotent_response("red", "k"), r.idempotent_response("blue", "k")))
    step("webhooks", lambda r: [r.set_webhook(p, f"https://{p}.example", "s", 3) for p in ("red", "blue", "auth")])
    step("failed", lambda r: (r.webhook_failed("blue", 2, T0 + 50, "e" * 1500), r.webhook_failed("none", 1, 0, "")))
    step("delivered behind", lambda r: r.webhook_delivered("red", 2))
    step("delivered", lambda r: r.webhook_delivered("auth", 4))
    step("due", lambda r: (r.due_webhooks(T0 + 49), r.due_webhooks(T0 + 50)))
    step("removed", lambda r: (r.remove_webhook("auth"), r.remove_webhook("auth"), r.due_webhooks(T0 + 50)))
    step("rules", lambda r: (r.set_disclosure_rule("a", "b", "full"), r.set_disclosure_rule("a", "b", None)))
    step("alerts", lambda r: r.add_alerts([alert("al2", T0, ("red", "blue")), alert("al1", T0, ("red",))]))
    step("more alerts", lambda r: r.add_alerts([alert("al3", T0 + 5, ("auth",), AlertKind.INCURSION)]))
    cleared = Alert("al1", "key-al1", AlertKind.SEPARATION, "high", ("auth",), {"x": 1}, "cleared", T0, T0 + 8, T0 + 8)
    step("updated", lambda r: r.update_alerts([cleared]))
    step(
        "alert pages",
        lambda r: (
            r.page_alerts({"red"}),
            r.page_alerts(None, "open", (T0, "al2")),
            r.page_alerts({"auth"}, None, None, 1),
        ),
    )
    step("open", lambda r: (r.count_open_alerts(), sorted(a.id for a in r.open_alerts())))
    step("earliest", lambda r: [r.earliest_alert_open_at(["separation"], t) for t in (T0, T0 + 1, T0 + 8, T0 + 9)])
    conflict = Reference("conflict", "c1")
    step(
        "messages",
        lambda r: r.add_messages(
            [
                message("m2", T0, [("red", T0 + 60), ("blue", T0 + 30)], conflict, True),
                message("m1", T0, [("auth", None)], None, False),
                message("m3", T0 + 1, [("red", T0 + 10)], conflict, False),
            ]
        ),
    )
    step("a message twice", lambda r: r.add_message(message("m1", T0, [("auth", None)], None, False)))
    step("due escalations", lambda r: (r.due_escalations(T0 + 61), r.due_escalations(T0 + 31, 1)))
    step("escalated", lambda r: r.set_escalations([("m2", "blue", 1, T0 + 90), ("m2", "none", 1, 0.0)]))
    step("acked", lambda r: (r.ack_message("m2", "red", AckState.RECEIVED, T0 + 2), r.get_message("m2")))
    step(
        "acked again",
        lambda r: (
            r.set_escalation("m2", "red", 2, T0 + 99),
            r.ack_message("m2", "red", AckState.UNDERSTOOD, T0 + 3),
            r.get_message("m2"),
        ),
    )
    step("stopped", lambda r: (r.stop_escalations_of("conflict", ["c1"]), r.due_escalations(T0 + 1000)))
    step("about", lambda r: r.messages_about("conflict", "c1"))
    for party, box in (("red", "inbox"), ("broker", "outbox"), ("auth", None), (None, None)):
        step(f"messages {party} {box}", lambda r, p=party, b=box: r.page_messages(p, b, None, (T0, "m1"), 2))
    step("a thread", lambda r: r.page_messages(None, None, "m3"))

    def fails(r: BrokerRepository) -> None:
        r.add_party(Party("green", Role.PARTY), clock.t)
        r.append_event(event(5, "x.other", T0, {}))
        r.add(Notice(party="green", volumes=(circle(35.0, 36.0),), id="n-green"))
        r.set_webhook("red", "https://changed", "s", 9)
        r.beat(99.0)
        r.add_alerts([alert("al9", T0, ("green",))])
        r.add_message(message("m9", T0, [("green", None)], None, False))
        r.ack_message("m3", "red", AckState.UNDERSTOOD, T0)
        raise RuntimeError("the block fails")

    step("a block that raises", fails)
    step(
        "nothing of it is left",
        lambda r: (
            r.get_party("green"),
            r.last_seq(),
            r.get("n-green"),
            r.due_webhooks(T0 + 100),
            r.last_beat(),
            r.page_alerts(None),
            r.page_messages(None),
            r.candidates(circle(35.0, 36.0), SeparationPolicy(), Notice(party="x", volumes=(circle(35.0, 36.0),))),
        ),
        write=False,
    )
    step("parties", lambda r: (r.list_parties(), r.party_for_token("h-red")))
    return said


def test_the_memory_store_keeps_records_as_sql_does(db_url: str) -> None:
    clock = SetClock(T0)
    on_memory = script(MemoryStore(clock), clock)
    clock = SetClock(T0)
    with SqlStore(db_url, clock=clock) as sql:
        sql.ensure_schema()
        on_sql = script(sql, clock)
    assert [name for name, _ in on_memory] == [name for name, _ in on_sql]
    for (name, a), (_, b) in zip(on_memory, on_sql, strict=True):
        assert a == b, f"{name}:\n memory: {a!r}\n    sql: {b!r}"
    assert sum(1 for _, a in on_memory if a == "raised") == 6
