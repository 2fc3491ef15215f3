"""Commands that read the store never create one, never migrate one and never create the signing
key: with nothing there they exit 2 saying where they looked and how to make a store. Commands that
set a broker up (``db upgrade``, ``party add``, ``demo``, ``file``, ``serve``) still create it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from deconflict.adapters.sql import migrate
from deconflict.cli import app

runner = CliRunner()

READS: list[list[str]] = [
    ["notices"],
    ["conflicts"],
    ["conflicts", "--all", "--json"],
    ["report"],
    ["report", "--format", "json"],
    ["party", "list"],
    ["party", "list", "--json"],
    ["disclosure", "list"],
    ["audit", "export"],
    # changes to records that must already be there: nothing to change in a store that is not
    ["party", "revoke", "ru-vks"],
    ["token", "rotate", "ru-vks"],
    ["disclosure", "set", "us-af", "ru-vks", "full"],
]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG", "DECONFLICT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def assert_refused(r: Result, *said: str) -> None:
    assert r.exit_code == 2, (r.output, r.exception)
    assert isinstance(r.exception, SystemExit), r.exception
    assert r.stdout == ""
    (line,) = r.stderr.strip().splitlines()
    for s in said:
        assert s in line, (s, line)


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_in_a_folder_without_a_store_creates_nothing_and_says_where_it_looked(args: list[str]) -> None:
    here = Path.cwd()
    r = runner.invoke(app, args)
    assert_refused(r, "no store at sqlite:///", f"{here / 'deconflict.sqlite'} does not exist", "deconflict db upgrade")
    assert sorted(os.listdir(here)) == []  # no store, no key, no journal


@pytest.mark.parametrize("args", [READS[0], READS[3], READS[8]], ids=" ".join)
def test_a_read_on_a_database_without_the_schema_leaves_it_as_it_was(db_url: str, args: list[str]) -> None:
    """A SQLite file named by --db that does not exist, or a PostgreSQL schema with no tables."""
    r = runner.invoke(app, [*args, "--db", db_url])
    shown = sa.make_url(db_url).render_as_string(hide_password=True)
    assert_refused(r, f"no store at {shown}", f"deconflict db upgrade --db {shown}")
    if db_url.startswith("sqlite"):
        assert not Path(sa.make_url(db_url).database or "").exists()
    else:
        engine = sa.create_engine(db_url, poolclass=sa.NullPool)
        try:
            assert sa.inspect(engine).get_table_names() == []  # not migrated by a read
        finally:
            engine.dispose()
    assert sorted(os.listdir(Path.cwd())) == []


def test_the_same_reads_work_once_the_store_is_made(db_url: str) -> None:
    assert runner.invoke(app, ["db", "upgrade", "--db", db_url]).exit_code == 0
    for args in (["notices"], ["conflicts", "--json"], ["party", "list", "--json"], ["disclosure", "list"]):
        r = runner.invoke(app, [*args, "--db", db_url])
        assert r.exit_code == 0, (args, r.output)


def test_audit_export_never_creates_the_signing_key(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.sqlite'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", db]).exit_code == 0
    key = tmp_path / "deconflict-broker.key"  # beside the store
    r = runner.invoke(app, ["audit", "export", "--db", db])
    assert_refused(r, str(key), "no such file", "does not create the broker's key")
    assert not key.exists()
    # the commands that set a broker up create it, and then the export signs with it
    assert runner.invoke(app, ["party", "add", "ru-vks", "--role", "party", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["audit", "export", "--db", db]).exit_code == 2  # party add signs nothing
    key.write_bytes(b"")  # an empty key file is refused, not replaced
    r = runner.invoke(app, ["audit", "export", "--db", db])
    assert r.exit_code == 2 and str(key) in r.stderr and key.read_bytes() == b""


def test_a_read_on_an_older_schema_asks_for_db_upgrade_and_does_not_migrate(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(db, "0004")
    r = runner.invoke(app, ["notices", "--db", db])
    assert_refused(r, "revision 0004", f"deconflict db upgrade --db {db}")
    assert migrate.current_revision(db) == "0004"
    # a change to existing records migrates, as it always did
    assert runner.invoke(app, ["disclosure", "set", "a", "b", "full", "--db", db]).exit_code == 2  # no such party
    assert migrate.current_revision(db) == migrate.head_revision()


def test_setting_up_still_creates_the_store_where_it_says() -> None:
    r = runner.invoke(app, ["party", "add", "ru-vks", "--role", "party"])
    assert r.exit_code == 0, r.output
    assert (Path.cwd() / "deconflict.sqlite").exists()
    r = runner.invoke(app, ["party", "list", "--json"])
    assert r.exit_code == 0 and '"ru-vks"' in r.stdout
