"""SQLite in the event loop's own thread, writers taking turns on an asyncio lock.

aiosqlite runs every call (cursor, execute, fetch, close, commit) in a thread of its own and
hands the answer back: four or five trips between threads per statement, each dearer than the
statement itself on a local file in WAL mode (the measured update path spent more than a third
of its time there). Here the same aiosqlite connection runs its calls inline.

Inline, a writer waiting in SQLite's busy handler would stop the whole loop — and with it the
transaction it waits for. So a transaction (every one begins with BEGIN IMMEDIATE, storage/db.py)
first takes its database's asyncio lock, and gives it back at its commit or rollback: the
process's writers wait for each other in the loop, in turn. Another process writing the same
file (a CLI command) is still waited for by SQLite's busy handler, briefly blocking the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable
from typing import Any

import aiosqlite

# A transaction waiting longer than this for its turn fails as SQLite's busy timeout would.
TURN_TIMEOUT = 30.0

_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _turn(database: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    return _turns.setdefault(loop, {}).setdefault(database, asyncio.Lock())


class _Inline:
    """Stands for aiosqlite's queue to its thread (SQLAlchemy puts work there directly)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is not None:
                future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    def __init__(self, database: str, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _Inline()  # type: ignore[assignment]
        self.database = database
        self.holding: asyncio.Lock | None = None

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        if args and isinstance(args[0], str) and args[0].startswith("BEGIN"):
            await self._take_turn()
            try:
                return fn(*args, **kwargs)
            except BaseException:
                self._end_turn()
                raise
        try:
            return fn(*args, **kwargs)
        finally:
            if fn in (self._connection.commit, self._connection.rollback):
                self._end_turn()

    async def _take_turn(self) -> None:
        lock = _turn(self.database)
        try:
            # A timeout around the wait rather than wait_for, which made a task of every
            # acquire (and a trip round the loop), taken or not.
            async with asyncio.timeout(TURN_TIMEOUT):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self.holding = lock

    def _end_turn(self) -> None:
        lock = self.holding
        if lock is not None:
            self.holding = None
            lock.release()

    def stop(self) -> None:
        self._running = False
        self._end_turn()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()

    def __del__(self) -> None:
        if self._connection is not None:
            self._connection.close()


def connect(database: str, **kwargs: Any) -> InlineConnection:
    """aiosqlite.connect's counterpart, for SQLAlchemy's `async_creator_fn`."""
    kwargs.pop("iter_chunk_size", None)
    kwargs.pop("loop", None)
    return InlineConnection(database, lambda: sqlite3.connect(database, **kwargs))
