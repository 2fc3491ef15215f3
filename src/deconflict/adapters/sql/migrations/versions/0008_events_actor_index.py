"""The probe budget counts a party's ``probe.charged`` events of the period under the filing lock, at
every filing that comes near a notice it does not see whole: an index on ``(type, actor, time)``
lets it read only that party's newest charges, however many other parties' charges and other
events the log holds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_type_actor_time", "events", ["type", "actor", "time"])


def downgrade() -> None:
    op.drop_index("ix_events_type_actor_time", "events")
