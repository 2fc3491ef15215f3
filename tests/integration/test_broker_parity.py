"""The in-memory store answers the broker as the SQL stores do: a scripted day (parties, notices that
conflict, a protected site, updates and state changes, acknowledgements, hotline messages and their
escalation, webhooks, disclosure rules, pages with cursors, events after a seq, receipts, idempotent
retries, a filing that fails and is rolled back) is driven through the :class:`Broker` and the
:class:`Hotline` on memory, on a SQLite file and on PostgreSQL, and every step's answer, then every
record left in the store, must be the same.

The runs are made comparable by giving each the same randomness: ids, salts and tokens come from a
counter started afresh for each run, and the three brokers sign with one key file, so hashes and
signatures agree too (what is left random would only hide a difference)."""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from api_support import CAST, broker_config, circle_notice

from builders import ack, file, send, update
from clocks import SetClock
from deconflict.adapters.keys import load_or_create_key
from deconflict.adapters.sql import SqlStore
from deconflict.bootstrap import build_broker, build_memory_broker
from deconflict.domain.alerts import Alert, AlertKind, AlertState, Changes, Severity
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.parties import Party, Role
from deconflict.domain.volumes import NoticeState
from deconflict.services.broker import Broker, NoticeFilter, Outcome
from deconflict.services.commands import parse_file_notice
from deconflict.services.hotline import Hotline
from deconflict.services.ports import BrokerUnitOfWork

T0 = 1_443_592_800.0
"""2015-09-30T06:00:00Z: the notices of the day start at 07:30."""

Transcript = list[tuple[str, Any]]


@contextmanager
def same_randomness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Ids (``uuid4``), salts (``token_hex``) and tokens (``token_urlsafe``) from one counter."""
    ids, salts, tokens = itertools.count(1), itertools.count(1), itertools.count(1)
    with monkeypatch.context() as m:
        m.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(ids)))
        m.setattr(secrets, "token_hex", lambda n=32: f"{next(salts):0{2 * n}x}")
        m.setattr(secrets, "token_urlsafe", lambda n=32: f"t{next(tokens):0{n}d}")
        yield


def plain(x: Any) -> Any:
    """An answer as plain data: outcomes, parties, events and the like as dicts, tuples as lists."""
    if isinstance(x, Enum):
        return x.value
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(plain(k)): plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        items = [plain(v) for v in x]
        return sorted(items, key=repr) if isinstance(x, set | frozenset) else items
    return x


class Day:
    """The script's steps, each answer (or error) written down in order."""

    def __init__(self, broker: Broker, clock: SetClock) -> None:
        self.broker, self.clock = broker, clock
        self.hotline = Hotline(broker)
        self.said: Transcript = []
        self.parties: dict[str, Party] = {}
        self.tokens: dict[str, str] = {}

    def step(self, name: str, call: Callable[[], Any]) -> Any:
        self.clock.t += 1.0
        try:
            out = call()
        except Exception as e:  # the error is an answer too
            self.said.append((name, ("error", type(e).__name__, str(e))))
            return None
        self.said.append((name, plain(out)))
        return out

    def body(self, name: str, call: Callable[[], Outcome]) -> dict[str, Any]:
        out = self.step(name, call)
        assert isinstance(out, Outcome), f"{name}: {self.said[-1]}"
        return out.body

    def pages(self, name: str, read: Callable[[str | None], tuple[list[Any], str | None]]) -> None:
        """Every page of a list, following the cursors."""
        cursor: str | None = None
        for k in range(20):
            out = self.step(f"{name} page {k}", lambda c=cursor: read(c))
            if out is None or out[1] is None:
                return
            cursor = out[1]
        raise AssertionError(f"{name}: more than 20 pages")


def run_day(broker: Broker, clock: SetClock) -> Transcript:
    b, day = broker, Day(broker, clock)
    p = day.parties
    for name, role, coalition in CAST:
        party, token = day.step(f"add {name}", lambda n=name, r=role, c=coalition: b.add_party(n, r, c))
        p[name], day.tokens[name] = party, token
    day.step("add a party twice", lambda: b.add_party("us-af", Role.PARTY))
    day.step("authenticate", lambda: b.authenticate(day.tokens["ru-vks"]))
    day.step("rule", lambda: b.set_disclosure("uk-raf", "ru-vks", Level.CONFLICTS_ONLY))
    day.step("rule both ways", lambda: b.set_disclosure("tr-af", "uk-raf", Level.EXISTENCE, both_ways=True))
    day.step("rule removed", lambda: b.set_disclosure("tr-af", "uk-raf", None))
    day.step("rules", b.disclosure_rules)

    # notices: three that overlap, one far away, and a protected site under them
    us = day.body("us-af files", lambda: file(b, p["us-af"], circle_notice()))
    ru = day.body("ru-vks files over it", lambda: file(b, p["ru-vks"], circle_notice(lat=35.35, id="ru-1")))
    day.body("tr-af files over both", lambda: file(b, p["tr-af"], circle_notice(lon=36.65, lower_m=5000)))
    far = day.body("uk-raf files far away", lambda: file(b, p["uk-raf"], circle_notice(lat=20.0, lon=20.0)))
    day.body("sy-gcaa files a site", lambda: file(b, p["sy-gcaa"], circle_notice(radius_km=3), site=True))
    day.step("a party files a site", lambda: file(b, p["ru-vks"], circle_notice(), site=True))

    keyed = circle_notice(lat=35.40, start="2015-09-30T09:00:00Z", end="2015-09-30T12:00:00Z")
    day.body("filed with a key", lambda: file(b, p["uk-raf"], keyed, idempotency_key="k-1"))
    day.body("retried with the key", lambda: file(b, p["uk-raf"], keyed, idempotency_key="k-1"))
    day.step("the key for another body", lambda: file(b, p["uk-raf"], circle_notice(), idempotency_key="k-1"))
    day.body("the same key, another party", lambda: file(b, p["us-af"], keyed, idempotency_key="k-1"))

    def fails() -> None:
        prepared = b.prepare(parse_file_notice(p["us-af"], circle_notice(lat=35.33), b.core.limits))
        with b.write(p["us-af"]) as tx:
            b.file_prepared(tx, p["us-af"], prepared)
            raise RuntimeError("the filing fails after its writes")

    def filed_together() -> list[dict[str, Any]]:
        """Two filings prepared before either is written (an import): the second finds the first
        among the notices changed since its snapshot."""
        one = b.prepare(parse_file_notice(p["tr-af"], circle_notice(lat=34.0, lon=34.0), b.core.limits))
        two = b.prepare(parse_file_notice(p["ru-vks"], circle_notice(lat=34.01, lon=34.0), b.core.limits))
        with b.write() as tx:
            return [b.file_prepared(tx, p["tr-af"], one), b.file_prepared(tx, p["ru-vks"], two)]

    day.step("filed together", filed_together)
    seq = day.step("last seq", b.last_seq)
    day.step("a filing that fails", fails)
    day.step("nothing of it is left", lambda: (b.last_seq() == seq, b.list_notices(p["root"], NoticeFilter())))

    for who in ("us-af", "ru-vks", "un-obs", "root"):
        day.pages(f"{who} lists notices", lambda c, w=who: b.list_notices(p[w], NoticeFilter(), c, 2))
        day.pages(f"{who} lists notice texts", lambda c, w=who: b.list_notice_texts(p[w], NoticeFilter(), c, 3))
        day.pages(f"{who} lists conflicts", lambda c, w=who: b.list_conflicts(p[w], None, c, 1))
    live = NoticeFilter(state=NoticeState.ACCEPTED, time_start=T0 + 3 * 3600, time_end=T0 + 4 * 3600)
    day.pages("filtered", lambda c: b.list_notices(p["root"], live, c, 2))
    day.pages("sites only", lambda c: b.list_notices(p["us-af"], NoticeFilter(protected=True), c, 2))
    day.step("a notice and its receipt", lambda: b.get_notice(p["us-af"], us["notice"]["id"]))
    day.step("another's notice", lambda: b.get_notice(p["tr-af"], us["notice"]["id"]))

    conflicts, _ = b.list_conflicts(p["root"])
    assert len(conflicts) >= 4, conflicts
    first = conflicts[0]["id"]
    a, other = (side["party"] for side in conflicts[0]["sides"])
    day.step("conflict", lambda: b.get_conflict(p[a], first))
    day.step("acknowledged", lambda: b.acknowledge(p[a], first))
    day.step("acknowledged again", lambda: b.acknowledge(p[a], first))
    day.step("acknowledged by a stranger", lambda: b.acknowledge(p["uk-raf"], first))
    day.step("acknowledged by the other side", lambda: b.acknowledge(p[other], first))
    day.step("resolution", lambda: b.resolution_of(p[a], first))

    # updates and state changes: ru-vks moves away (its conflicts resolve), a stale update fails
    moved = circle_notice(lat=30.0, lon=30.0)
    day.body("ru-vks moves away", lambda: update(b, p["ru-vks"], ru["notice"]["id"], moved, 1, False))
    day.step("a stale update", lambda: update(b, p["ru-vks"], ru["notice"]["id"], moved, 1, False))
    day.step("an update by another", lambda: update(b, p["us-af"], ru["notice"]["id"], moved, 2, False))
    day.body("activated", lambda: b.set_state(p["us-af"], us["notice"]["id"], NoticeState.ACTIVE, None, False))
    day.body("cancelled", lambda: b.set_state(p["uk-raf"], far["notice"]["id"], NoticeState.CANCELLED, 1, False))
    day.pages("conflicts after", lambda c: b.list_conflicts(p["root"], None, c, 2))

    # the hotline: messages, acknowledgements, escalation of what is not answered in time
    h = day.hotline
    sortie = {"to": ["ru-vks", "tr-af"], "subject": "Sortie", "text": "Moved 30 min later", "ack_within_s": 600}
    m1 = day.body("message", lambda: send(h, p["us-af"], sortie))
    day.body("reply", lambda: send(h, p["ru-vks"], {"in_reply_to": m1["id"], "subject": "Re", "text": "Seen"}))
    day.body("received", lambda: ack(h, p["ru-vks"], m1["id"], {"state": "received"}))
    day.body("understood", lambda: ack(h, p["ru-vks"], m1["id"], {"state": "understood"}))
    day.body("understood again", lambda: ack(h, p["ru-vks"], m1["id"], {"state": "understood"}))
    day.step("acknowledged by its sender", lambda: ack(h, p["us-af"], m1["id"], {"state": "received"}))
    day.step("nothing due yet", h.tick)
    clock.t += 3600.0
    day.step("overdue", h.tick)
    day.step("overdue once", h.tick)
    for who, box in (("ru-vks", "inbox"), ("us-af", "outbox"), ("tr-af", None), ("root", None)):
        day.pages(f"{who} messages {box}", lambda c, w=who, x=box: h.list(p[w], x, None, c, 1))
    day.pages("one thread", lambda c: h.list(p["root"], None, m1["thread_id"], c, 2))
    day.step("a message", lambda: h.get(p["tr-af"], m1["id"]))
    day.step("a message not one's own", lambda: h.get(p["uk-raf"], m1["id"]))

    # webhooks, alerts, the log
    day.step("webhook", lambda: b.set_webhook(p["us-af"], "https://us.example/hook", "s3cret"))
    day.step("webhook replaced", lambda: b.set_webhook(p["us-af"], "https://us.example/hook2", "other"))
    day.step("webhook of another", lambda: b.set_webhook(p["un-obs"], "https://un.example/hook", "x"))
    day.step("webhook removed", lambda: b.remove_webhook(p["un-obs"]))
    alert = Alert(
        uuid.uuid4().hex,
        "sep:us-af/AF1|ru-vks/RU1",
        AlertKind.SEPARATION,
        Severity.HIGH,
        ("us-af", "ru-vks"),
        {
            "kind": "separation",
            "sides": [{"party": "us-af", "aircraft": "AF1"}, {"party": "ru-vks", "aircraft": "RU1"}],
        },
        AlertState.OPEN,
        clock.t,
        clock.t,
    )
    day.step("alert", lambda: list(b.record_alerts(Changes([alert], [], []))))
    for who in ("us-af", "un-obs", "root"):
        day.pages(f"{who} alerts", lambda c, w=who: b.list_alerts(p[w], None, c, 5))
    day.step("open alerts", b.count_open_alerts)
    for who in ("us-af", "ru-vks", "un-obs", "root"):
        day.step(f"{who} events", lambda w=who: b.visible_events(p[w], 0, 1000))
        day.step(f"{who} events after 10", lambda w=who: b.visible_events(p[w], 10, 5))

    # parties last: a rotated token, a revoked party
    day.step("token rotated", lambda: b.rotate_token("tr-af"))
    day.step("the old token", lambda: b.authenticate(day.tokens["tr-af"]))
    day.step("revoked", lambda: b.revoke_party("uk-raf"))
    day.step("a revoked party files", lambda: file(b, p["uk-raf"], circle_notice()))
    day.step("parties", b.list_parties)
    day.step("export", lambda: b.export(p["root"]))
    day.step("a party's export", lambda: b.export(p["ru-vks"]))
    day.said.append(("records", records(b.store, clock.t)))
    return day.said


def records(store: BrokerUnitOfWork, now: float) -> Any:
    """Everything the store holds, as its ports read it."""
    with store.begin(write=False) as r:
        notices = r.list_notices()
        conflicts = r.list_conflicts()
        messages = r.page_messages(None)
        return plain(
            {
                "notices": notices,
                "owners": [r.notice_owner(n.id or "") for n in notices],
                "conflicts": conflicts,
                "acks": {c.id: r.acks_of(c.id) for c in conflicts},
                "of notices": {n.id: [c.id for c in r.conflicts_of(n.id or "")] for n in notices},
                "parties": r.list_parties(),
                "events": [e.to_json() for e in r.events_after(0, 10_000)],
                "receipts": r.receipts(),
                "rules": sorted(r.disclosure_rules().items()),
                "webhooks": r.due_webhooks(now),
                "alerts": r.page_alerts(None),
                "messages": messages,
                "about": [r.messages_about(m.ref.kind, m.ref.id) for m in messages if m.ref is not None],
                "escalations": r.due_escalations(now + 86_400.0),
                "ended by": r.notices_ended_by(now + 86_400.0),
                "last seq": r.last_seq(),
            }
        )


def first_difference(a: Transcript, b: Transcript) -> str | None:
    for (name_a, said_a), (name_b, said_b) in zip(a, b, strict=False):
        assert name_a == name_b
        if said_a != said_b:
            return f"{name_a}:\n memory: {said_a!r}\n    sql: {said_b!r}"
    return None if len(a) == len(b) else f"{len(a)} steps against {len(b)}"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "broker.key"
    load_or_create_key(str(path))
    return path


def day_on(db_url: str | None, key_file: Path, monkeypatch: pytest.MonkeyPatch) -> Transcript:
    """The day on a fresh store: in memory (``db_url`` None) or a migrated SQL one."""
    clock = SetClock(T0)
    config = dataclasses.replace(broker_config(), key_file=str(key_file))
    if db_url is None:
        with same_randomness(monkeypatch):
            return run_day(build_memory_broker(config, clock, create_key=False), clock)
    with SqlStore(db_url, clock=clock) as store:
        store.ensure_schema()
        with same_randomness(monkeypatch):
            return run_day(build_broker(config, clock, store=store, create_key=False), clock)


def test_the_memory_store_answers_a_day_as_sql_does(
    db_url: str, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_memory = day_on(None, key_file, monkeypatch)
    on_sql = day_on(db_url, key_file, monkeypatch)
    assert first_difference(on_memory, on_sql) is None, first_difference(on_memory, on_sql)
    errors = [name for name, said in on_memory if isinstance(said, tuple) and said[:1] == ("error",)]
    assert len(errors) >= 10, f"the day should try things that are refused: {errors}"
    assert len(on_memory) > 100
