"""A challenge's alerts: when it opens, the people it concerns (their themes, their
arrondissement, alerts on, no STOP) are told once, in their language, at a permitted time,
within a monthly cap; one fan-out, whatever their number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from storage.attention import open_to_unsolicited
from storage.models import Challenge, ChallengeAlert, Participation, User, UserTheme
from storage.outbox import (
    ALERT,
    QuietHours,
    drop_pending_about,
    enqueue_many,
    queued_by,
    row_count,
    to_each,
)

ALERT_WINDOW = timedelta(days=30)


async def alert_recipients(
    session: AsyncSession, challenge: Challenge, now: datetime, *, monthly_cap: int = 2
) -> Sequence[User]:
    """In one query: active, onboarded people with the current notice and alerts on (and who
    did not say STOP), whose
    themes include the challenge's (and, for a local challenge, who live in one of its
    arrondissements), not yet alerted for it, not taking part already, and alerted fewer than
    `monthly_cap` times in the last 30 days. Their `theme_links` and `organisation` are not
    loaded."""
    result = await session.scalars(_recipients(challenge, now, monthly_cap))
    return result.all()


async def count_alert_recipients(
    session: AsyncSession, challenge: Challenge, now: datetime, *, monthly_cap: int = 2
) -> int:
    """How many people opening the challenge now would alert (those `alert_recipients` finds
    and who can be written to): what coordinators are told before they confirm."""
    reachable = _recipients(challenge, now, monthly_cap).where(User.telegram_id.is_not(None))
    return await session.scalar(select(func.count()).select_from(reachable.subquery())) or 0


def _recipients(challenge: Challenge, now: datetime, monthly_cap: int) -> Any:
    recent = (
        select(ChallengeAlert.user_id, func.count().label("alerts"))
        .where(ChallengeAlert.created_at > now - ALERT_WINDOW)
        .group_by(ChallengeAlert.user_id)
        .subquery()
    )
    query = (
        select(User)
        .join(
            UserTheme,
            and_(UserTheme.user_id == User.id, UserTheme.theme_code == challenge.theme_code),
        )
        .outerjoin(recent, recent.c.user_id == User.id)
        .where(
            *open_to_unsolicited(),
            User.onboarded_at.is_not(None),
            User.alerts_consent_at.is_not(None),
            func.coalesce(recent.c.alerts, 0) < monthly_cap,
            ~exists().where(
                ChallengeAlert.challenge_id == challenge.id, ChallengeAlert.user_id == User.id
            ),
            ~exists().where(
                Participation.challenge_id == challenge.id, Participation.user_id == User.id
            ),
        )
        .order_by(User.id)
        # Thousands of people: their themes and organisation are not loaded (touching them
        # raises rather than querying once per person).
        .options(raiseload(User.theme_links), raiseload(User.organisation))
    )
    if challenge.arrondissements:
        query = query.where(User.arrondissement.in_(challenge.arrondissements))
    return query


def alert_time(
    now: datetime,
    timezone: str,
    quiet_from: time = time(21),
    quiet_until: time = time(8),
) -> datetime:
    """`now`, or the next `quiet_until` in `timezone` when `now` falls in the quiet hours
    (`storage.outbox.QuietHours`)."""
    return QuietHours(timezone, quiet_from, quiet_until).end_after(now)


async def record_alerts(
    session: AsyncSession, challenge: Challenge, users: Sequence[User], now: datetime
) -> None:
    """One row per person alerted, in one bulk insert; what the caps count."""
    if not users:
        return
    await session.execute(
        insert(ChallengeAlert.__table__),
        [{"challenge_id": challenge.id, "user_id": user.id, "created_at": now} for user in users],
    )


def alert_subject(challenge: Challenge) -> str:
    """What the alerts' outbox rows are about: those still waiting are withdrawn when the
    challenge closes."""
    return f"challenge:{challenge.id}"


async def withdraw_alerts(session: AsyncSession, challenge: Challenge) -> int:
    """The challenge closed: its alerts still waiting (the night's, say) never go out."""
    return await drop_pending_about(session, ALERT, alert_subject(challenge), "challenge closed")


async def enqueue_alerts(
    session: AsyncSession,
    challenge: Challenge,
    recipients: Sequence[User],
    message: Callable[[User], tuple[str, dict[str, Any] | None]],
    *,
    now: datetime,
    timezone: str,
    rate: float | None = None,
) -> datetime:
    """The alert's fan-out: for each of `recipients` (from `alert_recipients`), `message(user)`
    — its text (HTML) and keyboard, in the person's language, the same objects for people of
    one language — due at `alert_time`, and the alert recorded; two bulk inserts, whatever the
    number of people (`storage.outbox.enqueue_many`). Returns when the alerts go out.

    At `rate` messages a second (the sender's), a fan-out that would still be going out in the
    quiet hours — counting the rows already waiting to go out before it — waits for the
    morning as a whole: nobody is alerted at night, and everyone at about the same time."""
    alerts = to_each(recipients, message, kind=ALERT, subject=alert_subject(challenge))
    quiet = QuietHours(timezone)
    due = quiet.end_after(now)
    if rate and alerts:
        ahead = await queued_by(session, due)
        last = due + timedelta(seconds=(ahead + row_count(alerts)) / rate)
        if last >= (night := quiet.start_after(due)):
            due = quiet.end_after(night)
    await enqueue_many(session, alerts, now=now, not_before=due)
    await record_alerts(session, challenge, [u for u in recipients if u.telegram_id], now)
    return due
