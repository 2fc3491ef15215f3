"""Replicas on one PostgreSQL hear each other's events: LISTEN/NOTIFY.

A transaction that appends events to the log also sends ``NOTIFY`` (:func:`announce`, from
:meth:`~deconflict.adapters.sql.events.EventRecords.append_events`); PostgreSQL delivers it when,
and only if, that transaction commits, in commit order. Each process keeps one connection of its
own LISTENing (:class:`EventListener`, on its own thread) and wakes its local live streams and its
webhook deliverer when another replica's notification arrives. A notification is only a nudge:
what was appended is read from the log, so a lost one (a reconnect, a full queue) costs at most
the ``events_poll_s`` the streams still poll at.

The channel is named after the database and the schema the connection works in, so brokers (or
tests) on different schemas of one database do not wake each other. SQLite has no such thing: it
stays one process, woken in process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql

log = logging.getLogger(__name__)

CHANNEL_SQL = "'deconflict_' || md5(current_database() || '.' || current_schema())"
"""The channel, worked out by the server from the session's own database and schema (43
characters: PostgreSQL's identifiers stop at 63)."""
RECONNECT_S = 1.0
"""How long the listener waits before connecting again after its connection failed."""
WAIT_S = 0.5
"""The longest the listener waits for a notification before looking at ``stop`` again."""


def announce(conn: sa.Connection, replica: str, seq: int) -> None:
    """Inside the transaction that appended events up to ``seq``: notify the other replicas (sent
    when the transaction commits, never if it rolls back)."""
    conn.execute(sa.text(f"SELECT pg_notify({CHANNEL_SQL}, :payload)"), {"payload": f"{replica} {seq}"})


def connect(connect_args: tuple[tuple[Any, ...], dict[str, Any]], name: str) -> psycopg.Connection[Any]:
    """A connection of its own (outside the pool) with the store's settings, in autocommit, named
    ``name`` in ``pg_stat_activity``, and with TCP keepalives so that a peer that vanished without
    closing the connection is noticed within seconds."""
    args, kwargs = connect_args
    kwargs = {
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": 10_000,  # ms: a query to a vanished server fails rather than hangs
        "connect_timeout": 10,
        **kwargs,
        "application_name": name,
        "autocommit": True,
    }
    return psycopg.connect(*args, **kwargs)


class EventListener:
    """One process's ear: LISTENs on its own connection and calls ``wake`` for every notification
    another replica sent (its own commits already wake the process directly). After a failure it
    connects again, and wakes once, since notifications sent in between are lost."""

    def __init__(
        self, connect_args: tuple[tuple[Any, ...], dict[str, Any]], replica: str, wake: Callable[[], None]
    ) -> None:
        self._connect_args = connect_args
        self._replica = replica
        self._wake = wake
        self.listening = threading.Event()
        """Set while the connection LISTENs (the tests wait for it)."""
        self.heard = 0
        """Notifications from other replicas so far."""
        self.last_seq = 0
        """The log position the last of them announced."""

    def run(self, stop: threading.Event) -> None:
        """Listen until ``stop`` is set (the listener's own thread)."""
        first = True
        while not stop.is_set():
            try:
                with connect(self._connect_args, f"deconflict-listen {self._replica}") as conn:
                    channel = conn.execute(f"SELECT {CHANNEL_SQL}").fetchone()
                    assert channel is not None
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel[0])))
                    self.listening.set()
                    if not first:
                        self._wake()  # whatever was sent while we were away
                    first = False
                    self._listen(conn, stop)
            except psycopg.Error as e:
                log.warning("event listener: %s; the streams poll until it is back", e)
            except Exception:  # never end the thread: the streams would be left to their poll for good
                log.exception("event listener failed; connecting again")
            finally:
                self.listening.clear()
            stop.wait(RECONNECT_S)

    def _listen(self, conn: psycopg.Connection[Any], stop: threading.Event) -> None:
        while not stop.is_set():
            for n in conn.notifies(timeout=WAIT_S):  # each as it arrives, until WAIT_S passes
                if not n.payload.startswith(self._replica + " "):
                    self.heard += 1
                    self.last_seq = int(n.payload.rpartition(" ")[2])
                    self._wake()
