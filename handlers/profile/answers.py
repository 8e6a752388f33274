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
from handlers.profile import typed
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
from handlers.profile.onboarding import notice_step
from handlers.profile.states import Profile
from handlers.profile.steps import ONBOARDING, ProfileDraft, ask, go_on
from handlers.texts import explain_rejection, stale_button
from storage import organisations
from storage.models import Role, User
from storage.privacy import set_alerts, set_contact_consent
from storage.texts import TextRejected
from storage.themes import list_themes
from storage.users import (
    ARRONDISSEMENTS,
    OUTSIDE_MARSEILLE,
    complete_onboarding,
    set_arrondissement,
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
    if callback_data.code not in LOCALES:
        callback_answer.text = stale_button()
        return
    await language(query, callback_data.code, i18n, state, session, user, settings)


async def language(
    target: Message | CallbackQuery,
    code: str,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores the language (allowed before the notice), then shows the notice in it."""
    user.locale = code
    draft = await ProfileDraft.load(state)
    with i18n.use_locale(user.locale):
        await ask(
            target,
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
    if callback_data.role not in CHOOSABLE_ROLES:
        callback_answer.text = stale_button()
        return
    await role_step(query, callback_data.role, state, session, user, settings, resume_points)


async def role_step(
    target: Message | CallbackQuery,
    role: Role,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """A citizen is stored at once; an organisation's member is asked its name first."""
    draft = await ProfileDraft.load(state)
    if role.is_organisation:
        draft.role = role.value
        await ask(
            target,
            Profile.typing_organisation,
            state=state,
            session=session,
            user=user,
            settings=settings,
            draft=draft,
        )
        return
    await organisations.say_who(session, user, role)
    await go_on(target, state, session, user, settings, draft, resume_points)


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
        await organisations.say_who(session, user, Role(draft.role), message.text)
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
    await arrondissement_step(query, number, state, session, user, settings, resume_points)


async def arrondissement_step(
    target: Message | CallbackQuery,
    number: int,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    set_arrondissement(user, number)
    draft = await ProfileDraft.load(state)
    await go_on(target, state, session, user, settings, draft, resume_points)


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
    if not await themes_step(query, state, session, user, settings, resume_points):
        callback_answer.text = no_theme_yet()
        callback_answer.show_alert = True


def no_theme_yet() -> str:
    return _("Please choose at least one theme, then press “Done”.")


async def themes_step(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> bool:
    """Stores the ticked themes and goes on; False, changing nothing, when none is ticked."""
    draft = await ProfileDraft.load(state)
    known = {theme.code for theme in await list_themes(session)}
    chosen = set(draft.themes) & known
    if not chosen:
        return False
    await set_themes(session, user, chosen)
    await go_on(target, state, session, user, settings, draft, resume_points)
    return True


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
    await contact_step(query, callback_data.share, state, session, user, settings, resume_points)


async def contact_step(
    target: Message | CallbackQuery,
    share: bool,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Stores the consent to be contacted, or its absence; in onboarding, alerts come next."""
    set_contact_consent(user, share)
    draft = await ProfileDraft.load(state)
    if draft.mode == ONBOARDING:
        await ask(
            target,
            Profile.choosing_alerts,
            state=state,
            session=session,
            user=user,
            settings=settings,
            draft=draft,
        )
        return
    await go_on(target, state, session, user, settings, draft, resume_points)


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
    await alerts_step(query, callback_data.on, state, session, user, settings, resume_points)


async def alerts_step(
    target: Message | CallbackQuery,
    on: bool,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Stores the consent to challenge alerts, or its absence: the last question."""
    await set_alerts(session, user, on)
    complete_onboarding(user)
    draft = await ProfileDraft.load(state)
    await go_on(target, state, session, user, settings, draft, resume_points)


@router.message(StateFilter(Profile), NotCommand())
async def typed_at_a_button_step(
    message: Message,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """A typed text that names one of the question's buttons ("13e", "Association", "non
    merci", "Solidarité, culture") does what the button does; anything else is asked again."""
    current = await state.get_state()
    step = next(s for s in Profile.__states__ if s.state == current)
    text = message.text or ""
    go = (state, session, user, settings, resume_points)
    if step == Profile.choosing_language and (code := typed.language(text)) is not None:
        await language(message, code, i18n, state, session, user, settings)
    elif step == Profile.reading_notice and (accept := typed.notice(text)) is not None:
        await notice_step(message, accept, *go)
    elif step == Profile.choosing_role and (role := typed.role(text)) is not None:
        await role_step(message, role, *go)
    elif (
        step == Profile.choosing_arrondissement
        and (number := typed.arrondissement(text)) is not None
    ):
        await arrondissement_step(message, number, *go)
    elif step == Profile.choosing_themes and (codes := await typed.themes(text, session, user)):
        await themes_typed(message, codes, *go)
    elif step == Profile.choosing_contact and (share := typed.contact(text)) is not None:
        await contact_step(message, share, *go)
    elif step == Profile.choosing_alerts and (on := typed.alerts(text)) is not None:
        await alerts_step(message, on, *go)
    else:
        await ask_again(message, state, session, user, settings)


async def themes_typed(
    message: Message,
    codes: list[str],
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Ticks the typed themes (typing one again keeps it ticked) and shows the question again
    with them; a typed «Done» then stores them, as the button does."""
    draft = await ProfileDraft.load(state)
    draft.themes = sorted(set(draft.themes) | {code for code in codes if code != typed.DONE})
    await draft.save(state)
    if typed.DONE in codes and await themes_step(
        message, state, session, user, settings, resume_points
    ):
        return
    if typed.DONE in codes:
        await message.answer(no_theme_yet())
    await ask(
        message,
        Profile.choosing_themes,
        state=state,
        session=session,
        user=user,
        settings=settings,
        draft=draft,
    )


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
