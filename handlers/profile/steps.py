"""Each profile question, asked the same way in onboarding, in /settings and on resume."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.draft import Draft
from handlers.flow import ResumePoints
from handlers.menu import menu_keyboard
from handlers.privacy.notice import notice_text
from handlers.profile import keyboards
from handlers.profile.card import show_settings
from handlers.profile.states import Profile
from handlers.ui import show
from storage.models import User
from storage.privacy import has_current_notice
from storage.themes import list_themes
from storage.users import complete_onboarding, is_onboarded

ONBOARDING = "onboarding"
SETTINGS = "settings"

STEP_NUMBERS = {
    Profile.choosing_language: 1,
    Profile.reading_notice: 2,
    Profile.choosing_role: 3,
    Profile.typing_organisation: 3,
    Profile.choosing_arrondissement: 4,
    Profile.choosing_themes: 5,
    Profile.choosing_contact: 6,
    Profile.choosing_alerts: 7,
}
STEPS_TOTAL = 7


@dataclass
class ProfileDraft(Draft, key="profile"):
    """What the dialog keeps between two answers."""

    mode: str = ONBOARDING
    role: str | None = None
    themes: list[str] = field(default_factory=list)


@dataclass
class AfterOnboarding(Draft, key="after_onboarding"):
    """What a person who came by a link (a challenge's slug) sees once onboarding is complete
    (`ResumePoints.after_onboarding`). Its own entry: it outlasts the profile's questions."""

    link: str | None = None


def next_onboarding_step(user: User) -> State | None:
    """The first question the stored profile does not answer yet; None when complete."""
    if not has_current_notice(user):
        first_time = user.notice_declined_at is None and not is_onboarded(user)
        return Profile.choosing_language if first_time else Profile.reading_notice
    if user.role is None or (user.role.is_organisation and user.organisation is None):
        return Profile.choosing_role
    if user.arrondissement is None:
        return Profile.choosing_arrondissement
    if not user.themes:
        return Profile.choosing_themes
    if not is_onboarded(user):
        return Profile.choosing_contact
    return None


async def ask(
    target: Message | CallbackQuery,
    step: State,
    *,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: ProfileDraft,
) -> None:
    """Puts the dialog on `step` and asks its question."""
    await state.set_state(step)
    await draft.save(state)
    text, markup = await _question(step, session, user, settings, draft)
    if draft.mode == ONBOARDING:
        counter = _("Step {number} of {total}").format(
            number=STEP_NUMBERS[step], total=STEPS_TOTAL
        )
        text = f"<i>{counter}</i>\n\n{text}"
    await show(target, text, markup)


async def _question(
    step: State, session: AsyncSession, user: User, settings: Settings, draft: ProfileDraft
) -> tuple[str, InlineKeyboardMarkup | None]:
    if step == Profile.choosing_language:
        return (
            _(
                "Welcome to <b>La Collective</b>, the City of Marseille's space where citizens, "
                "associations, companies and institutions take on the city's challenges together."
            )
            + "\n\n"
            + _("Which language do you prefer?"),
            keyboards.language_keyboard(),
        )
    if step == Profile.reading_notice:
        return notice_text(settings), keyboards.notice_keyboard()
    if step == Profile.choosing_role:
        return _("Who are you?"), keyboards.role_keyboard()
    if step == Profile.typing_organisation:
        return (
            _("What is the name of your organisation? Please type it (2 to 120 characters)."),
            None,
        )
    if step == Profile.choosing_arrondissement:
        return (
            _("In which arrondissement of Marseille do you live or act?"),
            keyboards.arrondissement_keyboard(),
        )
    if step == Profile.choosing_themes:
        themes = await list_themes(session)
        return (
            _(
                "Which themes matter to you? Choose one or more, then press “Done”. "
                "We will show you what concerns them."
            ),
            keyboards.themes_keyboard(themes, draft.themes, user.locale),
        )
    if step == Profile.choosing_alerts:
        return (
            _(
                "Would you like to be told when the city opens a challenge on your themes? "
                "At most two messages a month, never at night; you can stop them at any time."
            ),
            keyboards.alerts_keyboard(),
        )
    if step == Profile.choosing_contact:
        return (
            _(
                "May the city's coordinators contact you on Telegram about your contributions? "
                "This is optional, and you can change your mind at any time in /settings."
            ),
            keyboards.contact_keyboard(),
        )
    raise ValueError(step)


async def go_on(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: ProfileDraft,
    resume_points: ResumePoints,
) -> None:
    """After an answer is stored: the next question, or the end of the dialog — and then what
    the person came for by a link, if anything (`resume_points.after_onboarding`)."""
    if draft.mode == SETTINGS:
        await state.clear()
        await show_settings(target, user, settings)
        return
    step = next_onboarding_step(user)
    if step is not None:
        draft.mode = ONBOARDING
        await ask(
            target, step, state=state, session=session, user=user, settings=settings, draft=draft
        )
        return
    complete_onboarding(user)
    pending = (await AfterOnboarding.load(state)).link
    await state.clear()
    if pending and resume_points.after_onboarding is not None:
        await show(target, _("Thank you, you are all set! Welcome to La Collective."))
        if await resume_points.after_onboarding(target, session, user, settings, pending):
            return
    await show(
        target,
        _("Thank you, you are all set! Welcome to La Collective.")
        + "\n\n"
        + _("What would you like to do?"),
        menu_keyboard(user),
    )
