"""Updates received from Telegram: each handled once, and those that failed every attempt set
aside where the coordinators see them."""

from __future__ import annotations

import importlib
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Insert, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate, utcnow

ERROR_MAX = 200


@lru_cache
def _marking(dialect: str) -> Insert:
    # The PostgreSQL dialect (some 2 MB) only where it is the database.
    module = "postgresql" if dialect == "postgresql" else "sqlite"
    insert = importlib.import_module(f"sqlalchemy.dialects.{module}").insert
    table = ProcessedUpdate.__table__
    statement: Insert = (
        insert(table)
        .values(update_id=bindparam("update_id"), processed_at=bindparam("processed_at"))
        .on_conflict_do_nothing()
        .returning(table.c.update_id)
    )
    return statement


async def mark_processed(session: AsyncSession, update_id: int) -> bool:
    """Marks the update handled in the session's transaction; False when it already was (by
    an earlier delivery, or one in flight in another worker: this waits for its outcome).
    One statement, built once, run without the ORM: every update pays for it."""
    connection = await session.connection()
    statement = _marking(connection.dialect.name)
    found = await connection.execute(statement, {"update_id": update_id, "processed_at": utcnow()})
    return found.first() is not None


def describe(error: BaseException) -> str:
    """What went wrong, in a line: a database error without its SQL and parameters (which may
    hold what a person wrote)."""
    cause = getattr(error, "orig", None) or error
    first_line = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {first_line}"[:ERROR_MAX]


async def set_aside(
    session: AsyncSession, update_id: int, error: str, now: datetime | None = None
) -> None:
    """The update is given up: marked handled, with no effect, and why."""
    now = now or utcnow()
    row = await session.get(ProcessedUpdate, update_id)
    if row is None:
        session.add(
            ProcessedUpdate(
                update_id=update_id, processed_at=now, failed_at=now, error=error[:ERROR_MAX]
            )
        )
    else:  # handled meanwhile (another worker): nothing was lost
        return
    await session.flush()


async def set_aside_updates(session: AsyncSession, limit: int = 20) -> list[ProcessedUpdate]:
    """The updates set aside, latest first."""
    rows = await session.scalars(
        select(ProcessedUpdate)
        .where(ProcessedUpdate.failed_at.is_not(None))
        .order_by(ProcessedUpdate.failed_at.desc(), ProcessedUpdate.update_id.desc())
        .limit(limit)
    )
    return list(rows)
