"""The coordinators' group keeps working when Telegram makes it a supergroup.

The group then gets a new id, and the old one refuses every message. Whoever learns of the move
first records it (storage/chat_moves.py): the handler of the service messages Telegram posts in
both chats, the sender, whose message to the old id is refused with the new one, or the
coordinators' check, whose question about a member is. The process that learnt it follows at
once; the others at their next start, or at the new group's first message.

The id the bot follows is state, not configuration: it lives in one `CoordinatorsChat` per
process (the dispatcher's `coordinators_chat`, shared with the sender and the jobs), while the
settings stay as they were read. COORDINATOR_CHAT_ID may keep the old id.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from storage import chat_moves

log = logging.getLogger(__name__)


class CoordinatorsChat:
    """The coordinators' group's id now: COORDINATOR_CHAT_ID at start, then the supergroup
    Telegram made of it; None when the bot has no coordinators' group."""

    def __init__(self, chat_id: int | None) -> None:
        self.id = chat_id

    def __repr__(self) -> str:
        return f"CoordinatorsChat({self.id})"

    def follow(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Moves to the new id when the group that moved is the coordinators'."""
        if old_chat_id == new_chat_id or self.id != old_chat_id:
            return False
        self.id = new_chat_id
        log.warning(
            "the coordinators' group %s is now the supergroup %s: the bot follows it there "
            "(COORDINATOR_CHAT_ID may be updated)",
            old_chat_id,
            new_chat_id,
        )
        return True

    async def catch_up(self, session: AsyncSession) -> bool:
        """Follows a move recorded before a restart, or by another process."""
        old = self.id
        if old is None:
            return False
        return self.follow(old, await chat_moves.where_now(session, old))
