"""The SQL store: the filing ports over SQLAlchemy Core, on SQLite (the embedded default) or
PostgreSQL. One ``begin()`` is one database transaction: it commits when the block ends and rolls
back on any exception, so a filing and the conflicts it finds are written together or not at all.
The operations inside one are :class:`~deconflict.adapters.sql.repository.SqlRepository`'s.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from deconflict.adapters.sql import migrate
from deconflict.adapters.sql.codec import EncodedAhead, NoticeCache, detail_json, volumes_body
from deconflict.adapters.sql.engine import BEGIN_MODE, commit_warnings, default_sqlite_url, make_engine
from deconflict.adapters.sql.repository import SqlRepository
from deconflict.domain.errors import CommitUnconfirmed
from deconflict.domain.strategic import VolumeConflict
from deconflict.domain.volumes import Notice
from deconflict.services.ports import BrokerRepository, BrokerUnitOfWork, Clock, Repository, UnitOfWork

NOTICE_CACHE = 4096
"""Decoded notices kept per store (see :class:`~deconflict.adapters.sql.codec.NoticeCache`)."""
AHEAD_NOTICES = 64
"""Notices' volume texts made before the filing lock kept per store (up to 100 kB each; see
:class:`~deconflict.adapters.sql.codec.EncodedAhead`): more than the filings under way at once."""
AHEAD_DETAILS = 4096
"""Conflict details' texts made before the filing lock kept per store (about 1 kB each)."""


class SqlStore:
    """Notices and conflicts in a SQL database: the :class:`~deconflict.services.ports.UnitOfWork`
    for ``sqlite:///path/deconflict.sqlite`` or ``postgresql+psycopg://user@host/db``.

    The schema comes from the migrations only: call :meth:`ensure_schema` (or
    :func:`deconflict.adapters.sql.migrate.upgrade`) before first use.
    """

    def __init__(self, url: str, clock: Clock = time.time, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._clock = clock
        self._decode: Callable[[str], Notice] = NoticeCache(NOTICE_CACHE)
        self._ahead = (EncodedAhead(AHEAD_NOTICES), EncodedAhead(AHEAD_DETAILS))
        self.replica = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        """This store's name among the replicas on one database (in notifications, logs, metrics)."""
        self.shared = self.engine.dialect.name == "postgresql"
        """Whether other processes may serve the same store (PostgreSQL): then every commit that
        appends events notifies them (:mod:`~deconflict.adapters.sql.notify`)."""

    def connect_args(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The driver's arguments for a connection of one's own to this store (the listener's, the
        leader's), as the engine would open it."""
        args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        return tuple(args), dict(kwargs)

    def encode_ahead(self, notice: Notice, details: Iterable[VolumeConflict]) -> None:
        """Before the filing lock: make the texts :meth:`SqlRepository.add` (or ``replace``) and
        ``add_conflicts`` will write for ``notice``'s volumes and these conflict details, so that
        under the lock they are found made (4 ms of a filing of 2000 vertices and 50 conflicts)."""
        volumes, conflicts = self._ahead
        volumes.put(notice.volumes, volumes_body(notice))
        for d in details:
            conflicts.put(d, detail_json(d))

    @contextmanager
    def begin(self, write: bool = True) -> Iterator[SqlRepository]:
        """One transaction: commits when the block ends, rolls back if it raises. ``write=False``
        starts a SQLite transaction without taking the write lock (reads only)."""
        with self.engine.connect() as conn:
            if not write:
                conn.execution_options(**{BEGIN_MODE: "DEFERRED"})
            with conn.begin():
                repo = SqlRepository(conn, self._clock, self._decode, self._ahead)
                if self.shared:
                    repo.announce_as = self.replica
                yield repo
            warned = commit_warnings(conn)
            if warned:  # committed on the primary, perhaps nowhere else: never reported as done
                raise CommitUnconfirmed(
                    "the database did not confirm the COMMIT (" + "; ".join(warned) + "): it may stand on the "
                    "primary alone and be lost in a failover; try again with the same Idempotency-Key"
                )

    def ensure_schema(self) -> None:
        """Create or migrate the schema to the newest revision (idempotent)."""
        migrate.upgrade(self.engine)

    def close(self) -> None:
        """Close the store's pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_store(url: str | None = None, *, upgrade: bool = True, clock: Clock = time.time) -> SqlStore:
    """A store for ``url`` (default: :func:`default_sqlite_url`), migrated to the newest schema
    unless ``upgrade`` is false."""
    store = SqlStore(url or default_sqlite_url(), clock=clock)
    if upgrade:
        store.ensure_schema()
    return store


if TYPE_CHECKING:  # mypy proves the store provides the ports

    def _provides_ports(
        store: SqlStore, repo: SqlRepository
    ) -> tuple[UnitOfWork, Repository, BrokerUnitOfWork, BrokerRepository]:
        return store, repo, store, repo
