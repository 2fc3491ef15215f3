"""Group commit: filings that arrive while another holds the filing lock are written together, in
one store transaction, and committed once.

Every filing holds the filing lock for its writes and then pays for its own COMMIT: on SQLite a
sync of the write-ahead log, on PostgreSQL a WAL flush (and, in a cluster, the synchronous
standby's answer). With many clients most of them wait for the lock meanwhile, and on SQLite they
wait by sleeping and retrying, so the slowest wait seconds. Here the waiting filings queue in
arrival order instead; one thread (the *leader*, the first to find no batch running) takes the lock
once, runs each queued filing in a savepoint of its own, and commits them all. A filing refused
under the lock (a stale version, a spent probe budget) rolls back its savepoint alone; the others
are kept.

Nobody is told *filed* before the COMMIT returned: every answer of a batch is released after it,
and if the COMMIT fails every filing of the batch fails with that error (none of them was filed,
and an ``Idempotency-Key`` retry files it again). The order of the log is the order of the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from deconflict.domain.parties import Party

if TYPE_CHECKING:
    from deconflict.services.transaction import BrokerCore, Transaction

T = TypeVar("T")

MAX_BATCH = 64
"""Most filings in one transaction: bounds how long the first of them waits for the last."""


@dataclass(eq=False)  # each waiter is itself: compared and removed by identity
class Waiting(Generic[T]):
    """One write waiting in the queue, and once its batch ran, its value or error."""

    caller: Party | None
    work: Callable[[Transaction], T]
    value: T | None = None
    error: BaseException | None = None
    finished: bool = False
    queued_at: float = field(default_factory=time.perf_counter)
    tx: Transaction | None = field(default=None, repr=False)


class GroupCommit:
    """Runs writes of the filing path through one queue (:meth:`run`) so that those waiting for the
    lock at the same moment share a transaction and its COMMIT."""

    def __init__(self, core: BrokerCore, max_batch: int = MAX_BATCH) -> None:
        self._core = core
        self._max = max_batch
        self._cond = threading.Condition()
        self._queue: list[Waiting[Any]] = []
        self._leading = False

    def run(self, caller: Party | None, work: Callable[[Transaction], T]) -> T:
        """``work(tx)`` under the filing lock, as :meth:`BrokerCore.write` would run it, possibly in
        one transaction with other filings; its value once the transaction committed, or the
        exception it (or the COMMIT) raised."""
        w: Waiting[T] = Waiting(caller, work)
        with self._cond:
            self._queue.append(w)
            while self._leading and not w.finished:
                self._cond.wait()
            lead = not w.finished
            if lead:
                self._leading = True
        if lead:
            try:
                while not w.finished:  # batches in arrival order until this one's is done
                    with self._cond:
                        batch = self._queue[: self._max]
                        del self._queue[: len(batch)]
                    try:
                        self._core.write_batch(batch)
                    except BaseException as e:  # an interrupt: write_batch gives every other error to its batch
                        for x in batch:
                            if x.error is None:
                                x.value, x.error = None, e
                        with self._cond:
                            self._queue = [x for x in self._queue if x is not w]  # nobody will wait for it
                        raise
                    finally:
                        with self._cond:
                            for x in batch:
                                x.finished = True
                            self._cond.notify_all()
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if w.error is not None:
            raise w.error
        return w.value  # type: ignore[return-value]  # set when there is no error
