"""The onboarding dialog: language, notice, who, where, themes, contact."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.flow import Flow, ResumePoints
from handlers.menu import menu_keyboard, menu_text
from handlers.profile.callbacks import NoticeCb
from handlers.profile.states import Profile
from handlers.profile.steps import (
    ONBOARDING,
    ProfileDraft,
    ask,
    go_on,
    next_onboarding_step,
)
from handlers.ui import show
from storage.models import User
from storage.privacy import accept_notice, decline_notice, has_current_notice

router = Flow("onboarding")


async def resume(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """An unfinished onboarding where it stopped, the notice if it changed, or the menu."""
    current = await state.get_state()
    draft = await ProfileDraft.load(state)
    if current in {s.state for s in Profile.__states__} and draft.mode == ONBOARDING:
        step = next(s for s in Profile.__states__ if s.state == current)
        if step not in (Profile.choosing_language, Profile.reading_notice):
            if not has_current_notice(user):
                step = Profile.reading_notice
        await show(target, _("Welcome back! Let's go on where you left off."))
        await ask(
            target, step, state=state, session=session, user=user, settings=settings, draft=draft
        )
        return
    unanswered = next_onboarding_step(user)
    if unanswered is None:
        await state.clear()
        await show(target, menu_text(), menu_keyboard(user))
        return
    if unanswered == Profile.reading_notice and user.notice_version is not None:
        await show(target, _("Our privacy notice has changed. Please read the new version."))
    await ask(
        target,
        unanswered,
        state=state,
        session=session,
        user=user,
        settings=settings,
        draft=ProfileDraft(),
    )


@router.callback_query(Profile.reading_notice, NoticeCb.filter())
async def notice_answered(
    query: CallbackQuery,
    callback_data: NoticeCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    await notice_step(query, callback_data.accept, state, session, user, settings, resume_points)


async def notice_step(
    target: Message | CallbackQuery,
    accept: bool,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Stores the acknowledgement with the notice's version and time, then asks who they are;
    a refusal erases any profile and leaves anonymous browsing."""
    if accept:
        accept_notice(user)
        await go_on(target, state, session, user, settings, ProfileDraft(), resume_points)
        return
    decline_notice(user)
    await state.clear()
    await show(
        target,
        _(
            "Understood: we keep nothing about you but your Telegram id and your language. "
            "You can still read the help and the notice, but to report needs, propose "
            "initiatives, join challenges or answer surveys, you will need to accept the notice. "
            "Press “Join La Collective” or send /start whenever you wish."
        ),
        menu_keyboard(user),
    )
