"""What the person acknowledged, and what /mydata and /forget do with their data."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AssistedParticipation,
    Challenge,
    FsmRecord,
    Initiative,
    InitiativeReport,
    Introduction,
    Need,
    OutboxMessage,
    OutboxStatus,
    Participation,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    User,
    utcnow,
)
from storage.outbox import drop_pending, drop_pending_alerts

# Bump whenever the notice's text changes: people who acknowledged an older version are shown
# the new one at their next visit (PRIVACY.md).
NOTICE_VERSION = 1


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


def set_contact_consent(user: User, given: bool, now: datetime | None = None) -> None:
    user.contact_consent_at = (now or utcnow()) if given else None


# What a person may have contributed, as named in the export.
CONTRIBUTIONS = (
    "needs",
    "challenges",
    "survey_responses",
    "introductions",
    "reports_you_made",
    "people_you_registered",
    "initiatives",
)


async def export_user_data(session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything stored about the person, with what they contributed, as JSON-ready values."""

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "telegram_id": user.telegram_id,
        "language": user.locale,
        "role": user.role.value if user.role else None,
        "organisation": user.organisation.name if user.organisation else None,
        "arrondissement": user.arrondissement,
        "themes": user.themes,
        "privacy_notice": {
            "version": user.notice_version,
            "acknowledged_at": when(user.notice_accepted_at),
            "declined_at": when(user.notice_declined_at),
        },
        "contact_sharing_consent_at": when(user.contact_consent_at),
        "challenge_alerts_consent_at": when(user.alerts_consent_at),
        "onboarded_at": when(user.onboarded_at),
        "active": user.active,
        "created_at": when(user.created_at),
        "last_seen_at": when(user.last_seen_at),
        "needs": [
            {
                "theme": need.theme_code,
                "arrondissement": need.arrondissement,
                "text": need.text,
                "reported_at": when(need.created_at),
            }
            for need in await session.scalars(
                select(Need).where(Need.reporter_id == user.id).order_by(Need.id)
            )
        ],
        "challenges": [
            {
                "challenge": challenge.slug,
                "brings": participation.kind,
                "activity": participation.activity,
                "text": participation.text,
                "joined_at": when(participation.joined_at),
                "left_at": when(participation.left_at),
            }
            for participation, challenge in await session.execute(
                select(Participation, Challenge)
                .join(Challenge, Challenge.id == Participation.challenge_id)
                .where(Participation.user_id == user.id)
                .order_by(Participation.id)
            )
        ],
        "survey_responses": [
            {
                "survey": response.survey_id,
                "started_at": when(response.started_at),
                "completed_at": when(response.completed_at),
                "answers": [
                    {
                        "question": code,
                        "number": answer.value_number,
                        "option": answer.option_code,
                        "text": answer.value_text,
                        "skipped": answer.skipped,
                    }
                    for answer, code in await session.execute(
                        select(SurveyAnswer, SurveyQuestion.code)
                        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
                        .where(SurveyAnswer.response_id == response.id)
                        .order_by(SurveyAnswer.id)
                    )
                ],
            }
            for response in await session.scalars(
                select(SurveyResponse)
                .where(SurveyResponse.user_id == user.id)
                .order_by(SurveyResponse.id)
            )
        ],
        "introductions": [
            {
                "challenge": introduction.challenge_id,
                "asked_by_you": introduction.requester_id == user.id,
                "status": introduction.status.value,
                "at": when(introduction.created_at),
            }
            for introduction in await session.scalars(
                select(Introduction)
                .where(
                    or_(Introduction.requester_id == user.id, Introduction.target_id == user.id)
                )
                .order_by(Introduction.id)
            )
        ],
        "reports_you_made": [
            {"initiative": f"I-{report.initiative_id}", "reason": report.reason.value}
            for report in await session.scalars(
                select(InitiativeReport).where(InitiativeReport.reporter_id == user.id)
            )
        ],
        "people_you_registered": [
            {
                "challenge": assisted.challenge_id,
                "name": assisted.name,
                "arrondissement": assisted.arrondissement,
                "wishes": assisted.wishes,
                "agreement_recorded_at": when(assisted.agreement_recorded_at),
            }
            for assisted in await session.scalars(
                select(AssistedParticipation).where(AssistedParticipation.registered_by == user.id)
            )
        ],
        "initiatives": [
            {
                "reference": f"I-{initiative.id}",
                "title": initiative.title,
                "description": initiative.description,
                "status": initiative.status.value,
                "submitted_at": when(initiative.submitted_at),
            }
            for initiative in await session.scalars(
                select(Initiative).where(Initiative.proposer_id == user.id).order_by(Initiative.id)
            )
        ],
    }


async def forget_user(session: AsyncSession, user: User, now: datetime | None = None) -> None:
    """Erases the person in the caller's transaction; the row stays, anonymous, so that their
    contributions still count in aggregates without pointing at anyone."""
    await drop_pending(session, user.id, "erased at the person's request")
    if user.telegram_id is not None:
        await _forget_messages(session, user.id, user.telegram_id)
    # Contributions stay for the aggregates, without what the person wrote in their own words.
    await session.execute(
        update(Participation).where(Participation.user_id == user.id).values(text=None)
    )
    await session.execute(update(Need).where(Need.reporter_id == user.id).values(text=""))
    responses = select(SurveyResponse.id).where(SurveyResponse.user_id == user.id)
    await session.execute(
        update(SurveyAnswer)
        .where(SurveyAnswer.response_id.in_(responses), SurveyAnswer.value_text.is_not(None))
        .values(value_text=None)
    )
    if user.telegram_id is not None:
        await session.execute(delete(FsmRecord).where(FsmRecord.user_id == user.telegram_id))
    _clear_profile(user)
    user.telegram_id = None
    user.notice_version = None
    user.notice_accepted_at = None
    user.notice_declined_at = None
    user.active = False
    user.erased_at = now or utcnow()


async def _forget_messages(session: AsyncSession, user_id: int, telegram_id: int) -> None:
    """Messages waiting to give the person's contact to someone else are dropped, and those
    already sent keep no text; messages to them, sent or not, keep no text and no way back to
    them."""
    link = f'tg://user?id={telegram_id}"'
    carrying_contact = cast(OutboxMessage.payload, Text).contains(
        json.dumps(link)[1:-1], autoescape=True
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.pending, carrying_contact)
        .values(status=OutboxStatus.dropped, last_error="erased at the person's request")
    )
    await session.execute(update(OutboxMessage).where(carrying_contact).values(payload={}))
    await session.execute(
        update(OutboxMessage)
        .where(or_(OutboxMessage.user_id == user_id, OutboxMessage.chat_id == telegram_id))
        .values(user_id=None, chat_id=0, payload={}, picture_id=None, last_error=None)
    )


def _clear_profile(user: User) -> None:
    user.role = None
    user.organisation = None
    user.organisation_id = None
    user.arrondissement = None
    user.contact_consent_at = None
    user.alerts_consent_at = None
    user.onboarded_at = None
    user.theme_links = []
