"""Backup and restore of a PostgreSQL store as docs/deploy.md describes it: ``pg_dump`` of the broker's
schema taken while a party files, more filings after it, ``pg_restore`` into a fresh database; the
restored log passes ``audit verify`` and is a prefix of the original, and a broker serves from it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pg_support import pg_base_url, pg_schema
from replica_support import EXE, WAIT_S, add_parties, notice_now, start_replica

from deconflict.adapters.keys import load_existing_key
from deconflict.domain.parties import Role

pytestmark = pytest.mark.postgres


def libpq(url: str) -> tuple[str, str]:
    """The libpq connection string of a SQLAlchemy URL, and its schema (from ``-csearch_path``)."""
    u = sa.make_url(url)
    options = str(u.query.get("options", ""))
    schema = options.removeprefix("-csearch_path=") or "public"
    conninfo = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}"
    return conninfo, schema


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database on the same server (dropped afterwards): the restore's target."""
    if os.environ.get("DECONFLICT_SKIP_POSTGRES") == "1":
        pytest.skip("DECONFLICT_SKIP_POSTGRES=1")
    base = sa.make_url(pg_base_url())
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


def export(url: str, workdir: Path, out: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_")}
    r = subprocess.run(
        [EXE, "audit", "export", "--db", url, "--out", str(out)], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    verify = subprocess.run(
        [EXE, "audit", "verify", str(out), "--key", public_key(workdir)], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def public_key(workdir: Path) -> str:
    return load_existing_key(workdir / "deconflict-broker.key").public_key_b64()


def test_a_dump_taken_while_filing_restores_to_a_prefix_that_verifies(tmp_path: Path, fresh_database: str) -> None:
    with pg_schema() as url:
        replica = start_replica(url, tmp_path)
        try:
            token = add_parties(url, [("us-af", Role.PARTY)])["us-af"]
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=replica.url, headers=auth, timeout=WAIT_S) as c:
                for i in range(5):
                    assert c.post("/v1/notices", json=notice_now(10 + i, 20, f"n-{i}")).status_code == 201
                filing, more = threading.Event(), threading.Event()

                def keep_filing() -> None:
                    i = 0
                    while not more.is_set():
                        assert c.post("/v1/notices", json=notice_now(30, 20 + i * 0.2, f"m-{i}")).status_code == 201
                        filing.set()
                        i += 1

                t = threading.Thread(target=keep_filing)
                t.start()
                assert filing.wait(WAIT_S)
                conninfo, schema = libpq(url)
                dump = tmp_path / "broker.dump"
                r = subprocess.run(
                    ["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", conninfo],
                    capture_output=True,
                    text=True,
                )
                more.set()
                t.join(WAIT_S)
                assert r.returncode == 0, r.stderr
                for i in range(5):  # after the backup: not in it
                    assert c.post("/v1/notices", json=notice_now(50 + i, 20, f"late-{i}")).status_code == 201
            original = export(url, tmp_path, tmp_path / "original.json")
        finally:
            replica.stop()

    target, _ = libpq(fresh_database)
    r = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    restored_url = sa.make_url(fresh_database).update_query_dict({"options": f"-csearch_path={schema}"})
    restored_url_text = restored_url.render_as_string(hide_password=False)
    restored = export(restored_url_text, tmp_path, tmp_path / "restored.json")

    head, full = restored["head"]["seq"], original["head"]["seq"]
    assert 5 < head < full - 5  # the dump holds the first filings and some of those made during it
    assert restored["events"] == original["events"][:head]
    # The restored store serves: a broker starts on it with the same key and files after the prefix.
    replica = start_replica(restored_url_text, tmp_path)
    try:
        assert httpx.get(f"{replica.url}/readyz", timeout=WAIT_S).status_code == 200
    finally:
        replica.stop()
