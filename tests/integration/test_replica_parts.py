"""The parts of replication on PostgreSQL, in one process (test_replicas.py runs them as real
``deconflict serve`` processes): the advisory-lock leadership and the LISTEN/NOTIFY listener."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from replica_support import wait_for

from deconflict.adapters.sql.leader import AdvisoryLeader
from deconflict.adapters.sql.notify import EventListener
from deconflict.adapters.sql.store import SqlStore
from deconflict.domain.audit import BrokerKey
from deconflict.domain.parties import Role
from deconflict.services.broker import Broker

pytestmark = pytest.mark.postgres


@pytest.fixture
def stores(pg_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one schema: two replicas as far as the database can tell."""
    a, b = SqlStore(pg_url), SqlStore(pg_url)
    a.ensure_schema()
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_one_of_two_leads_and_the_other_takes_over_when_it_lets_go(stores: tuple[SqlStore, SqlStore]) -> None:
    a, b = stores
    assert a.replica != b.replica
    first, second = AdvisoryLeader(a.connect_args(), a.replica, 0.05), AdvisoryLeader(b.connect_args(), b.replica, 0.05)
    stop_first, stop_second = threading.Event(), threading.Event()
    threads = [
        threading.Thread(target=first.run, args=(stop_first,), daemon=True),
        threading.Thread(target=second.run, args=(stop_second,), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        wait_for("both tried", lambda: first.tried.is_set() and second.tried.is_set())
        leader = wait_for("a leader", lambda: [x for x in (first, second) if x.leading])
        assert len(leader) == 1
        for _ in range(20):  # several rounds of tries by the other: still one
            assert [x.leading for x in (first, second)].count(True) == 1
            time.sleep(0.05)
        (old,) = leader
        other = second if old is first else first
        (stop_first if old is first else stop_second).set()
        wait_for("the other leads", lambda: other.leading and not old.leading)
        assert other.terms == 1
    finally:
        stop_first.set()
        stop_second.set()
        for t in threads:
            t.join(10)


def test_a_listener_hears_other_replicas_commits_not_its_own_nor_rolled_back_ones(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    a, b = stores
    woken: list[float] = []
    listener = EventListener(b.connect_args(), b.replica, lambda: woken.append(time.monotonic()))
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert listener.listening.wait(30)
        on_b = Broker(b, time.time, BrokerKey.generate())
        on_b.add_party("us-af", Role.PARTY)  # logs an event on b: its own, not heard
        on_a = Broker(a, time.time, BrokerKey.generate())
        with pytest.raises(RuntimeError), on_a.write() as tx:  # rolled back: nothing is sent
            tx.log("admin", "test.event", {})
            raise RuntimeError
        on_a.add_party("ru-vks", Role.PARTY)  # committed on a: heard
        on_a.add_party("uk-raf", Role.PARTY)
        last = on_a.last_seq()
        # Notifications come in commit order: once a's last is heard, every earlier one was too.
        wait_for("the commits on a are heard", lambda: listener.last_seq == last)
        assert (listener.heard, len(woken)) == (2, 2)  # neither b's own commit nor the rollback
    finally:
        stop.set()
        thread.join(10)
