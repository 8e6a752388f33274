"""Where a group went. Telegram gives a group a new id when it becomes a supergroup (on
making it public, or past 200 members, for instance); the old id then refuses every message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatMove, utcnow

# A supergroup never moves again; a chain longer than this would be a loop in the records.
_MOST_MOVES = 5


async def record_move(
    session: AsyncSession, old_chat_id: int, new_chat_id: int, now: datetime | None = None
) -> None:
    """Records the move once; Telegram tells it twice (in the old group and the new one)."""
    if old_chat_id == new_chat_id:
        return
    move = await session.get(ChatMove, old_chat_id)
    if move is not None:
        move.new_chat_id = new_chat_id
        return
    try:
        # Another process may record the same move at the same moment.
        async with session.begin_nested():
            session.add(
                ChatMove(
                    old_chat_id=old_chat_id, new_chat_id=new_chat_id, moved_at=now or utcnow()
                )
            )
    except IntegrityError:
        pass


async def where_now(session: AsyncSession, chat_id: int) -> int:
    """The id the chat has today."""
    for _ in range(_MOST_MOVES):
        moved = await session.scalar(
            select(ChatMove.new_chat_id).where(ChatMove.old_chat_id == chat_id)
        )
        if moved is None:
            break
        chat_id = moved
    return chat_id
