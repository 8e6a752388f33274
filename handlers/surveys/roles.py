"""Who a draft survey goes to, chosen on its card in the coordinators' group: the roles it is
for (none ticked: every role), among its challenge's participants or its themes' followers.
A file can say it too (`audience.roles`, storage/survey_files.py)."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.flow import Flow
from handlers.profile.keyboards import CHOOSABLE_ROLES
from handlers.surveys import coordination_keyboards as keyboards
from handlers.surveys.coordination import card_text
from handlers.surveys.coordination_callbacks import ManageAction, ManageCb, RoleCb
from handlers.surveys.manage import PRESSED_SURVEY, already_sent
from handlers.surveys.results_text import roles_text
from handlers.texts import stale_button
from handlers.ui import show
from storage import survey_sending
from storage.models import Challenge, Survey, SurveyStatus
from storage.survey_sending import RoleLeftOut
from storage.surveys import SurveyError, questions_of, survey_roles

router = Flow("survey-roles", current=[PRESSED_SURVEY])


async def show_picker(
    query: CallbackQuery, session: AsyncSession, settings: Settings, survey: Survey
) -> None:
    """The card, with a button per role instead of its actions."""
    challenge = await session.get(Challenge, survey.challenge_id) if survey.challenge_id else None
    questions = len(await questions_of(session, survey.id))
    counts = (await survey_sending.response_counts(session, [survey.id]))[survey.id]
    text = card_text(survey, challenge, questions, counts, settings)
    hint = _("Tick the roles the survey goes to; with none ticked, it goes to every role.")
    await show(query, f"{text}\n\n<i>{hint}</i>", keyboards.roles_keyboard(survey))


@router.callback_query(ManageCb.filter(F.action == ManageAction.roles))
async def roles_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if survey.status is not SurveyStatus.draft:
        await already_sent(query, callback_answer, session, settings, survey)
        return
    await show_picker(query, session, settings, survey)


@router.callback_query(RoleCb.filter())
async def role_toggled(
    query: CallbackQuery,
    callback_data: RoleCb,
    survey: Survey,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Ticks or unticks the role, stored at once (audited), and shows the card's picker
    again; a question asked only to a role left out keeps that role ticked."""
    if callback_data.role not in CHOOSABLE_ROLES:
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    roles = set(survey_roles(survey)) ^ {callback_data.role}
    try:
        survey = await survey_sending.set_roles(session, survey.id, roles, query.from_user.id)
    except RoleLeftOut as left_out:
        callback_answer.text = _(
            "Question {number} is asked only to: {roles}. Keep them ticked, or tick none."
        ).format(number=left_out.position, roles=roles_text(left_out.roles, settings.group_locale))
        callback_answer.show_alert = True
        return
    except SurveyError:
        await already_sent(query, callback_answer, session, settings, survey)
        return
    await show_picker(query, session, settings, survey)
