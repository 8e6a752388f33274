"""Who is a coordinator: listed in COORDINATOR_IDS, or a member of the coordinators' group."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramMigrateToChat

from bot.config import Settings
from bot.group_moves import CoordinatorsChat

MEMBER_STATUSES = {"creator", "administrator", "member"}


class Coordinators:
    """Asks Telegram about group membership, remembering the answer for a minute so that a
    busy moderation session does not cost a getChatMember per press."""

    def __init__(
        self,
        settings: Settings,
        chat: CoordinatorsChat,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.chat = chat
        self.ttl = ttl
        self.clock = clock
        self.known: dict[int, tuple[bool, float]] = {}

    async def __call__(self, bot: Bot, telegram_id: int) -> bool:
        if telegram_id in self.settings.coordinator_ids:
            return True
        group = self.chat.id
        if group is None:
            return False
        cached = self.known.get(telegram_id)
        now = self.clock()
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        try:
            member = await bot.get_chat_member(group, telegram_id)
        except TelegramMigrateToChat as moved:
            # The group became a supergroup and this process had not heard: follow, ask there.
            if not self.chat.follow(group, moved.migrate_to_chat_id):
                return False
            return await self(bot, telegram_id)
        except TelegramAPIError:
            return False
        status = str(member.status.value if hasattr(member.status, "value") else member.status)
        allowed = status in MEMBER_STATUSES or (
            status == "restricted" and bool(getattr(member, "is_member", False))
        )
        self.known[telegram_id] = (allowed, now)
        return allowed

    def forget(self, telegram_id: int) -> None:
        """They joined or left the group: the next question goes to Telegram."""
        self.known.pop(telegram_id, None)
