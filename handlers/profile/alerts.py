"""Stopping challenge alerts: STOP (or ARRÊT) typed anywhere, or the button under an alert."""

from __future__ import annotations

from aiogram.filters import Filter, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.flow import Flow
from handlers.menu import menu_keyboard
from handlers.profile.callbacks import AlertsChoiceCb
from handlers.profile.states import Profile
from storage.models import User
from storage.privacy import set_alerts

router = Flow("alerts")

STOP_WORDS = {"STOP", "ARRET", "ARRÊT", "STOPP", "قف", "توقف"}


class StopWord(Filter):
    async def __call__(self, message: Message) -> bool:
        return (message.text or "").strip().strip("!. ").upper() in STOP_WORDS


def stopped_text() -> str:
    return _(
        "You will receive no more challenge alerts. You can turn them back on at any time in "
        "/settings."
    )


@router.message(StopWord())
async def stop_typed(message: Message, session: AsyncSession, user: User) -> None:
    await set_alerts(session, user, False)
    await message.answer(stopped_text(), reply_markup=menu_keyboard(user))


# During onboarding the same buttons answer the alerts question (handlers/profile/answers.py).
@router.callback_query(AlertsChoiceCb.filter(), ~StateFilter(Profile.choosing_alerts))
async def alerts_button(
    query: CallbackQuery, callback_data: AlertsChoiceCb, session: AsyncSession, user: User
) -> None:
    """The one-tap «Stop these alerts» under every alert (and its opposite)."""
    await set_alerts(session, user, callback_data.on)
    if query.message is not None and isinstance(query.message, Message):
        text = stopped_text() if not callback_data.on else _("Challenge alerts are on again.")
        await query.message.answer(text)
