"""People joining or leaving the coordinators' group. Membership is remembered for a minute
(bot/coordinators.py); Telegram's service message about it makes the bot ask again at once,
so that someone removed from the group cannot moderate in the meantime."""

from __future__ import annotations

import logging

from aiogram import F
from aiogram.types import ChatMemberUpdated, Message

from bot.coordinators import Coordinators
from bot.group_moves import CoordinatorsChat
from handlers.flow import Flow

router = Flow("group-members")
log = logging.getLogger(__name__)


@router.message(F.left_chat_member)
async def left(message: Message, coordinators: Coordinators) -> None:
    assert message.left_chat_member is not None
    coordinators.forget(message.left_chat_member.id)


@router.message(F.new_chat_members)
async def joined(message: Message, coordinators: Coordinators) -> None:
    for member in message.new_chat_members or []:
        coordinators.forget(member.id)


@router.my_chat_member(F.chat.type != "private")
async def bot_membership(event: ChatMemberUpdated, coordinators_chat: CoordinatorsChat) -> None:
    """The bot removed from a group: nothing to answer there; the coordinators' group is
    worth a clear line in the log, since their cards and commands stop until it is back."""
    if event.new_chat_member.status not in ("left", "kicked"):
        return
    if event.chat.id == coordinators_chat.id:
        log.error(
            "the bot was removed from the coordinators' group %s (by %s): moderation cards "
            "and summaries cannot reach it until the bot is added back",
            event.chat.id,
            event.from_user.id,
        )
    else:
        log.info("the bot was removed from group %s", event.chat.id)
