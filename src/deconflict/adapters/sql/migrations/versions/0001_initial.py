"""Notices, their versions, volumes, the 4D cell index, conflicts and the filing lock.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("received_at", sa.Double, nullable=True),
        sa.Column("time_start", sa.Double, nullable=False),
        sa.Column("time_end", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
    )
    op.create_index("ix_notices_party", "notices", ["party"])
    op.create_index("ix_notices_state", "notices", ["state"])

    op.create_table(
        "notice_versions",
        sa.Column("notice_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("notice_id", "version", name="pk_notice_versions"),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name="fk_notice_versions_notice_id_notices", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "volumes",
        sa.Column("notice_id", sa.Text, nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("time_start", sa.Double, nullable=False),
        sa.Column("time_end", sa.Double, nullable=False),
        sa.Column("alt_lower_m", sa.Double, nullable=False),
        sa.Column("alt_upper_m", sa.Double, nullable=False),
        sa.Column("alt_ref", sa.Text, nullable=False),
        sa.Column("center_lat", sa.Double, nullable=False),
        sa.Column("center_lon", sa.Double, nullable=False),
        sa.Column("bound_m", sa.Double, nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("live", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("notice_id", "idx", name="pk_volumes"),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name="fk_volumes_notice_id_notices", ondelete="CASCADE"),
    )

    op.create_table(
        "volume_cells",
        sa.Column("notice_id", sa.Text, nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("bucket", sa.Integer, nullable=False),
        sa.Column("cell", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("notice_id", "idx", "bucket", "cell", name="pk_volume_cells"),
        sa.ForeignKeyConstraint(
            ["notice_id", "idx"],
            ["volumes.notice_id", "volumes.idx"],
            name="fk_volume_cells_notice_id_idx_volumes",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_volume_cells_bucket_cell", "volume_cells", ["bucket", "cell", "notice_id", "idx"])

    op.create_table(
        "conflicts",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("notice_a", sa.Text, nullable=False),
        sa.Column("party_a", sa.Text, nullable=False),
        sa.Column("version_a", sa.Integer, nullable=False),
        sa.Column("volume_a", sa.Integer, nullable=False),
        sa.Column("notice_b", sa.Text, nullable=False),
        sa.Column("party_b", sa.Text, nullable=False),
        sa.Column("version_b", sa.Integer, nullable=False),
        sa.Column("volume_b", sa.Integer, nullable=False),
        sa.Column("protected_site", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("detected_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("resolved_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_conflicts"),
        sa.ForeignKeyConstraint(["notice_a"], ["notices.id"], name="fk_conflicts_notice_a_notices"),
        sa.ForeignKeyConstraint(["notice_b"], ["notices.id"], name="fk_conflicts_notice_b_notices"),
    )
    op.create_index("ix_conflicts_notice_a", "conflicts", ["notice_a"])
    op.create_index("ix_conflicts_notice_b", "conflicts", ["notice_b"])
    op.create_index("ix_conflicts_state", "conflicts", ["state"])

    filing_lock = op.create_table(
        "filing_lock",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filing_lock"),
    )
    op.bulk_insert(filing_lock, [{"id": 1, "n": 0}])


def downgrade() -> None:
    op.drop_table("filing_lock")
    op.drop_index("ix_conflicts_state", table_name="conflicts")
    op.drop_index("ix_conflicts_notice_b", table_name="conflicts")
    op.drop_index("ix_conflicts_notice_a", table_name="conflicts")
    op.drop_table("conflicts")
    op.drop_index("ix_volume_cells_bucket_cell", table_name="volume_cells")
    op.drop_table("volume_cells")
    op.drop_table("volumes")
    op.drop_table("notice_versions")
    op.drop_index("ix_notices_state", table_name="notices")
    op.drop_index("ix_notices_party", table_name="notices")
    op.drop_table("notices")
