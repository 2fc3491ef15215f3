"""Stores for the integration tests: every store test runs on a fresh SQLite file and on a fresh
PostgreSQL schema of its own (never a shared, truncated database).

PostgreSQL comes from ``DECONFLICT_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). When it cannot be reached the PostgreSQL
tests fail; set ``DECONFLICT_SKIP_POSTGRES=1`` to skip them instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_support import pg_schema

from clocks import TickingClock
from deconflict.adapters.sql import SqlStore


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections see only a schema created for this test (dropped afterwards)."""
    with pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no schema yet) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'deconflict.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def clock() -> TickingClock:
    """Broker time that moves one second per reading, from 2015-09-30T00:00:00Z."""
    return TickingClock(1_443_571_200.0)


@pytest.fixture
def open_sql(db_url: str) -> Iterator[Callable[..., SqlStore]]:
    """Opens more stores (own engines) on the test's database, closing them afterwards."""
    opened: list[SqlStore] = []

    def _open(clock: Callable[[], float] | None = None) -> SqlStore:
        s = SqlStore(db_url, clock=clock) if clock is not None else SqlStore(db_url)
        opened.append(s)
        return s

    yield _open
    for s in opened:
        s.close()


@pytest.fixture
def store(db_url: str, clock: TickingClock, open_sql: Callable[..., SqlStore]) -> SqlStore:
    """A migrated, empty store."""
    s = open_sql(clock)
    s.ensure_schema()
    return s


@pytest.fixture
def api(db_url: str) -> Iterator[Any]:
    """A running broker on this test's database with the cast of parties of ``api_support``."""
    from api_support import start_api

    a = start_api(db_url)
    yield a
    a.close()


@pytest.fixture
def sbs() -> Iterator[Callable[..., Any]]:
    """``sbs(*sessions)`` starts a fake dump1090 SBS-1 server (``test_feed_cli.SbsServer``) that
    plays each session to one connection; every server is closed after the test."""
    from test_feed_cli import SbsServer

    servers: list[SbsServer] = []

    def start(*sessions: Any) -> SbsServer:
        servers.append(SbsServer(list(sessions)))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
