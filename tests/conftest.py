"""Fixtures: a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL), the local
Bot API stand-in over real HTTP, and the real dispatcher."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.i18n import CatalogI18n, create_i18n
from bot.standin import StandIn
from storage.db import create_engine, create_sessionmaker, is_sqlite
from storage.migrate import upgrade
from storage.models import Base
from tests.conversation import Harness

TOKEN = "123456:TEST-TOKEN"
POSTGRES = os.environ.get("TEST_DATABASE_URL")
REDIS = os.environ.get("TEST_REDIS_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES else [])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # "No tests collected" is not a failure of the suite (e.g. a filtered run in CI).
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Conversations run the handlers, whose SQL is the same on both databases: on PostgreSQL
    only those marked `postgres` (races, claims, once-only work) run again, so that the whole
    suite stays within a few minutes. Storage, delivery and migration tests run on both."""
    kept, dropped = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        on_postgres = spec is not None and spec.params.get("database_url") == "postgresql"
        conversation = "harness" in getattr(item, "fixturenames", ())
        if on_postgres and conversation and item.get_closest_marker("postgres") is None:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file, copied for each test: migrating per test would be slow."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str | None:
    if not POSTGRES:
        return None
    asyncio.run(_reset_postgres(POSTGRES))
    asyncio.run(upgrade(POSTGRES))
    return POSTGRES


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_migrated")
    path = tmp_path / "collective.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    if not is_sqlite(database_url):
        # Every test starts from the migrated state: data tables emptied, seeds kept.
        tables = [t.name for t in Base.metadata.sorted_tables if t.name != "themes"]
        async with engine.begin() as connection:
            await connection.execute(
                text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            )
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def i18n() -> CatalogI18n:
    return create_i18n("fr")


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    async with StandIn(token=TOKEN) as server:
        yield server


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        database_url=database_url,
        redis_url=None,
        coordinator_chat_id=-100500,
        coordinator_ids=frozenset({42}),
    )


@pytest.fixture
async def harness(
    settings: Settings, engine: AsyncEngine, i18n: CatalogI18n, standin: StandIn
) -> AsyncIterator[Harness]:
    async with Harness.open(settings, create_sessionmaker(engine), i18n, standin, TOKEN) as h:
        yield h


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name in Settings.model_fields or name.lower() in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)
    yield
