"""Initiatives: proposed, moderated, published, reported, hidden, contested."""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import audit
from storage.initiative_support import is_carrier
from storage.models import (
    Initiative,
    InitiativeReport,
    InitiativeStatus,
    ReportReason,
    User,
    utcnow,
)
from storage.organisations import acting_for
from storage.privacy import has_current_notice, shares_contact
from storage.texts import clean_text
from storage.themes import known_theme_codes
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE

TITLE_LIMITS = (5, 80)
DESCRIPTION_LIMITS = (20, 1000)
REASON_LIMITS = (3, 500)
PAGE_SIZE = 5
SIMILAR_LIMIT = 3


def reference(initiative: Initiative) -> str:
    return f"I-{initiative.id}"


def clean_title(raw: str | None) -> str:
    return clean_text(raw, min_length=TITLE_LIMITS[0], max_length=TITLE_LIMITS[1])


def clean_description(raw: str | None) -> str:
    return clean_text(raw, min_length=DESCRIPTION_LIMITS[0], max_length=DESCRIPTION_LIMITS[1])


def clean_reason(raw: str | None) -> str:
    return clean_text(raw, min_length=REASON_LIMITS[0], max_length=REASON_LIMITS[1])


@dataclass
class Proposal:
    title: str
    description: str
    theme_code: str
    arrondissement: int
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class NotAllowed(Exception):
    """The person may not do this (anymore)."""


class AlreadyDecided(Exception):
    def __init__(self, initiative: Initiative) -> None:
        super().__init__(initiative.status)
        self.initiative = initiative


async def submit(
    session: AsyncSession,
    user: User,
    proposal: Proposal,
    resubmitting: int | None = None,
    now: datetime | None = None,
) -> Initiative:
    """A new proposal, or a revised one after changes were requested; it waits for moderation."""
    if not has_current_notice(user):
        raise NotAllowed("notice")
    if proposal.theme_code not in await known_theme_codes(session):
        raise ValueError(f"unknown theme {proposal.theme_code}")
    if proposal.arrondissement not in (*ARRONDISSEMENTS, OUTSIDE_MARSEILLE):
        raise ValueError(f"no arrondissement {proposal.arrondissement}")
    now = now or utcnow()
    fields = {
        "title": clean_title(proposal.title),
        "description": clean_description(proposal.description),
        "theme_code": proposal.theme_code,
        "arrondissement": proposal.arrondissement,
        "photo_file_id": proposal.photo_file_id,
        "latitude": proposal.latitude,
        "longitude": proposal.longitude,
        # What applies when it is sent: the person's own answer (storage/privacy.py).
        "contact_consent": shares_contact(user),
    }
    if resubmitting is not None:
        initiative = await _locked(session, resubmitting)
        if (
            initiative is None
            or initiative.proposer_id != user.id
            or initiative.status is not InitiativeStatus.changes_requested
        ):
            raise NotAllowed("resubmit")
        for name, value in fields.items():
            setattr(initiative, name, value)
        initiative.status = InitiativeStatus.pending
        initiative.submitted_at = now
    else:
        initiative = Initiative(
            proposer_id=user.id,
            # Carried by the person's organisation only once coordinators verified it.
            organisation_id=carrier.id if (carrier := acting_for(user)) else None,
            status=InitiativeStatus.pending,
            submitted_at=now,
            created_at=now,
            **fields,
        )
        session.add(initiative)
    await session.flush()
    return initiative


class Decision(enum.StrEnum):
    approve = "approve"
    reject = "reject"
    request_changes = "changes"


DECIDED_STATUS = {
    Decision.approve: InitiativeStatus.approved,
    Decision.reject: InitiativeStatus.rejected,
    Decision.request_changes: InitiativeStatus.changes_requested,
}


async def decide(
    session: AsyncSession,
    initiative_id: int,
    decision: Decision,
    *,
    actor_id: int,
    actor_name: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Initiative:
    """Only a pending proposal can be decided, once: the row is locked, so a second
    coordinator deciding at the same moment is told it was already decided."""
    initiative = await _locked(session, initiative_id)
    if initiative is None:
        raise LookupError(initiative_id)
    if initiative.status is not InitiativeStatus.pending:
        raise AlreadyDecided(initiative)
    if decision is not Decision.approve:
        reason = clean_reason(reason)
    initiative.status = DECIDED_STATUS[decision]
    initiative.decided_by = actor_id
    initiative.decided_by_name = actor_name[:100]
    initiative.decided_at = now or utcnow()
    initiative.reason = reason
    _audit(session, actor_id, f"initiative.{decision.value}", initiative.id, reason)
    await session.flush()
    return initiative


async def _locked(session: AsyncSession, initiative_id: int) -> Initiative | None:
    # FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE already holds the write lock), and
    # populate_existing: a row read earlier in this session must show what the lock waited for.
    return await session.scalar(
        select(Initiative)
        .where(Initiative.id == initiative_id)
        .with_for_update(of=Initiative)
        .execution_options(populate_existing=True)
    )


def _audit(
    session: AsyncSession, actor_id: int, action: str, initiative_id: int, reason: str | None
) -> None:
    audit(
        session,
        actor_id,
        action,
        "initiative",
        initiative_id,
        {"reason": reason} if reason else None,
    )


async def get_initiative(session: AsyncSession, initiative_id: int) -> Initiative | None:
    return await session.get(Initiative, initiative_id)


async def pending(session: AsyncSession, limit: int = 10) -> tuple[Sequence[Initiative], int]:
    """What waits for a decision, oldest first, and how many in all."""
    query = select(Initiative).where(Initiative.status == InitiativeStatus.pending)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = await session.scalars(query.order_by(Initiative.submitted_at).limit(limit))
    return items.all(), total


# Words of four letters or more that say nothing of what an initiative does.
_COMMON_WORDS = frozenset(
    """
    pour avec dans chez sans sous vers entre depuis pendant comme aussi mais plus moins tous
    tout toute toutes leur leurs nous vous votre notre cette ceux celle elle elles être sont
    fait faire très bien
    with from that this these those their your they them have will into about more most
    over after before than also each every other
    التي الذي الذين
    """.split()
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) >= 4 and w not in _COMMON_WORDS}


async def similar(
    session: AsyncSession, theme_code: str, arrondissement: int, title: str
) -> list[Initiative]:
    """Published initiatives that look like this one: same theme, and same arrondissement or
    words in common — offered before a duplicate is proposed."""
    candidates = await session.scalars(
        select(Initiative)
        .where(Initiative.status == InitiativeStatus.approved)
        .where(Initiative.theme_code == theme_code)
        .order_by(Initiative.decided_at.desc())
        .limit(200)
    )
    words = _words(title)
    scored = []
    for initiative in candidates:
        common = len(words & _words(f"{initiative.title} {initiative.description}"))
        score = common + (2 if initiative.arrondissement == arrondissement else 0)
        if score >= 2:
            scored.append((score, initiative.id, initiative))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    return [initiative for _, _, initiative in scored[:SIMILAR_LIMIT]]


async def published(
    session: AsyncSession,
    *,
    theme_code: str | None = None,
    arrondissement: int | None = None,
    page: int = 0,
) -> tuple[Sequence[Initiative], int]:
    """Approved initiatives, newest first, a page at a time; hidden ones never show."""
    query = select(Initiative).where(Initiative.status == InitiativeStatus.approved)
    if theme_code is not None:
        query = query.where(Initiative.theme_code == theme_code)
    if arrondissement is not None:
        query = query.where(Initiative.arrondissement == arrondissement)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = await session.scalars(
        query.order_by(Initiative.decided_at.desc(), Initiative.id.desc())
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return items.all(), total


async def proposals_of(session: AsyncSession, user: User) -> Sequence[Initiative]:
    items = await session.scalars(
        select(Initiative)
        .where(Initiative.proposer_id == user.id)
        .order_by(Initiative.submitted_at.desc())
        .limit(20)
    )
    return items.all()


class OwnInitiative(NotAllowed):
    """Whoever carries an initiative does not report it."""


async def report(
    session: AsyncSession, initiative_id: int, reporter: User, reason: ReportReason
) -> InitiativeReport | None:
    """A published initiative flagged by someone who does not carry it; None when this person
    already reported it."""
    initiative = await session.get(Initiative, initiative_id)
    if initiative is None or initiative.status is not InitiativeStatus.approved:
        raise NotAllowed("report")
    if await is_carrier(session, initiative, reporter):
        raise OwnInitiative(initiative_id)
    existing = await session.scalar(
        select(InitiativeReport).where(
            InitiativeReport.initiative_id == initiative_id,
            InitiativeReport.reporter_id == reporter.id,
        )
    )
    if existing is not None:
        return None
    entry = InitiativeReport(initiative_id=initiative_id, reporter_id=reporter.id, reason=reason)
    session.add(entry)
    await session.flush()
    return entry


async def hide(
    session: AsyncSession, initiative_id: int, *, actor_id: int, actor_name: str, reason: str
) -> Initiative:
    """Withdrawn from browsing at once; the author may contest once."""
    initiative = await _locked(session, initiative_id)
    if initiative is None:
        raise LookupError(initiative_id)
    if initiative.status is not InitiativeStatus.approved:
        raise AlreadyDecided(initiative)
    initiative.status = InitiativeStatus.hidden
    # Each hiding can be contested once.
    initiative.contested_at = None
    initiative.decided_by = actor_id
    initiative.decided_by_name = actor_name[:100]
    initiative.decided_at = utcnow()
    initiative.reason = reason
    _audit(session, actor_id, "initiative.hide", initiative.id, reason)
    await session.flush()
    return initiative


async def contest(session: AsyncSession, initiative_id: int, user: User) -> Initiative:
    initiative = await _locked(session, initiative_id)
    if (
        initiative is None
        or initiative.proposer_id != user.id
        or initiative.status is not InitiativeStatus.hidden
        or initiative.contested_at is not None
    ):
        raise NotAllowed("contest")
    initiative.contested_at = utcnow()
    await session.flush()
    return initiative


async def restore(
    session: AsyncSession, initiative_id: int, *, actor_id: int, actor_name: str
) -> Initiative:
    initiative = await _locked(session, initiative_id)
    if initiative is None:
        raise LookupError(initiative_id)
    if initiative.status is not InitiativeStatus.hidden:
        raise AlreadyDecided(initiative)
    initiative.status = InitiativeStatus.approved
    initiative.decided_by = actor_id
    initiative.decided_by_name = actor_name[:100]
    _audit(session, actor_id, "initiative.restore", initiative.id, None)
    await session.flush()
    return initiative


async def report_count(session: AsyncSession, initiative_id: int) -> int:
    count = select(func.count()).where(InitiativeReport.initiative_id == initiative_id)
    return await session.scalar(count) or 0


async def settle_reports(
    session: AsyncSession, initiative_id: int, *, hiding: bool, actor_id: int, actor_name: str
) -> Initiative:
    """Hides a reported initiative (its reports' reasons as the reason) or keeps it; either way
    its open reports are handled. Only a published initiative with open reports: a second
    press, or a press after another coordinator's, raises AlreadyDecided."""
    initiative = await _locked(session, initiative_id)
    if initiative is None:
        raise LookupError(initiative_id)
    open_reports = (
        await session.scalars(
            select(InitiativeReport)
            .where(
                InitiativeReport.initiative_id == initiative_id,
                InitiativeReport.handled_at.is_(None),
            )
            .order_by(InitiativeReport.id)
        )
    ).all()
    if initiative.status is not InitiativeStatus.approved or not open_reports:
        raise AlreadyDecided(initiative)
    if hiding:
        reasons = Counter(report.reason for report in open_reports)
        reason = ", ".join(r.value for r, _count in reasons.most_common())
        await hide(session, initiative_id, actor_id=actor_id, actor_name=actor_name, reason=reason)
    else:
        audit(
            session,
            actor_id,
            "initiative.keep",
            "initiative",
            initiative_id,
            {"reports": len(open_reports)},
        )
    now = utcnow()
    for report in open_reports:
        report.handled_at, report.handled_by = now, actor_id
    await session.flush()
    return initiative


def contest_waiting(initiative: Initiative) -> bool:
    """Contested, and not decided since: `decided_at` is the hiding's time until then."""
    return (
        initiative.status is InitiativeStatus.hidden
        and initiative.contested_at is not None
        and (initiative.decided_at is None or initiative.decided_at <= initiative.contested_at)
    )


async def settle_contest(
    session: AsyncSession, initiative_id: int, *, restoring: bool, actor_id: int, actor_name: str
) -> Initiative:
    """Restores a contested hiding, or keeps it (audited, and dated so that it is decided
    once); anything but a contest waiting raises AlreadyDecided."""
    initiative = await _locked(session, initiative_id)
    if initiative is None:
        raise LookupError(initiative_id)
    if not contest_waiting(initiative):
        raise AlreadyDecided(initiative)
    if restoring:
        return await restore(session, initiative_id, actor_id=actor_id, actor_name=actor_name)
    initiative.decided_by, initiative.decided_by_name = actor_id, actor_name[:100]
    initiative.decided_at = utcnow()
    audit(session, actor_id, "initiative.keep_hidden", "initiative", initiative_id)
    await session.flush()
    return initiative
