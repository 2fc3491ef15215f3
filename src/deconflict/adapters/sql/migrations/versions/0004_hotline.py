"""The hotline: messages and their recipients' acknowledgements; events found by type and time
(the compliance report and the theater policy read them so).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("thread_id", sa.Text, nullable=False),
        sa.Column("in_reply_to", sa.Text, nullable=True),
        sa.Column("sender", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("ref_kind", sa.Text, nullable=True),
        sa.Column("ref_id", sa.Text, nullable=True),
        sa.Column("auto", sa.Boolean, nullable=False),
        sa.Column("sent_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index("ix_messages_sent_at_id", "messages", ["sent_at", "id"])
    op.create_index("ix_messages_thread_id", "messages", ["thread_id"])
    op.create_index("ix_messages_sender", "messages", ["sender"])
    op.create_index("ix_messages_ref_kind_ref_id", "messages", ["ref_kind", "ref_id"])
    op.create_table(
        "message_recipients",
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("deadline", sa.Double, nullable=True),
        sa.Column("received_at", sa.Double, nullable=True),
        sa.Column("understood_at", sa.Double, nullable=True),
        sa.Column("escalations", sa.Integer, nullable=False),
        sa.Column("next_escalation_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("message_id", "party", name="pk_message_recipients"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name="fk_message_recipients_message_id_messages"),
    )
    op.create_index("ix_message_recipients_party", "message_recipients", ["party"])
    op.create_index("ix_message_recipients_next_escalation_at", "message_recipients", ["next_escalation_at"])
    op.create_index("ix_events_type_time", "events", ["type", "time"])


def downgrade() -> None:
    op.drop_index("ix_events_type_time", "events")
    op.drop_table("message_recipients")
    op.drop_table("messages")
