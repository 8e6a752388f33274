"""privacy promises: STOP for every unsolicited message, inactivity warnings, withdrawn cards,
published free-text questions, daily job claims

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in ("stopped_at", "inactivity_warned_at", "inactivity_final_warned_at"):
            batch_op.add_column(
                sa.Column(column, storage.models.UTCDateTime(timezone=True), nullable=True)
            )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_outbox_subject", ["subject"])
    with op.batch_alter_table("survey_questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ran_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "day", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    with op.batch_alter_table("survey_questions", schema=None) as batch_op:
        batch_op.drop_column("published")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_subject")
        batch_op.drop_column("subject")
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in ("inactivity_final_warned_at", "inactivity_warned_at", "stopped_at"):
            batch_op.drop_column(column)
