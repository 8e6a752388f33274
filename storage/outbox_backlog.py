"""How the outbox stands, for /readyz and /metrics: how many rows wait, how late the oldest row
the sender could take now is, and how many unsolicited rows wait for the end of the quiet
hours. Read-only, in the caller's session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import UNSOLICITED, QuietHours


@dataclass(frozen=True)
class Backlog:
    waiting: int  # pending rows, due or not
    oldest_due: datetime | None  # the oldest row the sender could claim now
    held_for_morning: int  # unsolicited rows the quiet hours hold back

    def lag(self, now: datetime) -> float:
        """Seconds the oldest claimable row has waited past its due time (0: none)."""
        if self.oldest_due is None:
            return 0.0
        return max((now - self.oldest_due).total_seconds(), 0.0)


def _head() -> ColumnElement[bool]:
    """No older pending row in its chat (a chat's rows go out in order, as claim_due takes)."""
    earlier = aliased(OutboxMessage, name="earlier")
    return ~exists().where(
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.status == OutboxStatus.pending,
        earlier.id < OutboxMessage.id,
    )


async def backlog(session: AsyncSession, now: datetime, quiet: QuietHours) -> Backlog:
    pending = OutboxMessage.status == OutboxStatus.pending
    unsolicited = OutboxMessage.kind.in_(UNSOLICITED)
    claimable: list[ColumnElement[bool]] = [pending, OutboxMessage.not_before <= now, _head()]
    if quiet.contains(now):
        # Held on purpose: not late. Held until the night's end: deferred by the quiet hours.
        claimable.append(or_(OutboxMessage.kind.is_(None), ~unsolicited))
        morning = quiet.end_after(now)
        held = and_(pending, unsolicited, OutboxMessage.not_before <= morning)
    else:
        # Put off to the next morning when written (a fan-out that would reach the night).
        morning = quiet.end_after(quiet.start_after(now))
        held = and_(pending, unsolicited, OutboxMessage.not_before == morning)
    waiting = await session.scalar(select(func.count()).select_from(OutboxMessage).where(pending))
    oldest = await session.scalar(select(func.min(OutboxMessage.not_before)).where(*claimable))
    deferred = await session.scalar(select(func.count()).select_from(OutboxMessage).where(held))
    return Backlog(int(waiting or 0), oldest, int(deferred or 0))
