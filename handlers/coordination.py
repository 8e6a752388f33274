"""The coordinators' gate: who may act in the group, and the one refusal everyone else gets."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.coordinators import Coordinators


def refusal() -> str:
    return _("Only the city's coordinators can do this.")


async def pressed_by_coordinator(
    query: CallbackQuery, callback_answer: CallbackAnswer, bot: Bot, coordinators: Coordinators
) -> bool:
    """True for a coordinator; anyone else (or a forged button) gets the refusal in an alert."""
    if await coordinators(bot, query.from_user.id):
        return True
    callback_answer.text = refusal()
    callback_answer.show_alert = True
    return False


async def sent_by_coordinator(message: Message, bot: Bot, coordinators: Coordinators) -> bool:
    """True for a coordinator; anyone else is answered with the refusal."""
    if message.from_user is not None and await coordinators(bot, message.from_user.id):
        return True
    await message.reply(refusal())
    return False
