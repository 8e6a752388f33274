"""Retention, once a day at RETENTION_TIME (local time): inactive people warned, then erased;
old free-text answers emptied; the outbox's old content and old update ids pruned
(storage.retention says what and why).

The day is claimed first, in a transaction of its own, so that one worker does the day's work
whatever the number of workers and restarts; the work then goes in bounded batches, each
committed on its own: a worker that dies midway leaves the rest to the next day's run. Warnings
go through the outbox, in the person's language, in the transaction that marks them warned.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.jobs import JobContext
from handlers.privacy.erasure import erase_person
from handlers.texts import format_day
from storage import retention
from storage.job_runs import claim_day
from storage.models import User
from storage.outbox import TextMessage, enqueue
from storage.summary import due_day, local_date, local_moment

log = logging.getLogger(__name__)

JOB = "privacy.retention"
# People handled in one transaction (erasing one is several statements), rows in one statement,
# and batches of each kind in one day's run: the rest, if any, waits for the next day.
PEOPLE_PER_BATCH = 100
ROWS_PER_BATCH = 1000
MAX_BATCHES = 100


def periods(settings: Settings) -> retention.Periods:
    return retention.Periods(
        inactive_months=settings.inactive_months,
        warning_days=settings.inactivity_warning_days,
        final_warning_days=settings.inactivity_final_warning_days,
        free_text_months=settings.free_text_retention_months,
        outbox_days=settings.outbox_content_days,
        updates_days=settings.processed_updates_days,
    )


@dataclass
class Done:
    """What a day's run did."""

    warned: int = 0
    warned_again: int = 0
    erased: int = 0
    warnings_cleared: int = 0
    free_texts_emptied: int = 0
    outbox_pruned: int = 0
    updates_pruned: int = 0


async def enforce_retention(context: JobContext, now: datetime) -> None:
    """The scheduler's job: the day's retention work, once its time has come, if nobody did."""
    settings = context.settings
    day = due_day(now, settings.timezone, settings.retention_time)
    if day is None:
        return
    # A cheap look first: after the run, every tick of the day finds it done.
    async with context.sessionmaker() as session:
        if await retention.day_claimed(session, JOB, day):
            return
    async with context.sessionmaker.begin() as session:
        if not await claim_day(session, JOB, day, now=now):
            return
    done = await retain(context.sessionmaker, context.i18n, settings, now, storage=context.storage)
    log.info("retention of %s: %s", day, asdict(done))


async def retain(
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    now: datetime,
    *,
    storage: BaseStorage | None = None,
    people: int = PEOPLE_PER_BATCH,
    rows: int = ROWS_PER_BATCH,
    batches: int = MAX_BATCHES,
) -> Done:
    """Everything retention asks at `now`, in batches of `people` people or `rows` rows, at
    most `batches` of each kind. `storage`: the dialog storage, when dialogs are kept in
    Redis (those kept in the database go with the rest of the person)."""
    found = periods(settings)
    done = Done()

    async def repeat(step: Callable[[AsyncSession], Awaitable[int]], size: int) -> int:
        total = 0
        for _number in range(batches):
            async with sessionmaker.begin() as session:
                count = await step(session)
            total += count
            if count < size:
                break
        return total

    async def walk(step: Callable[[AsyncSession, int], Awaitable[retention.Batch]]) -> int:
        total, after = 0, 0
        for _number in range(batches):
            async with sessionmaker.begin() as session:
                batch = await step(session, after)
            total += batch.done
            if batch.last is None:
                break
            after = batch.last
        return total

    async def erase(session: AsyncSession, after: int) -> retention.Batch:
        due, last = await retention.due_for_erasure(session, now, found, limit=people, after=after)
        # The scheduler sets the catalogs' context; a run called on its own (tests) needs it.
        with i18n.context():
            for user in due:
                await erase_person(
                    session,
                    user,
                    i18n=i18n,
                    group_locale=settings.group_locale,
                    storage=storage,
                    now=now,
                )
        return retention.Batch(len(due), last)

    done.warnings_cleared = await repeat(
        lambda session: retention.clear_answered_warnings(session, limit=rows), rows
    )
    done.erased = await walk(erase)
    done.warned_again = await repeat(
        lambda session: warn(session, i18n, settings, now, final=True, limit=people), people
    )
    done.warned = await repeat(
        lambda session: warn(session, i18n, settings, now, final=False, limit=people), people
    )
    done.free_texts_emptied = await repeat(
        lambda session: retention.empty_free_texts(session, now, found, limit=rows), rows
    )
    done.outbox_pruned = await walk(
        lambda session, after: retention.prune_outbox(session, now, found, limit=rows, after=after)
    )
    done.updates_pruned = await repeat(
        lambda session: retention.prune_processed_updates(session, now, found, limit=rows), rows
    )
    return done


async def warn(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    now: datetime,
    *,
    final: bool,
    limit: int = PEOPLE_PER_BATCH,
) -> int:
    """Warns up to `limit` people whose warning is due, each in their language, and marks them
    warned in the same transaction."""
    found = periods(settings)
    users = await retention.due_for_warning(session, now, found, final=final, limit=limit)
    for user in users:
        moment = retention.erasure_after_warning(user, found, now, final=final)
        with i18n.context(), i18n.use_locale(user.locale):
            text = warning_text(user, erasure_day(moment, settings), settings, final=final)
        retention.mark_warned(user, now, final=final)
        assert user.telegram_id is not None
        await enqueue(
            session,
            TextMessage(
                chat_id=user.telegram_id, text=text, user_id=user.id, kind=retention.INACTIVITY
            ),
        )
    await session.flush()
    return len(users)


def erasure_day(moment: datetime, settings: Settings) -> date:
    """The day of the first daily run at or after `moment`: the erasure's day, as announced."""
    day = local_date(moment, settings.timezone)
    if moment > local_moment(day, settings.retention_time, settings.timezone):
        day += timedelta(days=1)
    return day


def warning_text(user: User, erased_on: date, settings: Settings, *, final: bool) -> str:
    """The warning, in the current locale: since when the person has not been seen, the day
    their data will be erased, and how to keep it."""
    locale = user.locale
    values = {
        "last_visit": format_day(local_date(user.last_seen_at, settings.timezone), locale, "long"),
        "date": format_day(erased_on, locale, "long"),
    }
    if final:
        headline = _(
            "<b>Last reminder:</b> your La Collective account will be erased on {date}. You "
            "have not used this bot since {last_visit}."
        ).format(**values)
    else:
        headline = _(
            "You have not used La Collective's bot since {last_visit}. As our privacy notice "
            "says, your account and what you shared will be erased on {date}; what you "
            "contributed will remain only in anonymous totals."
        ).format(**values)
    keep = _("To keep your account, just send any message here, for example /start.")
    return f"{headline}\n\n{keep}"
