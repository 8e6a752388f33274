"""Impact surveys: defined from a file, sent to an audience, answered one question at a time.

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

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import raiseload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from storage.audit import audit
from storage.models import (
    Challenge,
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
from storage.privacy import NOTICE_VERSION
from storage.texts import TextRejected, clean_text
from storage.themes import known_theme_codes

MIN_GROUP = 5  # published figures never show a group smaller than this (PRIVACY.md)
TEXT_ANSWER_LIMITS = (1, 500)
SCALE = (1, 5)
YES, NO = "yes", "no"
MAX_QUESTIONS = 50
MAX_OPTIONS = 12
# Lengths in the files: titles and questions are message text, labels end up on buttons.
TITLE_MAX, INTRO_MAX, QUESTION_MAX, LABEL_MAX, UNIT_MAX = 120, 1000, 500, 60, 30
SERIES_MAX = 40
REMINDER_MAX_HOURS = 14 * 24
CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
LOCALE = re.compile(r"[a-z]{2,3}")


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


class InvalidSurvey(SurveyError):
    """A survey file that cannot be imported: `item` says which survey / question / option,
    `field` which of its keys, `problem` what is wrong with it."""

    def __init__(self, item: str, field: str, problem: str) -> None:
        super().__init__(f"{item}: {field}: {problem}" if field else f"{item}: {problem}")
        self.item = item
        self.field = field
        self.problem = problem


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


def _in_locale(texts: Mapping[str, Any], locale: str) -> Any:
    if locale in texts:
        return texts[locale]
    if "fr" in texts:
        return texts["fr"]
    return next(iter(texts.values()), None)


def survey_text(survey: Survey, locale: str) -> dict[str, str]:
    """title, intro, thanks in `locale`, else French, else the first language given."""
    found = _in_locale(survey.texts, locale) or {}
    return {key: found.get(key) or "" for key in ("title", "intro", "thanks")}


def question_text(question: SurveyQuestion, locale: str) -> dict[str, str]:
    """text, low, high (ends of a scale), unit (of a number); "" when not given."""
    found = _in_locale(question.texts, locale) or {}
    return {key: found.get(key) or "" for key in ("text", "low", "high", "unit")}


def option_label(question: SurveyQuestion, code: str, locale: str) -> str:
    """An option's label in `locale`. Yes/no questions have no options of their own: their
    buttons are the catalogs' Yes and No, so their codes ("yes", "no") come back unchanged."""
    for option in question.options:
        if option["code"] == code:
            return str(_in_locale(option["texts"], locale) or code)
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


def _reachable() -> list[Any]:
    # STOP (`stopped_at`): no invitation, no reminder.
    return [
        User.active.is_(True),
        User.telegram_id.is_not(None),
        User.notice_version == NOTICE_VERSION,
        User.notice_accepted_at.is_not(None),
        User.stopped_at.is_(None),
    ]


def _audience_query(survey: Survey) -> Select[tuple[User]]:
    # Users' themes load with a second query (selectin): not wanted for a list of recipients.
    query = select(User).where(*_reachable()).options(raiseload(User.theme_links))
    if survey.challenge_id is not None:
        return query.join(
            Participation,
            and_(
                Participation.user_id == User.id,
                Participation.challenge_id == survey.challenge_id,
                Participation.left_at.is_(None),
            ),
        )
    roles = [Role(role) for role in (survey.audience or {}).get("roles") or []]
    themes = list((survey.audience or {}).get("themes") or [])
    if roles:
        query = query.where(User.role.in_(roles))
    if themes:
        query = query.where(
            exists().where(UserTheme.user_id == User.id, UserTheme.theme_code.in_(themes))
        )
    return query


async def audience(session: AsyncSession, survey: Survey) -> Sequence[User]:
    """Who the survey is for, in one query: a challenge's active participants, or else the
    people of the audience's roles and themes (none given: everyone); only people who can be
    reached and acknowledged the current notice. Their `themes` are not loaded."""
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
            *_reachable(),
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


class _Walk:
    """The questions of a response in order, with what was answered and which are shown."""

    def __init__(
        self, questions: Sequence[SurveyQuestion], answers: Sequence[SurveyAnswer]
    ) -> None:
        self.questions = questions
        self.rows: dict[int, list[SurveyAnswer]] = {}
        for row in answers:
            self.rows.setdefault(row.question_id, []).append(row)
        # True: asked; False: not asked (its condition failed); None: not known yet.
        self.shown: dict[int, bool | None] = {}
        by_code = {q.code: q for q in questions}
        for question in questions:
            self.shown[question.id] = self._holds(question, by_code)

    def _holds(
        self, question: SurveyQuestion, by_code: Mapping[str, SurveyQuestion]
    ) -> bool | None:
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
        return self.shown[question.id] is True

    def answered(self, question: SurveyQuestion) -> bool:
        return question.id in self.rows

    def next(self) -> SurveyQuestion | None:
        return next((q for q in self.questions if self.asked(q) and not self.answered(q)), None)


def _matches(source: SurveyQuestion, rows: Sequence[SurveyAnswer], expected: Any) -> bool:
    if source.kind in (QuestionKind.scale, QuestionKind.number):
        return rows[0].value_number is not None and rows[0].value_number == float(expected)
    return any(row.option_code == expected for row in rows)


async def _walk(session: AsyncSession, response: SurveyResponse) -> _Walk:
    answers = await session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)
    )
    return _Walk(await questions_of(session, response.survey_id), answers.all())


async def next_question(session: AsyncSession, response: SurveyResponse) -> SurveyQuestion | None:
    """The first question, by position, not answered nor skipped, whose `show_if` holds;
    None when the response is done."""
    if response.completed_at is not None:
        return None
    return (await _walk(session, response)).next()


async def previous_question(
    session: AsyncSession, response: SurveyResponse
) -> SurveyQuestion | None:
    """/back: the last question answered (or skipped), whose answer is removed so that it is
    asked again; None at the first question."""
    if response.completed_at is not None:
        raise SurveyError(SurveyError.COMPLETED)
    walk = await _walk(session, response)
    done = [q for q in walk.questions if walk.asked(q) and walk.answered(q)]
    if not done:
        return None
    question = done[-1]
    await _remove_answers(session, response, [question.id])
    return question


async def _remove_answers(
    session: AsyncSession, response: SurveyResponse, question_ids: Sequence[int]
) -> None:
    await session.execute(
        delete(SurveyAnswer).where(
            SurveyAnswer.response_id == response.id, SurveyAnswer.question_id.in_(question_ids)
        )
    )


async def progress(session: AsyncSession, response: SurveyResponse) -> tuple[int, int]:
    """(number of the current question, questions in all): a question waiting on an answer
    not given yet counts in the total, so the total can only shrink as branches close."""
    walk = await _walk(session, response)
    total = sum(1 for q in walk.questions if walk.shown[q.id] is not False)
    done = sum(1 for q in walk.questions if walk.asked(q) and walk.answered(q))
    return min(done + 1, total), total


async def _answerable(
    session: AsyncSession, response: SurveyResponse, question: SurveyQuestion
) -> None:
    # Locked and read again: two answers racing in two workers run one after the other, and a
    # response completed meanwhile is seen as such.
    await session.execute(
        select(SurveyResponse)
        .where(SurveyResponse.id == response.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if response.completed_at is not None:
        raise SurveyError(SurveyError.COMPLETED)
    survey = await session.get(Survey, response.survey_id)
    if survey is None or survey.status is not SurveyStatus.open:
        raise SurveyError(SurveyError.CLOSED)
    if question.survey_id != response.survey_id:
        raise SurveyError(SurveyError.NOT_ASKED)
    if question.show_if:
        walk = await _walk(session, response)
        if not walk.asked(question):
            raise SurveyError(SurveyError.NOT_ASKED)


async def answer(
    session: AsyncSession,
    response: SurveyResponse,
    question: SurveyQuestion,
    *,
    value_number: float | None = None,
    option_codes: Sequence[str] | None = None,
    value_text: str | None = None,
) -> None:
    """Stores the answer, replacing an earlier one to the same question. InvalidAnswer when
    the question cannot take it; SurveyError when the response can no longer change."""
    await _answerable(session, response, question)
    rows = _answer_rows(question, value_number, option_codes, value_text)
    await _remove_answers(session, response, [question.id])
    now = utcnow()
    session.add_all(
        SurveyAnswer(response_id=response.id, question_id=question.id, answered_at=now, **row)
        for row in rows
    )
    await session.flush()


async def skip(session: AsyncSession, response: SurveyResponse, question: SurveyQuestion) -> None:
    """Optional questions only (InvalidAnswer "required" otherwise)."""
    await _answerable(session, response, question)
    if question.required:
        raise InvalidAnswer(InvalidAnswer.REQUIRED)
    await _remove_answers(session, response, [question.id])
    session.add(
        SurveyAnswer(
            response_id=response.id, question_id=question.id, skipped=True, answered_at=utcnow()
        )
    )
    await session.flush()


async def complete_if_done(session: AsyncSession, response: SurveyResponse, now: datetime) -> bool:
    """Marks the response complete when no question is left; True when it is complete."""
    if response.completed_at is not None:
        return True
    walk = await _walk(session, response)
    if walk.next() is not None:
        return False
    stale = [q.id for q in walk.questions if walk.answered(q) and not walk.asked(q)]
    if stale:
        await _remove_answers(session, response, stale)
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


# -- survey files


def load_survey_file(path: str | Path) -> list[dict[str, Any]]:
    """The surveys of a YAML or JSON file: one survey, a list of them, or {"surveys": [...]}.
    InvalidSurvey, naming the file, when it cannot be read."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidSurvey(
            path.name, "", f"cannot be read ({error.__class__.__name__})"
        ) from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(source)
        else:
            data = yaml.safe_load(source)
    except json.JSONDecodeError as error:
        raise InvalidSurvey(path.name, "", f"line {error.lineno}: not JSON: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or "not YAML"
        raise InvalidSurvey(path.name, "", f"{where}not YAML: {problem}") from None
    if isinstance(data, Mapping) and "surveys" in data:
        data = data["surveys"]
    items = [data] if isinstance(data, Mapping) else data
    if not isinstance(items, list) or not items:
        raise InvalidSurvey(path.name, "", "no survey in the file")
    for index, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            raise InvalidSurvey(f"survey {index}", "", "must be a mapping of fields")
    return [dict(item) for item in items]


SURVEY_FIELDS = {
    "series",
    "wave",
    "challenge",
    "audience",
    "texts",
    "send_at",
    "reminder_after_hours",
    "questions",
}
QUESTION_FIELDS = {
    "code",
    "kind",
    "texts",
    "options",
    "required",
    "min",
    "max",
    "show_if",
    "key_figure",
    "published",
}


async def import_surveys(
    session: AsyncSession,
    items: Sequence[Mapping[str, Any]],
    author_telegram_id: int | None = None,
    *,
    timezone: str = "Europe/Paris",
) -> list[Survey]:
    """Validates every item, then stores each as a draft with its questions. A `send_at`
    without an offset is read in `timezone`. A wave not given is the series' next one.
    InvalidSurvey names the item and the field of the first problem found."""
    themes = await known_theme_codes(session)
    zone = ZoneInfo(timezone)
    surveys: list[Survey] = []
    for index, item in enumerate(items, 1):
        reader = _SurveyReader(index, item, themes, zone)
        survey, questions = reader.survey()
        survey.author_telegram_id = author_telegram_id
        if item.get("challenge") is not None:
            survey.challenge_id = await _challenge_id(session, reader.name, item["challenge"])
        same_series = [s.wave for s in surveys if s.series == survey.series]
        if "wave" in item:
            taken = survey.wave in same_series or await session.scalar(
                select(Survey.id).where(Survey.series == survey.series, Survey.wave == survey.wave)
            )
            if taken:
                raise reader.fail("wave", f"{survey.series} already has wave {survey.wave}")
        else:
            latest = await session.scalar(
                select(func.max(Survey.wave)).where(Survey.series == survey.series)
            )
            survey.wave = max([latest or 0, *same_series]) + 1
        session.add(survey)
        await session.flush()
        for question in questions:
            question.survey_id = survey.id
        session.add_all(questions)
        surveys.append(survey)
    await session.flush()
    return surveys


async def _challenge_id(session: AsyncSession, item: str, value: Any) -> int:
    """A challenge named by its id or its slug."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidSurvey(item, "challenge", "give the challenge's id or slug")
    column = Challenge.id if isinstance(value, int) else Challenge.slug
    found = await session.scalar(select(Challenge.id).where(column == value))
    if found is None:
        raise InvalidSurvey(item, "challenge", f"no challenge {value!r}")
    return found


class _SurveyReader:
    """Checks one survey of a file and builds its rows; every error names where it is."""

    def __init__(
        self, index: int, item: Mapping[str, Any], themes: set[str], zone: ZoneInfo
    ) -> None:
        self.index = index
        self.item = item
        self.themes = themes
        self.zone = zone
        self.name = f"survey {index}"
        self.locales: list[str] = []

    def fail(self, field: str, problem: str, item: str | None = None) -> InvalidSurvey:
        return InvalidSurvey(item or self.name, field, problem)

    def survey(self) -> tuple[Survey, list[SurveyQuestion]]:
        item = self.item
        _no_unknown(item, SURVEY_FIELDS, self.name)
        texts = self.texts(
            item.get("texts"),
            "texts",
            self.name,
            required=("title",),
            optional=("intro", "thanks"),
        )
        self.locales = list(texts)
        series = item.get("series")
        if series is None:
            series = _slug(_in_locale(texts, "fr")["title"])
            if not series:
                raise self.fail("series", "cannot be made from the title: give one")
        elif not isinstance(series, str) or not _slug(series) or _slug(series) != series:
            raise self.fail("series", "lowercase letters, digits and dashes (up to 40)")
        self.name = f"survey {self.index} ({series})"
        wave = item.get("wave", 1)
        if isinstance(wave, bool) or not isinstance(wave, int) or not 1 <= wave <= 1000:
            raise self.fail("wave", "a whole number from 1")
        if item.get("challenge") is not None and item.get("audience"):
            raise self.fail("audience", "a challenge's survey goes to its participants")
        hours = item.get("reminder_after_hours")
        if hours is not None and (
            isinstance(hours, bool)
            or not isinstance(hours, int)
            or not 1 <= hours <= REMINDER_MAX_HOURS
        ):
            problem = f"a whole number of hours, from 1 to {REMINDER_MAX_HOURS}"
            raise self.fail("reminder_after_hours", problem)
        survey = Survey(
            series=series,
            wave=wave,
            texts=texts,
            audience=self.audience(item.get("audience")),
            status=SurveyStatus.draft,
            send_at=self.moment(item.get("send_at")),
            reminder_after_hours=hours,
        )
        return survey, self.questions(item.get("questions"))

    def audience(self, value: Any) -> dict[str, list[str]]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail("audience", "a mapping with roles and/or themes")
        _no_unknown(value, {"roles", "themes"}, self.name, "audience.")
        roles = _strings(value.get("roles"), f"{self.name}", "audience.roles")
        for role in roles:
            if role not in Role.__members__:
                raise self.fail("audience.roles", f"no role {role!r} ({', '.join(Role)})")
        themes = _strings(value.get("themes"), self.name, "audience.themes")
        for theme in themes:
            if theme not in self.themes:
                raise self.fail("audience.themes", f"no theme {theme!r}")
        return {key: found for key, found in (("roles", roles), ("themes", themes)) if found}

    def moment(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.fail("send_at", "a date and time, e.g. 2026-12-01 09:00") from None
        if not isinstance(value, datetime):
            kind = "a date without a time" if isinstance(value, date) else "not a date and time"
            raise self.fail("send_at", f"{kind}, e.g. 2026-12-01 09:00")
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        return value.astimezone(ZoneInfo("UTC"))

    def texts(
        self,
        value: Any,
        field: str,
        item: str,
        *,
        required: Sequence[str],
        optional: Sequence[str] = (),
        limits: Mapping[str, int] | None = None,
    ) -> dict[str, dict[str, str]]:
        """{locale: {key: text}}, every locale of the survey present, the same keys in each."""
        limits = limits or {"title": TITLE_MAX, "intro": INTRO_MAX, "thanks": INTRO_MAX}
        if not isinstance(value, Mapping) or not value:
            raise self.fail(field, "texts per language, e.g. fr: {...}", item)
        result: dict[str, dict[str, str]] = {}
        for locale, entry in value.items():
            where = f"{field}.{locale}"
            if not isinstance(locale, str) or not LOCALE.fullmatch(locale):
                raise self.fail(where, "a language code such as fr, en, ar", item)
            if self.locales and locale not in self.locales:
                raise self.fail(where, "not a language of the survey's texts", item)
            if isinstance(entry, str) and list(required) == ["text"]:
                entry = {"text": entry}
            if not isinstance(entry, Mapping):
                raise self.fail(where, "a mapping of texts", item)
            _no_unknown(entry, {*required, *optional}, item, f"{where}.")
            result[locale] = {}
            for key in (*required, *optional):
                text = entry.get(key)
                if text is None and key not in required:
                    continue
                result[locale][key] = self.text(text, f"{where}.{key}", item, limits[key])
        self.same_keys(result, field, item)
        for locale in self.locales:
            if locale not in result:
                raise self.fail(
                    f"{field}.{locale}", "missing (the survey has this language)", item
                )
        return result

    def same_keys(self, texts: Mapping[str, Mapping[str, str]], field: str, item: str) -> None:
        keys = set().union(*(entry.keys() for entry in texts.values()))
        for locale, entry in texts.items():
            for key in sorted(keys - entry.keys()):
                raise self.fail(
                    f"{field}.{locale}.{key}", "missing (given in another language)", item
                )

    def text(self, value: Any, field: str, item: str, limit: int) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "a text is needed", item)
        text = value.strip()
        if len(text) > limit:
            raise self.fail(field, f"longer than {limit} characters", item)
        return text

    def questions(self, value: Any) -> list[SurveyQuestion]:
        if not isinstance(value, list) or not value:
            raise self.fail("questions", "a list of questions")
        if len(value) > MAX_QUESTIONS:
            raise self.fail("questions", f"more than {MAX_QUESTIONS}")
        questions: list[SurveyQuestion] = []
        for position, entry in enumerate(value, 1):
            questions.append(self.question(position, entry, questions))
        return questions

    def question(
        self, position: int, entry: Any, earlier: Sequence[SurveyQuestion]
    ) -> SurveyQuestion:
        item = f"{self.name}, question {position}"
        if not isinstance(entry, Mapping):
            raise self.fail("", "must be a mapping of fields", item)
        code = entry.get("code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise self.fail("code", "a-z, digits and _, from a letter, up to 40", item)
        if any(q.code == code for q in earlier):
            raise self.fail("code", f"{code!r} is used twice", item)
        item = f"{self.name}, question {position} ({code})"
        _no_unknown(entry, QUESTION_FIELDS, item)
        try:
            kind = QuestionKind(entry.get("kind"))
        except ValueError:
            raise self.fail("kind", f"one of {', '.join(QuestionKind)}", item) from None
        optional = {QuestionKind.number: ("unit",)}.get(kind, ())
        required = ("text", "low", "high") if kind is QuestionKind.scale else ("text",)
        limits = {"text": QUESTION_MAX, "low": LABEL_MAX, "high": LABEL_MAX, "unit": UNIT_MAX}
        texts = self.texts(
            entry.get("texts"), "texts", item, required=required, optional=optional, limits=limits
        )
        is_required = entry.get("required", True)
        key_figure = entry.get("key_figure", False)
        published = entry.get("published", False)
        flags = (("required", is_required), ("key_figure", key_figure), ("published", published))
        for field, flag in flags:
            if not isinstance(flag, bool):
                raise self.fail(field, "true or false", item)
        if key_figure and kind not in (QuestionKind.scale, QuestionKind.number):
            raise self.fail("key_figure", "only a scale or a number is a key figure", item)
        if published and kind is not QuestionKind.text:
            # Other answers are published as figures; `published` is about written answers.
            raise self.fail("published", "only a free-text question's answers are listed", item)
        question = SurveyQuestion(
            position=position,
            code=code,
            kind=kind,
            texts=texts,
            options=self.options(kind, entry.get("options"), item),
            required=is_required,
            key_figure=key_figure,
            published=published,
            show_if=self.condition(entry.get("show_if"), earlier, item),
        )
        question.min_value, question.max_value = self.bounds(kind, entry, item)
        return question

    def options(self, kind: QuestionKind, value: Any, item: str) -> list[dict[str, Any]]:
        if kind not in (QuestionKind.single, QuestionKind.multiple):
            if value is not None:
                raise self.fail("options", f"a {kind} question has no options", item)
            return []
        if not isinstance(value, list) or not 2 <= len(value) <= MAX_OPTIONS:
            raise self.fail("options", f"a list of 2 to {MAX_OPTIONS} options", item)
        options: list[dict[str, Any]] = []
        for number, option in enumerate(value, 1):
            where = f"{item}, option {number}"
            if not isinstance(option, Mapping):
                raise self.fail("", "a mapping with code and texts", where)
            _no_unknown(option, {"code", "texts"}, where)
            code = option.get("code")
            if not isinstance(code, str) or not CODE.fullmatch(code):
                raise self.fail("code", "a-z, digits and _, from a letter, up to 40", where)
            if any(o["code"] == code for o in options):
                raise self.fail("code", f"{code!r} is used twice", where)
            labels = option.get("texts")
            if not isinstance(labels, Mapping) or not labels:
                raise self.fail("texts", "a label per language, e.g. fr: ...", where)
            texts = {}
            for locale, label in labels.items():
                if locale not in self.locales:
                    raise self.fail(
                        f"texts.{locale}", "not a language of the survey's texts", where
                    )
                texts[locale] = self.text(label, f"texts.{locale}", where, LABEL_MAX)
            for locale in self.locales:
                if locale not in texts:
                    raise self.fail(
                        f"texts.{locale}", "missing (the survey has this language)", where
                    )
            options.append({"code": code, "texts": texts})
        return options

    def bounds(
        self, kind: QuestionKind, entry: Mapping[str, Any], item: str
    ) -> tuple[float | None, float | None]:
        if kind is QuestionKind.scale:
            for field in ("min", "max"):
                if field in entry:
                    raise self.fail(field, f"a scale goes from {SCALE[0]} to {SCALE[1]}", item)
            return float(SCALE[0]), float(SCALE[1])
        found: dict[str, float | None] = {}
        for field in ("min", "max"):
            value = entry.get(field)
            if value is not None and kind is not QuestionKind.number:
                raise self.fail(field, "only a number question has bounds", item)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise self.fail(field, "a number", item)
            found[field] = float(value) if value is not None else None
        low, high = found["min"], found["max"]
        if low is not None and high is not None and low > high:
            raise self.fail("max", "smaller than min", item)
        return low, high

    def condition(
        self, value: Any, earlier: Sequence[SurveyQuestion], item: str
    ) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping) or set(value) != {"question", "equals"}:
            raise self.fail("show_if", "question: <earlier code>, equals: <value>", item)
        source = next((q for q in earlier if q.code == value["question"]), None)
        if source is None:
            raise self.fail("show_if.question", "not the code of an earlier question", item)
        expected = value["equals"]
        field = "show_if.equals"
        if source.kind is QuestionKind.text:
            raise self.fail("show_if.question", "a free-text answer cannot be compared", item)
        if source.kind is QuestionKind.yes_no:
            # YAML reads a bare yes / no as true / false.
            words = {True: YES, False: NO, YES: YES, NO: NO}
            if not isinstance(expected, bool | str) or expected not in words:
                raise self.fail(field, "yes or no", item)
            expected = words[expected]
        elif source.kind in (QuestionKind.single, QuestionKind.multiple):
            if expected not in {o["code"] for o in source.options}:
                raise self.fail(field, f"not an option of {source.code}", item)
        elif isinstance(expected, bool) or not isinstance(expected, int | float):
            raise self.fail(field, "a number", item)
        elif (source.min_value is not None and expected < source.min_value) or (
            source.max_value is not None and expected > source.max_value
        ):
            raise self.fail(field, f"out of the range of {source.code}", item)
        return {"question": source.code, "equals": expected}


def _no_unknown(entry: Mapping[str, Any], known: set[str], item: str, prefix: str = "") -> None:
    for key in entry:
        if key not in known:
            raise InvalidSurvey(
                item, f"{prefix}{key}", f"unknown field (known: {', '.join(sorted(known))})"
            )


def _strings(value: Any, item: str, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidSurvey(item, field, "a list of codes")
    return list(dict.fromkeys(value))


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SERIES_MAX].strip("-")


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
