"""Database faults for tests: what a lost connection or a lock timeout does to a commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def failing_commits(engine: AsyncEngine, times: int = 1) -> Iterator[list[int]]:
    """The next `times` commits on `engine` fail; yields the list of those that did."""
    failed: list[int] = []

    def fail(connection: Any) -> None:
        if len(failed) < times:
            failed.append(1)
            raise OperationalError("COMMIT", {}, Exception("database is locked"))

    event.listen(engine.sync_engine, "commit", fail)
    try:
        yield failed
    finally:
        event.remove(engine.sync_engine, "commit", fail)
