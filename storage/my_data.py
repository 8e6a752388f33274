"""Everything the bot holds about a person, for /mydata (GDPR art. 15): what they said about
themselves, their consents with their dates, what they contributed, what they received, and
the dialogs they left halfway. Keys are plain English words a person can read, and stay the
same from one version to the next."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.challenges import challenge_text
from storage.models import (
    AssistedParticipation,
    Challenge,
    ChallengeAlert,
    FsmRecord,
    HelpOffer,
    Initiative,
    InitiativeFollow,
    InitiativeReport,
    InitiativeSupport,
    Introduction,
    Need,
    Organisation,
    OrganisationRequest,
    Participation,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    User,
)
from storage.surveys import survey_text

PROFILE = "about you"
CONSENTS = "your consents"
# What a person may have contributed or received, each a list, in the order the file shows.
NEEDS = "needs you reported"
INITIATIVES = "initiatives you proposed"
CHALLENGES = "challenges you joined"
REGISTERED = "people you registered"
INTRODUCTIONS = "introductions"
REPORTS = "initiatives you reported"
SURVEYS = "your survey answers"
ALERTS = "challenge alerts you received"
INVITATIONS = "survey invitations you received"
DIALOGS = "what you were in the middle of"
GATHERED = "initiatives you support, follow or offered to help"
REQUESTS = "your requests to organisations, and those you answered"
KINDS = (
    NEEDS,
    INITIATIVES,
    CHALLENGES,
    REGISTERED,
    INTRODUCTIONS,
    REPORTS,
    SURVEYS,
    ALERTS,
    INVITATIONS,
    GATHERED,
    REQUESTS,
    DIALOGS,
)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_user_data(
    session: AsyncSession,
    user: User,
    dialogs: Iterable[tuple[str | None, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready values. `dialogs` (state, draft):
    the dialogs kept outside the database (Redis); by default, the database's."""
    data: dict[str, Any] = {PROFILE: _profile(user), CONSENTS: _consents(user)}
    data[NEEDS] = await _needs(session, user)
    data[INITIATIVES] = await _initiatives(session, user)
    data[CHALLENGES] = await _challenges(session, user)
    data[REGISTERED] = await _registered(session, user)
    data[INTRODUCTIONS] = await _introductions(session, user)
    data[REPORTS] = await _reports(session, user)
    data[SURVEYS] = await _surveys(session, user)
    data[ALERTS] = await _alerts(session, user)
    data[INVITATIONS] = await _invitations(session, user)
    data[GATHERED] = await _gathered(session, user)
    data[REQUESTS] = await _requests(session, user)
    if dialogs is None:
        dialogs = (
            [(record.state, record.data) for record in await _records(session, user)]
            if user.telegram_id is not None
            else []
        )
    data[DIALOGS] = [
        {"step": state, "what you had entered": draft}
        for state, draft in dialogs
        if state or draft
    ]
    return data


def counts(data: dict[str, Any]) -> dict[str, int]:
    return {kind: len(data[kind]) for kind in KINDS}


def _profile(user: User) -> dict[str, Any]:
    return {
        "Telegram id": user.telegram_id,
        "language": user.locale,
        "who you are": user.role.value if user.role else None,
        "organisation": user.organisation.name if user.organisation else None,
        "organisation verified by the coordinators": (
            user.organisation.verified if user.organisation else None
        ),
        "arrondissement": user.arrondissement,
        "themes": user.themes,
        "first came": _when(user.created_at),
        "profile completed": _when(user.onboarded_at),
        "last seen": _when(user.last_seen_at),
        "can be reached": user.active,
    }


def _consents(user: User) -> dict[str, Any]:
    return {
        "privacy notice": {
            "version": user.notice_version,
            "read and acknowledged": _when(user.notice_accepted_at),
            "declined": _when(user.notice_declined_at),
        },
        "sharing your contact with coordinators": _when(user.contact_consent_at),
        "challenge alerts": _when(user.alerts_consent_at),
        "stopped every message you did not ask for": _when(user.stopped_at),
        "warned about inactivity": _when(user.inactivity_warned_at),
    }


async def _needs(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Need).where(Need.reporter_id == user.id).order_by(Need.id))
    return [
        {
            "reference": f"N-{need.id}",
            "theme": need.theme_code,
            "arrondissement": need.arrondissement,
            "text": need.text,
            "latitude": need.latitude,
            "longitude": need.longitude,
            "reported": _when(need.created_at),
            "status": need.status.value,
        }
        for need in rows
    ]


async def _gathered(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kinds: tuple[tuple[str, type[InitiativeSupport | InitiativeFollow]], ...] = (
        ("support", InitiativeSupport),
        ("follow", InitiativeFollow),
    )
    for what, model in kinds:
        rows = await session.execute(
            select(model.initiative_id, model.created_at).where(model.user_id == user.id)
        )
        found += [
            {"initiative": f"I-{initiative_id}", what: _when(created_at)}
            for initiative_id, created_at in rows
        ]
    offers = await session.scalars(select(HelpOffer).where(HelpOffer.user_id == user.id))
    found += [
        {
            "initiative": f"I-{offer.initiative_id}",
            "help offered": _when(offer.created_at),
            "kind": offer.kind,
            "text": offer.text,
            "answer": offer.status.value,
        }
        for offer in offers
    ]
    return found


async def _requests(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """To be put in touch with an organisation, or to join it: asked by the person, or answered
    by them as a member."""
    rows = await session.execute(
        select(OrganisationRequest, Organisation)
        .join(Organisation, Organisation.id == OrganisationRequest.organisation_id)
        .where(
            or_(OrganisationRequest.user_id == user.id, OrganisationRequest.answered_by == user.id)
        )
        .order_by(OrganisationRequest.id)
    )
    return [
        {
            "organisation": organisation.name,
            "to": "join it" if request.kind == "join" else "be put in touch",
            "asked by you": request.user_id == user.id,
            "answer": request.status,
            "asked": _when(request.created_at),
            "answered": _when(request.answered_at),
        }
        for request, organisation in rows
    ]


async def _initiatives(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Initiative).where(Initiative.proposer_id == user.id).order_by(Initiative.id)
    )
    return [
        {
            "reference": f"I-{initiative.id}",
            "title": initiative.title,
            "description": initiative.description,
            "theme": initiative.theme_code,
            "arrondissement": initiative.arrondissement,
            "organisation": initiative.organisation.name if initiative.organisation else None,
            "photo (Telegram file)": initiative.photo_file_id,
            "latitude": initiative.latitude,
            "longitude": initiative.longitude,
            "coordinators may contact you about it": initiative.contact_consent,
            "status": initiative.status.value,
            "coordinators' reason": initiative.reason,
            "sent": _when(initiative.submitted_at),
            "decided": _when(initiative.decided_at),
            "contested": _when(initiative.contested_at),
        }
        for initiative in rows
    ]


async def _challenges(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Participation, Challenge)
        .join(Challenge, Challenge.id == Participation.challenge_id)
        .where(Participation.user_id == user.id)
        .order_by(Participation.id)
    )
    return [
        {
            "challenge": challenge_text(challenge, user.locale)[0],
            "you bring": participation.kind,
            "activity": participation.activity,
            "what you wrote": participation.text,
            "joined": _when(participation.joined_at),
            "left": _when(participation.left_at),
        }
        for participation, challenge in rows
    ]


async def _registered(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(AssistedParticipation, Challenge)
        .join(Challenge, Challenge.id == AssistedParticipation.challenge_id)
        .where(AssistedParticipation.registered_by == user.id)
        .order_by(AssistedParticipation.id)
    )
    return [
        {
            "challenge": challenge_text(challenge, user.locale)[0],
            "first name or initials": assisted.name or None,
            "arrondissement": assisted.arrondissement,
            "what they would like": assisted.wishes,
            "activity": assisted.activity,
            "their agreement recorded": _when(assisted.agreement_recorded_at),
        }
        for assisted, challenge in rows
    ]


async def _introductions(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Introduction, Challenge)
        .join(Challenge, Challenge.id == Introduction.challenge_id)
        .where(or_(Introduction.requester_id == user.id, Introduction.target_id == user.id))
        .order_by(Introduction.id)
    )
    return [
        {
            "challenge": challenge_text(challenge, user.locale)[0],
            "asked by you": introduction.requester_id == user.id,
            "answer": introduction.status.value,
            "asked": _when(introduction.created_at),
            "answered": _when(introduction.answered_at),
        }
        for introduction, challenge in rows
    ]


async def _reports(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(InitiativeReport)
        .where(InitiativeReport.reporter_id == user.id)
        .order_by(InitiativeReport.id)
    )
    return [
        {
            "initiative": f"I-{report.initiative_id}",
            "reason": report.reason.value,
            "reported": _when(report.created_at),
        }
        for report in rows
    ]


async def _surveys(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    responses = await session.execute(
        select(SurveyResponse, Survey)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.user_id == user.id)
        .order_by(SurveyResponse.id)
    )
    answers: dict[int, list[dict[str, Any]]] = {}
    for answer, code in await session.execute(
        select(SurveyAnswer, SurveyQuestion.code)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.user_id == user.id)
        .order_by(SurveyAnswer.id)
    ):
        answers.setdefault(answer.response_id, []).append(
            {
                "question": code,
                "number": answer.value_number,
                "choice": answer.option_code,
                "text": answer.value_text,
                "skipped": answer.skipped,
            }
        )
    found = [
        {
            "survey": survey_text(survey, user.locale)["title"],
            "arrondissement you answered from": response.arrondissement,
            "started": _when(response.started_at),
            "finished": _when(response.completed_at),
            "answers": answers.get(response.id, []),
        }
        for response, survey in responses.all()
    ]
    return found


async def _alerts(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(ChallengeAlert, Challenge)
        .join(Challenge, Challenge.id == ChallengeAlert.challenge_id)
        .where(ChallengeAlert.user_id == user.id)
        .order_by(ChallengeAlert.id)
    )
    return [
        {"challenge": challenge_text(challenge, user.locale)[0], "sent": _when(alert.created_at)}
        for alert, challenge in rows
    ]


async def _invitations(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(SurveyInvitation, Survey)
        .join(Survey, Survey.id == SurveyInvitation.survey_id)
        .where(SurveyInvitation.user_id == user.id)
        .order_by(SurveyInvitation.id)
    )
    return [
        {
            "survey": survey_text(survey, user.locale)["title"],
            "invited": _when(invitation.invited_at),
            "reminded": _when(invitation.reminded_at),
        }
        for invitation, survey in rows
    ]


async def _records(session: AsyncSession, user: User) -> list[FsmRecord]:
    rows = await session.scalars(
        select(FsmRecord).where(FsmRecord.user_id == user.telegram_id).order_by(FsmRecord.key)
    )
    return list(rows)
