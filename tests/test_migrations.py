"""Every revision goes up, down and up again, and down undoes up; the models and the migrations
agree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import alembic_config, downgrade, upgrade
from storage.models import Base, Theme
from storage.themes import SEEDED_THEMES


async def schema(url: str) -> dict[str, list[str]]:
    """Each table's columns, as the database has them."""

    def read(connection: Connection) -> dict[str, list[str]]:
        found = inspect(connection)
        return {
            table: sorted(column["name"] for column in found.get_columns(table))
            for table in sorted(found.get_table_names())
            if table != "alembic_version"
        }

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def test_stairway(database_url: str) -> None:
    """The fixture's database, migrated, goes down one revision at a time to an empty one; then
    each revision in turn goes up, down (leaving the tables as they were before it) and up
    again. A failure names the revision and the step."""
    revisions = list(ScriptDirectory.from_config(alembic_config(database_url)).walk_revisions())

    async def move(revision: Script, step: str, to: Callable[[str, str], Awaitable[None]]) -> None:
        target = revision.revision if to is upgrade else revision.down_revision or "base"
        try:
            await to(database_url, target)
        except Exception as error:
            pytest.fail(f"revision {revision.revision} ({revision.doc}): {step} failed: {error!r}")

    for revision in revisions:  # newest first
        await move(revision, "down from head", downgrade)
    for revision in reversed(revisions):
        before = await schema(database_url)
        await move(revision, "up", upgrade)
        await move(revision, "down", downgrade)
        after = await schema(database_url)
        assert after == before, f"revision {revision.revision}: down left other tables"
        await move(revision, "up again", upgrade)


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
