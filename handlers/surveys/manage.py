"""/surveys in the coordinators' group: the list, each survey's card, and what coordinators do
from it — preview, send now, close (the results then go to the respondents). Sending at a date
and the reminder's delay are typed (`scheduling.py`); results, exports and waves are in
`results_group.py`.

Coordinators only, by their router's gate (handlers/coordination.py); the buttons answer
wherever pressed, so that a forged one is refused, not ignored. Every action checks the survey's
state again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import ngettext
from handlers.current import Current, pressed
from handlers.flow import Flow
from handlers.surveys import coordination_keyboards as keyboards
from handlers.surveys import sending
from handlers.surveys.coordination import card_text, list_text, preview_text
from handlers.surveys.coordination_callbacks import ListCb, ManageAction, ManageCb, RoleCb
from handlers.ui import show
from storage import survey_sending
from storage.models import Challenge, Survey, SurveyStatus, utcnow
from storage.outbox import split_text
from storage.surveys import SurveyError, audience, close_survey, get_survey, list_surveys
from storage.surveys import questions_of as survey_questions


async def pressed_survey(session: AsyncSession, button: ManageCb | RoleCb) -> Survey | None:
    return await get_survey(session, button.survey_id)


# Its handlers, the scheduling's and the results', take the survey a button names as `survey`.
PRESSED_SURVEY = Current("survey", pressed(pressed_survey))

router = Flow("survey-management", current=[PRESSED_SURVEY])

LIST_PAGE = 8


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
    counts = (await survey_sending.response_counts(session, [survey.id]))[survey.id]
    several = await survey_sending.sent_waves(session, survey.series) >= 2
    text = card_text(survey, challenge, questions, counts, settings)
    await show(target, text, keyboards.card_keyboard(survey, several_waves=several))


# -- the list and the card


@router.message(Command("surveys"))
async def list_command(message: Message, session: AsyncSession, settings: Settings) -> None:
    await show_list(message, session, settings, 0)


@router.callback_query(ListCb.filter())
async def list_page(
    query: CallbackQuery, callback_data: ListCb, session: AsyncSession, settings: Settings
) -> None:
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
    counts = await survey_sending.response_counts(session, [survey.id for survey in shown])
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
    survey: Survey,
    session: AsyncSession,
    settings: Settings,
) -> None:
    await show_card(query, session, settings, survey)


@router.callback_query(ManageCb.filter(F.action == ManageAction.preview))
async def preview(
    query: CallbackQuery,
    survey: Survey,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Every question as respondents of the group's language will see it, under the card."""
    questions = await survey_questions(session, survey.id)
    await tell(query, preview_text(survey, questions, settings.group_locale))


# -- sending


@router.callback_query(ManageCb.filter(F.action == ManageAction.send))
async def send_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Says how many people the survey goes to, and asks to confirm."""
    if survey.status is not SurveyStatus.draft:
        await already_sent(query, callback_answer, session, settings, survey)
        return
    count = len(await audience(session, survey))
    text = ngettext(
        "Send “{title}” now to {count} person? Each receives it in their language.",
        "Send “{title}” now to {count} people? Each receives it in their language.",
        count,
    ).format(title=sending.title_of(survey, settings.group_locale), count=count)
    await show(query, text, keyboards.confirm_keyboard(ManageAction.send_confirmed, survey.id))


@router.callback_query(ManageCb.filter(F.action == ManageAction.send_confirmed))
async def send_confirmed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Opens the survey and writes the invitations to the outbox; the group is told how many."""
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


# -- closing


@router.callback_query(ManageCb.filter(F.action == ManageAction.close))
async def close_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Asks to confirm: nobody can answer afterwards."""
    if survey.status is not SurveyStatus.open:
        await not_open(query, callback_answer, session, settings, survey)
        return
    counts = (await survey_sending.response_counts(session, [survey.id]))[survey.id]
    text = ngettext(
        "Close “{title}”? Nobody can answer it any more, and the {count} person who completed "
        "it will receive the results.",
        "Close “{title}”? Nobody can answer it any more, and the {count} people who completed "
        "it will receive the results.",
        counts.completed,
    ).format(title=sending.title_of(survey, settings.group_locale), count=counts.completed)
    await show(query, text, keyboards.confirm_keyboard(ManageAction.close_confirmed, survey.id))


@router.callback_query(ManageCb.filter(F.action == ManageAction.close_confirmed))
async def close_confirmed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Closes the survey; each respondent receives the results through the outbox."""
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
            "“{title}” is closed. The results are on their way to its {count} respondent.",
            "“{title}” is closed. The results are on their way to its {count} respondents.",
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
