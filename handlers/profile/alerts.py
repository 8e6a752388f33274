"""STOP: typed anywhere (STOP, ARRÊT, توقف…), /stop, or the button under any message the
person did not ask for, stops them all — challenge alerts, survey invitations and reminders,
news — and says how to receive them again (a button, or /settings)."""

from __future__ import annotations

from aiogram.filters import Command, Filter, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.flow import Flow
from handlers.profile.callbacks import AlertsChoiceCb, MessagesCb
from handlers.profile.card import show_settings
from handlers.profile.keyboards import resume_keyboard
from handlers.profile.states import Profile
from storage.attention import resume_messages, stop_messages
from storage.models import User
from storage.privacy import set_alerts

router = Flow("alerts")

STOP_WORDS = {"STOP", "ARRET", "ARRÊT", "STOPP", "قف", "توقف", "أوقف", "اوقف"}


class StopWord(Filter):
    async def __call__(self, message: Message) -> bool:
        return (message.text or "").strip().strip("!. ").upper() in STOP_WORDS


def stopped_text() -> str:
    return _(
        "Done: you will receive no more messages you did not ask for — no challenge alerts, "
        "no survey invitations or reminders, no news. To receive them again, press the button "
        "below or go to /settings."
    )


def resumed_text() -> str:
    return _(
        "Welcome back: you will receive survey invitations and news again, and challenge "
        "alerts if they are on in /settings."
    )


# /STOP and /Stop too: people who type STOP in capitals type the command so as well.
@router.message(Command("stop", ignore_case=True))
@router.message(StopWord())
async def stop_typed(message: Message, session: AsyncSession, user: User) -> None:
    await stop_messages(session, user)
    await message.answer(stopped_text(), reply_markup=resume_keyboard())


@router.callback_query(MessagesCb.filter())
async def messages_button(
    query: CallbackQuery,
    callback_data: MessagesCb,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """«Stop these messages» under an unsolicited message, «Receive them again» under the
    confirmation, and their twin in /settings (which shows the settings again)."""
    if callback_data.on:
        resume_messages(user)
    else:
        await stop_messages(session, user)
    if callback_data.settings:
        await show_settings(query, user, settings)
    elif isinstance(query.message, Message):
        if callback_data.on:
            await query.message.answer(resumed_text())
        else:
            await query.message.answer(stopped_text(), reply_markup=resume_keyboard())


# During onboarding the same buttons answer the alerts question (handlers/profile/answers.py).
@router.callback_query(AlertsChoiceCb.filter(), ~StateFilter(Profile.choosing_alerts))
async def alerts_button(
    query: CallbackQuery, callback_data: AlertsChoiceCb, session: AsyncSession, user: User
) -> None:
    """Alerts sent before STOP covered every message carry «Stop these alerts»: it stops
    everything now, as the newer button does. Its opposite turns challenge alerts on."""
    if callback_data.on:
        await set_alerts(session, user, True)
    else:
        await stop_messages(session, user)
    if isinstance(query.message, Message):
        if callback_data.on:
            await query.message.answer(_("Challenge alerts are on again."))
        else:
            await query.message.answer(stopped_text(), reply_markup=resume_keyboard())
