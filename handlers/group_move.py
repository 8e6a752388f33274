"""Telegram's word that a group became a supergroup: posted in the old chat (migrate_to_chat_id)
and in the new one (migrate_from_chat_id). Either is enough; see bot/group_moves.py."""

from __future__ import annotations

import logging

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import register_group_commands
from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from handlers.flow import Flow
from storage import chat_moves

log = logging.getLogger(__name__)

router = Flow("group-move")


@router.message(F.migrate_to_chat_id)
@router.message(F.migrate_from_chat_id)
async def moved(
    message: Message,
    bot: Bot,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Posted in the old chat (it names the new one), or in the new one (it names the old)."""
    old = message.migrate_from_chat_id or message.chat.id
    new = message.migrate_to_chat_id or message.chat.id
    await chat_moves.record_move(session, old, new)
    if not coordinators_chat.follow(old, new):
        return
    try:
        await register_group_commands(bot, i18n, new, settings.group_locale)
    except TelegramAPIError as error:
        # The menu comes at the next start; the commands work without it.
        log.warning("could not set the commands of group %s: %s", new, error.message)
