"""A survey's results for the city's data team: the published aggregates as JSON, and the raw
answers as CSV.

The CSV's answers are raw, without identity, for the coordinators' own analysis; the
arrondissement of a response is given only where at least MIN_GROUP complete responses share
it (`storage.survey_results` says why).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.excel_csv import Sheet, text_cell
from storage.models import QuestionKind, SurveyAnswer, SurveyQuestion, SurveyResponse
from storage.survey_results import SurveyResults, number_key
from storage.surveys import MIN_GROUP, NO, YES, questions_of


def results_json(results: SurveyResults) -> bytes:
    """The aggregates as UTF-8 JSON, with the small-group threshold they were computed with."""
    document = {"min_group": MIN_GROUP, **dataclasses.asdict(results)}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _number_cell(value: float) -> str:
    # French Excel reads "2,5" as a number and "2.5" as a date or text.
    return number_key(value).replace(".", ",")


async def answers_csv(session: AsyncSession, survey_id: int) -> bytes:
    """Raw answers of complete responses for French Excel: UTF-8 with a BOM, ";" between
    cells, CRLF. One row per response (`response` numbers them 1..n, in no meaningful way
    beyond their order), `arrondissement` only where at least MIN_GROUP responses share it,
    then one column per question code: numbers with a decimal comma, yes/no and options as
    codes (a multiple choice joined with ", ", in the question's order), texts as written (a
    leading = + - @ is quoted with ' so that Excel does not run it). Skipped or not asked:
    empty. Answers are streamed, not loaded all at once."""
    questions = await questions_of(session, survey_id)
    complete = (SurveyResponse.survey_id == survey_id, SurveyResponse.completed_at.is_not(None))
    sizes = dict(
        (
            await session.execute(
                select(SurveyResponse.arrondissement, func.count())
                .where(*complete)
                .group_by(SurveyResponse.arrondissement)
            )
        ).all()
    )
    responses = await session.execute(
        select(SurveyResponse.id, SurveyResponse.arrondissement)
        .where(*complete)
        .order_by(SurveyResponse.id)
    )
    sheet = _Answers(questions, responses.all(), sizes)
    # Core rows through the session's connection: no ORM work per row.
    connection = await session.connection()
    answers = await connection.stream(
        select(
            SurveyAnswer.response_id,
            SurveyAnswer.question_id,
            SurveyAnswer.value_number,
            SurveyAnswer.option_code,
            SurveyAnswer.value_text,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(*complete, SurveyAnswer.skipped.is_(False))
        .order_by(SurveyAnswer.response_id, SurveyAnswer.id)
        .execution_options(yield_per=20_000)
    )
    async for partition in answers.partitions():
        sheet.add(partition)
    return sheet.finish()


class _Answers:
    """The CSV, written response by response as answers (ordered by response) come in."""

    def __init__(
        self,
        questions: Sequence[SurveyQuestion],
        responses: Sequence[Any],
        sizes: Mapping[int | None, int],
    ) -> None:
        self.questions = questions
        self.column = {question.id: index for index, question in enumerate(questions)}
        self.yes_no = {q.id for q in questions if q.kind == QuestionKind.yes_no}
        self.ranks = {
            question.id: {str(o["code"]): i for i, o in enumerate(question.options or [])}
            for question in questions
        }
        self.sizes = sizes
        self.responses = iter(responses)  # (id, arrondissement) by id
        self.number = 0
        self.current: Any = None  # (id, arrondissement) being filled
        self.cells: list[list[str]] = []
        self.numbers: dict[float, str] = {}
        self.sheet = Sheet(["response", "arrondissement", *[q.code for q in questions]])

    def add(self, answers: Iterable[Any]) -> None:
        for response_id, question_id, value, code, text in answers:
            if self.current is None or self.current[0] != response_id:
                self._move_to(response_id)
            index = self.column.get(question_id)
            if index is None:
                continue
            if code is not None:
                cell = text_cell(code)
            elif value is not None:
                if question_id in self.yes_no:
                    cell = YES if value else NO
                else:
                    cell = self.numbers.get(value) or self.numbers.setdefault(
                        value, _number_cell(value)
                    )
            elif text is not None:
                cell = text_cell(text)
            else:
                continue
            self.cells[index].append(cell)

    def _move_to(self, response_id: int | None) -> None:
        """Writes the response being filled, and those without answers before `response_id`."""
        if self.current is not None:
            self._write()
        for response in self.responses:
            if response[0] == response_id:
                self.current = response
                self.cells = [[] for _ in self.questions]
                return
            self.current, self.cells = response, [[] for _ in self.questions]
            self._write()
        self.current = None

    def _write(self) -> None:
        _, arrondissement = self.current
        self.number += 1
        for question, values in zip(self.questions, self.cells, strict=True):
            if len(values) > 1:
                ranks = self.ranks[question.id]
                values.sort(key=lambda code: (ranks.get(code, len(ranks)), code))
        shown = arrondissement if self.sizes.get(arrondissement, 0) >= MIN_GROUP else None
        self.sheet.add(
            [
                str(self.number),
                "" if shown is None else str(shown),
                *(", ".join(values) for values in self.cells),
            ]
        )

    def finish(self) -> bytes:
        self._move_to(None)
        return self.sheet.content()
