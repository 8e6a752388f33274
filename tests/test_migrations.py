"""Every revision goes up, down and up again; the models and the migrations agree."""

from __future__ import annotations

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
