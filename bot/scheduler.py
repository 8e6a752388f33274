"""Scheduled work (surveys to send, reminders, the daily summary), checked every few seconds.

Each job claims its work in the database in the same transaction as the outbox rows it writes
(a unique row or a status change), so it runs once per due moment even with restarts and
several workers — APScheduler cannot share its job store between processes (DESIGN.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot
from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.backup_job import daily_backup
from bot.config import Settings
from handlers.challenges.jobs import close_ended_challenges
from handlers.privacy.jobs import enforce_retention
from handlers.summary.jobs import daily_summary
from handlers.surveys.jobs import send_due_surveys, send_reminders
from storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    bot: Bot
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    i18n: I18n
    # The dispatcher's dialog storage: a person erased by a job loses their Redis dialogs too.
    storage: BaseStorage | None = None


# A job does whatever is due at `now`, in its own transaction(s), and returns quickly.
Job = Callable[[JobContext, datetime], Awaitable[None]]


def jobs() -> Sequence[tuple[str, Job]]:
    """Every scheduled job of the bot, in the order they run."""
    return [
        ("surveys.send", send_due_surveys),
        ("surveys.remind", send_reminders),
        ("summary.daily", daily_summary),
        ("challenges.close", close_ended_challenges),
        ("privacy.retention", enforce_retention),
        ("backup.daily", daily_backup),
    ]


async def run_jobs(
    context: JobContext, now: datetime, selected: Sequence[tuple[str, Job]]
) -> None:
    for name, job in selected:
        try:
            with context.i18n.context():
                await job(context, now)
        except Exception:
            # One failing job must not stop the others nor the loop: it is tried again next tick.
            log.exception("scheduled job %s failed", name)


async def schedule(
    context: JobContext,
    stop: asyncio.Event,
    *,
    every: float = 15.0,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Runs the jobs every `every` seconds until `stop` is set; a tick in progress finishes."""
    selected = jobs()
    while not stop.is_set():
        await run_jobs(context, clock(), selected)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
