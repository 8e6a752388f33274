"""summary runs: the daily summary claimed once per day; indexes for its counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "summary_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("posted_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("quiet", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_runs")),
        sa.UniqueConstraint("day", name=op.f("uq_summary_runs_day")),
    )
    # The summary's counts are range scans on these times (bench/summary.py).
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_onboarded_at_role", ["onboarded_at", "role"])
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.create_index("ix_participations_joined_at", ["joined_at", "challenge_id"])
        batch_op.create_index("ix_participations_left_at", ["left_at", "challenge_id"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_sent_at", ["sent_at"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_sent_at")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_index("ix_participations_left_at")
        batch_op.drop_index("ix_participations_joined_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_onboarded_at_role")
    op.drop_table("summary_runs")
