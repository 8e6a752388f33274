"""A scheduled job's day, claimed once across workers and restarts (table job_runs)."""

from __future__ import annotations

import importlib
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun


async def claim_day(session: AsyncSession, name: str, day: date, *, now: datetime) -> bool:
    """Takes job `name` for `day` in this transaction: False when another worker, or an earlier
    run, already took it. On PostgreSQL a concurrent claim waits for the first one's
    transaction, then finds the day taken; on SQLite, BEGIN IMMEDIATE makes them take turns."""
    dialect = session.get_bind().dialect.name
    # The PostgreSQL dialect (some 2 MB) only where it is the database.
    module = "postgresql" if dialect == "postgresql" else "sqlite"
    insert = importlib.import_module(f"sqlalchemy.dialects.{module}").insert
    result = await session.execute(
        insert(JobRun)
        .values(name=name, day=day, ran_at=now)
        .on_conflict_do_nothing(index_elements=[JobRun.name, JobRun.day])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def day_claimed(session: AsyncSession, name: str, day: date) -> bool:
    found = await session.scalar(select(JobRun.day).where(JobRun.name == name, JobRun.day == day))
    return found is not None


async def release_day(session: AsyncSession, name: str, day: date) -> None:
    """Gives the day back, so that the next tick tries again (the job failed)."""
    await session.execute(delete(JobRun).where(JobRun.name == name, JobRun.day == day))
