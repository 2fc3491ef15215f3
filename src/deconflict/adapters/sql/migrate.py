"""Schema migrations, run programmatically (no ``alembic.ini``): ``upgrade(url)`` brings a database
to the newest schema; running it again does nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from deconflict.adapters.sql.engine import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")
"""The packaged Alembic script directory."""
MIGRATE_KEY_SQL = "hashtextextended('deconflict-migrate.' || current_database() || '.' || current_schema(), 0)"
"""The advisory lock a PostgreSQL migration holds: one per database and schema."""


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, bound to ``connection`` if given
    (``migrations/env.py`` runs on it inside its transaction)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | sa.Engine, revision: str = "head") -> None:
    """Migrate the database at ``url`` (or behind an engine) to ``revision`` (default: the newest),
    in one transaction."""
    engine = make_engine(url) if isinstance(url, str) else url
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Replicas started together migrate one after the other (the others then find
                # nothing to do), not side by side into duplicate tables. Released at commit.
                conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({MIGRATE_KEY_SQL})"))
            command.upgrade(alembic_config(conn), revision)
    finally:
        if isinstance(url, str):
            engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` before the first migration."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision among the packaged migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
