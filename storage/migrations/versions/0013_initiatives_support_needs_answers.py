"""initiatives gather support, helpers and followers; needs get answers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = storage.models.UTCDateTime(timezone=True)


def _by_person(table: str) -> None:
    """A support or a follow: one row per person and initiative."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f(f"fk_{table}_initiative_id_initiatives"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("initiative_id", "user_id", name=op.f(f"uq_{table}_initiative_id")),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in ("initiative_id", "user_id", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    _by_person("initiative_supports")
    _by_person("initiative_follows")
    op.create_table(
        "help_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "offered",
                "accepted",
                "declined",
                name="helpstatus",
                native_enum=False,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_help_offers_initiative_id_initiatives"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_help_offers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_offers")),
        sa.UniqueConstraint("initiative_id", "user_id", name=op.f("uq_help_offers_initiative_id")),
    )
    with op.batch_alter_table("help_offers", schema=None) as batch_op:
        for column in ("initiative_id", "user_id", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_help_offers_{column}"), [column], unique=False)
    op.create_table(
        "initiative_news",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("posted_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_news_initiative_id_initiatives"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_news")),
    )
    with op.batch_alter_table("initiative_news", schema=None) as batch_op:
        for column in ("initiative_id", "posted_at"):
            batch_op.create_index(
                batch_op.f(f"ix_initiative_news_{column}"), [column], unique=False
            )
    op.create_table(
        "challenge_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_partners_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_challenge_partners_initiative_id_initiatives"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_partners")),
        sa.UniqueConstraint(
            "challenge_id",
            "initiative_id",
            name=op.f("uq_challenge_partners_challenge_id"),
        ),
    )
    with op.batch_alter_table("challenge_partners", schema=None) as batch_op:
        for column in ("challenge_id", "initiative_id"):
            batch_op.create_index(
                batch_op.f(f"ix_challenge_partners_{column}"), [column], unique=False
            )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "open",
                    "answered",
                    "closed",
                    "withdrawn",
                    name="needstatus",
                    native_enum=False,
                    length=12,
                ),
                nullable=False,
                server_default="open",
            )
        )
        batch_op.add_column(sa.Column("answered_by_initiative_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("answered_by_challenge_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("link_confirmed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("linked_at", WHEN, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_needs_answered_by_initiative_id_initiatives"),
            "initiatives",
            ["answered_by_initiative_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_needs_answered_by_challenge_id_challenges"),
            "challenges",
            ["answered_by_challenge_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # The defaults served the rows already there; the models give every new row its values.
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("link_confirmed", server_default=None)
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_digest_at", WHEN, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("needs_digest_at")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_needs_answered_by_challenge_id_challenges"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_needs_answered_by_initiative_id_initiatives"), type_="foreignkey"
        )
        for column in (
            "linked_at",
            "link_confirmed",
            "answered_by_challenge_id",
            "answered_by_initiative_id",
            "status",
        ):
            batch_op.drop_column(column)
    for table in (
        "challenge_partners",
        "initiative_news",
        "help_offers",
        "initiative_follows",
        "initiative_supports",
    ):
        op.drop_table(table)
