"""The coordinators' group keeps working when Telegram makes it a supergroup.

The group then gets a new id, and the old one refuses every message. Whoever learns of the move
first records it (storage/chat_moves.py): the handler of the service messages Telegram posts in
both chats, or the sender, whose message to the old id is refused with the new one. The process
that learnt it follows at once; the others at their next start, or at the new group's first
message. COORDINATOR_CHAT_ID may keep the old id.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage import chat_moves

log = logging.getLogger(__name__)


def follow(settings: Settings, old_chat_id: int, new_chat_id: int) -> bool:
    """Points the settings at the new id when the group that moved is the coordinators'."""
    if old_chat_id == new_chat_id or settings.coordinator_chat_id != old_chat_id:
        return False
    settings.coordinator_chat_id = new_chat_id
    log.warning(
        "the coordinators' group %s is now the supergroup %s: the bot follows it there "
        "(COORDINATOR_CHAT_ID may be updated)",
        old_chat_id,
        new_chat_id,
    )
    return True


async def catch_up(session: AsyncSession, settings: Settings) -> bool:
    """Follows a move recorded before a restart, or by another process."""
    old = settings.coordinator_chat_id
    if old is None:
        return False
    return follow(settings, old, await chat_moves.where_now(session, old))
