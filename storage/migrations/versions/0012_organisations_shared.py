"""organisations shared and verified: members, invitations, verification

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("verification_asked_at", "verified_at", "refused_at", "orphaned_at")


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_code", sa.String(length=16), nullable=True))
        for column in MOMENTS:
            batch_op.add_column(
                sa.Column(column, storage.models.UTCDateTime(timezone=True), nullable=True)
            )
        batch_op.add_column(sa.Column("decided_by", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_organisations_invite_code"), ["invite_code"]
        )
    op.create_table(
        "organisation_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_requests_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_organisation_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"],
            ["users.id"],
            name=op.f("fk_organisation_requests_answered_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_requests")),
        sa.UniqueConstraint(
            "organisation_id",
            "user_id",
            "kind",
            name=op.f("uq_organisation_requests_organisation_id"),
        ),
    )
    with op.batch_alter_table("organisation_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_requests_organisation_id"), ["organisation_id"]
        )
        batch_op.create_index(batch_op.f("ix_organisation_requests_user_id"), ["user_id"])
    # Organisations coordinators had already marked verified keep their badge.
    op.execute(
        "UPDATE organisations SET verified_at = created_at WHERE verified = true "
        "AND verified_at IS NULL"
    )


def downgrade() -> None:
    op.drop_table("organisation_requests")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organisations_invite_code"), type_="unique")
        batch_op.drop_column("decided_by")
        for column in reversed(MOMENTS):
            batch_op.drop_column(column)
        batch_op.drop_column("invite_code")
