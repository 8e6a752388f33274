"""Typed settings of a survey, in the coordinators' group: when a draft is sent (a date and
time in Paris; the scheduler sends it then) and after how many hours those who have not
finished are reminded, once. The dialog's data is a `ScheduleDraft`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import F, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from bot.i18n import format_when, ngettext
from handlers.draft import Draft
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.surveys import sending
from handlers.surveys.coordination_callbacks import ManageAction, ManageCb
from handlers.surveys.coordination_states import SurveySchedule
from handlers.surveys.manage import PRESSED_SURVEY, already_sent, show_card, tell
from handlers.texts import stale_button
from storage import survey_sending
from storage.models import Survey, SurveyStatus, utcnow
from storage.outbox import QuietHours
from storage.surveys import SurveyError

router = Flow("survey-scheduling", current=[PRESSED_SURVEY])

DATE_FORMAT = "%d/%m/%Y %H:%M"


@dataclass
class ScheduleDraft(Draft, key="survey_schedule"):
    survey_id: int = 0  # none: the survey is not found, as when it was sent meanwhile


def date_example(now: datetime, settings: Settings) -> str:
    tomorrow = now.astimezone(ZoneInfo(settings.timezone)) + timedelta(days=1)
    return tomorrow.replace(hour=9, minute=30).strftime(DATE_FORMAT)


@router.callback_query(ManageCb.filter(F.action == ManageAction.send_at))
async def send_at_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Asks, in the group, when to send the draft."""
    if query.message is None:
        return
    if survey.status is not SurveyStatus.draft:
        await already_sent(query, callback_answer, session, settings, survey)
        return
    if query.message.chat.id != coordinators_chat.id:
        callback_answer.text = stale_button()
        return
    await state.set_state(SurveySchedule.typing_send_at)
    await ScheduleDraft(survey.id).save(state)
    ask = _(
        "{name}, when should “{title}” be sent? Please type the date and time in Paris as "
        "DD/MM/YYYY HH:MM, for example {example}."
    ).format(
        name=html.quote(query.from_user.full_name),
        title=sending.title_of(survey, settings.group_locale),
        example=date_example(wall_clock(), settings),
    )
    await tell(query, ask + "\n" + _("/cancel to give up."))


@router.message(SurveySchedule.typing_send_at, NotCommand())
async def send_at_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Stores `send_at` (the scheduler sends the survey then) and shows the card again."""
    if message.from_user is None:  # a channel's post: no one to record as the author
        return
    now = wall_clock()
    try:
        typed = datetime.strptime((message.text or "").strip(), DATE_FORMAT)
    except ValueError:
        await message.reply(
            _("Please type the date and time as DD/MM/YYYY HH:MM, for example {example}.").format(
                example=date_example(now, settings)
            )
        )
        return
    moment = typed.replace(tzinfo=ZoneInfo(settings.timezone)).astimezone(ZoneInfo("UTC"))
    if moment <= now:
        await message.reply(_("This moment has passed: please type a date and time to come."))
        return
    draft = await ScheduleDraft.load(state)
    await state.clear()
    try:
        survey = await survey_sending.schedule(
            session, draft.survey_id, moment, message.from_user.id
        )
    except (LookupError, SurveyError):
        await message.reply(_("This survey has already been sent."))
        return
    said = _("Scheduled: “{title}” will be sent on {when}.").format(
        title=sending.title_of(survey, settings.group_locale),
        when=format_when(moment, settings.group_locale, settings.timezone),
    )
    morning = QuietHours(settings.timezone).end_after(moment)
    if morning != moment:
        said += "\n" + _(
            "That is in the quiet hours (21:00 to 08:00): the invitations will reach people "
            "from {when}."
        ).format(when=format_when(morning, settings.group_locale, settings.timezone))
    await message.reply(said)
    await show_card(message, session, settings, survey)


@router.callback_query(ManageCb.filter(F.action == ManageAction.reminder))
async def reminder_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Asks after how many hours the unfinished are reminded."""
    if query.message is None:
        return
    if survey.status is SurveyStatus.closed:
        callback_answer.text = _("This survey is closed.")
        return
    if query.message.chat.id != coordinators_chat.id:
        callback_answer.text = stale_button()
        return
    await state.set_state(SurveySchedule.typing_reminder)
    await ScheduleDraft(survey.id).save(state)
    low, high = survey_sending.REMINDER_HOURS
    ask = _(
        "{name}, how many hours after the invitation should those who have not finished "
        "“{title}” be reminded (once)? Please type a number from {low} to {high}."
    ).format(
        name=html.quote(query.from_user.full_name),
        title=sending.title_of(survey, settings.group_locale),
        low=low,
        high=high,
    )
    await tell(query, ask + "\n" + _("/cancel to give up."))


@router.message(SurveySchedule.typing_reminder, NotCommand())
async def reminder_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Stores `reminder_after_hours` and shows the card again."""
    if message.from_user is None:  # a channel's post: no one to record as the author
        return
    low, high = survey_sending.REMINDER_HOURS
    text = (message.text or "").strip()
    hours = int(text) if text.isascii() and text.isdigit() else 0
    if not low <= hours <= high:
        await message.reply(
            _("Please type a whole number of hours from {low} to {high}.").format(
                low=low, high=high
            )
        )
        return
    draft = await ScheduleDraft.load(state)
    await state.clear()
    try:
        survey = await survey_sending.set_reminder(
            session, draft.survey_id, hours, message.from_user.id
        )
    except (LookupError, SurveyError):
        await message.reply(_("This survey is closed."))
        return
    await message.reply(
        ngettext(
            "Reminder set: {hours} hour after the invitation, once, to those who have not "
            "finished.",
            "Reminder set: {hours} hours after the invitation, once, to those who have not "
            "finished.",
            hours,
        ).format(hours=hours)
    )
    await show_card(message, session, settings, survey)


@router.message(Command("cancel"), SurveySchedule.typing_send_at)
@router.message(Command("cancel"), SurveySchedule.typing_reminder)
async def cancel_typing(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.reply(_("Cancelled: the survey is unchanged."))
