"""The broker: parties and credentials, the hash-chained event log, receipts, idempotency keys,
conflict acknowledgements, webhooks, disclosure rules, and which side of a conflict is a site.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("coalition", sa.Text, nullable=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("revoked_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_parties"),
    )
    op.create_table(
        "credentials",
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("revoked_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_credentials"),
        sa.ForeignKeyConstraint(["party"], ["parties.name"], name="fk_credentials_party_parties"),
    )
    op.create_index("ix_credentials_party", "credentials", ["party"])
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("time", sa.Double, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("payload_digest", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
    )
    op.create_table(
        "receipts",
        sa.Column("notice_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("notice_id", "version", name="pk_receipts"),
    )
    op.create_index("ix_receipts_party", "receipts", ["party"])
    op.create_table(
        "idempotency_keys",
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("request_digest", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("party", "key", name="pk_idempotency_keys"),
    )
    op.create_table(
        "conflict_acks",
        sa.Column("conflict_id", sa.Text, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("acked_at", sa.Double, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("conflict_id", "party", name="pk_conflict_acks"),
        sa.ForeignKeyConstraint(["conflict_id"], ["conflicts.id"], name="fk_conflict_acks_conflict_id_conflicts"),
    )
    op.create_table(
        "webhooks",
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Double, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("party", name="pk_webhooks"),
        sa.ForeignKeyConstraint(["party"], ["parties.name"], name="fk_webhooks_party_parties"),
    )
    op.create_table(
        "disclosure_rules",
        sa.Column("viewer", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("viewer", "subject", name="pk_disclosure_rules"),
    )
    with op.batch_alter_table("conflicts") as batch:
        batch.add_column(sa.Column("protected_side", sa.Text, nullable=True))
    # Conflicts found before this revision: the side whose notice is a site.
    op.execute(
        "UPDATE conflicts SET protected_side = CASE "
        "WHEN (SELECT protected FROM notices WHERE notices.id = conflicts.notice_a) THEN 'a' "
        "WHEN (SELECT protected FROM notices WHERE notices.id = conflicts.notice_b) THEN 'b' END "
        "WHERE protected_site"
    )


def downgrade() -> None:
    with op.batch_alter_table("conflicts") as batch:
        batch.drop_column("protected_side")
    for name in (
        "disclosure_rules",
        "webhooks",
        "conflict_acks",
        "idempotency_keys",
        "receipts",
        "events",
        "credentials",
        "parties",
    ):
        op.drop_table(name)
