"""outbox pictures: a rendered picture stored once, sent again by its Telegram file_id

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PICTURES = sa.table(
    "outbox_pictures",
    sa.column("id", sa.Integer()),
    sa.column("digest", sa.String()),
    sa.column("content", sa.LargeBinary()),
    sa.column("created_at", storage.models.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "outbox_pictures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("telegram_file_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_pictures")),
        sa.UniqueConstraint("digest", name=op.f("uq_outbox_pictures_digest")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("picture_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_picture_id_outbox_pictures"),
            "outbox_pictures",
            ["picture_id"],
            ["id"],
        )
    # Pictures of rows still to send move to the new table; those already sent are not kept.
    connection = op.get_bind()
    waiting = connection.execute(
        sa.text(
            "SELECT id, attachment FROM outbox "
            "WHERE attachment IS NOT NULL AND status = 'pending' ORDER BY id"
        )
    ).all()
    pictures: dict[str, int] = {}
    for row_id, content in waiting:
        digest = hashlib.sha256(content).hexdigest()
        if digest not in pictures:
            insert = (
                PICTURES.insert()
                .values(digest=digest, content=content, created_at=datetime.now(UTC))
                .returning(PICTURES.c.id)
            )
            pictures[digest] = connection.execute(insert).scalar_one()
        connection.execute(
            sa.text("UPDATE outbox SET picture_id = :picture WHERE id = :id"),
            {"picture": pictures[digest], "id": row_id},
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("attachment")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment", sa.LargeBinary(), nullable=True))
    # Rows still to send take their picture back.
    op.execute(
        "UPDATE outbox SET attachment = (SELECT content FROM outbox_pictures "
        "WHERE outbox_pictures.id = outbox.picture_id) "
        "WHERE picture_id IS NOT NULL AND status = 'pending'"
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_picture_id_outbox_pictures"), type_="foreignkey"
        )
        batch_op.drop_column("picture_id")
    op.drop_table("outbox_pictures")
