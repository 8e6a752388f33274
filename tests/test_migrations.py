"""Every revision goes up, down and up again; the models and the migrations agree."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import alembic_config, downgrade, upgrade
from storage.models import Base, Theme
from storage.themes import SEEDED_THEMES


async def test_stairway(database_url: str) -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config(database_url)).walk_revisions())
    for revision in reversed(revisions):
        await upgrade(database_url, revision.revision)
        await downgrade(database_url, revision.down_revision or "base")
        await upgrade(database_url, revision.revision)


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_the_programme_themes_are_seeded(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        codes = (await connection.execute(select(Theme.code))).scalars().all()
    assert sorted(codes) == sorted(SEEDED_THEMES)


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/sub/dir/x.db")
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_pictures_waiting_in_the_outbox_move_to_their_own_table(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/moving.db"
    await upgrade(url, "0007")
    engine = create_engine(url)
    chart, other = b"\x89PNG chart", b"\x89PNG other"
    insert = text(
        "INSERT INTO outbox (chat_id, method, payload, attachment, status, attempts, "
        "not_before, created_at) VALUES (:chat, 'sendPhoto', '{}', :picture, :status, 0, "
        "'2026-12-01 10:00:00.000000', '2026-12-01 10:00:00.000000')"
    )
    rows = [(1, chart, "pending"), (2, chart, "pending"), (3, other, "sent"), (4, None, "pending")]
    try:
        async with engine.begin() as connection:
            for chat, picture, status in rows:
                await connection.execute(
                    insert, {"chat": chat, "picture": picture, "status": status}
                )
        await upgrade(url)
        async with engine.connect() as connection:
            moved = (
                await connection.execute(
                    text(
                        "SELECT outbox.chat_id, outbox_pictures.content FROM outbox "
                        "LEFT JOIN outbox_pictures ON outbox_pictures.id = outbox.picture_id "
                        "ORDER BY outbox.chat_id"
                    )
                )
            ).all()
            stored = (
                await connection.execute(text("SELECT count(*) FROM outbox_pictures"))
            ).scalar()
    finally:
        await engine.dispose()
    # The waiting chart, once for both rows; what was sent is not kept.
    assert [tuple(row) for row in moved] == [(1, chart), (2, chart), (3, None), (4, None)]
    assert stored == 1
