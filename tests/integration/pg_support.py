"""A PostgreSQL schema of a test's own: the one way the tests reach PostgreSQL.

The server comes from ``DECONFLICT_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). When it cannot be reached the test fails,
saying how to start one; ``DECONFLICT_SKIP_POSTGRES=1`` skips such tests deliberately instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_base_url() -> str:
    return os.environ.get("DECONFLICT_TEST_PG_URL", PG_DEFAULT_URL)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL whose connections see only a schema created for the caller (dropped afterwards)."""
    if os.environ.get("DECONFLICT_SKIP_POSTGRES") == "1":
        pytest.skip("DECONFLICT_SKIP_POSTGRES=1")
    base = sa.make_url(pg_base_url())
    admin = sa.create_engine(base, poolclass=sa.NullPool)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as e:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {base.render_as_string(hide_password=True)} is unreachable ({e.orig}); start it, "
            "point DECONFLICT_TEST_PG_URL at one, or set DECONFLICT_SKIP_POSTGRES=1 to skip these tests",
            pytrace=False,
        )
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
