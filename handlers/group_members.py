"""People joining or leaving the coordinators' group. Membership is remembered for a minute
(bot/coordinators.py); Telegram's service message about it makes the bot ask again at once,
so that someone removed from the group cannot moderate in the meantime."""

from __future__ import annotations

from aiogram import F
from aiogram.types import Message

from bot.coordinators import Coordinators
from handlers.flow import Flow

router = Flow("group-members")


@router.message(F.left_chat_member)
async def left(message: Message, coordinators: Coordinators) -> None:
    assert message.left_chat_member is not None
    coordinators.forget(message.left_chat_member.id)


@router.message(F.new_chat_members)
async def joined(message: Message, coordinators: Coordinators) -> None:
    for member in message.new_chat_members or []:
        coordinators.forget(member.id)
