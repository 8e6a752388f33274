"""Dialogs in Redis (REDIS_URL), moved on only once the update's effect is committed.

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

import copy
import weakref
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from bot.replies import Replies, current_replies

_UNSET: Any = object()


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
