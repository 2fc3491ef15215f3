"""Group commit (services/group_commit.py) on both stores: writes that wait for the filing lock share
one transaction and one COMMIT, each in a savepoint; one refused write rolls back alone; nobody
hears "done" before the COMMIT returned, and a COMMIT that fails fails every write of its batch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from processes import wait_for

from deconflict.adapters.memory import MemoryStore
from deconflict.adapters.sql import SqlStore
from deconflict.adapters.sql import tables as t
from deconflict.api.errors import store_down
from deconflict.domain.audit import BrokerKey, verify_chain
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Role
from deconflict.services.broker import Broker
from deconflict.services.ports import BrokerUnitOfWork
from deconflict.services.transaction import Transaction

WAIT_S = 30.0


def lock_count(store: SqlStore) -> int:
    """How many transactions took the filing lock (each increments its row)."""
    with store.engine.connect() as c:
        return int(c.execute(sa.select(t.filing_lock.c.n)).scalar_one())


def log_types(store: SqlStore) -> list[str]:
    with store.begin(write=False) as repo:
        return [e.type for e in repo.events_after(0, 10_000)]


def mark(name: str) -> Callable[[Transaction], str]:
    def work(tx: Transaction) -> str:
        tx.log("test", "broker.started", {"mark": name})
        return name

    return work


def queue_behind_a_held_batch(broker: Broker, works: dict[str, Callable[[Transaction], Any]]) -> dict[str, Any]:
    """Runs ``first`` (which holds the lock until every other write is queued), then the others from
    threads of their own; each thread's value or exception by name."""
    release = threading.Event()
    results: dict[str, Any] = {}

    def first(tx: Transaction) -> str:
        assert release.wait(WAIT_S), "the other writes never queued"
        return mark("first")(tx)

    def call(name: str, work: Callable[[Transaction], Any]) -> None:
        try:
            results[name] = broker.core.queued(None, work)
        except Exception as e:  # the test looks at it
            results[name] = e

    holder = threading.Thread(target=call, args=("first", first))
    holder.start()
    group = broker.core._group
    assert group is not None
    wait_for("the holder leads its batch of one", lambda: group._leading, WAIT_S, 0.001)
    others = [threading.Thread(target=call, args=item) for item in works.items()]
    for th in others:
        th.start()
    wait_for("every other write waits in the queue", lambda: len(group._queue) >= len(works), WAIT_S, 0.001)
    release.set()
    for th in [holder, *others]:
        th.join(WAIT_S)
        assert not th.is_alive()
    return results


@pytest.fixture
def broker(store: SqlStore) -> Broker:
    return Broker(store, lambda: 1_443_571_200.0, BrokerKey.generate())


def test_writes_waiting_for_the_lock_share_one_commit(broker: Broker, store: SqlStore) -> None:
    before = lock_count(store)
    results = queue_behind_a_held_batch(broker, {f"w{i}": mark(f"w{i}") for i in range(5)})
    assert results == {"first": "first", **{f"w{i}": f"w{i}" for i in range(5)}}
    assert lock_count(store) - before == 2  # the holder's transaction, then one for the five
    assert log_types(store).count("broker.started") == 6
    with store.begin(write=False) as repo:
        assert verify_chain(repo.events_after(0, 10_000)) == []


def refused(tx: Transaction) -> str:
    tx.log("test", "broker.started", {"mark": "refused"})
    raise ValidationError.at("volumes", "refused under the lock")


def marks_logged(store: BrokerUnitOfWork) -> list[Any]:
    """The marks of the test's events in log order, once the log's chain is checked."""
    with store.begin(write=False) as repo:
        events = repo.events_after(0, 10_000)
    assert verify_chain(events) == []
    return [e.payload.get("mark") for e in events if e.type == "broker.started"]


def a_refused_write_rolls_back_alone(broker: Broker, store: BrokerUnitOfWork) -> None:
    results = queue_behind_a_held_batch(broker, {"a": mark("a"), "refused": refused, "b": mark("b")})
    assert results["a"] == "a" and results["b"] == "b"
    assert isinstance(results["refused"], ValidationError)
    assert marks_logged(store) == ["first", "a", "b"]  # the refused one's event is gone, the order kept


def test_a_refused_write_rolls_back_alone(broker: Broker, store: SqlStore) -> None:
    a_refused_write_rolls_back_alone(broker, store)


class FailingCommit(SqlStore):
    """A real store whose COMMIT fails once armed (as when the connection dies during it)."""

    armed = False

    @contextmanager
    def begin(self, write: bool = True) -> Iterator[Any]:
        with super().begin(write) as repo:
            yield repo
            if write and self.armed:
                raise sa.exc.OperationalError("COMMIT", {}, Exception("connection lost during COMMIT"))


def test_a_failed_commit_fails_every_write_of_its_batch(db_url: str, clock: Callable[[], float]) -> None:
    store = FailingCommit(db_url, clock=clock)
    store.ensure_schema()
    try:
        broker = Broker(store, lambda: 1_443_571_200.0, BrokerKey.generate())
        store.armed = True
        results = queue_behind_a_held_batch(broker, {"a": mark("a"), "b": mark("b")})
        assert all(isinstance(r, sa.exc.OperationalError) for r in results.values()), results
        store.armed = False
        assert "broker.started" not in log_types(store)  # nothing was written, nobody told otherwise
    finally:
        store.close()


def test_filings_from_many_threads_are_all_logged_once(broker: Broker, store: SqlStore) -> None:
    red, _ = broker.add_party("red", Role.PARTY)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def file_some(k: int) -> None:
        start.wait(WAIT_S)
        for i in range(5):
            try:
                broker.core.queued(red, mark(f"t{k}-{i}"))
            except BaseException as e:  # reported below
                errors.append(e)

    threads = [threading.Thread(target=file_some, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(WAIT_S * 4)
    assert not errors
    assert sorted(marks_logged(store)) == sorted(f"t{k}-{i}" for k in range(8) for i in range(5))


def test_the_memory_store_rolls_back_a_refused_write_alone() -> None:
    store = MemoryStore(clock=lambda: 1_443_571_200.0)
    a_refused_write_rolls_back_alone(Broker(store, lambda: 1_443_571_200.0, BrokerKey.generate()), store)


def test_a_filing_that_fails_on_its_own_rolls_back_alone(broker: Broker, store: SqlStore) -> None:
    """Not a refusal but a fault of one filing (a statement the store refuses): its savepoint is
    rolled back and it alone hears the error; the transaction still answers, so the others stand."""

    def broken(tx: Transaction) -> str:
        tx.log("test", "broker.started", {"mark": "broken"})
        tx.repo.conn.execute(sa.text("SELECT * FROM no_such_table"))  # type: ignore[attr-defined]
        return "broken"

    results = queue_behind_a_held_batch(broker, {"a": mark("a"), "broken": broken, "b": mark("b")})
    assert (results["first"], results["a"], results["b"]) == ("first", "a", "b")
    assert isinstance(results["broken"], sa.exc.ProgrammingError | sa.exc.OperationalError)
    assert marks_logged(store) == ["first", "a", "b"]


def test_a_lost_connection_fails_the_whole_batch_and_stores_nothing_of_it(broker: Broker, store: SqlStore) -> None:
    """The store's connection dies under a filing (closed under it here, as a failover drops it):
    the transaction no longer answers, so the batch ends; every filing of it hears the store's
    error (the API answers 503) and none is written."""

    def cut(tx: Transaction) -> str:
        tx.log("test", "broker.started", {"mark": "cut"})
        tx.repo.conn.connection.dbapi_connection.close()  # type: ignore[attr-defined]
        tx.log("test", "broker.started", {"mark": "after the cut"})
        return "cut"

    results = queue_behind_a_held_batch(broker, {"a": mark("a"), "cut": cut, "b": mark("b")})
    assert results["first"] == "first"
    for k in ("a", "cut", "b"):
        assert store_down(results[k]), (k, results[k])  # answered 503 with Retry-After, never 500
    assert marks_logged(store) == ["first"]
