"""What the command line's read commands see (``Broker.operator``): every notice, site and
conflict uncut by disclosure, filtered by the store, on both stores."""

from __future__ import annotations

from builders import circle_notice_of
from clocks import SetClock
from deconflict.adapters.sql.store import SqlStore
from deconflict.domain.audit import BrokerKey
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.parties import Role
from deconflict.domain.volumes import NoticeState
from deconflict.services.broker import Broker
from deconflict.services.ports import ConflictState

T0 = 1_443_571_200.0  # 2015-09-30T00:00:00Z, before the builders' notices


def test_the_operator_reads_every_notice_site_and_conflict_by_state(db_url: str) -> None:
    store = SqlStore(db_url, clock=SetClock(T0))
    store.ensure_schema()
    broker = Broker(store, SetClock(T0), BrokerKey.generate())
    for name in ("ru", "us", "fr"):
        broker.add_party(name, Role.PARTY)
    broker.add_party("gcaa", Role.AUTHORITY)
    broker.file_as_operator(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    broker.file_as_operator(parse_notice(circle_notice_of("us", "b", 34.85, 36.73)))
    broker.file_as_operator(parse_notice(circle_notice_of("fr", "c", 10.0, 10.0)))
    site = parse_notice({**circle_notice_of("gcaa", "s", 34.86, 36.73), "kind": "protected-site"})
    broker.file_as_operator(site)

    ops = broker.operator
    assert {n.id for n in ops.notices()} == {"ru:a", "us:b", "fr:c", "gcaa:s"}
    assert [n.id for n in ops.notices("us")] == ["us:b"]
    assert ops.site_ids() == frozenset({"gcaa:s"})
    assert ops.stored_ids() == {"ru:a", "us:b", "fr:c", "gcaa:s"}
    assert ops.registered("fr") is not None and ops.registered("nobody") is None

    open_ = ops.conflicts(ConflictState.OPEN)
    assert {frozenset((c.notice_a, c.notice_b)) for c in open_} == {
        frozenset(p) for p in (("ru:a", "us:b"), ("ru:a", "gcaa:s"), ("us:b", "gcaa:s"))
    }
    assert [c.detected_at for c in open_] == sorted(c.detected_at for c in open_)

    pair = ops.conflict_pair(open_[0].id)
    assert pair is not None and pair.notice_a is not None and pair.notice_b is not None
    assert {pair.notice_a.id, pair.notice_b.id} == {open_[0].notice_a, open_[0].notice_b}
    assert ops.conflict_pair("no-such-conflict") is None

    us = broker.party("us")  # the operator's reads follow a state change
    broker.set_state(us, "us:b", NoticeState.CANCELLED, None, False)
    assert [n.id for n in ops.notices("us", live=True)] == []
    assert [n.id for n in ops.notices("us")] == ["us:b"]
    assert len(ops.conflicts(ConflictState.OPEN)) == 1
    assert len(ops.conflicts()) == 3
