"""A PostgreSQL schema of a test's own: the one way the tests reach PostgreSQL.

The server comes from ``DECONFLICT_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). When it cannot be reached the test fails,
saying how to start one; ``DECONFLICT_SKIP_POSTGRES=1`` skips such tests deliberately instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import sqlalchemy as sa
from processes import pg_schema as schema_of  # the drills' own, shared

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_base_url() -> str:
    return os.environ.get("DECONFLICT_TEST_PG_URL", PG_DEFAULT_URL)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL whose connections see only a schema created for the caller (dropped afterwards)."""
    if os.environ.get("DECONFLICT_SKIP_POSTGRES") == "1":
        pytest.skip("DECONFLICT_SKIP_POSTGRES=1")
    base = pg_base_url()
    with ExitStack() as stack:
        try:
            url = stack.enter_context(schema_of(base, prefix="t"))
        except sa.exc.OperationalError as e:
            shown = sa.make_url(base).render_as_string(hide_password=True)
            pytest.fail(
                f"PostgreSQL at {shown} is unreachable ({e.orig}); start it, "
                "point DECONFLICT_TEST_PG_URL at one, or set DECONFLICT_SKIP_POSTGRES=1 to skip these tests",
                pytrace=False,
            )
        yield url
