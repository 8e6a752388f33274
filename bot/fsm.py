"""Dialog state in the database, so that a dialog survives a restart of the bot; and the
per-person locks that keep one person's updates in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from storage.models import FsmRecord

# The update's session, so that the FSM storage writes in the same transaction as the handler.
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)

_KNOWN = "dialogs"  # session.info: the records read or written in this session, by key


def remember_dialog(session: AsyncSession, key: str, record: FsmRecord | None) -> None:
    """Records a dialog read with something else (the person), so that it is not read again."""
    session.info.setdefault(_KNOWN, {})[key] = record


class DatabaseStorage(BaseStorage):
    """Inside an update it writes through the update's session (one transaction with the
    handler's changes), and reads each dialog at most once; outside one, through a short
    session of its own."""

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

    async def _find(self, session: AsyncSession, record_key: str) -> FsmRecord | None:
        known: dict[str, FsmRecord | None] = session.info.setdefault(_KNOWN, {})
        if record_key not in known:
            known[record_key] = await session.get(FsmRecord, record_key)
        return known[record_key]

    async def _record(self, session: AsyncSession, key: StorageKey) -> FsmRecord:
        record_key = self.key_builder.build(key)
        record = await self._find(session, record_key)
        if record is None:
            record = FsmRecord(key=record_key, user_id=key.user_id, state=None, data={})
            session.add(record)
            remember_dialog(session, record_key, record)
        return record

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as session:
            record = await self._record(session, key)
            record.state = value

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            record = await self._find(session, self.key_builder.build(key))
            return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            record = await self._record(session, key)
            record.data = dict(data)
            # Written whatever SQLAlchemy compares: a handler may have changed a list inside
            # the data it read, which is also the value SQLAlchemy would compare with.
            flag_modified(record, "data")
            if record.state is None and not record.data:
                # A finished dialog leaves no row behind.
                if record in session.new:
                    session.expunge(record)
                else:
                    await session.delete(record)
                remember_dialog(session, record.key, None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            record = await self._find(session, self.key_builder.build(key))
            return dict(record.data) if record else {}

    async def close(self) -> None:
        pass


class PersonLocks(BaseEventIsolation):
    """One lock per person (and chat) while they have an update in hand, forgotten after:
    aiogram's SimpleEventIsolation keeps one for everyone ever seen."""

    def __init__(self) -> None:
        self.locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        lock, holders = self.locks.get(key) or (asyncio.Lock(), 0)
        self.locks[key] = (lock, holders + 1)
        try:
            async with lock:
                yield
        finally:
            lock, holders = self.locks[key]
            if holders == 1:
                del self.locks[key]
            else:
                self.locks[key] = (lock, holders - 1)

    async def close(self) -> None:
        self.locks.clear()
