"""What the person acknowledged, and what /mydata and /forget do with their data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AssistedParticipation,
    AuditEntry,
    Challenge,
    FsmRecord,
    HelpOffer,
    Initiative,
    InitiativeFollow,
    InitiativeStatus,
    Need,
    Organisation,
    OrganisationRequest,
    OutboxMessage,
    OutboxStatus,
    Participation,
    SurveyAnswer,
    SurveyResponse,
    User,
    utcnow,
)
from storage.outbox import SEND_MESSAGE, SEND_PHOTO, drop_pending, drop_pending_alerts

# Bump whenever the notice's text changes: people who acknowledged an older version are shown
# the new one at their next visit (PRIVACY.md).
NOTICE_VERSION = 2


def has_current_notice(user: User) -> bool:
    return user.notice_version == NOTICE_VERSION and user.notice_accepted_at is not None


def accept_notice(user: User, now: datetime | None = None) -> None:
    user.notice_version = NOTICE_VERSION
    user.notice_accepted_at = now or utcnow()
    user.notice_declined_at = None


def decline_notice(user: User, now: datetime | None = None) -> None:
    """Declining keeps only the Telegram id and language: the person browses anonymously."""
    _clear_profile(user)
    user.notice_version = None
    user.notice_accepted_at = None
    user.notice_declined_at = now or utcnow()


async def set_alerts(
    session: AsyncSession, user: User, on: bool, now: datetime | None = None
) -> None:
    """Consent to challenge alerts (PRIVACY.md: a separate, revocable yes/no); turning them on
    again keeps the time of the consent already given. Turned off, it holds at once: alerts
    still waiting for the person are dropped."""
    if not on:
        user.alerts_consent_at = None
        await drop_pending_alerts(session, user.id)
    elif user.alerts_consent_at is None:
        user.alerts_consent_at = now or utcnow()


# Contact details (PRIVACY.md: a separate, explicit, revocable consent) follow one rule:
# - the person's answer is their profile's (`User.contact_consent_at`): asked once, at
#   onboarding — so that whoever may propose has answered — and changed in /settings, or from a
#   proposal's summary, which changes that same answer; a proposal never asks again;
# - a proposal records, when sent, the answer that applied then (`Initiative.contact_consent`);
# - a contact is shown (moderation card, exports) only while both say yes: a «no», then or
#   since, is a no everywhere.


def set_contact_consent(user: User, given: bool, now: datetime | None = None) -> None:
    user.contact_consent_at = (now or utcnow()) if given else None


def shares_contact(user: User) -> bool:
    """The person's answer now: coordinators may contact them."""
    return user.contact_consent_at is not None


def proposal_shares_contact(consent_at: datetime | None, recorded: bool) -> bool:
    """Whether a proposal shows its author's contact: what applied when it was sent
    (`recorded`), and the author's answer now (`consent_at`, the profile's)."""
    return recorded and consent_at is not None


@dataclass(frozen=True)
class PostedCopy:
    """A message already shown to someone else (a card in the coordinators' group, a request
    in another person's chat) that carried the erased person's words: it is to be edited."""

    chat_id: int
    message_id: int
    photo: bool
    # Whom it was shown to (users.id), or None for the coordinators' group.
    recipient_id: int | None


def initiative_subject(initiative_id: int) -> str:
    """The `subject` of the messages that show an initiative (its moderation card, say)."""
    return f"initiative:{initiative_id}"


def person_subject(user_id: int) -> str:
    """The `subject` of the messages that show a person's details to someone else."""
    return f"user:{user_id}"


ERASED = "erased at the person's request"


async def forget_user(
    session: AsyncSession, user: User, now: datetime | None = None
) -> list[PostedCopy]:
    """Erases the person in the caller's transaction. What they wrote or sent goes everywhere
    it was kept: profile, organisation (when nobody else is in it), needs' texts and places,
    initiatives (withdrawn: no title, description, photo or place), what they wrote when
    joining, free-text answers, the people they registered, dialogs, and the messages that
    carried any of it. The row stays, anonymous, so that their contributions still count.

    Returns the messages already shown to others that carried their words: the caller edits
    them (`handlers.privacy.erasure.erase_person` does all of it)."""
    initiative_ids = list(
        await session.scalars(select(Initiative.id).where(Initiative.proposer_id == user.id))
    )
    posted = await _forget_messages(session, user, initiative_ids)
    await _withdraw_initiatives(session, initiative_ids, now)
    await session.execute(
        update(Participation)
        .where(Participation.user_id == user.id)
        .values(text=None, organisation_id=None)
    )
    # What they offered to an initiative goes; supports stay, anonymous, and count; follows
    # go, since they only said where to send news.
    await session.execute(update(HelpOffer).where(HelpOffer.user_id == user.id).values(text=None))
    await session.execute(delete(InitiativeFollow).where(InitiativeFollow.user_id == user.id))
    # Their requests to organisations go; the answers they gave as a member stay, unsigned.
    await session.execute(
        delete(OrganisationRequest).where(OrganisationRequest.user_id == user.id)
    )
    await session.execute(
        update(OrganisationRequest)
        .where(OrganisationRequest.answered_by == user.id)
        .values(answered_by=None)
    )
    await session.execute(
        update(Need)
        .where(Need.reporter_id == user.id)
        .values(text="", latitude=None, longitude=None)
    )
    responses = select(SurveyResponse.id).where(SurveyResponse.user_id == user.id)
    await session.execute(
        update(SurveyAnswer)
        .where(SurveyAnswer.response_id.in_(responses), SurveyAnswer.value_text.is_not(None))
        .values(value_text=None)
    )
    # The people they registered had only them as a link to La Collective: their details go
    # too, and they still count, anonymously (see `forget_assisted`).
    await session.execute(
        update(AssistedParticipation)
        .where(AssistedParticipation.registered_by == user.id)
        .values(name="", wishes=None)
    )
    if user.telegram_id is not None:
        await session.execute(delete(FsmRecord).where(FsmRecord.user_id == user.telegram_id))
    organisations = await _organisations_of(session, user)
    _clear_profile(user)
    user.telegram_id = None
    user.notice_version = None
    user.notice_accepted_at = None
    user.notice_declined_at = None
    user.stopped_at = None
    user.inactivity_warned_at = None
    user.inactivity_final_warned_at = None
    user.active = False
    user.erased_at = now or utcnow()
    await session.flush()
    await _drop_lone_organisations(session, organisations)
    return posted


def _accompanied_by(user: User) -> Any:
    """Registered by the person, or by another member of their organisation."""
    mine = AssistedParticipation.registered_by == user.id
    if user.organisation_id is None:
        return mine
    members = select(User.id).where(User.organisation_id == user.organisation_id)
    return or_(mine, AssistedParticipation.registered_by.in_(members))


async def accompanied(
    session: AsyncSession, user: User, limit: int = 30
) -> list[tuple[AssistedParticipation, Challenge]]:
    """The people the person's organisation registered (not erased), newest first, each with
    their challenge."""
    rows = await session.execute(
        select(AssistedParticipation, Challenge)
        .join(Challenge, Challenge.id == AssistedParticipation.challenge_id)
        .where(_accompanied_by(user), AssistedParticipation.name != "")
        .order_by(AssistedParticipation.id.desc())
        .limit(limit)
    )
    return [(assisted, challenge) for assisted, challenge in rows.all()]


async def find_accompanied(
    session: AsyncSession, user: User, assisted_id: int
) -> tuple[AssistedParticipation, Challenge] | None:
    """That person, if the person's organisation registered them and they are not erased."""
    row = (
        await session.execute(
            select(AssistedParticipation, Challenge)
            .join(Challenge, Challenge.id == AssistedParticipation.challenge_id)
            .where(
                AssistedParticipation.id == assisted_id,
                _accompanied_by(user),
                AssistedParticipation.name != "",
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def forget_assisted(session: AsyncSession, assisted: AssistedParticipation) -> None:
    """An accompanied person's details erased, at their request through their organisation:
    they still count among the challenge's participants, with nothing that says who they
    are."""
    assisted.name = ""
    assisted.wishes = None
    await session.flush()


async def _withdraw_initiatives(
    session: AsyncSession, initiative_ids: list[int], now: datetime | None
) -> None:
    """Withdrawn from every list and card, with nothing left of what the author wrote or sent;
    theme, arrondissement and dates stay for the counts. The coordinators' decisions stay in
    the audit, without the reasons they wrote, which may quote the proposal."""
    if not initiative_ids:
        return
    await session.execute(
        update(Initiative)
        .where(Initiative.id.in_(initiative_ids))
        .values(
            status=InitiativeStatus.withdrawn,
            title="",
            description="",
            photo_file_id=None,
            latitude=None,
            longitude=None,
            reason=None,
            contact_consent=False,
            organisation_id=None,
            updated_at=now or utcnow(),
        )
        .execution_options(synchronize_session="fetch")
    )
    entries = await session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "initiative", AuditEntry.object_id.in_(initiative_ids)
        )
    )
    for entry in entries:
        if "reason" in entry.details:
            entry.details = {k: v for k, v in entry.details.items() if k != "reason"}


async def _organisations_of(session: AsyncSession, user: User) -> set[int]:
    """The organisations the person named: in their profile, on their proposals, when
    joining a challenge."""
    found = {user.organisation_id} if user.organisation_id is not None else set()
    for column, owner in (
        (Initiative.organisation_id, Initiative.proposer_id),
        (Participation.organisation_id, Participation.user_id),
    ):
        found |= set(
            await session.scalars(select(column).where(owner == user.id, column.is_not(None)))
        )
    return found


async def _drop_lone_organisations(session: AsyncSession, organisation_ids: set[int]) -> None:
    """An organisation nobody else belongs to goes with the person who named it (its name can
    be theirs: «Chez Fatima»); one with other members stays, it is theirs too. What pointed
    at it no longer does (ON DELETE SET NULL)."""
    for organisation_id in organisation_ids:
        member = await session.scalar(
            select(User.id).where(User.organisation_id == organisation_id).limit(1)
        )
        if member is None:
            for model in (Initiative, Participation):
                await session.execute(
                    update(model)
                    .where(model.organisation_id == organisation_id)
                    .values(organisation_id=None)
                    .execution_options(synchronize_session="fetch")
                )
            await session.execute(delete(Organisation).where(Organisation.id == organisation_id))


async def _forget_messages(
    session: AsyncSession, user: User, initiative_ids: list[int]
) -> list[PostedCopy]:
    """Every message that carried the person's words, contact or proposals: those waiting are
    dropped, and none keeps its text. Those that showed them to others are returned, to be
    edited; messages to the person themselves, sent or not, keep no way back to them."""
    await drop_pending(session, user.id, ERASED)
    subjects = [initiative_subject(i) for i in initiative_ids] + [person_subject(user.id)]
    about: ColumnElement[bool] = OutboxMessage.subject.in_(subjects)
    if user.telegram_id is not None:
        link = f'tg://user?id={user.telegram_id}"'
        carrying_contact = cast(OutboxMessage.payload, Text).contains(
            json.dumps(link)[1:-1], autoescape=True
        )
        about = or_(about, carrying_contact)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.pending, about)
        .values(status=OutboxStatus.dropped, last_error=ERASED)
    )
    shown = await session.execute(
        select(
            OutboxMessage.chat_id,
            OutboxMessage.sent_message_id,
            OutboxMessage.method,
            OutboxMessage.user_id,
        )
        .where(
            OutboxMessage.status == OutboxStatus.sent,
            OutboxMessage.sent_message_id.is_not(None),
            OutboxMessage.method.in_((SEND_MESSAGE, SEND_PHOTO)),
            about,
        )
        .order_by(OutboxMessage.id)
    )
    own = {c for c in (user.telegram_id,) if c is not None}
    posted = [
        PostedCopy(chat_id, message_id, method == SEND_PHOTO, recipient)
        for chat_id, message_id, method, recipient in shown
        if chat_id and chat_id not in own and recipient != user.id and message_id
    ]
    await session.execute(
        update(OutboxMessage).where(about).values(payload={}, picture_id=None, last_error=None)
    )
    mine = OutboxMessage.user_id == user.id
    if user.telegram_id is not None:
        mine = or_(mine, OutboxMessage.chat_id == user.telegram_id)
    await session.execute(
        update(OutboxMessage)
        .where(mine)
        .values(user_id=None, chat_id=0, payload={}, picture_id=None, last_error=None)
    )
    return posted


@dataclass(frozen=True)
class QuotingCopy:
    """A message to the coordinators' group, already shown, that quoted the person's words
    among other things (the daily summary lists the proposals waiting): its new text."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None


async def scrub_quotes(
    session: AsyncSession, quotes: Iterable[str], replacement: str
) -> list[QuotingCopy]:
    """Messages to the coordinators' group that are about nothing in particular (no subject)
    but quote one of `quotes` (as sent: HTML): the quote is replaced by `replacement` in what
    is kept — one still waiting goes out without it — and those already shown are returned,
    to be edited."""
    needles = sorted({quote for quote in quotes if quote}, key=len, reverse=True)
    if not needles:
        return []
    payload = cast(OutboxMessage.payload, Text)
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.chat_id < 0,
            OutboxMessage.subject.is_(None),
            OutboxMessage.status.in_((OutboxStatus.pending, OutboxStatus.sent)),
            or_(*(payload.contains(json.dumps(n)[1:-1], autoescape=True) for n in needles)),
        )
        .order_by(OutboxMessage.id)
    )
    copies = []
    for row in rows:
        changed = dict(row.payload)
        for key in ("text", "caption"):
            value = changed.get(key)
            if isinstance(value, str):
                for needle in needles:
                    value = value.replace(needle, replacement)
                changed[key] = value
        if changed == row.payload:
            continue  # LIKE ignores case: a near miss
        row.payload = changed
        if row.status is OutboxStatus.sent and row.sent_message_id and row.method == SEND_MESSAGE:
            copies.append(
                QuotingCopy(
                    row.chat_id, row.sent_message_id, changed["text"], changed.get("reply_markup")
                )
            )
    await session.flush()
    return copies


def _clear_profile(user: User) -> None:
    user.role = None
    user.organisation = None
    user.organisation_id = None
    user.arrondissement = None
    user.contact_consent_at = None
    user.alerts_consent_at = None
    user.onboarded_at = None
    user.theme_links = []
