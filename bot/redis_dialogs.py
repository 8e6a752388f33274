"""Dialogs and per-person locks in Redis (REDIS_URL): a dialog moves on with its update's
effect, not without it (JournaledRedisStorage), and a crashed process does not keep its locks
for long (RenewedLocks).

aiogram's RedisStorage writes a dialog's state and data the moment a handler sets them, before
the update's transaction commits. Rolled back — a failure, or the process killed before its
commit — the update comes again (neither marked handled nor confirmed) and found the dialog
already at the next step: its answer was taken for the next question's and refused, or worse.
Writing after the commit instead leaves the other gap: killed between the commit and the
write, the update is handled for good and its dialog one step behind. Both were found by
`python -m bench crashes` on PostgreSQL with Redis (people stuck half-way for good).

So what a handler writes is kept for its update, and written when the handler is done, just
before the commit (JournalMiddleware, around aiogram's FSM middleware), in one Redis
transaction with a journal: the update's id and the dialog as it was before. When an update is
handled and finds its own id in the journal, its first handling wrote the dialog and was rolled
back: the dialog is put back as it was first. Once the update is committed, its journal is
deleted. An update set aside after failing every attempt (bot/polling.py) is the one case
left, its dialog kept at the next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, cast

from aiogram import BaseMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from bot.replies import current_replies

log = logging.getLogger(__name__)
LOCK_LEASE = 10.0  # seconds a dead process's lock on a person outlives it, at most
# A journal is deleted once its update is committed; one a crash leaves behind is kept as long
# as Telegram keeps an update that may come again.
JOURNAL_SECONDS = 24 * 3600


class _Update:
    """One update's dialogs: as read (checked against the journal once), and as written."""

    def __init__(self, update_id: int) -> None:
        self.update_id = update_id
        self.checked: set[StorageKey] = set()
        self.states: dict[StorageKey, str | None] = {}
        self.data: dict[StorageKey, dict[str, Any]] = {}


_current: ContextVar[_Update | None] = ContextVar("redis_dialogs_update", default=None)


class JournaledRedisStorage(RedisStorage):
    def journal(self) -> JournalMiddleware:
        """The update middleware that writes what the handlers set (bot/factory.py)."""
        return JournalMiddleware(self)

    def _journal(self, key: StorageKey) -> str:
        # Next to the dialog's state and data: erased with them (handlers/privacy/erasure.py).
        return self.key_builder.build(key, cast(Any, "journal"))

    async def _checked(self, update: _Update, key: StorageKey) -> None:
        """The first time the update reads this dialog: put back as it was if this very
        update wrote it before and was rolled back."""
        if key in update.checked:
            return
        update.checked.add(key)
        name = self._journal(key)
        raw = await self.redis.get(name)
        if raw is None:
            return
        journal = json.loads(raw)
        if journal.get("update") != update.update_id:
            return
        log.warning("update %s comes again: its dialog is put back", update.update_id)
        await super().set_state(key, journal.get("state"))
        await super().set_data(key, journal.get("data") or {})
        await self.redis.delete(name)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        update = _current.get()
        if update is None:
            await super().set_state(key, state)
            return
        await self._checked(update, key)
        update.states[key] = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        update = _current.get()
        if update is None:
            return await super().get_state(key)
        await self._checked(update, key)
        if key in update.states:
            return update.states[key]
        return await super().get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        update = _current.get()
        if update is None:
            await super().set_data(key, data)
            return
        await self._checked(update, key)
        update.data[key] = copy.deepcopy(dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        update = _current.get()
        if update is None:
            return await super().get_data(key)
        await self._checked(update, key)
        if key in update.data:
            return copy.deepcopy(update.data[key])
        return await super().get_data(key)

    async def write(self, update: _Update) -> None:
        """The update's dialogs, with the journal, in one Redis transaction."""
        keys = [*update.states, *(k for k in update.data if k not in update.states)]
        if not keys:
            return
        before = {}
        for key in keys:
            # As the update found them (it put them back first if needed).
            before[key] = (await super().get_state(key), await super().get_data(key))
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                state, data = before[key]
                journal = {"update": update.update_id, "state": state, "data": data}
                pipe.set(
                    self._journal(key),
                    json.dumps(journal),
                    ex=JOURNAL_SECONDS,
                )
                if key in update.states:
                    new_state = update.states[key]
                    if new_state is None:
                        pipe.delete(self.key_builder.build(key, "state"))
                    else:
                        pipe.set(self.key_builder.build(key, "state"), new_state)
                if key in update.data:
                    new_data = update.data[key]
                    if not new_data:
                        pipe.delete(self.key_builder.build(key, "data"))
                    else:
                        pipe.set(
                            self.key_builder.build(key, "data"),
                            self.json_dumps(new_data),
                        )
            await pipe.execute()

    async def forget(self, update: _Update) -> None:
        """The update is committed: its journal is of no more use (and holds a dialog's
        earlier data, which an erasure must not find left behind)."""
        keys = [*update.states, *update.data]
        if keys:
            await self.redis.delete(*{self._journal(key) for key in keys})


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class JournalMiddleware(BaseMiddleware):
    """The update middleware just outside aiogram's FSM one (which reads the dialog's state
    first): the update's dialogs are read through it, and written once its handler is done,
    just before the transaction around it commits; not at all if it raised."""

    def __init__(self, storage: JournaledRedisStorage) -> None:
        self.storage = storage

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        update = _Update(event.update_id)
        token = _current.set(update)
        try:
            result = await handler(event, data)
            await self.storage.write(update)
            replies = current_replies.get()
            if replies is not None:
                # First thing once the transaction around is committed.
                replies.first.append(lambda: self.storage.forget(update))
            return result
        finally:
            _current.reset(token)


class RenewedLocks(RedisEventIsolation):
    """Each person's lock across workers, held with a short lease renewed while it is held.

    aiogram's locks last 60 seconds: a process killed while handling someone's update left
    their lock behind for up to a minute, and their next update — with everyone's updates of
    the same batch, which is confirmed as a whole — waited that long after every restart
    (found by `python -m bench crashes` on PostgreSQL with Redis: updates taking 40 to 54
    seconds after each restart). Here a dead process's lock is gone within `lease` seconds,
    while a live one keeps its own however long the update takes."""

    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder,
        *,
        lease: float = LOCK_LEASE,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        super().__init__(redis, key_builder=key_builder)
        self.lease = lease
        self.sleep = sleep

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        name = self.key_builder.build(key, "lock")
        held = self.redis.lock(name=name, timeout=self.lease, sleep=0.05, lock_class=Lock)
        await held.acquire()
        renewing = asyncio.create_task(self._renew(held))
        try:
            yield None
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            try:
                await held.release()
            except LockError:
                log.warning("the lock %s had expired before its release", name)

    async def _renew(self, held: Lock) -> None:
        while True:
            await self.sleep(self.lease / 3)
            try:
                await held.reacquire()
            except LockError:
                log.warning("the lock %s could not be renewed", held.name)
                return
