"""/surveys in the coordinators' group: the list, each survey's card, and what coordinators do
from it — preview, send now or at a date, set the reminder, close (the results then go to the
respondents). Results, exports and waves are in `results_group.py`.

Every button checks that the person is a coordinator: buttons answer wherever pressed, so that
a forged one is refused, not ignored. Every action checks the survey's state again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, F, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.coordinators import Coordinators
from bot.i18n import format_when, ngettext
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.surveys import coordination_keyboards as keyboards
from handlers.surveys import operations, sending
from handlers.surveys.coordination import card_text, list_text, preview_text, refusal
from handlers.surveys.coordination_callbacks import ListCb, ManageAction, ManageCb
from handlers.surveys.coordination_states import SurveySchedule
from handlers.texts import stale_button
from handlers.ui import show
from storage.models import Challenge, Survey, SurveyStatus, utcnow
from storage.outbox import split_text
from storage.surveys import SurveyError, audience, close_survey, get_survey, list_surveys
from storage.surveys import questions_of as survey_questions

router = Flow("survey-management")

LIST_PAGE = 8
DATE_FORMAT = "%d/%m/%Y %H:%M"


async def coordinator(
    query: CallbackQuery, callback_answer: CallbackAnswer, bot: Bot, coordinators: Coordinators
) -> bool:
    if await coordinators(bot, query.from_user.id):
        return True
    callback_answer.text = refusal()
    callback_answer.show_alert = True
    return False


async def pressed_survey(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    survey_id: int,
) -> Survey | None:
    """The survey a button names, when a coordinator pressed it and it still exists."""
    if not await coordinator(query, callback_answer, bot, coordinators):
        return None
    survey = await get_survey(session, survey_id)
    if survey is None:
        callback_answer.text = stale_button()
    return survey


async def tell(target: CallbackQuery | Message, text: str) -> None:
    """New messages under the card, in the chat where the button was pressed."""
    message = target.message if isinstance(target, CallbackQuery) else target
    if message is None:
        return
    bot = target.bot
    assert bot is not None
    for part in split_text(text):
        await bot.send_message(message.chat.id, part)


async def show_card(
    target: CallbackQuery | Message, session: AsyncSession, settings: Settings, survey: Survey
) -> None:
    challenge = await session.get(Challenge, survey.challenge_id) if survey.challenge_id else None
    questions = len(await survey_questions(session, survey.id))
    counts = (await operations.response_counts(session, [survey.id]))[survey.id]
    several = await operations.sent_waves(session, survey.series) >= 2
    text = card_text(survey, challenge, questions, counts, settings)
    await show(target, text, keyboards.card_keyboard(survey, several_waves=several))


# -- the list and the card


@router.message(Command("surveys"))
async def list_command(
    message: Message,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if message.from_user is None or not await coordinators(bot, message.from_user.id):
        await message.reply(refusal())
        return
    await show_list(message, session, settings, 0)


@router.callback_query(ListCb.filter())
async def list_page(
    query: CallbackQuery,
    callback_data: ListCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if await coordinator(query, callback_answer, bot, coordinators):
        await show_list(query, session, settings, callback_data.page)


async def show_list(
    target: Message | CallbackQuery, session: AsyncSession, settings: Settings, page: int
) -> None:
    """Every survey, drafts included, the newest first, with its answers so far."""
    surveys = await list_surveys(session)
    if not surveys:
        await show(
            target,
            _(
                "No survey yet. Surveys are written in a file and imported with "
                "<code>collective surveys import FILE</code>."
            ),
        )
        return
    pages = (len(surveys) + LIST_PAGE - 1) // LIST_PAGE
    page = min(max(page, 0), pages - 1)
    shown = surveys[page * LIST_PAGE : (page + 1) * LIST_PAGE]
    counts = await operations.response_counts(session, [survey.id for survey in shown])
    challenges = {
        survey.challenge_id: challenge
        for survey in shown
        if survey.challenge_id is not None
        and (challenge := await session.get(Challenge, survey.challenge_id)) is not None
    }
    locale = settings.group_locale
    text = list_text(shown, counts, challenges, locale, page, pages, len(surveys))
    await show(target, text, keyboards.list_keyboard(shown, locale, page, pages))


@router.callback_query(ManageCb.filter(F.action == ManageAction.card))
async def card(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    settings: Settings,
) -> None:
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is not None:
        await show_card(query, session, settings, survey)


@router.callback_query(ManageCb.filter(F.action == ManageAction.preview))
async def preview(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Every question as respondents of the group's language will see it, under the card."""
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is None:
        return
    questions = await survey_questions(session, survey.id)
    await tell(query, preview_text(survey, questions, settings.group_locale))


# -- sending


@router.callback_query(ManageCb.filter(F.action == ManageAction.send))
async def send_pressed(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Says how many people the survey goes to, and asks to confirm."""
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is None:
        return
    if survey.status is not SurveyStatus.draft:
        await already_sent(query, callback_answer, session, settings, survey)
        return
    count = len(await audience(session, survey))
    text = ngettext(
        "Send «{title}» now to {count} person? Each receives it in their language.",
        "Send «{title}» now to {count} people? Each receives it in their language.",
        count,
    ).format(title=sending.title_of(survey, settings.group_locale), count=count)
    await show(query, text, keyboards.confirm_keyboard(ManageAction.send_confirmed, survey.id))


@router.callback_query(ManageCb.filter(F.action == ManageAction.send_confirmed))
async def send_confirmed(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Opens the survey and writes the invitations to the outbox; the group is told how many."""
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is None:
        return
    sent = await sending.send_survey(session, i18n, survey.id, query.from_user.id, wall_clock())
    if sent is None:
        await already_sent(query, callback_answer, session, settings, survey)
        return
    await show_card(query, session, settings, sent.survey)
    await tell(query, sending.invited_note(sent.survey, sent.invited, settings.group_locale))


async def already_sent(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    settings: Settings,
    survey: Survey,
) -> None:
    callback_answer.text = _("This survey has already been sent.")
    callback_answer.show_alert = True
    await session.refresh(survey)
    await show_card(query, session, settings, survey)


# -- typed settings: when to send, when to remind


@dataclass
class ScheduleDraft:
    survey_id: int


async def load_draft(state: FSMContext) -> ScheduleDraft:
    return ScheduleDraft(**(await state.get_data())["survey_schedule"])


async def save_draft(state: FSMContext, draft: ScheduleDraft) -> None:
    await state.update_data(survey_schedule=asdict(draft))


def date_example(now: datetime, settings: Settings) -> str:
    tomorrow = now.astimezone(ZoneInfo(settings.timezone)) + timedelta(days=1)
    return tomorrow.replace(hour=9, minute=30).strftime(DATE_FORMAT)


@router.callback_query(ManageCb.filter(F.action == ManageAction.send_at))
async def send_at_pressed(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Asks, in the group, when to send the draft."""
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is None or query.message is None:
        return
    if survey.status is not SurveyStatus.draft:
        await already_sent(query, callback_answer, session, settings, survey)
        return
    if query.message.chat.id != settings.coordinator_chat_id:
        callback_answer.text = stale_button()
        return
    await state.set_state(SurveySchedule.typing_send_at)
    await save_draft(state, ScheduleDraft(survey.id))
    ask = _(
        "{name}, when should «{title}» be sent? Please type the date and time in Paris as "
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
    bot: Bot,
    coordinators: Coordinators,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Stores `send_at` (the scheduler sends the survey then) and shows the card again."""
    if message.from_user is None or not await coordinators(bot, message.from_user.id):
        await state.clear()
        await message.reply(refusal())
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
    draft = await load_draft(state)
    await state.clear()
    try:
        survey = await operations.schedule(session, draft.survey_id, moment, message.from_user.id)
    except (LookupError, SurveyError):
        await message.reply(_("This survey has already been sent."))
        return
    await message.reply(
        _("Scheduled: «{title}» will be sent on {when}.").format(
            title=sending.title_of(survey, settings.group_locale),
            when=format_when(moment, settings.group_locale, settings.timezone),
        )
    )
    await show_card(message, session, settings, survey)


@router.callback_query(ManageCb.filter(F.action == ManageAction.reminder))
async def reminder_pressed(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Asks after how many hours the unfinished are reminded."""
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is None or query.message is None:
        return
    if survey.status is SurveyStatus.closed:
        callback_answer.text = _("This survey is closed.")
        return
    if query.message.chat.id != settings.coordinator_chat_id:
        callback_answer.text = stale_button()
        return
    await state.set_state(SurveySchedule.typing_reminder)
    await save_draft(state, ScheduleDraft(survey.id))
    low, high = operations.REMINDER_HOURS
    ask = _(
        "{name}, how many hours after the invitation should those who have not finished "
        "«{title}» be reminded (once)? Please type a number from {low} to {high}."
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
    bot: Bot,
    coordinators: Coordinators,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Stores `reminder_after_hours` and shows the card again."""
    if message.from_user is None or not await coordinators(bot, message.from_user.id):
        await state.clear()
        await message.reply(refusal())
        return
    low, high = operations.REMINDER_HOURS
    text = (message.text or "").strip()
    hours = int(text) if text.isascii() and text.isdigit() else 0
    if not low <= hours <= high:
        await message.reply(
            _("Please type a whole number of hours from {low} to {high}.").format(
                low=low, high=high
            )
        )
        return
    draft = await load_draft(state)
    await state.clear()
    try:
        survey = await operations.set_reminder(
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


# -- closing


@router.callback_query(ManageCb.filter(F.action == ManageAction.close))
async def close_pressed(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Asks to confirm: nobody can answer afterwards."""
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is None:
        return
    if survey.status is not SurveyStatus.open:
        await not_open(query, callback_answer, session, settings, survey)
        return
    counts = (await operations.response_counts(session, [survey.id]))[survey.id]
    text = ngettext(
        "Close «{title}»? Nobody can answer it any more, and the {count} person who completed "
        "it will receive the results.",
        "Close «{title}»? Nobody can answer it any more, and the {count} people who completed "
        "it will receive the results.",
        counts.completed,
    ).format(title=sending.title_of(survey, settings.group_locale), count=counts.completed)
    await show(query, text, keyboards.confirm_keyboard(ManageAction.close_confirmed, survey.id))


@router.callback_query(ManageCb.filter(F.action == ManageAction.close_confirmed))
async def close_confirmed(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    coordinators: Coordinators,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Closes the survey; each respondent receives the results through the outbox."""
    survey = await pressed_survey(
        query, callback_answer, bot, coordinators, session, callback_data.survey_id
    )
    if survey is None:
        return
    try:
        survey = await close_survey(session, survey.id, query.from_user.id, wall_clock())
    except SurveyError:
        await not_open(query, callback_answer, session, settings, survey)
        return
    count = await sending.results_to_respondents(session, i18n, survey)
    await show_card(query, session, settings, survey)
    await tell(
        query,
        ngettext(
            "«{title}» is closed. The results are on their way to its {count} respondent.",
            "«{title}» is closed. The results are on their way to its {count} respondents.",
            count,
        ).format(title=sending.title_of(survey, settings.group_locale), count=count),
    )


async def not_open(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    settings: Settings,
    survey: Survey,
) -> None:
    callback_answer.text = _("This survey is not open.")
    callback_answer.show_alert = True
    await session.refresh(survey)
    await show_card(query, session, settings, survey)
