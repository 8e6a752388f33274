"""STOP: a person asks for no message they did not ask for — challenge alerts, survey
invitations and reminders, news (`storage.outbox.UNSOLICITED`) — and may ask for them again.

Every sender of such messages leaves out people with `stopped_at` set; what was already
waiting for them is dropped at once. The consent to challenge alerts (`alerts_consent_at`) is
kept as it was: receiving messages again brings back what the person had agreed to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User, utcnow
from storage.outbox import drop_pending_unsolicited
from storage.privacy import NOTICE_VERSION


async def stop_messages(session: AsyncSession, user: User, now: datetime | None = None) -> int:
    """Stops every unsolicited message to the person, those waiting included; how many were
    dropped. Saying it again keeps the first time."""
    if user.stopped_at is None:
        user.stopped_at = now or utcnow()
    return await drop_pending_unsolicited(session, user.id)


def resume_messages(user: User) -> bool:
    """The person receives unsolicited messages again; whether they had stopped them."""
    stopped = user.stopped_at is not None
    user.stopped_at = None
    return stopped


def has_stopped(user: User) -> bool:
    return user.stopped_at is not None


def open_to_unsolicited() -> list[ColumnElement[bool]]:
    """Who a message they did not ask for may go to, as a query's conditions: someone the bot
    can reach, who read the current notice and did not say STOP. Every sender of alerts,
    invitations, reminders and news starts from it."""
    return [
        User.active.is_(True),
        User.telegram_id.is_not(None),
        User.notice_version == NOTICE_VERSION,
        User.notice_accepted_at.is_not(None),
        User.stopped_at.is_(None),
    ]
