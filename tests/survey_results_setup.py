"""Surveys answered in bulk, for the results' tests: questions (Q), each person's response (P,
SKIP for a skipped question), and `build`, which writes them the way storage.surveys stores
answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
    User,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SKIP = object()  # a skipped optional question


@dataclass
class Q:
    code: str
    kind: QuestionKind
    options: tuple[str, ...] = ()
    required: bool = True
    show_if: dict[str, Any] | None = None
    key_figure: bool = False
    roles: list[str] | None = None


@dataclass
class P:
    """One person's response: answers by question code (a list for multiple choice, SKIP for
    skipped); questions not asked are absent."""

    answers: dict[str, Any]
    complete: bool = True
    arrondissement: int | None = 13
    lives_in: int | None = None  # the profile's arrondissement, when it changed since
    telegram_id: int = 0


QUESTIONS = (
    Q("calm", QuestionKind.scale),
    Q("lonely", QuestionKind.scale, required=False, key_figure=True),
    Q("met", QuestionKind.yes_no, key_figure=True),
    Q("again", QuestionKind.yes_no, show_if={"question": "met", "equals": "yes"}),
    Q(
        "with_whom",
        QuestionKind.multiple,
        ("family", "friends", "neighbours", "volunteers"),
        required=False,
        show_if={"question": "met", "equals": "yes"},
    ),
    Q("where", QuestionKind.single, ("club", "home", "phone", "other")),
    Q("how_often", QuestionKind.scale, show_if={"question": "where", "equals": "club"}),
    Q("what", QuestionKind.multiple, ("walks", "games", "music", "garden", "tea"), False),
    Q("visits", QuestionKind.number, required=False, key_figure=True),
    Q("hours", QuestionKind.number),
    Q("words", QuestionKind.text, required=False),
)
BY_CODE = {question.code: question for question in QUESTIONS}


@dataclass
class Built:
    survey: Survey
    people: list[P]
    questions: dict[str, SurveyQuestion] = field(default_factory=dict)


# Telegram ids for the people built, never one twice in a session.
telegram_ids = iter(range(9_100_000, 9_999_999))


async def build(
    session: AsyncSession,
    people: Sequence[P],
    questions: Sequence[Q] = QUESTIONS,
    *,
    invited_only: int = 0,
    series: str = "isolation",
    wave: int = 1,
    status: SurveyStatus = SurveyStatus.closed,
    challenge_id: int | None = None,
) -> Built:
    """A survey answered by `people` (plus `invited_only` people who never started), written
    the way storage.surveys stores answers."""
    survey = Survey(
        series=series,
        wave=wave,
        challenge_id=challenge_id,
        texts={"fr": {"title": "Isolement", "intro": "", "thanks": ""}},
        status=status,
    )
    session.add(survey)
    await session.flush()
    rows = {}
    for position, spec in enumerate(questions, start=1):
        rows[spec.code] = SurveyQuestion(
            survey_id=survey.id,
            position=position,
            code=spec.code,
            kind=spec.kind,
            texts={"fr": {"text": spec.code}},
            options=[{"code": code, "texts": {"fr": code}} for code in spec.options],
            required=spec.required,
            show_if=spec.show_if,
            key_figure=spec.key_figure,
            roles=spec.roles,
        )
    session.add_all(rows.values())
    rows_of_users = []
    for person in people:
        person.telegram_id = next(telegram_ids)
        lives_in = person.arrondissement if person.lives_in is None else person.lives_in
        rows_of_users.append({"telegram_id": person.telegram_id, "arrondissement": lives_in})
    rows_of_users += [
        {"telegram_id": next(telegram_ids), "arrondissement": None} for _ in range(invited_only)
    ]
    # Bulk inserts (a few statements, not one per row): the tests stay fast on both databases.
    user_ids = await inserted(
        session, User, [{"locale": "fr", "active": True, **row} for row in rows_of_users]
    )
    if user_ids:
        await session.execute(
            insert(SurveyInvitation.__table__),
            [{"survey_id": survey.id, "user_id": u, "invited_at": NOW} for u in user_ids],
        )
    response_ids = await inserted(
        session,
        SurveyResponse,
        [
            {
                "survey_id": survey.id,
                "user_id": user_id,
                "arrondissement": person.arrondissement,
                "started_at": NOW,
                "completed_at": NOW if person.complete else None,
            }
            for person, user_id in zip(people, user_ids, strict=False)
        ],
    )
    answers = []
    for person, response_id in zip(people, response_ids, strict=True):
        for code, value in person.answers.items():
            for row in answer_rows(
                BY_CODE.get(code) or next(q for q in questions if q.code == code), value
            ):
                answers.append(
                    {
                        "response_id": response_id,
                        "question_id": rows[code].id,
                        "value_number": None,
                        "option_code": None,
                        "value_text": None,
                        "skipped": False,
                        "answered_at": NOW,
                        **row,
                    }
                )
    if answers:
        await session.execute(insert(SurveyAnswer.__table__), answers)
    return Built(survey, list(people), rows)


async def inserted(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Ids of the rows, in their order."""
    if not rows:
        return []
    table = model.__table__  # Core: one multi-row statement, not the ORM's row by row
    result = await session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars())


def answer_rows(question: Q, value: Any) -> list[dict[str, Any]]:
    """storage.surveys' way: see its module docstring."""
    if value is SKIP:
        return [{"skipped": True}]
    if question.kind in (QuestionKind.scale, QuestionKind.number):
        return [{"value_number": float(value)}]
    if question.kind == QuestionKind.yes_no:
        return [{"option_code": value, "value_number": 1.0 if value == "yes" else 0.0}]
    if question.kind == QuestionKind.single:
        return [{"option_code": value}]
    if question.kind == QuestionKind.multiple:
        return [{"option_code": code} for code in value]
    return [{"value_text": value}]


def key(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(float(value))
