"""Dialogs in the database (bot/fsm.py, storage/dialogs.py): read once per update, written at
its commit in one statement each, never for an update rolled back; and what the update changed
is what its own later queries on fsm_records see (/mydata's export, an erasure)."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.fsm import DatabaseStorage, current_session
from storage.db import create_sessionmaker
from storage.models import FsmRecord

pytestmark = pytest.mark.postgres

KEY = StorageKey(bot_id=1, chat_id=7001, user_id=7001)


async def stored(engine: AsyncEngine) -> list[tuple[str | None, dict]]:
    async with create_sessionmaker(engine)() as session:
        rows = await session.execute(select(FsmRecord.state, FsmRecord.data))
        return [(state, data) for state, data in rows]


async def test_a_dialog_is_written_at_the_commit_and_a_finished_one_leaves_no_row(
    engine: AsyncEngine,
) -> None:
    sessionmaker = create_sessionmaker(engine)
    storage = DatabaseStorage(sessionmaker)
    async with sessionmaker() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(KEY, "Profile:role")
            await storage.set_data(KEY, {"themes": ["culture"]})
            assert await storage.get_state(KEY) == "Profile:role"
            await session.commit()
        finally:
            current_session.reset(token)
    assert await stored(engine) == [("Profile:role", {"themes": ["culture"]})]

    # The next update: a list changed inside the data read is written too.
    async with sessionmaker() as session:
        token = current_session.set(session)
        try:
            data = await storage.get_data(KEY)
            data["themes"].append("sport")
            await storage.set_data(KEY, data)
            await session.commit()
        finally:
            current_session.reset(token)
    assert await stored(engine) == [("Profile:role", {"themes": ["culture", "sport"]})]

    # Rolled back: nothing written.
    async with sessionmaker() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(KEY, "Profile:arrondissement")
            await session.rollback()
        finally:
            current_session.reset(token)
    assert await stored(engine) == [("Profile:role", {"themes": ["culture", "sport"]})]

    # Outside an update, through a short session of its own; then finished.
    assert await storage.get_data(KEY) == {"themes": ["culture", "sport"]}
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    assert await stored(engine) == []


async def test_the_updates_own_queries_see_its_dialog_and_an_erasure_stays_erased(
    engine: AsyncEngine,
) -> None:
    sessionmaker = create_sessionmaker(engine)
    storage = DatabaseStorage(sessionmaker)
    async with sessionmaker() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(KEY, "NeedReport:text")
            # As /mydata's export reads it, in the same update.
            seen = await session.scalars(select(FsmRecord.state).where(FsmRecord.user_id == 7001))
            assert list(seen) == ["NeedReport:text"]
            # An erasure deletes the person's dialogs: the commit does not bring them back.
            await session.execute(delete(FsmRecord).where(FsmRecord.user_id == 7001))
            assert await storage.get_state(KEY) is None
            await session.commit()
        finally:
            current_session.reset(token)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0
