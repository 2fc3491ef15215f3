"""Receipts carry the sequence number of the event they sign for, indexed with the party, so an
export reads them in pages of the log (``after < log_seq <= head``) instead of all at once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    op.add_column("receipts", sa.Column("log_seq", sa.BigInteger, nullable=True))
    receipts = sa.table(
        "receipts",
        sa.column("notice_id", sa.Text),
        sa.column("version", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("log_seq", sa.BigInteger),
    )
    conn = op.get_bind()
    while True:  # each receipt's own signed body says which event it is for
        rows = conn.execute(
            sa.select(receipts.c.notice_id, receipts.c.version, receipts.c.body)
            .where(receipts.c.log_seq.is_(None))
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            sa.update(receipts)
            .where(receipts.c.notice_id == sa.bindparam("n"), receipts.c.version == sa.bindparam("v"))
            .values(log_seq=sa.bindparam("s")),
            [{"n": n, "v": v, "s": int(json.loads(body)["log_seq"])} for n, v, body in rows],
        )
    with op.batch_alter_table("receipts") as batch:  # SQLite rebuilds the table; PostgreSQL alters it
        batch.alter_column("log_seq", existing_type=sa.BigInteger, nullable=False)
    op.create_index("ix_receipts_party_log_seq", "receipts", ["party", "log_seq"])
    op.create_index("ix_receipts_log_seq", "receipts", ["log_seq"])


def downgrade() -> None:
    op.drop_index("ix_receipts_log_seq", "receipts")
    op.drop_index("ix_receipts_party_log_seq", "receipts")
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("log_seq")
