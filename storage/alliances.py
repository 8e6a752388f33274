"""Alliances: on an open challenge, someone who speaks for an organisation asks to meet another
organisation taking part; once the other accepts, each side may receive the other's contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.challenges import (
    AlreadyAnswered,
    ChallengeNotFound,
    NotAllowed,
    NotParticipating,
    active_participants,
    participation_of,
    require_open,
)
from storage.models import (
    Challenge,
    Introduction,
    IntroductionStatus,
    Organisation,
    Participation,
    Role,
    User,
    utcnow,
)

_ORGANISATION_ROLES = tuple(role for role in Role if role.is_organisation)


async def other_organisations(
    session: AsyncSession, challenge_id: int, user: User
) -> Sequence[tuple[Participation, User]]:
    """Participants who speak for an organisation other than the person's own; citizens are
    never listed."""
    query = active_participants(challenge_id).where(
        User.id != user.id,
        User.organisation_id.is_not(None),
        User.role.in_(_ORGANISATION_ROLES),
        # Only verified organisations speak on a challenge as organisations.
        User.organisation_id.in_(select(Organisation.id).where(Organisation.verified.is_(True))),
    )
    if user.organisation_id is not None:
        query = query.where(User.organisation_id != user.organisation_id)
    rows = await session.execute(query)
    return [(participation, other) for participation, other in rows.all()]


async def ask_introduction(
    session: AsyncSession,
    challenge: Challenge,
    requester: User,
    target_user_id: int,
    *,
    timezone: str,
) -> Introduction:
    """Both take part; the target speaks for another organisation. Asking again returns the
    introduction already asked, whatever its answer."""
    require_open(challenge, timezone=timezone)
    if target_user_id == requester.id:
        raise NotAllowed("self")
    if await participation_of(session, challenge.id, requester) is None:
        raise NotParticipating("requester")
    targets = {
        other.id for _, other in await other_organisations(session, challenge.id, requester)
    }
    if target_user_id not in targets:
        raise NotParticipating("target")
    existing = await session.scalar(
        select(Introduction).where(
            Introduction.challenge_id == challenge.id,
            Introduction.requester_id == requester.id,
            Introduction.target_id == target_user_id,
        )
    )
    if existing is not None:
        return existing
    introduction = Introduction(
        challenge_id=challenge.id,
        requester_id=requester.id,
        target_id=target_user_id,
        status=IntroductionStatus.asked,
    )
    session.add(introduction)
    await session.flush()
    return introduction


async def answer_introduction(
    session: AsyncSession,
    introduction_id: int,
    target: User,
    accept: bool,
    now: datetime | None = None,
    *,
    timezone: str,
) -> Introduction:
    """Only the one asked answers, once, while the challenge is open and the requester still
    takes part (ChallengeClosed, NotParticipating otherwise); when they accept, each side may
    receive the other's contact."""
    introduction = await session.scalar(
        select(Introduction)
        .where(Introduction.id == introduction_id)
        .with_for_update(of=Introduction)
        .execution_options(populate_existing=True)
    )
    if introduction is None:
        raise ChallengeNotFound(introduction_id)
    if introduction.target_id != target.id:
        raise NotAllowed("target")
    if introduction.status is not IntroductionStatus.asked:
        raise AlreadyAnswered(introduction.status.value)
    challenge = await session.get(Challenge, introduction.challenge_id)
    if challenge is None:
        raise ChallengeNotFound(introduction.challenge_id)
    require_open(challenge, now, timezone=timezone)
    still_there = await session.scalar(
        select(Participation.id).where(
            Participation.challenge_id == introduction.challenge_id,
            Participation.user_id == introduction.requester_id,
            Participation.left_at.is_(None),
        )
    )
    if still_there is None:
        raise NotParticipating("requester")
    introduction.status = IntroductionStatus.accepted if accept else IntroductionStatus.declined
    introduction.answered_at = now or utcnow()
    await session.flush()
    return introduction


async def get_introduction(session: AsyncSession, introduction_id: int) -> Introduction | None:
    return await session.get(Introduction, introduction_id)
