"""Service rules on a whole broker over the in-memory store (``bootstrap.build_memory_broker``):
acknowledgements, idempotency keys, the disclosure of conflicts, hotline deadlines and escalation,
and a filing that fails. The same rules are tested over a server and SQL in
tests/integration/test_api.py and test_api_hotline.py; here they take milliseconds, with no
database and no server. That the memory store answers as the SQL ones do is held by
tests/integration/test_broker_parity.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from builders import ack, circle_volume, file, send, update
from clocks import SetClock
from deconflict.bootstrap import build_memory_broker
from deconflict.config import Config
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.errors import Forbidden, NotFoundError, ValidationError
from deconflict.domain.parties import Party, Role
from deconflict.services.broker import Broker, NoticeFilter
from deconflict.services.commands import parse_file_notice
from deconflict.services.hotline import Hotline

T0 = 1_443_571_200.0
"""2015-09-30T00:00:00Z; the notices start at 07:30."""

CAST = [
    ("us-af", Role.PARTY, "coalition"),
    ("uk-raf", Role.PARTY, "coalition"),
    ("ru-vks", Role.PARTY, None),
    ("tr-af", Role.PARTY, None),
    ("un-obs", Role.OBSERVER, None),
    ("root", Role.ADMIN, None),
]


class Day:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = SetClock(T0)
        policy = (
            DisclosurePolicy()
            .with_pair("ru-vks", "tr-af", Level.EXISTENCE)
            .with_grant("un-obs", "ru-vks", Level.CONFLICTS_ONLY)
        )
        config = Config(disclosure=policy, key_file=str(tmp_path / "broker.key"))
        self.broker: Broker = build_memory_broker(config, self.clock)
        self.hotline = Hotline(self.broker)
        self.p: dict[str, Party] = {n: self.broker.add_party(n, r, c)[0] for n, r, c in CAST}

    def file(self, who: str, **kw: Any) -> dict[str, Any]:
        return file(self.broker, self.p[who], notice(**kw)).body

    def overdue(self, viewer: str, after: int) -> list[dict[str, Any]]:
        events, _ = self.broker.visible_events(self.p[viewer], after)
        return [e.data for e in events if e.type == "message.overdue"]


def notice(lat: float = 35.32, lon: float = 36.62, radius_m: float = 8000, id: str | None = None) -> dict[str, Any]:
    v = circle_volume(lat, lon, radius_m, "2015-09-30T07:30:00Z", "2015-09-30T10:30:00Z", 3000, 8000, reference="AMSL")
    return {"volumes": [v]} | ({} if id is None else {"id": id})


@pytest.fixture
def day(tmp_path: Path) -> Day:
    return Day(tmp_path)


def test_an_acknowledgement_is_given_once_by_a_party_to_the_conflict(day: Day) -> None:
    b, p = day.broker, day.p
    day.file("ru-vks", id="vks-1")
    [c] = day.file("us-af", id="us-1")["conflicts"]
    start = b.last_seq()
    first = b.acknowledge(p["ru-vks"], c["id"])
    assert first.created and [a["party"] for a in first.body["acknowledgements"]] == ["ru-vks"]
    assert not b.acknowledge(p["ru-vks"], c["id"]).created  # once only
    with pytest.raises(Forbidden):
        b.acknowledge(p["un-obs"], c["id"])  # sees it, not a party to it
    for who, cid in (("uk-raf", c["id"]), ("ru-vks", "nope")):
        with pytest.raises(NotFoundError):
            b.acknowledge(p[who], cid)
    events, _ = b.visible_events(p["us-af"], start)
    assert [e.type for e in events] == ["conflict.acknowledged", "message.acknowledged"]  # the thread is answered
    assert events[1].data["state"] == "understood"


def test_an_acknowledgement_is_asked_again_when_the_conflict_changes(day: Day) -> None:
    b, p = day.broker, day.p
    day.file("ru-vks", id="vks-1")
    [c] = day.file("us-af", id="us-1")["conflicts"]
    assert b.acknowledge(p["us-af"], c["id"]).created
    bigger = notice(radius_m=20_000)
    r = update(b, p["ru-vks"], "ru-vks:vks-1", bigger, 1, False)
    assert [x["id"] for x in r.body["conflicts"]] == [c["id"]]
    assert b.get_conflict(p["us-af"], c["id"])["acknowledgements"] == []
    assert b.acknowledge(p["us-af"], c["id"]).created


def test_an_idempotency_key_replays_its_filing_and_refuses_another_body(day: Day) -> None:
    b, p = day.broker, day.p
    first = file(b, p["us-af"], notice(), idempotency_key="sortie-42")
    again = file(b, p["us-af"], notice(), idempotency_key="sortie-42")
    assert again.body == first.body and again.replayed and again.created
    with pytest.raises(ValidationError, match="Idempotency-Key"):
        file(b, p["us-af"], notice(lat=30), idempotency_key="sortie-42")
    assert file(b, p["uk-raf"], notice(), idempotency_key="sortie-42").created  # keys are a party's
    file(b, p["us-af"], notice())  # no key: a second notice
    assert len(b.list_notices(p["root"], NoticeFilter())[0]) == 3


def test_a_conflict_is_shown_as_far_as_disclosure_lets(day: Day) -> None:
    b, p = day.broker, day.p
    day.file("ru-vks", id="vks-1")
    [c] = day.file("tr-af", id="tr-1")["conflicts"]  # existence only between these two
    seen = b.get_conflict(p["ru-vks"], c["id"])
    assert "tr-af" not in str(seen) and seen["disclosure"] == "existence"
    assert b.list_conflicts(p["un-obs"])[0][0]["id"] == c["id"]  # granted conflicts-only on ru-vks
    assert b.list_notices(p["un-obs"], NoticeFilter())[0] == []  # but none of the notices
    assert b.list_conflicts(p["uk-raf"])[0] == []
    with pytest.raises(NotFoundError):
        b.get_conflict(p["uk-raf"], c["id"])


def test_an_unanswered_message_escalates_after_its_deadline_and_again_each_interval(day: Day) -> None:
    b, h, p, clock = day.broker, day.hotline, day.p, day.clock
    interval = b.hotline.escalation_interval_s
    m = send(h, p["us-af"], {"to": ["ru-vks", "tr-af"], "subject": "S", "text": "x", "ack_within_s": 900}).body
    start = b.last_seq()
    clock.t = T0 + 900  # at the deadline: still on time
    assert h.tick() == 0
    ack(h, p["tr-af"], m["id"], {"state": "received"})
    clock.t = T0 + 900.5
    assert h.tick() == 1
    assert h.tick() == 0  # one event per round
    assert [e["round"] for e in day.overdue("us-af", start)] == [1]
    assert day.overdue("tr-af", start) == []
    clock.t = T0 + 900 + interval
    assert h.tick() == 0
    clock.t = T0 + 900 + interval + 0.5
    assert h.tick() == 1
    clock.t = T0 + 900 + 5 * interval + 1  # the broker was away: the current round, once
    assert h.tick() == 1
    assert [e["round"] for e in day.overdue("us-af", start)] == [1, 2, 6]
    ack(h, p["ru-vks"], m["id"], {"state": "understood"})
    clock.t += 10 * interval
    assert h.tick() == 0  # answered: no more escalation


def test_a_filing_that_fails_under_the_lock_leaves_nothing(day: Day) -> None:
    b, p = day.broker, day.p
    day.file("ru-vks", id="vks-1")
    before = (b.last_seq(), b.list_notices(p["root"], NoticeFilter()), b.list_conflicts(p["root"]))
    prepared = b.prepare(parse_file_notice(p["us-af"], notice(id="us-1"), b.core.limits))
    with pytest.raises(RuntimeError), b.write(p["us-af"]) as tx:
        b.file_prepared(tx, p["us-af"], prepared)
        raise RuntimeError("fails after its writes")
    assert (b.last_seq(), b.list_notices(p["root"], NoticeFilter()), b.list_conflicts(p["root"])) == before
    assert b.file_prepared  # and the same filing goes through afterwards
    assert len(day.file("us-af", id="us-1")["conflicts"]) == 1


def test_writers_take_turns_and_readers_do_not_wait(day: Day) -> None:
    store, order = day.broker.store, []

    def second() -> None:
        with store.begin() as r:
            order.append(("second", r.last_seq()))

    with store.begin() as r:
        r.beat(1.0)
        t = threading.Thread(target=second)
        t.start()
        with store.begin(write=False) as reader:  # a read is not held up by the writer
            order.append(("reader", reader.last_beat()))
        time.sleep(0.05)
        order.append(("first", None))
    t.join(5)
    assert order[0] == ("reader", None)  # the writer's change is not seen before it commits
    assert [name for name, _ in order[1:]] == ["first", "second"]
    with pytest.raises(RuntimeError), store.begin(), store.begin():
        pass  # a write inside a write on one thread would wait for itself
