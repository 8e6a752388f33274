"""The daily summary, posted once a day at SUMMARY_TIME (local time) to the coordinators' group.

Exactly once: the day's claim (a unique row) and the summary's outbox rows are written in one
transaction. A second worker, or a run after a restart, finds the day claimed; a run that dies
before its commit leaves the day free for the next tick. A bot down at the summary time posts
it when it comes back the same day, saying it is late; the day after, that day is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.jobs import JobContext
from handlers.summary.keyboards import figures_keyboard
from handlers.summary.texts import Labels, dashboard_caption, dashboard_texts, summary_text
from storage.dashboard import DashboardTexts, dashboard_png
from storage.needs import themes_in_order
from storage.outbox import PhotoMessage, TextMessage, enqueue
from storage.summary import (
    DayActivity,
    SummaryFigures,
    activity,
    claim_summary,
    daily_figures,
    due_day,
    is_late,
    local_date,
    mark_quiet,
    summary_claimed,
)

log = logging.getLogger(__name__)


async def daily_summary(context: JobContext, now: datetime) -> None:
    """The scheduler's job: posts today's summary once its time has come, if nobody did."""
    settings = context.settings
    group_id = context.group_id
    if group_id is None:
        return
    day = due_day(now, settings.timezone, settings.summary_time)
    if day is None:
        return
    # A cheap look first: after the summary time, every tick of the day finds it done.
    async with context.sessionmaker() as session:
        if await summary_claimed(session, day):
            return
    async with context.sessionmaker.begin() as session:
        posted = await post_summary(session, context.i18n, settings, group_id, day, now)
    if posted is not None:
        log.info("daily summary of %s %s", day, "posted" if posted else "quiet: nothing to say")


async def post_summary(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    group_id: int,
    day: date,
    now: datetime,
) -> bool | None:
    """Claims `day` and writes its summary to the outbox of the coordinators' group
    (`group_id`), in the caller's transaction.
    None: already claimed; False: a quiet day (claimed, no message); True: written."""
    late = is_late(now, day, settings.timezone, settings.summary_time)
    if not await claim_summary(session, day, now=now, late=late):
        return None
    figures = await daily_figures(
        session, day, settings.timezone, cutoff=settings.summary_time, now=now, waiting_at=now
    )
    if figures.quiet:
        await mark_quiet(session, day)
        return False
    days = await activity(session, day, settings.timezone, cutoff=settings.summary_time, now=now)
    text, markup, caption, words = await render(session, i18n, settings, figures, late, now, days)
    await enqueue(session, TextMessage(chat_id=group_id, text=text, reply_markup=markup))
    picture = dashboard_png(days, words)
    await enqueue(session, PhotoMessage(chat_id=group_id, picture=picture, caption=caption))
    return True


async def render(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    figures: SummaryFigures,
    late: bool,
    now: datetime,
    days: Sequence[DayActivity],
) -> tuple[str, dict[str, Any] | None, str, DashboardTexts]:
    locale = settings.group_locale
    themes = await themes_in_order(session, figures.counts.needs_by_theme)
    labels = Labels(locale, themes, today=local_date(now, settings.timezone))
    # The scheduler sets the catalogs' context; a job called on its own (tests) needs it too.
    with i18n.context(), i18n.use_locale(locale):
        text = summary_text(figures, labels, settings, late=late)
        keyboard = figures_keyboard(figures, daily=True, reach_others=False)
        caption = dashboard_caption(days, labels)
        words = dashboard_texts(days, labels)
    markup = keyboard.model_dump(exclude_none=True) if keyboard is not None else None
    return text, markup, caption, words
