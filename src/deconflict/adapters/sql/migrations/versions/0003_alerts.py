"""Tactical alerts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("parties", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("detected_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("cleared_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_detected_at_id", "alerts", ["detected_at", "id"])
    op.create_table(
        "alert_parties",
        sa.Column("alert_id", sa.Text, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "party", name="pk_alert_parties"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_alert_parties_alert_id_alerts"),
    )
    op.create_index("ix_alert_parties_party", "alert_parties", ["party"])


def downgrade() -> None:
    op.drop_table("alert_parties")
    op.drop_table("alerts")
