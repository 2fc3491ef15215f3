"""Which replica leads: a PostgreSQL session-level advisory lock on a connection of its own.

The leader runs what must run once per broker (the tactical cycle, the hotline's escalation,
webhook deliveries, ending past notices). Every replica tries ``pg_try_advisory_lock`` every
``retry_s``; the one that gets it leads for as long as its session lives. PostgreSQL releases the
lock when that session ends: at once when the leader's process dies (its socket closes), within
the TCP keepalive time (about 10 s, set on both ends) when its host or network vanishes. The leader
checks its session every ``retry_s`` and stops leading as soon as the check fails, before another
replica can have taken over in the common case (the lock outlives a broken session on the server).

The lock's key is worked out by the server from the database and the schema, so brokers on
different schemas of one database each have their own leader. On SQLite there is one process:
:class:`SoleLeader` always leads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

from deconflict.adapters.sql.notify import connect

log = logging.getLogger(__name__)

KEY_SQL = "hashtextextended('deconflict-leader.' || current_database() || '.' || current_schema(), 0)"
RETRY_S = 1.0
"""How often a follower tries to take the lock, and the leader checks its session."""


class SoleLeader:
    """The only process on a store that has no other: always leads."""

    def __init__(self, replica: str) -> None:
        self.replica = replica
        self.tried = threading.Event()
        self.tried.set()

    @property
    def leading(self) -> bool:
        return True

    def run(self, stop: threading.Event) -> None:
        """Nothing to do (kept so every leadership runs the same way)."""


class AdvisoryLeader:
    """Leadership by a session-level advisory lock (see the module's text)."""

    def __init__(self, connect_args: tuple[tuple[Any, ...], dict[str, Any]], replica: str, retry_s: float = RETRY_S):
        self._connect_args = connect_args
        self.replica = replica
        self._retry_s = retry_s
        self._leading = threading.Event()
        self.tried = threading.Event()
        """Set once the first try for the lock is over (taken or not, or failed)."""
        self.terms = 0
        """How many times this replica became the leader."""

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    def run(self, stop: threading.Event) -> None:
        """Try for the lock, and hold it, until ``stop`` is set (its own thread). Leaving closes the
        session, which hands the lock to the next replica that asks."""
        while not stop.is_set():
            try:
                with connect(self._connect_args, f"deconflict {self.replica}") as conn:
                    # The server too gives up on a vanished client within seconds, freeing the lock.
                    conn.execute("SET tcp_keepalives_idle = 5")
                    conn.execute("SET tcp_keepalives_interval = 2")
                    conn.execute("SET tcp_keepalives_count = 3")
                    self._hold(conn, stop)
            except psycopg.Error as e:
                if self._leading.is_set():
                    log.warning("replica %s stops leading: %s", self.replica, e)
                else:
                    log.warning("leadership: %s; trying again", e)
            except Exception:  # never end the thread: no replica would lead again after this one
                log.exception("leadership failed; trying again")
            finally:
                self._leading.clear()
                self.tried.set()
            stop.wait(self._retry_s)

    def _hold(self, conn: psycopg.Connection[Any], stop: threading.Event) -> None:
        while not stop.is_set():
            if self._leading.is_set():
                conn.execute("SELECT 1")  # the lock lasts as long as this session: is it still there?
            else:
                row = conn.execute(f"SELECT pg_try_advisory_lock({KEY_SQL})").fetchone()
                if row is not None and row[0]:
                    self.terms += 1
                    self._leading.set()
                    log.info("replica %s leads", self.replica)
            self.tried.set()
            stop.wait(self._retry_s)
