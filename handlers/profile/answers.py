"""The answers to each profile question, for onboarding and /settings alike. Per state: the
valid answer first, then a catch-all that explains and asks the same question again."""

from __future__ import annotations

from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LOCALES, Settings
from handlers.filters import NotCommand
from handlers.flow import Flow, ResumePoints
from handlers.profile.callbacks import (
    AlertsChoiceCb,
    ArrondissementCb,
    ContactCb,
    LanguageCb,
    RoleCb,
    ThemeCb,
    ThemesDoneCb,
)
from handlers.profile.keyboards import CHOOSABLE_ROLES, themes_keyboard
from handlers.profile.states import Profile
from handlers.profile.steps import ONBOARDING, ProfileDraft, ask, go_on
from handlers.texts import explain_rejection, stale_button
from storage.models import Role, User
from storage.privacy import set_alerts, set_contact_consent
from storage.texts import TextRejected
from storage.themes import list_themes
from storage.users import (
    ARRONDISSEMENTS,
    OUTSIDE_MARSEILLE,
    complete_onboarding,
    set_arrondissement,
    set_role,
    set_themes,
)

router = Flow("profile-answers")


@router.callback_query(Profile.choosing_language, LanguageCb.filter())
async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores the language (allowed before the notice), then shows the notice in it."""
    if callback_data.code not in LOCALES:
        callback_answer.text = stale_button()
        return
    user.locale = callback_data.code
    draft = await ProfileDraft.load(state)
    with i18n.use_locale(user.locale):
        await ask(
            query,
            Profile.reading_notice,
            state=state,
            session=session,
            user=user,
            settings=settings,
            draft=draft,
        )


@router.callback_query(Profile.choosing_role, RoleCb.filter())
async def role_chosen(
    query: CallbackQuery,
    callback_data: RoleCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """A citizen is stored at once; an organisation's member is asked its name first."""
    draft = await ProfileDraft.load(state)
    role = callback_data.role
    if role not in CHOOSABLE_ROLES:
        callback_answer.text = stale_button()
        return
    if role.is_organisation:
        draft.role = role.value
        await ask(
            query,
            Profile.typing_organisation,
            state=state,
            session=session,
            user=user,
            settings=settings,
            draft=draft,
        )
        return
    set_role(user, role)
    await go_on(query, state, session, user, settings, draft, resume_points)


@router.message(Profile.typing_organisation, NotCommand())
async def organisation_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Stores the role with the organisation's name, then goes on."""
    draft = await ProfileDraft.load(state)
    if message.text is None or draft.role is None:
        await ask_again(message, state, session, user, settings)
        return
    try:
        set_role(user, Role(draft.role), message.text)
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        return
    await go_on(message, state, session, user, settings, draft, resume_points)


@router.callback_query(Profile.choosing_arrondissement, ArrondissementCb.filter())
async def arrondissement_chosen(
    query: CallbackQuery,
    callback_data: ArrondissementCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    number = callback_data.number
    if number != OUTSIDE_MARSEILLE and number not in ARRONDISSEMENTS:
        callback_answer.text = stale_button()
        return
    set_arrondissement(user, number)
    draft = await ProfileDraft.load(state)
    await go_on(query, state, session, user, settings, draft, resume_points)


@router.callback_query(Profile.choosing_themes, ThemeCb.filter())
async def theme_toggled(
    query: CallbackQuery,
    callback_data: ThemeCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Ticks or unticks a theme in the draft; the profile changes only on «Done»."""
    themes = await list_themes(session)
    if callback_data.code not in {theme.code for theme in themes}:
        callback_answer.text = stale_button()
        return
    draft = await ProfileDraft.load(state)
    draft.themes = sorted(set(draft.themes) ^ {callback_data.code})
    await draft.save(state)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=themes_keyboard(themes, draft.themes, user.locale)
        )


@router.callback_query(Profile.choosing_themes, ThemesDoneCb.filter())
async def themes_done(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    draft = await ProfileDraft.load(state)
    known = {theme.code for theme in await list_themes(session)}
    chosen = set(draft.themes) & known
    if not chosen:
        callback_answer.text = _("Please choose at least one theme, then press «Done».")
        callback_answer.show_alert = True
        return
    await set_themes(session, user, chosen)
    await go_on(query, state, session, user, settings, draft, resume_points)


@router.callback_query(Profile.choosing_contact, ContactCb.filter())
async def contact_chosen(
    query: CallbackQuery,
    callback_data: ContactCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Stores the consent to be contacted, or its absence; in onboarding, alerts come next."""
    set_contact_consent(user, callback_data.share)
    draft = await ProfileDraft.load(state)
    if draft.mode == ONBOARDING:
        await ask(
            query,
            Profile.choosing_alerts,
            state=state,
            session=session,
            user=user,
            settings=settings,
            draft=draft,
        )
        return
    await go_on(query, state, session, user, settings, draft, resume_points)


@router.callback_query(Profile.choosing_alerts, AlertsChoiceCb.filter())
async def alerts_chosen(
    query: CallbackQuery,
    callback_data: AlertsChoiceCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Stores the consent to challenge alerts, or its absence: the last question."""
    await set_alerts(session, user, callback_data.on)
    complete_onboarding(user)
    draft = await ProfileDraft.load(state)
    await go_on(query, state, session, user, settings, draft, resume_points)


@router.message(StateFilter(Profile), NotCommand())
async def ask_again(
    message: Message, state: FSMContext, session: AsyncSession, user: User, settings: Settings
) -> None:
    """Anything else sent during a question: say what is expected, then ask the same question
    again; what was already chosen stays in the draft."""
    current = await state.get_state()
    step = next(s for s in Profile.__states__ if s.state == current)
    if step == Profile.typing_organisation:
        await message.answer(_("Please type the name of your organisation as a text message."))
    else:
        await message.answer(_("Please answer with one of the buttons below."))
    draft = await ProfileDraft.load(state)
    await ask(
        message, step, state=state, session=session, user=user, settings=settings, draft=draft
    )
