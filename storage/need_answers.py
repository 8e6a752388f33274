"""Needs that get answers: a need is open, then being answered once linked to an initiative
or a challenge (by a coordinator at once; by an initiative's carrier, once a coordinator
confirms), then closed; its author can withdraw it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.challenges import challenge_by_slug
from storage.initiative_support import carried
from storage.models import (
    Challenge,
    ChallengeStatus,
    Initiative,
    InitiativeStatus,
    Need,
    NeedStatus,
    User,
    utcnow,
)

_NEED = re.compile(r"\s*N-?(\d{1,9})\s*", re.IGNORECASE)
_TARGET = re.compile(r"\s*([IC])-?(\d{1,9})\s*", re.IGNORECASE)
_SLUG = re.compile(r"(?:^|start=)c_([a-z0-9]{4,16})\s*$")
LIVE = (NeedStatus.open, NeedStatus.answered)


class NeedError(Exception):
    """No such need, or not one this person may act on, or not in a state that allows it."""


def parse_need(raw: str | None) -> int | None:
    """«N-12» (or «n12», «12»...) as a need's id."""
    found = _NEED.fullmatch(raw or "") or re.fullmatch(r"\s*(\d{1,9})\s*", raw or "")
    return int(found.group(1)) if found else None


def parse_target(raw: str | None) -> tuple[str, int | str] | None:
    """«I-7» (an initiative), «C-3» (a challenge), or a challenge's link or its «c_<slug>»
    (what the coordinators' card of a challenge shows): ("S", slug)."""
    found = _TARGET.fullmatch(raw or "")
    if found:
        return found.group(1).upper(), int(found.group(2))
    slug = _SLUG.search(raw or "")
    return ("S", slug.group(1)) if slug else None


async def needs_of(session: AsyncSession, user: User) -> Sequence[Need]:
    """The person's needs, newest first, withdrawn ones left out."""
    return (
        await session.scalars(
            select(Need)
            .where(Need.reporter_id == user.id, Need.status != NeedStatus.withdrawn)
            .order_by(Need.created_at.desc(), Need.id.desc())
        )
    ).all()


async def withdraw_need(session: AsyncSession, need_id: int, user: User) -> Need:
    need = await session.get(Need, need_id)
    if need is None or need.reporter_id != user.id or need.status not in LIVE:
        raise NeedError(need_id)
    need.status = NeedStatus.withdrawn
    await session.flush()
    return need


async def _live(session: AsyncSession, need_id: int) -> Need:
    need = await session.get(Need, need_id)
    if need is None or need.status not in LIVE:
        raise NeedError(need_id)
    return need


async def target_of(
    session: AsyncSession, kind: str, target_id: int | str
) -> Initiative | Challenge | None:
    """What `parse_target` named, if it exists."""
    if kind == "I":
        return await session.get(Initiative, target_id)
    if kind == "S":
        return await challenge_by_slug(session, str(target_id))
    return await session.get(Challenge, target_id)


async def _target(
    session: AsyncSession, kind: str, target_id: int | str
) -> Initiative | Challenge:
    found = await target_of(session, kind, target_id)
    if isinstance(found, Initiative):
        if found.status is not InitiativeStatus.approved:
            raise NeedError(target_id)
        return found
    challenge = found
    if challenge is None or challenge.status is not ChallengeStatus.open:
        raise NeedError(target_id)
    return challenge


async def link(
    session: AsyncSession, need_id: int, kind: str, target_id: int | str
) -> tuple[Need, Initiative | Challenge]:
    """A coordinator links the need to an initiative («I») or a challenge («C»): it is being
    answered from now on."""
    need = await _live(session, need_id)
    target = await _target(session, kind, target_id)
    need.answered_by_initiative_id = target.id if isinstance(target, Initiative) else None
    need.answered_by_challenge_id = target.id if isinstance(target, Challenge) else None
    need.link_confirmed = True
    need.status = NeedStatus.answered
    need.linked_at = utcnow()
    await session.flush()
    return need, target


async def propose_link(
    session: AsyncSession, need_id: int, initiative_id: int, carrier: User
) -> tuple[Need, Initiative]:
    """A carrier says their initiative answers the need: recorded, waiting for a
    coordinator's confirmation; the need stays open meanwhile."""
    initiative = await carried(session, initiative_id, carrier)
    need = await _live(session, need_id)
    if need.status is NeedStatus.answered:
        raise NeedError(need_id)
    need.answered_by_initiative_id = initiative.id
    need.answered_by_challenge_id = None
    need.link_confirmed = False
    await session.flush()
    return need, initiative


async def confirm_link(
    session: AsyncSession, need_id: int, accept: bool
) -> tuple[Need, Initiative]:
    """A coordinator confirms (being answered) or refuses (open again) a carrier's link."""
    need = await _live(session, need_id)
    initiative_id = need.answered_by_initiative_id
    if need.link_confirmed or initiative_id is None:
        raise NeedError(need_id)
    initiative = await session.get(Initiative, initiative_id)
    if initiative is None:
        raise NeedError(need_id)
    if accept:
        need.link_confirmed = True
        need.status = NeedStatus.answered
        need.linked_at = utcnow()
    else:
        need.answered_by_initiative_id = None
    await session.flush()
    return need, initiative


async def close_need(session: AsyncSession, need_id: int) -> Need:
    need = await _live(session, need_id)
    need.status = NeedStatus.closed
    await session.flush()
    return need
