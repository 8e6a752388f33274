"""people, themes, dialogs, processed updates

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fsm_records",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fsm_records")),
    )
    with op.batch_alter_table("fsm_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fsm_records_user_id"), ["user_id"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "citizen",
                "association",
                "company",
                "institution",
                "coordinator",
                name="role",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_updates_processed_at"), ["processed_at"], unique=False
        )

    themes = op.create_table(
        "themes",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_themes")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "citizen",
                "association",
                "company",
                "institution",
                "coordinator",
                name="role",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("arrondissement", sa.SmallInteger(), nullable=True),
        sa.Column("notice_version", sa.SmallInteger(), nullable=True),
        sa.Column("notice_accepted_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notice_declined_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("contact_consent_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("onboarded_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("erased_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_users_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_users_telegram_id")),
    )
    op.create_table(
        "user_themes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("theme_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_code"], ["themes.code"], name=op.f("fk_user_themes_theme_code_themes")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_themes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "theme_code", name=op.f("pk_user_themes")),
    )
    # The programme's themes as of this revision; labels come from the catalogs.
    op.bulk_insert(
        themes,
        [
            {"code": code, "position": 10 * (i + 1), "labels": {}, "active": True}
            for i, code in enumerate(
                [
                    "solidarity",
                    "older_people",
                    "housing",
                    "education",
                    "poverty",
                    "employment",
                    "health",
                    "culture",
                    "sport",
                    "safety",
                    "ecology",
                    "digital",
                ]
            )
        ],
    )


def downgrade() -> None:
    op.drop_table("user_themes")
    op.drop_table("users")
    op.drop_table("themes")
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_processed_at"))

    op.drop_table("processed_updates")
    op.drop_table("organisations")
    with op.batch_alter_table("fsm_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fsm_records_user_id"))

    op.drop_table("fsm_records")
