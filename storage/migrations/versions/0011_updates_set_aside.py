"""processed_updates failed_at, error: an update that failed every attempt is set aside,
visible to the coordinators

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("error", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_processed_updates_failed_at"), ["failed_at"])


def downgrade() -> None:
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_failed_at"))
        batch_op.drop_column("error")
        batch_op.drop_column("failed_at")
