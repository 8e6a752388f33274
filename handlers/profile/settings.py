"""/settings and /language: change the profile after onboarding, one field at a time."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LOCALES, Settings
from handlers.flow import Flow
from handlers.menu import MenuAction, MenuCb, menu_keyboard, menu_text
from handlers.profile.callbacks import LanguageCb, SettingsCb, SettingsField
from handlers.profile.card import show_settings
from handlers.profile.keyboards import language_keyboard
from handlers.profile.onboarding import resume
from handlers.profile.states import Profile
from handlers.profile.steps import SETTINGS, ProfileDraft, ask, next_onboarding_step
from handlers.texts import stale_button
from handlers.ui import show
from storage.models import User
from storage.privacy import set_alerts, set_contact_consent

router = Flow("settings")

FIELD_STEPS = {
    SettingsField.role: Profile.choosing_role,
    SettingsField.arrondissement: Profile.choosing_arrondissement,
    SettingsField.themes: Profile.choosing_themes,
}


@router.message(Command("settings"))
@router.callback_query(MenuCb.filter(F.action == MenuAction.settings))
async def open_settings(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Shows the profile with a button per field; someone not yet onboarded is taken back to
    where their onboarding stopped."""
    if next_onboarding_step(user) is not None:
        await resume(event, state, session, user, settings)
        return
    await state.clear()
    await show_settings(event, user, settings)


@router.callback_query(SettingsCb.filter())
async def settings_pressed(
    query: CallbackQuery,
    callback_data: SettingsCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    if next_onboarding_step(user) is not None:
        await resume(query, state, session, user, settings)
        return
    field = callback_data.field
    if field == SettingsField.contact:
        set_contact_consent(user, user.contact_consent_at is None)
        await show_settings(query, user, settings)
    elif field == SettingsField.alerts:
        await set_alerts(session, user, user.alerts_consent_at is None)
        await show_settings(query, user, settings)
    elif field == SettingsField.language:
        await show(query, _("Which language do you prefer?"), language_keyboard())
    elif field == SettingsField.menu:
        await state.clear()
        await show(query, menu_text(), menu_keyboard(user))
    else:
        draft = ProfileDraft(mode=SETTINGS, themes=user.themes)
        await ask(
            query,
            FIELD_STEPS[field],
            state=state,
            session=session,
            user=user,
            settings=settings,
            draft=draft,
        )


@router.message(Command("language"))
@router.callback_query(MenuCb.filter(F.action == MenuAction.language))
async def choose_language(event: Message | CallbackQuery) -> None:
    """Works from anywhere; the dialog in progress, if any, is kept."""
    text = _("Which language do you prefer?")
    if isinstance(event, CallbackQuery):
        await show(event, text, language_keyboard())
    else:
        await event.answer(text, reply_markup=language_keyboard())


@router.callback_query(LanguageCb.filter())
async def language_changed(
    query: CallbackQuery,
    callback_data: LanguageCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores the language, then asks again, in it, the question the person was answering."""
    if callback_data.code not in LOCALES:
        callback_answer.text = stale_button()
        return
    user.locale = callback_data.code
    with i18n.use_locale(user.locale):
        await show(query, _("Done: I will speak English with you."))
        current = await state.get_state()
        step = next((s for s in Profile.__states__ if s.state == current), None)
        if not isinstance(query.message, Message):
            return
        if step is not None:
            draft = await ProfileDraft.load(state)
            await ask(
                query.message,
                step,
                state=state,
                session=session,
                user=user,
                settings=settings,
                draft=draft,
            )
        elif next_onboarding_step(user) is None:
            await query.message.answer(menu_text(), reply_markup=menu_keyboard(user))
