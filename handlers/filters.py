"""Scope filters. Async on purpose: aiogram runs sync filters in a thread (DESIGN.md)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.group_moves import CoordinatorsChat


class PrivateChat(Filter):
    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        if message is None:
            return False
        return message.chat.type == "private"


class NotCommand(Filter):
    """Lets /commands through to their own handlers, whatever dialog the person is in."""

    async def __call__(self, message: Message) -> bool:
        return not (message.text or "").startswith("/")


class CoordinatorsGroup(Filter):
    """The coordinators' Telegram group (COORDINATOR_CHAT_ID, or the supergroup it became)."""

    async def __call__(
        self,
        event: Message | CallbackQuery,
        coordinators_chat: CoordinatorsChat,
        session: AsyncSession,
    ) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        if message is None:
            return False
        if message.chat.id == coordinators_chat.id:
            return True
        # The group may have moved, seen by another process: the first message from its new
        # id tells this one.
        return (
            message.chat.type == "supergroup"
            and await coordinators_chat.catch_up(session)
            and message.chat.id == coordinators_chat.id
        )
