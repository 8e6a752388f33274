"""Dialog state in the database, so that a dialog survives a restart of the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import current_session
from storage.models import FsmRecord


class DatabaseStorage(BaseStorage):
    """Inside an update it writes through the update's session (one transaction with the
    handler's changes); outside one, through a short session of its own."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.key_builder = DefaultKeyBuilder(with_destiny=True)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        session = current_session.get()
        if session is not None:
            yield session
            return
        async with self.sessionmaker() as own, own.begin():
            yield own

    async def _record(self, session: AsyncSession, key: StorageKey) -> FsmRecord:
        record_key = self.key_builder.build(key)
        record = await session.get(FsmRecord, record_key)
        if record is None:
            record = FsmRecord(key=record_key, user_id=key.user_id, state=None, data={})
            session.add(record)
        return record

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as session:
            record = await self._record(session, key)
            record.state = value
            await session.flush()

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            record = await session.get(FsmRecord, self.key_builder.build(key))
            return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            record = await self._record(session, key)
            record.data = dict(data)
            if record.state is None and not record.data:
                # A finished dialog leaves no row behind.
                if record in session.new:
                    session.expunge(record)
                else:
                    await session.delete(record)
            await session.flush()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            record = await session.get(FsmRecord, self.key_builder.build(key))
            return dict(record.data) if record else {}

    async def close(self) -> None:
        pass
