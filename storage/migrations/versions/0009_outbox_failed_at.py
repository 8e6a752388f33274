"""outbox failed_at: a failure counts on the day it happened, not the day the row was written

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        # The summary counts a window's failures: a range scan, as for sent_at.
        batch_op.create_index("ix_outbox_failed_at", ["failed_at"])
    # Rows that failed before kept no time of failure: the time they were written stands in.
    op.execute("UPDATE outbox SET failed_at = created_at WHERE status = 'failed'")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_failed_at")
        batch_op.drop_column("failed_at")
