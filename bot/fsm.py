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

from storage.dialogs import read_dialog

# The update's session, so that the FSM storage writes in the same transaction as the handler.
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


class DatabaseStorage(BaseStorage):
    """Inside an update it reads and writes through the update's session (one transaction
    with the handler's changes), each dialog read at most once and written once, at the
    commit (storage/dialogs.py); outside one, through a short session of its own."""

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

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as session:
            dialog = await read_dialog(session, self.key_builder.build(key))
            if dialog.state != value:
                dialog.state, dialog.changed, dialog.user_id = value, True, key.user_id

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            return (await read_dialog(session, self.key_builder.build(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            dialog = await read_dialog(session, self.key_builder.build(key))
            # Written whatever it compares to: a handler may have changed a list inside the
            # data it read, which is also the value it would be compared with.
            dialog.data, dialog.changed, dialog.user_id = dict(data), True, key.user_id

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            return dict((await read_dialog(session, self.key_builder.build(key))).data)

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
