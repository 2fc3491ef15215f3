"""The SQL store (SQLAlchemy Core + Alembic): SQLite by default, PostgreSQL in production."""

from deconflict.adapters.sql.engine import default_sqlite_url, make_engine
from deconflict.adapters.sql.lookup import candidate_statement
from deconflict.adapters.sql.migrate import upgrade
from deconflict.adapters.sql.repository import SqlRepository
from deconflict.adapters.sql.store import SqlStore, open_store

__all__ = [
    "SqlRepository",
    "SqlStore",
    "candidate_statement",
    "default_sqlite_url",
    "make_engine",
    "open_store",
    "upgrade",
]
