"""Sending surveys: scheduling, the reminder's delay, the claims that make sending and
reminding happen once across workers, and the counts and people the cards and results need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from storage.audit import audit
from storage.models import (
    Role,
    Survey,
    SurveyInvitation,
    SurveyResponse,
    SurveyStatus,
    User,
)
from storage.surveys import SurveyError, questions_of

REMINDER_HOURS = (1, 14 * 24)


@dataclass(frozen=True)
class Counts:
    invited: int = 0
    started: int = 0
    completed: int = 0


async def response_counts(session: AsyncSession, survey_ids: Iterable[int]) -> dict[int, Counts]:
    """Invited, started and completed per survey, in two GROUP BY queries."""
    ids = list(survey_ids)
    if not ids:
        return {}
    invited = dict(
        (
            await session.execute(
                select(SurveyInvitation.survey_id, func.count())
                .where(SurveyInvitation.survey_id.in_(ids))
                .group_by(SurveyInvitation.survey_id)
            )
        ).all()
    )
    responses = {
        survey_id: (started, completed)
        for survey_id, started, completed in await session.execute(
            select(SurveyResponse.survey_id, func.count(), func.count(SurveyResponse.completed_at))
            .where(SurveyResponse.survey_id.in_(ids))
            .group_by(SurveyResponse.survey_id)
        )
    }
    return {
        survey_id: Counts(invited.get(survey_id, 0), *responses.get(survey_id, (0, 0)))
        for survey_id in ids
    }


async def sent_waves(session: AsyncSession, series: str) -> int:
    """How many waves of the series were sent (drafts are not compared)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Survey)
            .where(Survey.series == series, Survey.status != SurveyStatus.draft)
        )
        or 0
    )


async def _locked_draft(session: AsyncSession, survey_id: int) -> Survey:
    survey = await session.scalar(
        select(Survey)
        .where(Survey.id == survey_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if survey is None:
        raise LookupError(survey_id)
    if survey.status is not SurveyStatus.draft:
        raise SurveyError(SurveyError.NOT_OPEN)
    return survey


async def schedule(
    session: AsyncSession, survey_id: int, send_at: datetime, actor_id: int
) -> Survey:
    """A draft is sent when `send_at` comes (by the scheduler). SurveyError if already sent."""
    survey = await _locked_draft(session, survey_id)
    survey.send_at = send_at
    audit(session, actor_id, "survey.schedule", "survey", survey.id, {"at": send_at.isoformat()})
    await session.flush()
    return survey


class RoleLeftOut(SurveyError):
    """A question is asked only to roles the survey would no longer go to."""

    def __init__(self, position: int, roles: Sequence[Role]) -> None:
        super().__init__("role_left_out")
        self.position = position
        self.roles = roles


async def set_roles(
    session: AsyncSession, survey_id: int, roles: Iterable[Role], actor_id: int
) -> Survey:
    """The roles a draft goes to (none: every role), among its challenge's participants or its
    themes' followers. SurveyError once sent; RoleLeftOut when a question is asked only to a
    role left out (it would be asked to nobody)."""
    survey = await _locked_draft(session, survey_id)
    chosen = set(roles)
    wanted = [role.value for role in Role if role in chosen]
    if wanted:
        for question in await questions_of(session, survey.id):
            if question.roles and not set(question.roles) <= set(wanted):
                raise RoleLeftOut(question.position, [Role(r) for r in question.roles])
    audience = {key: value for key, value in (survey.audience or {}).items() if key != "roles"}
    if wanted:
        audience["roles"] = wanted
    survey.audience = audience  # a new dict: the JSON column sees the change
    audit(session, actor_id, "survey.roles", "survey", survey.id, {"roles": wanted})
    await session.flush()
    return survey


async def set_reminder(session: AsyncSession, survey_id: int, hours: int, actor_id: int) -> Survey:
    """One reminder, `hours` after each invitation, to those who have not finished.
    ValueError out of REMINDER_HOURS; SurveyError once the survey is closed."""
    if not REMINDER_HOURS[0] <= hours <= REMINDER_HOURS[1]:
        raise ValueError(hours)
    survey = await session.scalar(
        select(Survey)
        .where(Survey.id == survey_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if survey is None:
        raise LookupError(survey_id)
    if survey.status is SurveyStatus.closed:
        raise SurveyError(SurveyError.CLOSED)
    survey.reminder_after_hours = hours
    audit(session, actor_id, "survey.reminder", "survey", survey.id, {"hours": hours})
    await session.flush()
    return survey


async def claim_draft(session: AsyncSession, survey_id: int) -> bool:
    """Whether this transaction may send the survey: it is still a draft and no other
    transaction is sending it. PostgreSQL: the row stays locked until the commit, and a
    worker that finds it locked skips it (SKIP LOCKED; the status is checked again on the
    latest version of the row); SQLite: BEGIN IMMEDIATE already makes writers take turns."""
    claimed = await session.scalar(
        select(Survey.id)
        .where(Survey.id == survey_id, Survey.status == SurveyStatus.draft)
        .with_for_update(skip_locked=True)
    )
    return claimed is not None


async def claim_reminders(
    session: AsyncSession, survey_id: int, user_ids: Iterable[int]
) -> list[int]:
    """Of `user_ids` (users.id), those still to remind that no other transaction is
    reminding, locked until the commit (see `claim_draft`); then `mark_reminded` them."""
    ids = list(user_ids)
    if not ids:
        return []
    claimed = await session.scalars(
        select(SurveyInvitation.user_id)
        .where(
            SurveyInvitation.survey_id == survey_id,
            SurveyInvitation.user_id.in_(ids),
            SurveyInvitation.reminded_at.is_(None),
        )
        .order_by(SurveyInvitation.user_id)
        .with_for_update(skip_locked=True)
    )
    return list(claimed.all())


async def respondents(session: AsyncSession, survey_id: int) -> Sequence[tuple[User, int | None]]:
    """Who completed the survey and can be reached, with the arrondissement they answered
    from (their results' second part)."""
    rows = await session.execute(
        select(User, SurveyResponse.arrondissement)
        .join(SurveyResponse, SurveyResponse.user_id == User.id)
        .where(
            SurveyResponse.survey_id == survey_id,
            SurveyResponse.completed_at.is_not(None),
            User.active.is_(True),
            User.telegram_id.is_not(None),
        )
        .options(raiseload(User.theme_links))
        .order_by(User.id)
    )
    return [(user, arrondissement) for user, arrondissement in rows]
