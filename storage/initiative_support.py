"""What gathers around a published initiative: supports (one per person, undoable), followers
(who receive its carriers' news), offers of help (accepted or declined by the carriers), and
what the carriers do with it (post news, complete it, withdraw it).

`carriers_of` is the one place that says who carries an initiative."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.attention import open_to_unsolicited
from storage.challenges import CONTRIBUTION_KINDS
from storage.models import (
    Challenge,
    ChallengePartner,
    ChallengeStatus,
    HelpOffer,
    HelpStatus,
    Initiative,
    InitiativeFollow,
    InitiativeNews,
    InitiativeStatus,
    InitiativeSupport,
    User,
    utcnow,
)
from storage.organisations import acting_for
from storage.texts import clean_text

# Figures shown never single out a group of fewer than 5 people (PRIVACY.md).
MIN_GROUP = 5
HELP_TEXT_LIMITS = (3, 300)
NEWS_LIMITS = (10, 1000)
# Carriers post at most this often per initiative: followers asked for news, not a feed.
NEWS_PACE = timedelta(hours=24)


class SupportError(Exception):
    """Something the person may not do on this initiative (anymore)."""


class NotPublished(SupportError):
    pass


class OwnInitiative(SupportError):
    """Its carriers do not support, follow or help their own initiative."""


class NotCarrier(SupportError):
    pass


class AlreadyAnswered(SupportError):
    pass


class AlreadyOffered(SupportError):
    pass


class TooSoon(SupportError):
    def __init__(self, next_at: datetime) -> None:
        super().__init__(next_at)
        self.next_at = next_at


_PAYLOAD = re.compile(r"i_(\d{1,9})")


def deep_link(bot_username: str, initiative: Initiative) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start=i_{initiative.id}"


def parse_start_payload(payload: str) -> int | None:
    """The initiative's id in a `/start i_<id>` payload."""
    found = _PAYLOAD.fullmatch(payload.strip())
    return int(found.group(1)) if found else None


async def carriers_of(session: AsyncSession, initiative: Initiative) -> list[User]:
    """Who carries the initiative: its proposer while they are still here, and the members of
    the organisation it is carried by once the coordinators verified it (those who may act
    on its behalf)."""
    proposer = await session.get(User, initiative.proposer_id)
    carriers = [proposer] if proposer is not None and proposer.erased_at is None else []
    organisation = initiative.organisation
    if organisation is not None and organisation.verified:
        members = await session.scalars(
            select(User)
            .where(
                User.organisation_id == organisation.id,
                User.erased_at.is_(None),
                User.id != initiative.proposer_id,
            )
            .order_by(User.id)
        )
        carriers += [member for member in members if acting_for(member) is organisation]
    return carriers


async def is_carrier(session: AsyncSession, initiative: Initiative, user: User) -> bool:
    return any(carrier.id == user.id for carrier in await carriers_of(session, initiative))


async def _published(session: AsyncSession, initiative_id: int) -> Initiative:
    initiative = await session.get(Initiative, initiative_id)
    if initiative is None or initiative.status is not InitiativeStatus.approved:
        raise NotPublished(initiative_id)
    return initiative


async def _not_own(session: AsyncSession, initiative_id: int, user: User) -> Initiative:
    initiative = await _published(session, initiative_id)
    if await is_carrier(session, initiative, user):
        raise OwnInitiative(initiative_id)
    return initiative


@dataclass(frozen=True)
class Standing:
    """What a card shows and offers to one person."""

    supports: int
    supporting: bool
    following: bool
    offered: bool
    carrier: bool


async def standing(session: AsyncSession, initiative: Initiative, user: User) -> Standing:
    async def mine(model: type[InitiativeSupport | InitiativeFollow | HelpOffer]) -> bool:
        found = await session.scalar(
            select(model.id).where(model.initiative_id == initiative.id, model.user_id == user.id)
        )
        return found is not None

    return Standing(
        supports=await support_count(session, initiative.id),
        supporting=await mine(InitiativeSupport),
        following=await mine(InitiativeFollow),
        offered=await mine(HelpOffer),
        carrier=await is_carrier(session, initiative, user),
    )


async def support_count(session: AsyncSession, initiative_id: int) -> int:
    query = select(func.count()).where(InitiativeSupport.initiative_id == initiative_id)
    return await session.scalar(query) or 0


async def support(session: AsyncSession, initiative_id: int, user: User) -> bool:
    """Records the person's support; False when it was already there."""
    await _not_own(session, initiative_id, user)
    found = await session.scalar(
        select(InitiativeSupport.id).where(
            InitiativeSupport.initiative_id == initiative_id, InitiativeSupport.user_id == user.id
        )
    )
    if found is not None:
        return False
    session.add(InitiativeSupport(initiative_id=initiative_id, user_id=user.id))
    await session.flush()
    return True


async def toggle(
    session: AsyncSession,
    model: type[InitiativeSupport] | type[InitiativeFollow],
    initiative_id: int,
    user: User,
) -> bool:
    """Supports or follows, or undoes it; whether the person now does."""
    await _not_own(session, initiative_id, user)
    mine = (model.initiative_id == initiative_id, model.user_id == user.id)
    if (await session.execute(delete(model).where(*mine))).rowcount:  # type: ignore[attr-defined]
        return False
    session.add(model(initiative_id=initiative_id, user_id=user.id))
    await session.flush()
    return True


# -- help


def clean_help_text(raw: str | None) -> str:
    return clean_text(raw, min_length=HELP_TEXT_LIMITS[0], max_length=HELP_TEXT_LIMITS[1])


async def offer_help(
    session: AsyncSession, initiative_id: int, user: User, kind: str, text: str | None
) -> HelpOffer:
    """The person offers their help; offering is their consent to give the carriers their
    contact should they accept."""
    initiative = await _not_own(session, initiative_id, user)
    if kind not in CONTRIBUTION_KINDS:
        raise SupportError(kind)
    existing = await session.scalar(
        select(HelpOffer).where(
            HelpOffer.initiative_id == initiative.id, HelpOffer.user_id == user.id
        )
    )
    if existing is not None:
        raise AlreadyOffered(initiative_id)
    offer = HelpOffer(initiative_id=initiative.id, user_id=user.id, kind=kind, text=text)
    session.add(offer)
    await session.flush()
    return offer


async def answer_help(
    session: AsyncSession, offer_id: int, carrier: User, accept: bool, now: datetime | None = None
) -> tuple[HelpOffer, Initiative, User]:
    """A carrier accepts or declines an offer (once): the offer, its initiative and helper."""
    offer = await session.get(HelpOffer, offer_id)
    if offer is None:
        raise NotCarrier(offer_id)
    initiative = await session.get(Initiative, offer.initiative_id)
    if initiative is None or not await is_carrier(session, initiative, carrier):
        raise NotCarrier(offer_id)
    if offer.status is not HelpStatus.offered:
        raise AlreadyAnswered(offer_id)
    helper = await session.get(User, offer.user_id)
    if helper is None or helper.erased_at is not None:
        raise AlreadyAnswered(offer_id)
    offer.status = HelpStatus.accepted if accept else HelpStatus.declined
    offer.answered_at = now or utcnow()
    await session.flush()
    return offer, initiative, helper


async def offers_of(session: AsyncSession, initiative: Initiative) -> Sequence[HelpOffer]:
    """The offers made to the initiative, waiting ones first, then newest first."""
    waiting = HelpOffer.status == HelpStatus.offered
    return (
        await session.scalars(
            select(HelpOffer)
            .where(HelpOffer.initiative_id == initiative.id)
            .order_by(waiting.desc(), HelpOffer.created_at.desc(), HelpOffer.id.desc())
        )
    ).all()


# -- what the carriers do


async def carried(session: AsyncSession, initiative_id: int, user: User) -> Initiative:
    """The published initiative, when the person carries it."""
    initiative = await _published(session, initiative_id)
    if not await is_carrier(session, initiative, user):
        raise NotCarrier(initiative_id)
    return initiative


def clean_news(raw: str | None) -> str:
    return clean_text(raw, min_length=NEWS_LIMITS[0], max_length=NEWS_LIMITS[1])


async def news_recipients(
    session: AsyncSession, initiative_id: int, user: User, now: datetime | None = None
) -> list[User]:
    """Checks that the person may post news now (a carrier, at most once per `NEWS_PACE`),
    records the posting, and returns who receives it: followers and helpers who did not say
    STOP, can be reached and are not carriers."""
    initiative = await carried(session, initiative_id, user)
    now = now or utcnow()
    last = await session.scalar(
        select(func.max(InitiativeNews.posted_at)).where(
            InitiativeNews.initiative_id == initiative.id
        )
    )
    if last is not None and last + NEWS_PACE > now:
        raise TooSoon(last + NEWS_PACE)
    followers = select(InitiativeFollow.user_id).where(
        InitiativeFollow.initiative_id == initiative.id
    )
    helpers = select(HelpOffer.user_id).where(
        HelpOffer.initiative_id == initiative.id, HelpOffer.status != HelpStatus.declined
    )
    carriers = [carrier.id for carrier in await carriers_of(session, initiative)]
    people = (
        await session.scalars(
            select(User)
            .where(
                User.id.in_(followers.union(helpers)),
                User.id.not_in(carriers),
                *open_to_unsolicited(),
            )
            .order_by(User.id)
        )
    ).all()
    session.add(InitiativeNews(initiative_id=initiative.id, recipients=len(people), posted_at=now))
    await session.flush()
    return list(people)


async def complete(session: AsyncSession, initiative_id: int, user: User) -> Initiative:
    """A carrier marks the initiative done: it leaves the lists, its supports stay counted."""
    initiative = await carried(session, initiative_id, user)
    initiative.status = InitiativeStatus.completed
    await session.flush()
    return initiative


async def withdraw(session: AsyncSession, initiative_id: int, user: User) -> Initiative:
    """Its author takes the initiative back: gone from every list and card."""
    initiative = await session.get(Initiative, initiative_id)
    if (
        initiative is None
        or initiative.proposer_id != user.id
        or initiative.status in (InitiativeStatus.withdrawn, InitiativeStatus.completed)
    ):
        raise NotCarrier(initiative_id)
    initiative.status = InitiativeStatus.withdrawn
    await session.flush()
    return initiative


# -- figures


def is_small(count: int) -> bool:
    """1 to 4 people: shown as «fewer than 5», never as the number."""
    return 0 < count < MIN_GROUP


async def gathered_by_initiative(session: AsyncSession) -> dict[int, Gathered]:
    """Per initiative, its supports, offers of help and follows (for the exports)."""
    found: dict[int, list[int]] = {}
    models: tuple[type[InitiativeSupport | HelpOffer | InitiativeFollow], ...] = (
        InitiativeSupport,
        HelpOffer,
        InitiativeFollow,
    )
    for position, model in enumerate(models):
        for initiative_id, count in await session.execute(
            select(model.initiative_id, func.count()).group_by(model.initiative_id)
        ):
            found.setdefault(initiative_id, [0, 0, 0])[position] = count
    return {key: Gathered(*values) for key, values in found.items()}


# -- partners of challenges


async def add_partner(session: AsyncSession, challenge_id: int, initiative_id: int) -> bool:
    """A coordinator lists a published initiative as a partner of a challenge not closed;
    False when it already is."""
    initiative = await _published(session, initiative_id)
    challenge = await session.get(Challenge, challenge_id)
    if challenge is None or challenge.status is ChallengeStatus.draft:
        raise NotPublished(challenge_id)
    found = await session.scalar(
        select(ChallengePartner.id).where(
            ChallengePartner.challenge_id == challenge_id,
            ChallengePartner.initiative_id == initiative.id,
        )
    )
    if found is not None:
        return False
    session.add(ChallengePartner(challenge_id=challenge_id, initiative_id=initiative.id))
    await session.flush()
    return True


async def remove_partner(session: AsyncSession, challenge_id: int, initiative_id: int) -> bool:
    done = await session.execute(
        delete(ChallengePartner).where(
            ChallengePartner.challenge_id == challenge_id,
            ChallengePartner.initiative_id == initiative_id,
        )
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def partners_of(session: AsyncSession, challenge_id: int) -> Sequence[Initiative]:
    """The challenge's partner initiatives still published, oldest partner first."""
    return (
        await session.scalars(
            select(Initiative)
            .join(ChallengePartner, ChallengePartner.initiative_id == Initiative.id)
            .where(
                ChallengePartner.challenge_id == challenge_id,
                Initiative.status == InitiativeStatus.approved,
            )
            .order_by(ChallengePartner.id)
        )
    ).all()


@dataclass(frozen=True)
class Gathered:
    supports: int
    helpers: int
    followers: int


async def gathered(
    session: AsyncSession, since: datetime | None = None, until: datetime | None = None
) -> Gathered:
    """How many supports, offers of help and follows exist (made in [since, until), if
    given)."""

    async def count(model: type[InitiativeSupport | InitiativeFollow | HelpOffer]) -> int:
        query = select(func.count()).select_from(model)
        if since is not None:
            query = query.where(model.created_at >= since)
        if until is not None:
            query = query.where(model.created_at < until)
        return await session.scalar(query) or 0

    return Gathered(
        supports=await count(InitiativeSupport),
        helpers=await count(HelpOffer),
        followers=await count(InitiativeFollow),
    )
