"""Engines for the store: SQLite (the embedded default) set up for safe concurrent use, or any
other SQLAlchemy URL (``postgresql+psycopg://…``) as is."""

from __future__ import annotations

import os
import select
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another one to commit before failing with "database is
locked". Filing transactions are short (milliseconds), so a wait this long means something is stuck."""

BEGIN_MODE = "deconflict_sqlite_begin"
"""Connection execution option naming the SQLite ``BEGIN`` mode: ``IMMEDIATE`` (the default, for
transactions that write) or ``DEFERRED`` (read-only)."""

DEFAULT_DB_FILE = "deconflict.sqlite"
"""The embedded store's file when neither the option, ``DECONFLICT_DB`` nor the config file names one."""

PG_CONNECT_ARGS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # ms: data unacknowledged this long ends the connection
}
"""libpq options of the store's PostgreSQL connections: a server that vanished without closing the
connection is given up after about 11 s idle (keepalives) or 10 s of unacknowledged data. A COMMIT
that waits on a synchronous standby on a live server keeps waiting (its server still answers the
probes): it returns when the standby confirms, or fails, and is never reported as done before."""


def default_sqlite_url(env: Mapping[str, str] | None = None) -> str:
    """The embedded default database: ``$DECONFLICT_DB`` (a URL, or a path to a SQLite file) when
    set, else ``deconflict.sqlite`` in the working directory.

    >>> default_sqlite_url({"DECONFLICT_DB": "postgresql+psycopg://broker@db/deconflict"})
    'postgresql+psycopg://broker@db/deconflict'
    """
    env = os.environ if env is None else env
    value = env.get("DECONFLICT_DB", "").strip()
    if "://" in value:
        return value
    path = Path(value or DEFAULT_DB_FILE).expanduser().resolve()
    return f"sqlite:///{path}"


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``. On SQLite every connection gets WAL journaling, foreign keys and a
    busy timeout, and transactions start with ``BEGIN IMMEDIATE`` so that writers queue for the
    write lock up front instead of failing when they upgrade from a read lock. On PostgreSQL a pooled
    connection the server closed meanwhile (a restart, a failover) is replaced when it is checked
    out, not used and answered 503 (:func:`_closed_by_server`), and every connection has TCP
    keepalives and a ``tcp_user_timeout``, so that a server that vanished (its host or link gone)
    fails its queries within seconds instead of leaving them hanging: :data:`PG_CONNECT_ARGS`, which
    ``kwargs["connect_args"]`` may override."""
    if sa.make_url(url).get_backend_name() == "postgresql":
        kwargs["connect_args"] = {**PG_CONNECT_ARGS, **kwargs.get("connect_args", {})}
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _setup_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _setup_postgresql(engine)
    return engine


def _closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection has something to read: the server closed it (end of
    stream) or said goodbye (``FATAL: terminating connection``). An idle connection of the pool is
    sent nothing else (it does not ``LISTEN``). One ``poll`` of its socket, no round trip: a
    ``pool_pre_ping`` costs a query per checkout (0.4-0.5 ms on a loaded 2-core machine, against
    0.01-0.04 ms for the checkout)."""
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception:  # psycopg raises when the connection is already known to be bad
        return True
    poller = select.poll()  # not select.select(): a busy server's descriptors pass 1024
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


COMMIT_WARNINGS = "deconflict_commit_warnings"
"""Key of a PostgreSQL connection's ``info``: the warnings the server sent since the last COMMIT
began (:func:`commit_warnings`)."""


def commit_warnings(conn: sa.Connection) -> list[str]:
    """The warnings PostgreSQL sent with the last COMMIT on ``conn`` (empty on SQLite). A COMMIT
    whose wait for the synchronous standby was cancelled returns with one, the transaction kept on
    the primary alone ("canceling wait for synchronous replication …")."""
    found: list[str] = conn.info.get(COMMIT_WARNINGS, [])
    return list(found)


def _setup_postgresql(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect_warnings(dbapi_connection: Any, record: Any) -> None:
        warnings: list[str] = []
        record.info[COMMIT_WARNINGS] = warnings

        def keep(diag: Any) -> None:
            if diag.severity_nonlocalized == "WARNING":
                warnings.append(f"{diag.message_primary} ({diag.message_detail or 'no detail'})")

        dbapi_connection.add_notice_handler(keep)

    @event.listens_for(engine, "commit")
    def _on_commit(conn: sa.Connection) -> None:  # before the driver's COMMIT: what follows is its own
        warnings = conn.info.get(COMMIT_WARNINGS)
        if warnings is not None:
            warnings.clear()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if _closed_by_server(dbapi_connection):
            raise sa.exc.DisconnectionError("the server closed the connection while it was pooled")

    # A notice body, its stored version and its logged event are each as long as the notice (100 kB
    # for the heaviest the limits allow), written under the filing lock. PostgreSQL compresses such
    # values with pglz by default: an insert of a 110 kB body took 2.75 ms, 0.38 ms with lz4 (PostgreSQL
    # 14 and later, where built with it). Values already stored are read either way.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        try:
            cur.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
            row = cur.fetchone()
            if row is not None and row[0]:
                cur.execute("SET default_toast_compression = lz4")
        finally:
            cur.close()
        dbapi_connection.commit()


def _setup_sqlite(engine: sa.Engine) -> None:
    # As the SQLAlchemy pysqlite docs describe: stop the driver from issuing its own BEGIN (it
    # delays it and never uses IMMEDIATE), then emit BEGIN ourselves when SQLAlchemy begins.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS:d}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")
