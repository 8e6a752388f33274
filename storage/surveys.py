"""Impact surveys: defined from a file (`storage.survey_files`), sent to an audience, answered
one question at a time.

How answers are stored (what `storage/survey_results.py` reads):

- scale and number: `value_number`;
- yes/no: `option_code` "yes" or "no" *and* `value_number` 1 or 0;
- single choice: `option_code`; multiple choice: one row per chosen option;
- free text: `value_text`;
- a skipped optional question: one row with `skipped` and no value.

A question whose `show_if` does not hold is not asked; answers to such questions (left over
after /back changed an earlier answer) are removed when the response is completed, so that a
complete response only holds answers to the questions it was asked.

None of these functions commits: the caller's transaction does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import raiseload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from storage.attention import open_to_unsolicited
from storage.audit import audit
from storage.models import (
    Participation,
    QuestionKind,
    Role,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
    User,
    UserTheme,
    UTCDateTime,
    utcnow,
)
from storage.texts import TextRejected, clean_text

MIN_GROUP = 5  # published figures never show a group smaller than this (PRIVACY.md)
TEXT_ANSWER_LIMITS = (1, 500)
SCALE = (1, 5)
YES, NO = "yes", "no"


class SurveyError(Exception):
    """An action the survey's state does not allow; `reason` is one of the constants."""

    CLOSED = "closed"  # the survey is not open (anymore)
    NOT_OPEN = "not_open"  # closing a survey that is not open
    NOT_INVITED = "not_invited"
    COMPLETED = "completed"  # the person already finished: no answer can change
    NOT_ASKED = "not_asked"  # the question is not part of this response (other survey, branch)

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidAnswer(SurveyError):
    """An answer the question cannot take; the handler explains `reason` with `limit`."""

    NOT_A_NUMBER = "not_a_number"
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"
    UNKNOWN_OPTION = "unknown_option"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    REQUIRED = "required"  # skipping a required question
    NOT_TEXT = "not_text"  # a sticker, a photo… where text was expected

    def __init__(self, reason: str, limit: int | float | None = None) -> None:
        super().__init__(reason)
        self.limit = limit


# -- texts


def in_locale(texts: Mapping[str, Any], locale: str) -> Any:
    if locale in texts:
        return texts[locale]
    if "fr" in texts:
        return texts["fr"]
    return next(iter(texts.values()), None)


def survey_text(survey: Survey, locale: str) -> dict[str, str]:
    """title, intro, thanks in `locale`, else French, else the first language given."""
    found = in_locale(survey.texts, locale) or {}
    return {key: found.get(key) or "" for key in ("title", "intro", "thanks")}


def question_text(question: SurveyQuestion, locale: str) -> dict[str, str]:
    """text, low, high (ends of a scale), unit (of a number); "" when not given."""
    found = in_locale(question.texts, locale) or {}
    return {key: found.get(key) or "" for key in ("text", "low", "high", "unit")}


def option_label(question: SurveyQuestion, code: str, locale: str) -> str:
    """An option's label in `locale`. Yes/no questions have no options of their own: their
    buttons are the catalogs' Yes and No, so their codes ("yes", "no") come back unchanged."""
    for option in question.options:
        if option["code"] == code:
            return str(in_locale(option["texts"], locale) or code)
    return code


# -- reading


async def get_survey(session: AsyncSession, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)


async def questions_of(session: AsyncSession, survey_id: int) -> Sequence[SurveyQuestion]:
    result = await session.scalars(
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey_id)
        .order_by(SurveyQuestion.position, SurveyQuestion.id)
    )
    return result.all()


async def list_surveys(
    session: AsyncSession,
    statuses: Iterable[SurveyStatus] = (
        SurveyStatus.draft,
        SurveyStatus.open,
        SurveyStatus.closed,
    ),
) -> Sequence[Survey]:
    """Newest first."""
    result = await session.scalars(
        select(Survey).where(Survey.status.in_(list(statuses))).order_by(Survey.id.desc())
    )
    return result.all()


async def published_surveys(session: AsyncSession) -> Sequence[Survey]:
    """Closed surveys, whose results anyone may ask for; most recently closed first."""
    result = await session.scalars(
        select(Survey)
        .where(Survey.status == SurveyStatus.closed)
        .order_by(Survey.closed_at.desc(), Survey.id.desc())
    )
    return result.all()


# -- audience, sending, reminders


def _audience_query(survey: Survey) -> Select[User]:
    # Users' themes load with a second query (selectin): not wanted for a list of recipients.
    query = select(User).where(*open_to_unsolicited()).options(raiseload(User.theme_links))
    roles = survey_roles(survey)
    if roles:
        query = query.where(User.role.in_(roles))
    if survey.challenge_id is not None:
        return query.join(
            Participation,
            and_(
                Participation.user_id == User.id,
                Participation.challenge_id == survey.challenge_id,
                Participation.left_at.is_(None),
            ),
        )
    themes = list((survey.audience or {}).get("themes") or [])
    if themes:
        query = query.where(
            exists().where(UserTheme.user_id == User.id, UserTheme.theme_code.in_(themes))
        )
    return query


def survey_roles(survey: Survey) -> list[Role]:
    """The roles a survey is for; empty: every role."""
    return [Role(role) for role in (survey.audience or {}).get("roles") or []]


def question_roles(question: SurveyQuestion) -> list[Role]:
    """The roles a question is asked to; empty: everyone the survey goes to."""
    return [Role(role) for role in question.roles or []]


async def audience(session: AsyncSession, survey: Survey) -> Sequence[User]:
    """Who the survey is for, in one query: a challenge's active participants, or else the
    people following the audience's themes (none given: everyone) — in both cases of the
    audience's roles only, when it names some; only people who can be reached and
    acknowledged the current notice. Their `themes` are not loaded. The invitations, and so
    the response rate's denominator, are these people."""
    result = await session.scalars(_audience_query(survey).order_by(User.id))
    return result.all()


async def _locked(session: AsyncSession, survey_id: int) -> Survey | None:
    # FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE already holds the write lock); the
    # row is read again, so that a survey loaded earlier in the session is not stale.
    return await session.scalar(
        select(Survey)
        .where(Survey.id == survey_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def open_survey(
    session: AsyncSession, survey_id: int, actor_id: int | None, now: datetime
) -> tuple[Survey, Sequence[User]]:
    """Opens a draft (or re-runs an open survey's invitations, e.g. for people who joined the
    challenge since) and invites the audience not yet invited; returns those new invitees, to
    whom the caller sends the survey. `actor_id` None: the scheduler, on the author's behalf."""
    survey = await _locked(session, survey_id)
    if survey is None:
        raise LookupError(survey_id)
    if survey.status is SurveyStatus.closed:
        raise SurveyError(SurveyError.CLOSED)
    query = _audience_query(survey).where(
        ~exists().where(
            SurveyInvitation.survey_id == survey.id, SurveyInvitation.user_id == User.id
        )
    )
    invitees = (await session.scalars(query.order_by(User.id))).all()
    if invitees:
        await session.execute(
            insert(SurveyInvitation),
            [{"survey_id": survey.id, "user_id": user.id, "invited_at": now} for user in invitees],
        )
    actor = actor_id if actor_id is not None else survey.author_telegram_id or 0
    if survey.status is SurveyStatus.draft:
        survey.status = SurveyStatus.open
        survey.opened_at = now
        audit(session, actor, "survey.open", "survey", survey.id, {"invited": len(invitees)})
    elif invitees:
        audit(session, actor, "survey.invite", "survey", survey.id, {"invited": len(invitees)})
    await session.flush()
    return survey, invitees


async def due_to_send(session: AsyncSession, now: datetime) -> Sequence[Survey]:
    """Drafts whose sending time has come, the earliest first."""
    result = await session.scalars(
        select(Survey)
        .where(
            Survey.status == SurveyStatus.draft,
            Survey.send_at.is_not(None),
            Survey.send_at <= now,
        )
        .order_by(Survey.send_at, Survey.id)
    )
    return result.all()


class _PlusHours(FunctionElement[datetime]):
    """`moment + hours` (an integer column) in SQL; the two databases spell it differently."""

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_hours"


@compiles(_PlusHours, "postgresql")
def _plus_hours_postgresql(element: _PlusHours, compiler: SQLCompiler, **kw: Any) -> str:
    moment, hours = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({moment} + make_interval(hours => {hours}))"


@compiles(_PlusHours, "sqlite")
def _plus_hours_sqlite(element: _PlusHours, compiler: SQLCompiler, **kw: Any) -> str:
    # Same text layout as SQLAlchemy's stored datetimes (UTC, "YYYY-MM-DD HH:MM:SS.fff"), so
    # that the comparison with a bound datetime is a string comparison that holds.
    moment, hours = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"strftime('%Y-%m-%d %H:%M:%f', {moment}, '+' || {hours} || ' hours')"


async def due_reminders(session: AsyncSession, now: datetime) -> Sequence[tuple[Survey, User]]:
    """In one query: people invited to an open survey with a reminder delay, who have not
    finished it, were not reminded yet, were invited at least that delay ago, can still be
    reached — and, for a challenge's survey, still take part in the challenge."""
    still_participating = exists().where(
        Participation.challenge_id == Survey.challenge_id,
        Participation.user_id == User.id,
        Participation.left_at.is_(None),
    )
    rows = await session.execute(
        select(Survey, User)
        .select_from(SurveyInvitation)
        .join(Survey, Survey.id == SurveyInvitation.survey_id)
        .join(User, User.id == SurveyInvitation.user_id)
        .outerjoin(
            SurveyResponse,
            and_(
                SurveyResponse.survey_id == SurveyInvitation.survey_id,
                SurveyResponse.user_id == SurveyInvitation.user_id,
            ),
        )
        .where(
            Survey.status == SurveyStatus.open,
            Survey.reminder_after_hours.is_not(None),
            SurveyInvitation.reminded_at.is_(None),
            SurveyResponse.completed_at.is_(None),
            _PlusHours(SurveyInvitation.invited_at, Survey.reminder_after_hours) <= now,
            or_(Survey.challenge_id.is_(None), still_participating),
            *open_to_unsolicited(),
        )
        .options(raiseload(User.theme_links))
        .order_by(Survey.id, User.id)
    )
    return [(survey, user) for survey, user in rows]


async def mark_reminded(
    session: AsyncSession, survey_id: int, user_ids: Iterable[int], now: datetime
) -> None:
    """`user_ids` are users.id (not Telegram ids); a person is reminded once."""
    ids = list(user_ids)
    if not ids:
        return
    await session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.survey_id == survey_id,
            SurveyInvitation.user_id.in_(ids),
            SurveyInvitation.reminded_at.is_(None),
        )
        .values(reminded_at=now)
    )


async def close_survey(
    session: AsyncSession, survey_id: int, actor_id: int, now: datetime
) -> Survey:
    survey = await _locked(session, survey_id)
    if survey is None:
        raise LookupError(survey_id)
    if survey.status is not SurveyStatus.open:
        raise SurveyError(SurveyError.NOT_OPEN)
    survey.status = SurveyStatus.closed
    survey.closed_at = now
    audit(session, actor_id, "survey.close", "survey", survey.id)
    await session.flush()
    return survey


# -- answering


async def start_response(
    session: AsyncSession, survey: Survey, user: User, now: datetime
) -> SurveyResponse:
    """The person's response, new or the one they left halfway. SurveyError when the survey
    is not open, the person was not invited, or they already finished."""
    if survey.status is not SurveyStatus.open:
        raise SurveyError(SurveyError.CLOSED)
    response = await session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.user_id == user.id
        )
    )
    if response is not None:
        if response.completed_at is not None:
            raise SurveyError(SurveyError.COMPLETED)
        return response
    invited = await session.scalar(
        select(SurveyInvitation.id).where(
            SurveyInvitation.survey_id == survey.id, SurveyInvitation.user_id == user.id
        )
    )
    if invited is None:
        raise SurveyError(SurveyError.NOT_INVITED)
    response = SurveyResponse(
        survey_id=survey.id, user_id=user.id, arrondissement=user.arrondissement, started_at=now
    )
    session.add(response)
    await session.flush()
    return response


async def pending_response(session: AsyncSession, user: User) -> SurveyResponse | None:
    """The person's unfinished response to an open survey (the latest started), to resume."""
    return await session.scalar(
        select(SurveyResponse)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(
            SurveyResponse.user_id == user.id,
            SurveyResponse.completed_at.is_(None),
            Survey.status == SurveyStatus.open,
        )
        .order_by(SurveyResponse.started_at.desc(), SurveyResponse.id.desc())
        .limit(1)
    )


class Walk:
    """The questions of a response in order, with what was answered and which are shown.

    Read once per update (`answering`, or `walk_of` when the response and its survey are in
    hand) and kept up to date by the functions given it (`answer`, `skip`, `previous_question`,
    `complete_if_done`), so that an update reads the questions, the answers and the role once:
    the role is the respondent's as the update path loaded them, not read again."""

    def __init__(
        self,
        questions: Sequence[SurveyQuestion],
        answers: Sequence[SurveyAnswer],
        role: Role | None = None,
        *,
        response: SurveyResponse | None = None,
        survey: Survey | None = None,
    ) -> None:
        self.questions = questions
        self.role = role
        self.response = response
        self.survey = survey
        self.by_id = {q.id: q for q in questions}
        self.rows: dict[int, list[SurveyAnswer]] = {}
        for row in answers:
            self.rows.setdefault(row.question_id, []).append(row)
        self.shown: dict[int, bool | None] = {}
        self._show()

    def _show(self) -> None:
        # True: asked; False: not asked (its condition failed); None: not known yet.
        self.shown = {}
        by_code = {q.code: q for q in self.questions}
        for question in self.questions:
            self.shown[question.id] = self._holds(question, by_code)

    def record(self, question_id: int, rows: Sequence[SurveyAnswer]) -> None:
        """The question's answer rows are now `rows` (none: removed)."""
        if rows:
            self.rows[question_id] = list(rows)
        else:
            self.rows.pop(question_id, None)
        self._show()

    def _holds(
        self, question: SurveyQuestion, by_code: Mapping[str, SurveyQuestion]
    ) -> bool | None:
        if question.roles and (self.role is None or self.role.value not in question.roles):
            return False
        if not question.show_if:
            return True
        source = by_code.get(question.show_if["question"])
        if source is None or self.shown.get(source.id) is False:
            return False
        rows = self.rows.get(source.id)
        if self.shown.get(source.id) is None or not rows:
            return None
        if rows[0].skipped:
            return False
        return _matches(source, rows, question.show_if["equals"])

    def asked(self, question: SurveyQuestion) -> bool:
        return self.shown.get(question.id) is True

    def answered(self, question: SurveyQuestion) -> bool:
        return question.id in self.rows

    def next(self) -> SurveyQuestion | None:
        return next((q for q in self.questions if self.asked(q) and not self.answered(q)), None)

    def progress(self) -> tuple[int, int]:
        total = sum(1 for q in self.questions if self.shown[q.id] is not False)
        done = sum(1 for q in self.questions if self.asked(q) and self.answered(q))
        return min(done + 1, total), total


def _matches(source: SurveyQuestion, rows: Sequence[SurveyAnswer], expected: Any) -> bool:
    if source.kind in (QuestionKind.scale, QuestionKind.number):
        return rows[0].value_number is not None and rows[0].value_number == float(expected)
    return any(row.option_code == expected for row in rows)


async def answering(session: AsyncSession, response_id: int, role: Role | None) -> Walk | None:
    """The response, its survey, its questions and the answers given so far, in two queries;
    None when there is no such response. The response's row is locked (FOR UPDATE on
    PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock) and read again, so that
    two answers racing in two workers run one after the other and a response completed
    meanwhile is seen as such. `role`: the respondent's, as the update loaded them."""
    found = (
        await session.execute(
            select(SurveyResponse, Survey)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(SurveyResponse.id == response_id)
            .with_for_update(of=SurveyResponse)
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        return None
    response, survey = found
    return await walk_of(session, response, survey, role)


async def walk_of(
    session: AsyncSession, response: SurveyResponse, survey: Survey, role: Role | None
) -> Walk:
    """The survey's questions with the response's answers, in one query."""
    rows = await session.execute(
        select(SurveyQuestion, SurveyAnswer)
        .outerjoin(
            SurveyAnswer,
            and_(
                SurveyAnswer.question_id == SurveyQuestion.id,
                SurveyAnswer.response_id == response.id,
            ),
        )
        .where(SurveyQuestion.survey_id == survey.id)
        .order_by(SurveyQuestion.position, SurveyQuestion.id, SurveyAnswer.id)
    )
    questions: dict[int, SurveyQuestion] = {}
    answers: list[SurveyAnswer] = []
    for question, row in rows:
        questions.setdefault(question.id, question)
        if row is not None:
            answers.append(row)
    return Walk(list(questions.values()), answers, role, response=response, survey=survey)


async def _walk(session: AsyncSession, response: SurveyResponse, walk: Walk | None = None) -> Walk:
    if walk is not None:
        return walk
    answers = await session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)
    )
    # The respondent's role as it is now: a question for some roles is asked to them only.
    role = await session.scalar(select(User.role).where(User.id == response.user_id))
    return Walk(await questions_of(session, response.survey_id), answers.all(), role)


async def next_question(
    session: AsyncSession, response: SurveyResponse, walk: Walk | None = None
) -> SurveyQuestion | None:
    """The first question, by position, not answered nor skipped, whose `show_if` holds;
    None when the response is done."""
    if response.completed_at is not None:
        return None
    return (await _walk(session, response, walk)).next()


async def previous_question(
    session: AsyncSession, response: SurveyResponse, walk: Walk | None = None
) -> SurveyQuestion | None:
    """/back: the last question answered (or skipped), whose answer is removed so that it is
    asked again; None at the first question."""
    if response.completed_at is not None:
        raise SurveyError(SurveyError.COMPLETED)
    walk = await _walk(session, response, walk)
    done = [q for q in walk.questions if walk.asked(q) and walk.answered(q)]
    if not done:
        return None
    question = done[-1]
    await _remove_answers(session, response, [question.id])
    walk.record(question.id, [])
    return question


async def _remove_answers(
    session: AsyncSession, response: SurveyResponse, question_ids: Sequence[int]
) -> None:
    await session.execute(
        delete(SurveyAnswer).where(
            SurveyAnswer.response_id == response.id, SurveyAnswer.question_id.in_(question_ids)
        )
    )


async def progress(
    session: AsyncSession, response: SurveyResponse, walk: Walk | None = None
) -> tuple[int, int]:
    """(number of the current question, questions in all): a question waiting on an answer
    not given yet counts in the total, so the total can only shrink as branches close."""
    return (await _walk(session, response, walk)).progress()


async def _answerable(
    session: AsyncSession,
    response: SurveyResponse,
    question: SurveyQuestion,
    walk: Walk | None,
) -> Walk | None:
    if walk is None:
        # Locked and read again: two answers racing in two workers run one after the other,
        # and a response completed meanwhile is seen as such (`answering` did it for a walk).
        await session.execute(
            select(SurveyResponse)
            .where(SurveyResponse.id == response.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if response.completed_at is not None:
        raise SurveyError(SurveyError.COMPLETED)
    survey = walk.survey if walk is not None and walk.survey is not None else None
    if survey is None:
        survey = await session.get(Survey, response.survey_id)
    if survey is None or survey.status is not SurveyStatus.open:
        raise SurveyError(SurveyError.CLOSED)
    if question.survey_id != response.survey_id:
        raise SurveyError(SurveyError.NOT_ASKED)
    if question.show_if or question.roles:
        walk = await _walk(session, response, walk)
        if not walk.asked(question):
            raise SurveyError(SurveyError.NOT_ASKED)
    return walk


async def _replace(
    session: AsyncSession,
    response: SurveyResponse,
    question: SurveyQuestion,
    walk: Walk | None,
    fields: Sequence[Mapping[str, Any]],
) -> None:
    # With a walk (read under the response's lock), a question with no answer has none to
    # remove: no DELETE.
    if walk is None or walk.answered(question):
        await _remove_answers(session, response, [question.id])
    now = utcnow()
    rows = [
        {"response_id": response.id, "question_id": question.id, "answered_at": now, **row}
        for row in fields
    ]
    # One statement, whatever the number of options ticked.
    await session.execute(insert(SurveyAnswer).values(rows))
    if walk is not None:
        walk.record(question.id, [SurveyAnswer(**{"skipped": False, **row}) for row in rows])


async def answer(
    session: AsyncSession,
    response: SurveyResponse,
    question: SurveyQuestion,
    *,
    value_number: float | None = None,
    option_codes: Sequence[str] | None = None,
    value_text: str | None = None,
    walk: Walk | None = None,
) -> None:
    """Stores the answer, replacing an earlier one to the same question. InvalidAnswer when
    the question cannot take it; SurveyError when the response can no longer change. `walk`:
    the update's (`answering`), kept up to date."""
    walk = await _answerable(session, response, question, walk)
    fields = _answer_rows(question, value_number, option_codes, value_text)
    await _replace(session, response, question, walk, fields)


async def skip(
    session: AsyncSession,
    response: SurveyResponse,
    question: SurveyQuestion,
    walk: Walk | None = None,
) -> None:
    """Optional questions only (InvalidAnswer "required" otherwise)."""
    walk = await _answerable(session, response, question, walk)
    if question.required:
        raise InvalidAnswer(InvalidAnswer.REQUIRED)
    await _replace(session, response, question, walk, [{"skipped": True}])


async def complete_if_done(
    session: AsyncSession, response: SurveyResponse, now: datetime, walk: Walk | None = None
) -> bool:
    """Marks the response complete when no question is left; True when it is complete."""
    if response.completed_at is not None:
        return True
    walk = await _walk(session, response, walk)
    if walk.next() is not None:
        return False
    stale = [q.id for q in walk.questions if walk.answered(q) and not walk.asked(q)]
    if stale:
        await _remove_answers(session, response, stale)
        for question_id in stale:
            walk.record(question_id, [])
    response.completed_at = now
    await session.flush()
    return True


def _bounded(question: SurveyQuestion, value: float) -> float:
    if not math.isfinite(value):
        raise InvalidAnswer(InvalidAnswer.NOT_A_NUMBER)
    if question.min_value is not None and value < question.min_value:
        raise InvalidAnswer(InvalidAnswer.BELOW_MIN, _plain(question.min_value))
    if question.max_value is not None and value > question.max_value:
        raise InvalidAnswer(InvalidAnswer.ABOVE_MAX, _plain(question.max_value))
    return value


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _answer_rows(
    question: SurveyQuestion,
    value_number: float | None,
    option_codes: Sequence[str] | None,
    value_text: str | None,
) -> list[dict[str, Any]]:
    kind = question.kind
    if kind is QuestionKind.text:
        if value_text is None:
            raise InvalidAnswer(InvalidAnswer.EMPTY, TEXT_ANSWER_LIMITS[0])
        return [{"value_text": _clean_answer_text(value_text)}]
    if kind is QuestionKind.number:
        if value_number is None:
            raise InvalidAnswer(InvalidAnswer.EMPTY)
        return [{"value_number": _bounded(question, float(value_number))}]
    if kind is QuestionKind.scale:
        if value_number is None:
            raise InvalidAnswer(InvalidAnswer.EMPTY)
        value = _bounded(question, float(value_number))
        if not value.is_integer():
            raise InvalidAnswer(InvalidAnswer.UNKNOWN_OPTION)
        return [{"value_number": value}]
    if kind is QuestionKind.yes_no:
        if option_codes is None and value_number is not None:
            if value_number not in (0, 1):
                raise InvalidAnswer(InvalidAnswer.UNKNOWN_OPTION)
            option_codes = [YES if value_number else NO]
        codes = list(dict.fromkeys(option_codes or ()))
        if not codes:
            raise InvalidAnswer(InvalidAnswer.EMPTY)
        if len(codes) != 1 or codes[0] not in (YES, NO):
            raise InvalidAnswer(InvalidAnswer.UNKNOWN_OPTION)
        return [{"option_code": codes[0], "value_number": 1.0 if codes[0] == YES else 0.0}]
    codes = list(dict.fromkeys(option_codes or ()))
    if not codes:
        raise InvalidAnswer(InvalidAnswer.EMPTY)
    known = {option["code"] for option in question.options}
    if any(code not in known for code in codes) or (
        kind is QuestionKind.single and len(codes) > 1
    ):
        raise InvalidAnswer(InvalidAnswer.UNKNOWN_OPTION)
    return [{"option_code": code} for code in codes]


def _clean_answer_text(raw: str) -> str:
    try:
        return clean_text(raw, min_length=TEXT_ANSWER_LIMITS[0], max_length=TEXT_ANSWER_LIMITS[1])
    except TextRejected as error:
        too_long = error.reason == TextRejected.TOO_LONG
        reason = InvalidAnswer.TOO_LONG if too_long else InvalidAnswer.EMPTY
        raise InvalidAnswer(reason, error.limit) from None


# Arabic decimal and thousands separators, the various spaces people put between thousands.
_NUMBER_SIGNS = str.maketrans(
    {"٫": ".", "٬": "", " ": "", "\u00a0": "", "\u202f": "", "\u2009": "", "−": "-"}
)
# 1.000 / 1,000 / 12,345,678: thousands, not decimals (a count is what surveys ask for).
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})*")
_DECIMAL = re.compile(r"\d*\.?\d+")
_YES_WORDS = {"yes", "oui", "نعم", "1", "true"}
_NO_WORDS = {"no", "non", "لا", "0", "false"}


def parse_number(raw: str) -> float | None:
    """A typed number, as people write it: "12", "2,5", "1 000", "1.000,5", "١٢"; None if
    it is not one."""
    text = raw.strip().translate(_NUMBER_SIGNS)
    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = text[0], text[1:]
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal == "," else ","
        text = text.replace(grouping, "").replace(decimal, ".")
    elif _GROUPED.fullmatch(text):
        text = text.replace(",", "").replace(".", "")
    else:
        text = text.replace(",", ".")
    if not _DECIMAL.fullmatch(text):
        return None
    return float(sign + text)


def parse_answer(question: SurveyQuestion, raw: str | None) -> dict[str, Any]:
    """A typed answer turned into `answer`'s keyword arguments; `raw` None when the message
    was not text (a sticker, a photo). Choices may be typed as their code or their number."""
    if raw is None:
        raise InvalidAnswer(InvalidAnswer.NOT_TEXT)
    kind = question.kind
    if kind is QuestionKind.text:
        return {"value_text": _clean_answer_text(raw)}
    if not raw.strip():
        raise InvalidAnswer(InvalidAnswer.EMPTY)
    if kind in (QuestionKind.number, QuestionKind.scale):
        value = parse_number(raw)
        if value is None:
            raise InvalidAnswer(InvalidAnswer.NOT_A_NUMBER)
        _answer_rows(question, value, None, None)
        return {"value_number": value}
    if kind is QuestionKind.yes_no:
        word = raw.strip().casefold()
        if word in _YES_WORDS | _NO_WORDS:
            return {"option_codes": [YES if word in _YES_WORDS else NO]}
        raise InvalidAnswer(InvalidAnswer.UNKNOWN_OPTION)
    codes = [_option_code(question, part) for part in re.split(r"[\s,;،]+", raw.strip()) if part]
    _answer_rows(question, None, codes, None)
    return {"option_codes": list(dict.fromkeys(codes))}


def _option_code(question: SurveyQuestion, typed: str) -> str:
    codes = [option["code"] for option in question.options]
    if typed.casefold() in codes:
        return typed.casefold()
    number = parse_number(typed)
    if number is not None and number.is_integer() and 1 <= number <= len(codes):
        return str(codes[int(number) - 1])
    raise InvalidAnswer(InvalidAnswer.UNKNOWN_OPTION)


async def surveys_to_answer(session: AsyncSession, user: User) -> list[tuple[Survey, bool]]:
    """Open surveys the person is invited to and has not finished, newest first; True for
    those they started. One query."""
    rows = await session.execute(
        select(Survey, SurveyResponse.id)
        .join(
            SurveyInvitation,
            and_(SurveyInvitation.survey_id == Survey.id, SurveyInvitation.user_id == user.id),
        )
        .outerjoin(
            SurveyResponse,
            and_(SurveyResponse.survey_id == Survey.id, SurveyResponse.user_id == user.id),
        )
        .where(Survey.status == SurveyStatus.open, SurveyResponse.completed_at.is_(None))
        .order_by(Survey.id.desc())
    )
    return [(survey, response_id is not None) for survey, response_id in rows]
