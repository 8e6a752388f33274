"""challenges, participations, alerts, introductions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=16), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("theme_code", sa.String(length=32), nullable=False),
        sa.Column("arrondissements", sa.JSON(), nullable=False),
        sa.Column("contribution_kinds", sa.JSON(), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "open", "closed", name="challengestatus", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column("author_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_code"], ["themes.code"], name=op.f("fk_challenges_theme_code_themes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
        sa.UniqueConstraint("slug", name=op.f("uq_challenges_slug")),
    )
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_challenges_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_challenges_theme_code"), ["theme_code"], unique=False)

    op.create_table(
        "assisted_participations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("arrondissement", sa.SmallInteger(), nullable=False),
        sa.Column("wishes", sa.Text(), nullable=True),
        sa.Column("activity", sa.String(length=32), nullable=True),
        sa.Column(
            "agreement_recorded_at", storage.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_assisted_participations_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"],
            ["users.id"],
            name=op.f("fk_assisted_participations_registered_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assisted_participations")),
    )
    with op.batch_alter_table("assisted_participations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assisted_participations_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assisted_participations_registered_by"), ["registered_by"], unique=False
        )

    op.create_table(
        "challenge_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_alerts_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_challenge_alerts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_alerts")),
        sa.UniqueConstraint(
            "challenge_id", "user_id", name=op.f("uq_challenge_alerts_challenge_id")
        ),
    )
    with op.batch_alter_table("challenge_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_challenge_alerts_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_challenge_alerts_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_challenge_alerts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "asked",
                "accepted",
                "declined",
                name="introductionstatus",
                native_enum=False,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_introductions_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_introductions_requester_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["users.id"], name=op.f("fk_introductions_target_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_introductions")),
        sa.UniqueConstraint(
            "challenge_id", "requester_id", "target_id", name=op.f("uq_introductions_challenge_id")
        ),
    )
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_introductions_challenge_id"), ["challenge_id"], unique=False
        )

    op.create_table(
        "participations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("joined_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_participations_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_participations_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_participations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participations")),
        sa.UniqueConstraint(
            "challenge_id", "user_id", name=op.f("uq_participations_challenge_id")
        ),
    )
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participations_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_participations_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alerts_consent_at", storage.models.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("alerts_consent_at")

    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participations_user_id"))
        batch_op.drop_index(batch_op.f("ix_participations_challenge_id"))

    op.drop_table("participations")
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_introductions_challenge_id"))

    op.drop_table("introductions")
    with op.batch_alter_table("challenge_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_challenge_alerts_user_id"))
        batch_op.drop_index(batch_op.f("ix_challenge_alerts_created_at"))
        batch_op.drop_index(batch_op.f("ix_challenge_alerts_challenge_id"))

    op.drop_table("challenge_alerts")
    with op.batch_alter_table("assisted_participations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assisted_participations_registered_by"))
        batch_op.drop_index(batch_op.f("ix_assisted_participations_challenge_id"))

    op.drop_table("assisted_participations")
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_challenges_theme_code"))
        batch_op.drop_index(batch_op.f("ix_challenges_status"))

    op.drop_table("challenges")
