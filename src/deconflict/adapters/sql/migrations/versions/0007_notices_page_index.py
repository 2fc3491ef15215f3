"""Notices are listed in pages in ``(created_at, id)`` order (``GET /v1/notices``, the console's
first render): an index on that key lets each page start where the last ended instead of sorting
the whole table for every page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notices_created_at_id", "notices", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_created_at_id", "notices")
