"""One ``deconflict serve`` among several on one PostgreSQL: what this process shares with the
others and what it runs only while it leads.

- Every replica serves the API and its own live streams. Its listener (:mod:`~deconflict.adapters.sql.notify`)
  wakes them when another replica commits events, as the replica's own commits do.
- The leader (:mod:`~deconflict.adapters.sql.leader`) alone runs the jobs that must run once per
  broker: webhook deliveries (so each event is POSTed by one process, in order), the tactical
  cycle, the hotline's escalation and the ending of past notices. When it stops leading, its jobs
  are told to stop and are waited for; when it shuts down, it lets go of the lock only after that.

On SQLite there is one process: it always leads and hears only itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from deconflict.adapters.sql.leader import AdvisoryLeader, SoleLeader
from deconflict.adapters.sql.notify import EventListener
from deconflict.adapters.sql.store import SqlStore
from deconflict.services.broker import Broker

log = logging.getLogger(__name__)

Job = Callable[[threading.Event], None]
"""A loop that runs until the event it is given is set."""
LOOK_S = 0.1
"""How often the jobs' supervisor looks at whether this replica leads."""
FIRST_TRY_S = 10.0
"""How long start-up waits for the first try for the leadership (so a lone replica leads from its
first request on)."""
JOIN_S = 5.0
"""How long a job that was told to stop is waited for."""


class Replica:
    """Leadership, the listener, and the leader's jobs, for one broker process."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        store = broker.store
        self.listener: EventListener | None = None
        self.leadership: AdvisoryLeader | SoleLeader
        if isinstance(store, SqlStore) and store.shared:
            self.leadership = AdvisoryLeader(store.connect_args(), store.replica)
            self.listener = EventListener(store.connect_args(), store.replica, self.wake)
        else:
            self.leadership = SoleLeader(store.replica if isinstance(store, SqlStore) else "local")
        self._stop = threading.Event()
        self._release = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lead: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.leadership.replica

    @property
    def leading(self) -> bool:
        return self.leadership.leading

    def wake(self) -> None:
        """Wake every local stream and the webhook deliverer (another replica committed events)."""
        for wake in list(self.broker.listeners):
            try:
                wake()
            except Exception:  # a stream that is closing: the others must still be woken
                log.exception("waking a local listener failed")

    def start(self, jobs: Sequence[tuple[str, Job]]) -> None:
        """Start leadership, the listener, and the supervisor that runs ``jobs`` while this leads."""
        lead = self.leadership
        self._threads = [threading.Thread(target=lead.run, args=(self._release,), name="deconflict-leader")]
        if self.listener is not None:
            listen = self.listener.run
            self._threads.append(threading.Thread(target=listen, args=(self._stop,), name="deconflict-listen"))
        if jobs:
            self._lead = threading.Thread(target=self._run_jobs, args=(list(jobs),), name="deconflict-lead")
            self._threads.append(self._lead)
        for t in self._threads:
            t.daemon = True
            t.start()
        self.leadership.tried.wait(FIRST_TRY_S)

    def close(self) -> None:
        """Stop the jobs and wait for them, then let go of the leadership (so that the next leader
        never runs them alongside this one), and stop listening."""
        self._stop.set()
        if self._lead is not None:
            self._lead.join(JOIN_S * 2)
        self._release.set()
        for t in self._threads:
            t.join(JOIN_S)

    def _run_jobs(self, jobs: list[tuple[str, Job]]) -> None:
        while not self._stop.is_set():
            if not self.leading:
                self._stop.wait(LOOK_S)
                continue
            term = threading.Event()
            threads = [threading.Thread(target=job, args=(term,), name=name, daemon=True) for name, job in jobs]
            for t in threads:
                t.start()
            log.info("replica %s runs %s", self.name, ", ".join(name for name, _ in jobs))
            while self.leading and not self._stop.is_set():
                self._stop.wait(LOOK_S)
            term.set()
            for t in threads:
                t.join(JOIN_S)
            if not self._stop.is_set():
                log.warning("replica %s no longer leads: its jobs stopped", self.name)
