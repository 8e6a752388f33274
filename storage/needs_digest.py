"""The weekly digest of new needs: a verified organisation's members may opt in to receive,
once a week, the needs reported in the past week on the themes and in the arrondissements
where their organisation acts (as the directory and /gaps see it: `organisations.actors`).

It is news nobody asked for at the moment it is sent (outbox kind NEWS: quiet hours and STOP
hold) and counts within the monthly alert cap: a person who reached it, counting the challenge
alerts and the digests of the last 30 days, is skipped that week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import organisations
from storage.challenge_alerts import ALERT_WINDOW
from storage.models import ChallengeAlert, Need, NeedStatus, Organisation, OutboxMessage, User
from storage.privacy import has_current_notice
from storage.users import is_onboarded

JOB = "needs.digest"
SUBJECT = "needs:digest"
WEEK = timedelta(days=7)


def week_of(day: date) -> date:
    """The Monday of `day`'s week: the day the job claims, once a week across workers."""
    return day - timedelta(days=day.weekday())


def opted_in(organisation: Organisation) -> bool:
    return organisation.needs_digest_at is not None


def set_digest(organisation: Organisation, on: bool, now: datetime) -> None:
    """Only a verified organisation's members opt in (the caller checks who asks)."""
    organisation.needs_digest_at = now if on and organisation.verified else None


async def alerts_lately(
    session: AsyncSession, user_ids: Sequence[int], now: datetime
) -> dict[int, int]:
    """What the monthly cap counts per person over the last 30 days: the challenge alerts
    (as `challenge_alerts.alert_recipients` counts them) plus the digests (one each, however
    many messages a long one makes: they share their moment)."""
    since = now - ALERT_WINDOW
    counted: dict[int, int] = dict.fromkeys(user_ids, 0)
    if not user_ids:
        return counted
    alerts = await session.execute(
        select(ChallengeAlert.user_id, func.count())
        .where(ChallengeAlert.user_id.in_(user_ids), ChallengeAlert.created_at > since)
        .group_by(ChallengeAlert.user_id)
    )
    digests = await session.execute(
        select(OutboxMessage.user_id, func.count(distinct(OutboxMessage.created_at)))
        .where(
            OutboxMessage.user_id.in_(user_ids),
            OutboxMessage.subject == SUBJECT,
            OutboxMessage.created_at > since,
        )
        .group_by(OutboxMessage.user_id)
    )
    for user_id, count in [*alerts, *digests]:
        counted[user_id] += count
    return counted


@dataclass
class Digest:
    organisation: Organisation
    needs: list[Need] = field(default_factory=list)
    people: list[User] = field(default_factory=list)
    capped: int = 0


def reachable(user: User) -> bool:
    return (
        user.telegram_id is not None
        and user.active
        and user.erased_at is None
        and user.stopped_at is None
        and has_current_notice(user)
        and is_onboarded(user)
    )


async def digests(session: AsyncSession, now: datetime, *, monthly_cap: int) -> list[Digest]:
    """For each verified organisation opted in: the open needs reported in the week before
    `now` where it acts, and its members to tell (reachable, under the cap). Organisations
    with no new need there are left out."""
    opted = (
        await session.scalars(
            select(Organisation)
            .where(Organisation.needs_digest_at.is_not(None), Organisation.verified.is_(True))
            .order_by(Organisation.id)
        )
    ).all()
    if not opted:
        return []
    new = (
        await session.scalars(
            select(Need)
            .where(Need.created_at > now - WEEK, Need.status == NeedStatus.open)
            .order_by(Need.arrondissement, Need.theme_code, Need.id)
        )
    ).all()
    if not new:
        return []
    where = {
        actor.id: actor
        for actor in await organisations.actors(session, None, None)
        if actor.kind == "organisation"
    }
    found = []
    for organisation in opted:
        actor = where.get(organisation.id)
        if actor is None:
            continue
        needs = [
            need
            for need in new
            if need.theme_code in actor.themes and need.arrondissement in actor.arrondissements
        ]
        if not needs:
            continue
        people = [u for u in await organisations.members(session, organisation.id) if reachable(u)]
        counted = await alerts_lately(session, [u.id for u in people], now)
        kept = [u for u in people if counted[u.id] < monthly_cap]
        found.append(Digest(organisation, needs, kept, len(people) - len(kept)))
    return found
