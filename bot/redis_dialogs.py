"""Dialogs and per-person locks in Redis (REDIS_URL): dialogs moved on only once the update's
effect is committed, and locks that a crashed process does not keep for long (RenewedLocks).

aiogram's RedisStorage writes a dialog's state and data the moment a handler sets them, before
the update's transaction commits. Rolled back — a failure, or the process killed before its
commit — the update comes again (it was neither marked handled nor confirmed), and found the
dialog already at the next step: the answer it carried was taken for the next question's and
refused, or worse (found by `python -m bench crashes` on PostgreSQL with Redis: people stuck
half-way through onboarding for good).

Here, inside an update, what a handler writes is kept with the update's replies and written to
Redis first thing once the commit is done (bot/replies.py), before anything is said and while
the person's lock is still held; read back within the update, it is what was written. Rolled
back, it is dropped with the replies. Outside an update (jobs, erasure) it is written at once.
What remains is the instant between the commit and the write: a crash exactly there leaves
the dialog one step behind its effect, where the person can go on or start again.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from bot.replies import Replies, current_replies

log = logging.getLogger(__name__)
LOCK_LEASE = 10.0  # seconds a dead process's lock on a person outlives it, at most


class _Pending:
    """One update's writes, by dialog, in the order they came."""

    def __init__(self) -> None:
        self.states: dict[StorageKey, str | None] = {}
        self.data: dict[StorageKey, dict[str, Any]] = {}


class CommittedRedisStorage(RedisStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: weakref.WeakKeyDictionary[Replies, _Pending] = weakref.WeakKeyDictionary()

    def _writes(self, create: bool) -> _Pending | None:
        replies = current_replies.get()
        if replies is None:
            return None
        pending = self._pending.get(replies)
        if pending is None and create:
            pending = self._pending[replies] = _Pending()
            # First of what goes out after the commit.
            replies.actions.insert(0, lambda: self._flush(pending))
        return pending

    async def _flush(self, pending: _Pending) -> None:
        for key, state in pending.states.items():
            await super().set_state(key, state)
        for key, data in pending.data.items():
            await super().set_data(key, data)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        pending = self._writes(create=True)
        if pending is None:
            await super().set_state(key, state)
            return
        pending.states[key] = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        pending = self._writes(create=False)
        if pending is not None and key in pending.states:
            return pending.states[key]
        return await super().get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        pending = self._writes(create=True)
        if pending is None:
            await super().set_data(key, data)
            return
        pending.data[key] = copy.deepcopy(dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        pending = self._writes(create=False)
        if pending is not None and key in pending.data:
            return copy.deepcopy(pending.data[key])
        return await super().get_data(key)


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
