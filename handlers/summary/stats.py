"""Figures on demand in the coordinators' group: /stats (today so far, a week, a month, a range
of dates), /export (a ZIP of CSV files), /challenge_stats and /survey_results, and the buttons
of the summary and of /stats. Coordinators only, by their router's gate
(handlers/coordination.py); buttons answer wherever they are pressed, so that a forged one is
refused, not ignored.

The challenges' and surveys' figures are theirs, and so are the waiting proposals and the failed
deliveries: these handlers call those flows' own functions and views
(`storage.challenges.challenge_figures`, `handlers.surveys.manage.show_list`,
`handlers.initiatives.moderation.list_pending`, `handlers.deliveries.failed_text`), never a copy
of them nor their handlers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial

from aiogram import html
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from bot.i18n import ngettext
from bot.replies import later
from handlers.challenges.coordination import figures_text
from handlers.challenges.coordination_keyboards import list_keyboard
from handlers.deliveries import failed_text
from handlers.flow import Flow
from handlers.initiatives.moderation import list_pending
from handlers.initiatives.reports import tell_group_reported
from handlers.summary.callbacks import SummaryAction, SummaryCb
from handlers.summary.keyboards import figures_keyboard
from handlers.summary.texts import Labels, section_text, stats_text, stats_title
from handlers.surveys.manage import show_list
from storage.challenges import challenge_figures, challenge_text, list_challenges
from storage.exports import export_files, zip_bytes
from storage.models import ChallengeStatus, utcnow
from storage.needs import themes_in_order
from storage.organisations import gaps
from storage.outbox import remember_shown, split_text
from storage.summary import (
    counts,
    day_window,
    local_date,
    period_figures,
    period_window,
    reported_initiatives,
)

router = Flow("summary")

# Longer periods are for the CLI's and the export's data team.
LONGEST_PERIOD = 366
WEEK, MONTH = 7, 30
_WEEK_WORDS = {"week", "semaine", "7"}
_MONTH_WORDS = {"month", "mois", "30"}
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.](\d{1,2})$")

Clock = Callable[[], datetime]


class PeriodError(ValueError):
    """What /stats was given cannot name a period; the message says what is expected."""


def parse_day(text: str, today: date) -> date:
    """DD/MM/YYYY, YYYY-MM-DD, or DD/MM: the latest such day up to today."""
    if found := _DAY_MONTH.match(text):
        day, month = (int(part) for part in found.groups())
        try:
            found_day = date(today.year, month, day)
            return found_day if found_day <= today else date(today.year - 1, month, day)
        except ValueError as error:
            raise PeriodError(text) from error
    found = _DATE.match(text)
    if found:
        day, month, year = (int(part) for part in found.groups())
    else:
        found = _ISO.match(text)
        if not found:
            raise PeriodError(text)
        year, month, day = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError as error:
        raise PeriodError(text) from error


def parse_period(args: str | None, today: date) -> tuple[date, date]:
    """(first day, last day) of what /stats was asked: nothing (today so far), "week" (the
    last 7 days), "month" (the last 30), one date, or two dates (DD/MM/YYYY, YYYY-MM-DD or
    DD/MM)."""
    words = (args or "").lower().split()
    if not words:
        return today, today
    if len(words) == 1 and words[0] in _WEEK_WORDS:
        return today - timedelta(days=WEEK - 1), today
    if len(words) == 1 and words[0] in _MONTH_WORDS:
        return today - timedelta(days=MONTH - 1), today
    if len(words) > 2:
        raise PeriodError(args)
    days = [parse_day(word, today) for word in words]
    first, last = days[0], days[-1]
    if last < first:
        first, last = last, first
    if first > today:
        raise PeriodError(args)
    last = min(last, today)
    if (last - first).days + 1 > LONGEST_PERIOD:
        raise PeriodError(args)
    return first, last


def stats_usage() -> str:
    return _(
        "Send /stats for today so far, <code>/stats week</code> for the last 7 days, "
        "<code>/stats month</code> for the last 30, or one or two dates: "
        "<code>/stats 01/11/2026 15/11/2026</code> (at most a year, not in the future)."
    )


async def answer_long(message: Message, text: str, reply_markup: object = None) -> None:
    """Sent in as many messages as Telegram's limit needs, the buttons under the last."""
    parts = split_text(text)
    for part in parts[:-1]:
        await message.answer(part)
    await message.answer(parts[-1], reply_markup=reply_markup)  # type: ignore[arg-type]


async def answer_remembered(
    message: Message,
    text: str,
    reply_markup: InlineKeyboardMarkup | None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """`answer_long`, each part remembered with its text where it was shown."""
    parts = split_text(text)
    for index, part in enumerate(parts):
        markup = reply_markup if index == len(parts) - 1 else None
        sent = await message.answer(part, reply_markup=markup)
        async with sessionmaker.begin() as session:
            await remember_shown(
                session,
                chat_id=sent.chat.id,
                message_id=sent.message_id,
                subject=None,
                text=part,
                reply_markup=markup.model_dump(exclude_none=True) if markup else None,
            )


@router.message(Command("stats"))
async def stats(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    wall_clock: Clock = utcnow,
) -> None:
    """The summary's figures, for the period asked, compared with the one before."""
    now = wall_clock()
    today = local_date(now, settings.timezone)
    try:
        first, last = parse_period(command.args, today)
    except PeriodError:
        await message.reply(stats_usage())
        return
    figures = await period_figures(session, first, last, settings.timezone, now=now)
    themes = await themes_in_order(session, figures.counts.needs_by_theme)
    labels = Labels(settings.group_locale, themes, today)
    text = stats_text(figures, stats_title(first, last, today, labels), labels)
    if (command.args or "").strip().casefold() in _WEEK_WORDS:
        unanswered = sum(1 for gap in await gaps(session) if gap.answered == 0)
        text += "\n\n" + _(
            "Places and themes with open needs and no answer: {count} — /gaps"
        ).format(count=unanswered)
    keyboard = figures_keyboard(figures, daily=False, reach_others=True)
    if figures.waiting.first:
        # It quotes the titles of proposals waiting: remembered, so that their author's
        # erasure rewrites it as it does the summary's (storage.privacy.scrub_quotes).
        await later(partial(answer_remembered, message, text, keyboard, sessionmaker))
    else:
        await answer_long(message, text, keyboard)


@router.message(Command("export"))
async def export(
    message: Message, session: AsyncSession, settings: Settings, wall_clock: Clock = utcnow
) -> None:
    """Every CSV file for the data team, in one ZIP."""
    now = wall_clock()
    files = await export_files(session, settings.timezone, settings.group_locale)
    name = f"la-collective-{local_date(now, settings.timezone).isoformat()}.zip"
    await message.answer_document(
        BufferedInputFile(zip_bytes(files, now), filename=name),
        caption=ngettext(
            "{count} CSV file for Excel (UTF-8, “;”): people, needs, initiatives, "
            "participations, surveys and their answers. A person's Telegram id appears only "
            "if they agreed to share their contact details.",
            "{count} CSV files for Excel (UTF-8, “;”): people, needs, initiatives, "
            "participations, surveys and their answers. A person's Telegram id appears only "
            "if they agreed to share their contact details.",
            len(files),
        ).format(count=len(files)),
    )


# -- the challenges' and the surveys' figures, from their own code


@router.message(Command("challenge_stats"))
async def challenge_stats(message: Message, session: AsyncSession, settings: Settings) -> None:
    await show_challenge_figures(message, session, settings)


@router.message(Command("survey_results"))
async def survey_results(message: Message, session: AsyncSession, settings: Settings) -> None:
    await show_survey_results(message, session, settings)


async def show_challenge_figures(
    message: Message, session: AsyncSession, settings: Settings
) -> None:
    """The open challenges' figures, as their cards give them, and the buttons to the cards."""
    items, total = await list_challenges(
        session, statuses=(ChallengeStatus.open,), page=0, page_size=10
    )
    if not items:
        await message.answer(_("No challenge is open."))
        return
    locale = settings.group_locale
    lines = [
        ngettext("<b>{count} open challenge</b>", "<b>{count} open challenges</b>", total).format(
            count=total
        )
    ]
    for challenge in items:
        figures = await challenge_figures(session, challenge.id)
        title = html.quote(challenge_text(challenge, locale)[0])
        # Their first line is their own heading ("Figures"): the title stands for it here.
        lines += ["", f"<b>{title}</b>", *figures_text(figures)[1:]]
    if total > len(items):
        more = total - len(items)
        lines += [
            "",
            ngettext(
                "… and {count} more open challenge: /challenges lists them all.",
                "… and {count} more open challenges: /challenges lists them all.",
                more,
            ).format(count=more),
        ]
    await answer_long(message, "\n".join(lines), list_keyboard(items, locale, 0, 1))


async def show_survey_results(message: Message, session: AsyncSession, settings: Settings) -> None:
    """The surveys' list with their answers so far, and a button to each one's card and
    results: the surveys' own view."""
    await show_list(message, session, settings, 0)


# -- the buttons


@router.callback_query(SummaryCb.filter())
async def summary_button(
    query: CallbackQuery,
    callback_data: SummaryCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    wall_clock: Clock = utcnow,
) -> None:
    """What the pressed message (a summary, or /stats) cut short, answered under it."""
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        callback_answer.text = _("This message is too old: send the command again.")
        return
    action = callback_data.action
    if action is SummaryAction.pending:
        await list_pending(message, session, sessionmaker, settings)
    elif action is SummaryAction.failed:
        await message.reply(await failed_text(session, settings))
    elif action is SummaryAction.reports:
        await resend_reports(callback_answer, i18n, session, settings, coordinators_chat)
    elif action is SummaryAction.challenges:
        await show_challenge_figures(message, session, settings)
    elif action is SummaryAction.surveys:
        await show_survey_results(message, session, settings)
    else:
        await show_section(message, callback_data, session, settings, wall_clock())


async def resend_reports(
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """The reported initiatives' cards again, with their Hide and Keep buttons (through the
    outbox, as when they were reported)."""
    found = await reported_initiatives(session)
    for initiative, reason in found:
        await tell_group_reported(session, i18n, settings, coordinators_chat, initiative, reason)
    callback_answer.text = (
        ngettext(
            "{count} card is on its way.",
            "{count} cards are on their way.",
            len(found),
        ).format(count=len(found))
        if found
        else _("Nothing is reported any more.")
    )


async def show_section(
    message: Message,
    callback_data: SummaryCb,
    session: AsyncSession,
    settings: Settings,
    now: datetime,
) -> None:
    """The whole list that a summary or /stats cut at its first items."""
    if callback_data.daily:
        window = day_window(callback_data.last_day, settings.timezone, settings.summary_time)
    else:
        window = period_window(callback_data.first_day, callback_data.last_day, settings.timezone)
    found = await counts(session, window.capped(now))
    themes = await themes_in_order(session, found.needs_by_theme)
    labels = Labels(settings.group_locale, themes, local_date(now, settings.timezone))
    await answer_long(message, section_text(found, callback_data.section, labels))
