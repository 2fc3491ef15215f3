"""The schema comes from the migrations only, upgrading is idempotent, SQLite runs in WAL mode with
immediate write locks, and look-ups seek the (bucket, cell) index instead of scanning."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlstore_builders import Theater, circle

from deconflict.adapters.sql import SqlStore, default_sqlite_url, migrate, open_store
from deconflict.adapters.sql.engine import SQLITE_BUSY_TIMEOUT_MS
from deconflict.adapters.sql.lookup import candidate_statement
from deconflict.adapters.sql.tables import metadata
from deconflict.domain.audit import BrokerKey, sign_receipt
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.volumes import Notice
from deconflict.services.filing import NoticeService

TABLES = {
    "notices",
    "notice_versions",
    "volumes",
    "volume_cells",
    "conflicts",
    "filing_lock",
    "parties",
    "credentials",
    "events",
    "receipts",
    "idempotency_keys",
    "conflict_acks",
    "webhooks",
    "disclosure_rules",
    "alerts",
    "alert_parties",
    "messages",
    "message_recipients",
    "heartbeat",
}


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_the_schema_and_is_idempotent(db_url: str) -> None:
    assert migrate.current_revision(db_url) is None
    migrate.upgrade(db_url)
    assert table_names(db_url) == TABLES | {"alembic_version"}
    assert migrate.current_revision(db_url) == migrate.head_revision() == "0008"
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == "0008"
    engine = sa.create_engine(db_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id, n FROM filing_lock")).all() == [(1, 0)]
    engine.dispose()


def test_the_migrations_build_exactly_the_tables_the_store_uses(db_url: str) -> None:
    migrate.upgrade(db_url)
    engine = sa.create_engine(db_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


def test_the_store_creates_no_tables_by_itself(db_url: str) -> None:
    with SqlStore(db_url) as store:
        with pytest.raises(sa.exc.DBAPIError), store.begin() as repo:
            repo.get("anything")
        assert table_names(db_url) == set()
        store.ensure_schema()
        with store.begin() as repo:
            assert repo.get("anything") is None


def test_open_store_migrates_the_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DECONFLICT_DB", raising=False)
    assert default_sqlite_url() == f"sqlite:///{tmp_path / 'deconflict.sqlite'}"
    with open_store() as store, store.begin() as repo:
        assert repo.list_notices() == []
    assert (tmp_path / "deconflict.sqlite").exists()
    assert default_sqlite_url({"DECONFLICT_DB": str(tmp_path / "x.db")}) == f"sqlite:///{tmp_path / 'x.db'}"
    pg = "postgresql+psycopg://broker@db:5432/deconflict"
    assert default_sqlite_url({"DECONFLICT_DB": pg}) == pg


def test_sqlite_runs_in_wal_mode_and_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite"
    with open_store(f"sqlite:///{path}") as store:
        with store.begin() as repo:
            pragmas = {p: repo.conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "foreign_keys")}
            assert pragmas == {"journal_mode": "wal", "foreign_keys": 1}
            assert repo.conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")  # held since BEGIN, before this transaction wrote
            assert other.execute("SELECT count(*) FROM notices").fetchone() == (0,)  # WAL: readers go on
        with store.begin(write=False):
            other.execute("BEGIN IMMEDIATE")  # a read transaction leaves the write lock free
            other.execute("ROLLBACK")
        other.close()


def _plan(conn: sa.Connection, stmt: sa.Select[object], params: dict[str, object]) -> str:
    text = str(stmt.params(**params).compile(conn.engine, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return "\n".join(str(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {text}"))
    return "\n".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {text}"))


def test_sqlite_look_ups_seek_the_cell_index(tmp_path: Path, clock: Callable[[], float]) -> None:
    with open_store(f"sqlite:///{tmp_path / 'plan.sqlite'}", clock=clock) as store:
        svc = NoticeService(store, clock)
        theater = Theater(seed=3)
        for i in range(60):
            svc.file(theater.notice(f"n{i}"))
        probe = Notice(party="red", volumes=(circle(35.0, 36.5),))
        with store.begin() as repo:
            repo.conn.exec_driver_sql("ANALYZE")
            pairs = candidate_statement(probe.volumes[0], SeparationPolicy(), probe, 3600.0, 500.0)
            assert len(pairs) == 1  # one statement for an ordinary look-up
            plan = _plan(repo.conn, *pairs[0])
    assert "MULTI-INDEX OR" in plan, plan
    seeks = [line for line in plan.splitlines() if "volume_cells" in line]
    assert seeks and all(
        line == "SEARCH volume_cells USING COVERING INDEX ix_volume_cells_bucket_cell (bucket=? AND cell>? AND cell<?)"
        for line in seeks
    ), plan
    assert "SEARCH volumes USING INDEX" in plan, plan  # then each hit by primary key
    assert not re.search(r"SCAN (volume_cells|volumes)\b", plan), plan


FILL_POSTGRES = [
    "INSERT INTO notices SELECT 'n' || i, 'p' || (i % 5), 'activity', 1, 'accepted', false, 0, 0, 1, '{}', 0, 0"
    " FROM generate_series(1, 5000) AS i",
    "INSERT INTO volumes SELECT id, 0, 0, 1, 0, 100, 'W84', 35, 36, 1000, party, false, true FROM notices",
    "INSERT INTO volume_cells SELECT 'n' || (1 + i % 5000), 0, 66800 + i % 40, (random() * 1.8e19 - 9.0e18)::bigint"
    " FROM generate_series(1, 100000) AS i ON CONFLICT DO NOTHING",
    "ANALYZE",
]
"""5000 volumes under 100,000 random cell keys in 40 buckets: enough rows for the planner to care."""


@pytest.mark.postgres
def test_postgres_look_ups_seek_the_cell_index(pg_url: str) -> None:
    """With enough rows for the planner to care (statistics from ANALYZE), the probes are index
    scans on (bucket, cell), never a sequential scan of the cell table."""
    with open_store(pg_url) as store, store.begin() as repo:
        conn = repo.conn
        for sql in FILL_POSTGRES:
            conn.execute(sa.text(sql))
        probe = Notice(party="red", volumes=(circle(35.0, 36.5),))
        plan = _plan(conn, *candidate_statement(probe.volumes[0], SeparationPolicy(), probe, 3600.0, 500.0)[0])
    assert re.search(r"Index (Only )?Scan (on|using) ix_volume_cells_bucket_cell", plan), plan
    assert "Seq Scan on volume_cells" not in plan, plan


def test_upgrading_from_0001_keeps_conflicts_and_marks_which_side_is_the_site(db_url: str) -> None:
    """A store made before the broker revision: its conflicts learn which side is the protected site."""
    migrate.upgrade(db_url, "0001")
    site = Notice("sy-gcaa", (circle(35.0, 36.0),), id="hospital", kind="protected-site", protected=True)
    other = Notice("ru-vks", (circle(35.01, 36.0),), id="vks-1")
    plain = Notice("us-af", (circle(35.02, 36.0),), id="us-1")
    engine = sa.create_engine(db_url, poolclass=sa.NullPool)
    rows = []
    for i, (a, b) in enumerate([(other, site), (site, plain), (other, plain)]):
        rows.append(
            {
                "id": f"c{i}",
                "notice_a": a.id,
                "party_a": a.party,
                "version_a": 1,
                "volume_a": 0,
                "notice_b": b.id,
                "party_b": b.party,
                "version_b": 1,
                "volume_b": 0,
                "protected_site": a.protected or b.protected,
                "detail": "{}",
                "state": "open",
                "detected_at": 0.0,
                "updated_at": 0.0,
            }
        )
    with engine.begin() as conn:
        for n in (site, other, plain):
            conn.execute(
                sa.text(
                    "INSERT INTO notices (id, party, kind, version, state, protected, time_start, time_end, body, "
                    "created_at, updated_at) VALUES (:id, :party, :kind, 1, 'accepted', :protected, 0, 1, '{}', 0, 0)"
                ),
                {"id": n.id, "party": n.party, "kind": n.kind, "protected": n.protected},
            )
        conn.execute(
            sa.text(
                "INSERT INTO conflicts (id, notice_a, party_a, version_a, volume_a, notice_b, party_b, version_b, "
                "volume_b, protected_site, detail, state, detected_at, updated_at) VALUES (:id, :notice_a, :party_a, "
                ":version_a, :volume_a, :notice_b, :party_b, :version_b, :volume_b, :protected_site, :detail, "
                ":state, :detected_at, :updated_at)"
            ),
            rows,
        )
    migrate.upgrade(db_url)
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT id, protected_side FROM conflicts ORDER BY id")).all())
    engine.dispose()
    assert got == {"c0": "b", "c1": "a", "c2": None}


def test_upgrading_from_0005_gives_every_receipt_the_seq_its_body_signs(db_url: str) -> None:
    """Receipts stored before 0006 learn their log_seq from their own signed body, and are then
    read in pages of the log."""
    migrate.upgrade(db_url, "0005")
    key = BrokerKey.generate()
    made = [
        sign_receipt(
            key,
            notice_id=f"n{i}",
            version=1,
            party=("us-af", "ru-vks")[i % 2],
            content_hash="ab",
            received_at=5.0,
            log_seq=10 * i + 3,
            log_hash="cd",
        )
        for i in range(2500)  # more than one batch of the migration
    ]
    engine = sa.create_engine(db_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO receipts (notice_id, version, party, body) VALUES (:n, 1, :p, :b)"),
            [{"n": r.notice_id, "p": r.party, "b": json.dumps(r.to_json(), sort_keys=True)} for r in made],
        )
    migrate.upgrade(db_url)
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT notice_id, log_seq FROM receipts")).all())
    engine.dispose()
    assert got == {r.notice_id: r.log_seq for r in made}
    store = SqlStore(db_url)
    try:
        with store.begin(write=False) as repo:
            page = repo.receipts_page("ru-vks", 100, 200, 3)
            everything = repo.receipts_page(None, 0, 10**9, 10_000)
    finally:
        store.close()
    assert [r.log_seq for r in page] == [113, 133, 153]  # ru-vks's, after 100, in log order
    assert [r.notice_id for r in everything] == [r.notice_id for r in made]
