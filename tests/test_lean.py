"""What the bot loads and keeps: heavy libraries wait for their first use, and per-person
state is forgotten once the person is quiet."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from bot.fsm import PersonLocks
from bot.middlewares import FloodMiddleware
from storage.migrate import alembic_config, head_revision, upgrade
from tests.conversation import FakeClock

ROOT = Path(__file__).resolve().parent.parent


def test_the_newest_revision_read_from_the_files_is_alembics_head() -> None:
    assert (
        head_revision()
        == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    )


def test_a_start_on_a_database_at_head_loads_no_heavy_library(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'at-head.db'}"
    asyncio.run(upgrade(url))
    program = (
        "import asyncio, sys\n"
        "import bot.app\n"
        "from storage.migrate import upgrade\n"
        f"asyncio.run(upgrade({url!r}))\n"
        "heavy = {'alembic', 'mako', 'segno', 'matplotlib'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"


async def test_person_locks_are_forgotten_once_released() -> None:
    from aiogram.fsm.storage.base import StorageKey

    locks = PersonLocks()
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    async with locks.lock(key):
        assert len(locks.locks) == 1
    assert locks.locks == {}


async def test_flood_counters_of_quiet_people_are_forgotten(i18n) -> None:  # type: ignore[no-untyped-def]
    from aiogram.types import User

    clock = FakeClock()
    flood = FloodMiddleware(i18n, limit=8, window=2.0, clock=clock)

    async def handler(event: object, data: dict) -> str:
        return "handled"

    for person in range(1000):
        data = {"event_from_user": User(id=person, is_bot=False, first_name="x")}
        assert await flood(handler, object(), data) == "handled"  # type: ignore[arg-type]
    assert len(flood.buckets) == 1000
    clock.now += 3
    data = {"event_from_user": User(id=5000, is_bot=False, first_name="x")}
    await flood(handler, object(), data)  # type: ignore[arg-type]
    assert list(flood.buckets) == [5000]


def test_what_the_first_dispatcher_built_is_set_aside_from_the_garbage_collector(
    tmp_path: Path,
) -> None:
    # In a fresh process: the suite's own has long built a dispatcher.
    url = f"sqlite+aiosqlite:///{tmp_path / 'settle.db'}"
    program = (
        "import gc\n"
        "from bot.config import Settings\n"
        "from bot.factory import create_dispatcher\n"
        "from bot.i18n import create_i18n\n"
        "from storage.db import create_engine, create_sessionmaker\n"
        f"settings = Settings(_env_file=None, database_url={url!r})\n"
        "before = gc.get_freeze_count()\n"
        "sessionmaker = create_sessionmaker(create_engine(settings.database_url))\n"
        "create_dispatcher(settings, sessionmaker, create_i18n())\n"
        "first = gc.get_freeze_count()\n"
        "create_dispatcher(settings, sessionmaker, create_i18n())\n"
        "print(before, first > 100_000, gc.get_freeze_count() == first, gc.get_threshold())\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "0 True True (10000, 20, 20)"
