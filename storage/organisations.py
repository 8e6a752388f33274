"""Organisations as shared entities: members, invitations, requests to join or to be put in
touch, the coordinators' verification, look-alike names to merge, and where they act.

An organisation is created by its first member (onboarding, `storage.users.set_role`); others
join by its invitation link (`o_<code>`) or by asking, a member accepting. Only the members of a
verified organisation act on its behalf (`acting_for`): until then they act as themselves.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import audit
from storage.models import (
    AuditEntry,
    Initiative,
    InitiativeStatus,
    Need,
    Organisation,
    OrganisationRequest,
    Participation,
    Role,
    User,
    utcnow,
)
from storage.users import set_role

BADGE = "✓"
JOIN = "join"
CONTACT = "contact"
ASKED = "asked"
ACCEPTED = "accepted"
DECLINED = "declined"
_PAYLOAD = re.compile(r"o_([A-Za-z0-9_-]{4,16})")


class OrganisationError(Exception):
    pass


class AlreadyDecided(OrganisationError):
    def __init__(self, organisation: Organisation) -> None:
        super().__init__(organisation.id)
        self.organisation = organisation


class NotAsked(OrganisationError):
    """No verification was asked (or it was decided): nothing to decide."""


class AlreadyAnswered(OrganisationError):
    pass


class NotAMember(OrganisationError):
    pass


# -- naming


def badged(organisation: Organisation) -> str:
    """The name as people read it (plain text: the caller escapes it), with the verified badge."""
    return f"{organisation.name} {BADGE}" if organisation.verified else organisation.name


def name_key(name: str) -> str:
    """Names typed identically but for case, accents and spaces (or punctuation) share a key."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in bare.casefold() if c.isalnum())


def acting_for(user: User) -> Organisation | None:
    """The organisation the person may act on behalf of: theirs, once verified."""
    organisation = user.organisation
    if organisation is None or user.role is None or not user.role.is_organisation:
        return None
    return organisation if organisation.verified else None


def unverified_member(user: User) -> bool:
    """A member of an organisation not verified yet: they act as themselves, and are told why."""
    return (
        user.organisation is not None
        and user.role is not None
        and user.role.is_organisation
        and not user.organisation.verified
    )


# -- members


async def members(session: AsyncSession, organisation_id: int) -> list[User]:
    rows = await session.scalars(
        select(User)
        .where(User.organisation_id == organisation_id, User.erased_at.is_(None))
        .order_by(User.id)
    )
    return list(rows.unique().all())


async def member_count(session: AsyncSession, organisation_id: int) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.organisation_id == organisation_id, User.erased_at.is_(None))
        )
    ) or 0


def parse_invite(payload: str) -> str | None:
    """The code of an organisation's /start payload (`o_<code>`), else None."""
    match = _PAYLOAD.fullmatch(payload or "")
    return match.group(1) if match else None


async def invite_code(session: AsyncSession, organisation: Organisation) -> str:
    """Its invitation code, made the first time a member shares it."""
    if organisation.invite_code is None:
        organisation.invite_code = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")
        await session.flush()
    return organisation.invite_code


async def by_invite(session: AsyncSession, code: str) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.invite_code == code))


async def join(
    session: AsyncSession, user: User, organisation: Organisation
) -> Organisation | None:
    """The person becomes a member (of this one only); returns the organisation they left
    without any member, if any (it is handed to the coordinators)."""
    previous = user.organisation
    user.organisation = organisation
    user.role = organisation.kind
    organisation.orphaned_at = None
    await session.flush()
    if previous is not None and previous.id != organisation.id:
        return await _orphaned(session, previous)
    return None


async def leave(session: AsyncSession, user: User) -> Organisation | None:
    """The person leaves their organisation and acts as a citizen from then on; returns the
    organisation if nobody is left in it."""
    previous = user.organisation
    if previous is None:
        raise NotAMember()
    user.organisation = None
    user.organisation_id = None
    user.role = Role.citizen
    await session.flush()
    return await _orphaned(session, previous)


async def say_who(
    session: AsyncSession, user: User, role: Role, organisation_name: str | None = None
) -> Organisation | None:
    """The person says who they are (onboarding, /settings); an organisation they no longer
    name is left as `leave` leaves it. Returns it if it is handed to the coordinators."""
    previous = user.organisation
    set_role(user, role, organisation_name)
    if previous is None or user.organisation is previous:
        return None
    await session.flush()
    return await _orphaned(session, previous)


async def _orphaned(session: AsyncSession, organisation: Organisation) -> Organisation | None:
    """An organisation its last member left. One that is only a name (not verified, named by
    no initiative or participation) goes: nobody else knows it, and its name was one person's
    words, which their erasure could no longer find (PRIVACY.md). Any other is handed to the
    coordinators, and returned."""
    if await member_count(session, organisation.id):
        return None
    if not organisation.verified and not await _named_by_work(session, organisation.id):
        await session.delete(organisation)
        return None
    organisation.orphaned_at = utcnow()
    return organisation


async def _named_by_work(session: AsyncSession, organisation_id: int) -> bool:
    for model in (Initiative, Participation):
        found = await session.scalar(
            select(model.id).where(model.organisation_id == organisation_id).limit(1)
        )
        if found is not None:
            return True
    return False


# -- requests (to join, to be put in touch)


async def ask(
    session: AsyncSession, user: User, organisation: Organisation, kind: str
) -> tuple[OrganisationRequest, bool]:
    """The person's request of that kind (once: asking again returns the one there, and
    False)."""
    found = await session.scalar(
        select(OrganisationRequest).where(
            OrganisationRequest.organisation_id == organisation.id,
            OrganisationRequest.user_id == user.id,
            OrganisationRequest.kind == kind,
        )
    )
    if found is not None:
        return found, False
    request = OrganisationRequest(organisation_id=organisation.id, user_id=user.id, kind=kind)
    session.add(request)
    await session.flush()
    return request, True


async def answer(
    session: AsyncSession, request_id: int, member: User, accept: bool
) -> OrganisationRequest:
    """A member of the organisation asked accepts or declines, once. A join accepted makes the
    requester a member."""
    request = await session.get(OrganisationRequest, request_id, with_for_update=True)
    if request is None or member.organisation_id != request.organisation_id:
        raise NotAMember()
    if request.status != ASKED:
        raise AlreadyAnswered()
    request.status = ACCEPTED if accept else DECLINED
    request.answered_by = member.id
    request.answered_at = utcnow()
    if accept and request.kind == JOIN:
        requester = await session.get(User, request.user_id)
        organisation = await session.get(Organisation, request.organisation_id)
        if requester is not None and organisation is not None:
            await join(session, requester, organisation)
    await session.flush()
    return request


# -- verification


def pending_verification(organisation: Organisation) -> bool:
    return (
        organisation.verification_asked_at is not None
        and not organisation.verified
        and organisation.refused_at is None
    )


def ask_verification(organisation: Organisation, now: datetime | None = None) -> bool:
    """A member asks the coordinators to verify it; False when it is verified or already
    waiting."""
    if organisation.verified or pending_verification(organisation):
        return False
    organisation.verification_asked_at = now or utcnow()
    organisation.refused_at = None
    return True


async def decide(
    session: AsyncSession, organisation_id: int, verify: bool, *, actor_id: int, actor_name: str
) -> Organisation:
    organisation = await session.get(Organisation, organisation_id, with_for_update=True)
    if organisation is None:
        raise NotAsked()
    if not pending_verification(organisation):
        raise AlreadyDecided(organisation)
    now = utcnow()
    organisation.decided_by = actor_id
    if verify:
        organisation.verified = True
        organisation.verified_at = now
    else:
        organisation.refused_at = now
    audit(
        session,
        actor_id,
        "organisation.verify" if verify else "organisation.refuse",
        "organisation",
        organisation.id,
        {"name": organisation.name, "by": actor_name},
    )
    await session.flush()
    return organisation


async def waiting(session: AsyncSession) -> list[Organisation]:
    rows = await session.scalars(
        select(Organisation)
        .where(
            Organisation.verification_asked_at.is_not(None),
            Organisation.verified.is_(False),
            Organisation.refused_at.is_(None),
        )
        .order_by(Organisation.verification_asked_at)
    )
    return list(rows.all())


# -- look-alikes


async def look_alikes(session: AsyncSession) -> list[list[Organisation]]:
    """Organisations whose names are the same but for case, accents and spaces, in groups of
    two or more, oldest first; a group the coordinators kept apart is not offered again."""
    kept = set()
    for details in await session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "organisation.keep_apart")
    ):
        kept.add(tuple(sorted(details.get("ids", []))))
    groups: dict[str, list[Organisation]] = defaultdict(list)
    for organisation in await session.scalars(select(Organisation).order_by(Organisation.id)):
        groups[name_key(organisation.name)].append(organisation)
    return [
        group
        for key, group in groups.items()
        if key and len(group) > 1 and tuple(sorted(o.id for o in group)) not in kept
    ]


async def group_of(session: AsyncSession, organisation_id: int) -> list[Organisation]:
    for group in await look_alikes(session):
        if any(o.id == organisation_id for o in group):
            return group
    return []


async def merge(
    session: AsyncSession, group: list[Organisation], *, actor_id: int, actor_name: str
) -> Organisation:
    """The oldest of the group stays; the others' members, initiatives and participations move
    to it, and they go. It is verified if one of them was."""
    kept, others = group[0], group[1:]
    ids = [o.id for o in others]
    for model in (User, Initiative, Participation):
        await session.execute(
            update(model).where(model.organisation_id.in_(ids)).values(organisation_id=kept.id)
        )
    await session.execute(
        update(OrganisationRequest)
        .where(OrganisationRequest.organisation_id.in_(ids))
        .values(status=DECLINED)
    )
    if any(o.verified for o in others) and not kept.verified:
        kept.verified = True
        kept.verified_at = utcnow()
    kept.orphaned_at = None
    audit(
        session,
        actor_id,
        "organisation.merge",
        "organisation",
        kept.id,
        {"merged": ids, "name": kept.name, "by": actor_name},
    )
    for other in others:
        await session.delete(other)
    await session.flush()
    return kept


def keep_apart(session: AsyncSession, group: list[Organisation], *, actor_id: int) -> None:
    audit(
        session,
        actor_id,
        "organisation.keep_apart",
        "organisation",
        group[0].id,
        {"ids": sorted(o.id for o in group)},
    )


# -- where they act


@dataclass
class Actor:
    """An entry of the directory: an organisation, or a published initiative."""

    kind: str  # "organisation" or "initiative"
    id: int
    name: str
    verified: bool
    what: list[str] = field(default_factory=list)
    themes: set[str] = field(default_factory=set)
    arrondissements: set[int] = field(default_factory=set)


async def actors(
    session: AsyncSession, theme: str | None, arrondissement: int | None
) -> list[Actor]:
    """Organisations with at least one member, and published initiatives, acting on `theme` in
    `arrondissement` (None: any): verified organisations first. An organisation acts where its
    members live and on their themes, and where its published initiatives are."""
    found: dict[int, Actor] = {}
    people = await session.scalars(
        select(User).where(
            User.organisation_id.is_not(None), User.erased_at.is_(None), User.active.is_(True)
        )
    )
    for person in people.unique():
        organisation = person.organisation
        assert organisation is not None
        actor = found.setdefault(
            organisation.id,
            Actor(
                "organisation",
                organisation.id,
                organisation.name,
                organisation.verified,
                [organisation.description] if organisation.description else [],
            ),
        )
        actor.themes.update(person.themes)
        if person.arrondissement:
            actor.arrondissements.add(person.arrondissement)
    initiatives = list(
        (
            await session.scalars(
                select(Initiative)
                .where(Initiative.status == InitiativeStatus.approved)
                .order_by(Initiative.id)
            )
        ).unique()
    )
    listed: list[Actor] = []
    for initiative in initiatives:
        carrier = found.get(initiative.organisation_id or 0)
        if carrier is not None:
            carrier.themes.add(initiative.theme_code)
            carrier.arrondissements.add(initiative.arrondissement)
            carrier.what.append(initiative.title)
        listed.append(
            Actor(
                "initiative",
                initiative.id,
                initiative.title,
                bool(initiative.organisation and initiative.organisation.verified),
                [initiative.description],
                {initiative.theme_code},
                {initiative.arrondissement},
            )
        )

    def fits(actor: Actor) -> bool:
        return (theme is None or theme in actor.themes) and (
            arrondissement is None or arrondissement in actor.arrondissements
        )

    organisations = sorted(
        (a for a in found.values() if fits(a)), key=lambda a: (not a.verified, a.name.casefold())
    )
    return organisations + [a for a in listed if fits(a)]


# -- the map of gaps


@dataclass
class Gap:
    arrondissement: int
    theme: str
    needs: int = 0
    initiatives: int = 0
    organisations: int = 0

    @property
    def answered(self) -> int:
        return self.initiatives + self.organisations


async def gaps(session: AsyncSession) -> list[Gap]:
    """Per arrondissement and theme where needs were reported: the open needs, against the
    published initiatives and the active organisations there; the least answered first."""
    cells: dict[tuple[int, str], Gap] = {}

    def cell(arrondissement: int, theme: str) -> Gap:
        return cells.setdefault((arrondissement, theme), Gap(arrondissement, theme))

    query = select(Need.arrondissement, Need.theme_code, func.count()).group_by(
        Need.arrondissement, Need.theme_code
    )
    status = getattr(Need, "status", None)
    if status is not None:
        query = query.where(status == "open")
    for arrondissement, theme, count in await session.execute(query):
        cell(arrondissement, theme).needs = count
    for actor in await actors(session, None, None):
        for arrondissement in actor.arrondissements:
            for theme in actor.themes:
                if (arrondissement, theme) not in cells:
                    continue
                if actor.kind == "initiative":
                    cells[(arrondissement, theme)].initiatives += 1
                else:
                    cells[(arrondissement, theme)].organisations += 1
    return sorted(
        cells.values(),
        key=lambda g: (g.answered > 0, -g.needs, g.arrondissement, g.theme),
    )
