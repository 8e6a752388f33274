"""Impact survey results: aggregates, wave comparisons, exports and charts.

Only complete responses count. A survey's results take a handful of GROUP BY queries whatever
its size, never one query per question, answer or response:

- scales and numbers are counted per (question, value) on the index (question_id,
  value_number), choices and yes/no per (question, option) on (question_id, option_code): both
  covering, so 100,000 responses are counted without reading the table. Those scans see every
  answer, so the same counts over the unfinished responses (usually few; read through the
  responses, then their answers) are subtracted: exactly the counts of complete responses,
  without a join per answer. Skipped answers are the NULL value of the same scans.
- means, medians and totals come from the per-value counts: one row per distinct value, not
  one per answer.
- a multiple choice's cells do not add up to its people (a person picks several). Every
  complete response holds an answer or a skip for each question it was asked (the rule of
  storage.surveys), so the people who answered one asked to everyone are the complete
  responses minus its skips; one shown only after a given answer (show_if) has its people
  counted with COUNT(DISTINCT response).
- free texts are read with a join on complete responses and listed sorted (by code point, the
  same on every database), so that their order says nothing about who answered when.
- results for one arrondissement (the one the person gave when answering) read that
  arrondissement's complete responses, then their answers. `invited` there counts the invited
  people whose profile is in that arrondissement now; as people move, the rate is capped at 1.

Small groups (PRIVACY.md: "published figures never show a group smaller than 5 people";
`MIN_GROUP`). The rule, applied to every result this module returns and exports:

1. A distribution cell counting 1 to MIN_GROUP - 1 people is never shown on its own: such cells
   are merged into one bucket keyed `SMALL` ("<5": answers in groups too small to show). For
   the kinds where each person gives one answer (scale, yes/no, single choice, number) the
   cells add up to the people who answered, so the bucket could be read as "answered minus the
   other cells": while the merged cells hold fewer than MIN_GROUP people, the smallest other
   cell joins them (so the bucket may hold a cell of 5 or more, never fewer than 5 people in
   all). For a multiple choice (cells overlap) the bucket counts the people who chose at least
   one of its options, and is left out when they are fewer than MIN_GROUP. Scales list 1..5,
   yes/no and choices list every option, with 0 for nobody (nobody is not a small group); a
   key missing from them is in the bucket. Numbers list the values given.
2. A question answered by fewer than MIN_GROUP people has an empty distribution, no mean,
   median or total, and no free texts. Its `answered` and `skipped` counts stay: they say how
   many took part, not what anyone answered.
3. Results for an arrondissement with fewer than MIN_GROUP complete responses hold no figures
   at all: `suppressed` is true, every count is 0 and there are no questions.
4. The CSV export gives a response's arrondissement only when its arrondissement has at least
   MIN_GROUP complete responses, and no identity: no user id, no response id, no date.

Not covered: differences between published tables. Whole-survey figures minus those of every
published arrondissement can narrow down the arrondissements left out; callers that publish
per-arrondissement results widely should keep that in mind.

Charts follow `storage.charts`: digits only, never words (the bot speaks French, English and
Arabic, and the host may have no font able to shape Arabic), deterministic bytes. The caption
of the photo says what the numbers are.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.charts import BACKGROUND, GRID, INK
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
from storage.surveys import MIN_GROUP, NO, YES

SMALL = "<5"  # the bucket of merged small cells (answers in groups too small to show)
SCALE_VALUES = (1, 2, 3, 4, 5)
CLOSED_KINDS = (
    QuestionKind.scale,
    QuestionKind.yes_no,
    QuestionKind.single,
    QuestionKind.multiple,
)

_NUMERIC = (QuestionKind.scale, QuestionKind.number)
_OPTIONS = (QuestionKind.single, QuestionKind.multiple, QuestionKind.yes_no)


@dataclass
class QuestionResult:
    question_id: int
    code: str
    kind: str
    answered: int  # people who answered (complete responses)
    skipped: int  # people who skipped this optional question
    # Value (scale, number), "yes"/"no" or option code -> people; small cells merged (SMALL).
    distribution: dict[str, int]
    mean: float | None  # scales and numbers; None when answered < MIN_GROUP
    median: float | None  # scales and numbers; None when answered < MIN_GROUP
    total: float | None  # numbers only (e.g. total visits); None when answered < MIN_GROUP
    texts: list[str]  # free texts, sorted, no identity; only when answered >= MIN_GROUP
    position: int = 0  # 1-based number of the question in the survey, as in charts
    options: list[str] = field(default_factory=list)  # option codes of the question, in order

    @property
    def published(self) -> bool:
        """Whether the question has figures (answered by at least MIN_GROUP people)."""
        return self.answered >= MIN_GROUP


@dataclass
class SurveyResults:
    survey_id: int
    invited: int
    started: int
    completed: int
    response_rate: float | None  # completed / invited
    questions: list[QuestionResult]
    arrondissement: int | None  # None: the whole survey
    # True for an arrondissement with fewer than MIN_GROUP complete responses: no figures.
    suppressed: bool = False

    def question(self, code: str) -> QuestionResult | None:
        return next((result for result in self.questions if result.code == code), None)


# -- aggregates


async def survey_results(
    session: AsyncSession, survey_id: int, *, arrondissement: int | None = None
) -> SurveyResults:
    """Aggregates of a survey's complete responses (or of one arrondissement's), small groups
    suppressed as the module says. LookupError for an unknown survey."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise LookupError(f"no survey {survey_id}")
    questions = await _questions(session, survey_id)
    return await _results(session, survey, questions, arrondissement, with_texts=True)


async def _questions(session: AsyncSession, survey_id: int) -> list[SurveyQuestion]:
    rows = await session.scalars(
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey_id)
        .order_by(SurveyQuestion.position, SurveyQuestion.id)
    )
    return list(rows)


async def _results(
    session: AsyncSession,
    survey: Survey,
    questions: Sequence[SurveyQuestion],
    arrondissement: int | None,
    *,
    with_texts: bool,
) -> SurveyResults:
    started, completed = await _response_counts(session, survey.id, arrondissement)
    invited = await _invited(session, survey.id, arrondissement)
    if arrondissement is not None and completed < MIN_GROUP:
        return SurveyResults(survey.id, 0, 0, 0, None, [], arrondissement, suppressed=True)
    rate = completed / invited if invited else None
    if rate is not None and arrondissement is not None:
        # Profiles say where people live now, responses where they lived when answering.
        rate = min(rate, 1.0)

    tally = _Tally(questions)
    if arrondissement is None:
        await tally.every_answer(session)
        if started > completed:
            await tally.joined(session, _Responses(survey.id, complete=False), sign=-1)
    else:
        responses = _Responses(survey.id, complete=True, arrondissement=arrondissement)
        await tally.joined(session, responses, sign=1)
    texts = await _texts(session, survey.id, questions, arrondissement) if with_texts else {}

    results = []
    for number, question in enumerate(questions, start=1):
        if question.kind == QuestionKind.text:
            result = _text_result(question, number, tally, texts.get(question.id))
        else:
            result = await _closed_result(
                session, question, number, tally, completed, arrondissement
            )
        results.append(result)
    return SurveyResults(
        survey_id=survey.id,
        invited=invited,
        started=started,
        completed=completed,
        response_rate=rate,
        questions=results,
        arrondissement=arrondissement,
    )


async def _response_counts(
    session: AsyncSession, survey_id: int, arrondissement: int | None
) -> tuple[int, int]:
    query = select(func.count(), func.count(SurveyResponse.completed_at)).where(
        SurveyResponse.survey_id == survey_id
    )
    if arrondissement is not None:
        query = query.where(SurveyResponse.arrondissement == arrondissement)
    started, completed = (await session.execute(query)).one()
    return int(started), int(completed)


async def _invited(session: AsyncSession, survey_id: int, arrondissement: int | None) -> int:
    query = (
        select(func.count())
        .select_from(SurveyInvitation)
        .where(SurveyInvitation.survey_id == survey_id)
    )
    if arrondissement is not None:
        query = query.join(User, User.id == SurveyInvitation.user_id).where(
            User.arrondissement == arrondissement
        )
    return int(await session.scalar(query) or 0)


async def _rows(session: AsyncSession, query: Select[Any]) -> Sequence[Any]:
    """Rows of a Core query on the session's connection, without the ORM's work per row."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


@dataclass(frozen=True)
class _Responses:
    """Answers read through their responses: the unfinished ones (complete False) or the
    complete ones, optionally of one arrondissement. These queries never filter on the
    question, so that the database walks the survey's responses, then their answers by
    response, instead of every answer of a question checking its response."""

    survey_id: int
    complete: bool
    arrondissement: int | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        query = query.join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id).where(
            SurveyResponse.survey_id == self.survey_id
        )
        if self.complete:
            query = query.where(SurveyResponse.completed_at.is_not(None))
        else:
            query = query.where(SurveyResponse.completed_at.is_(None))
        if self.arrondissement is not None:
            query = query.where(SurveyResponse.arrondissement == self.arrondissement)
        return query


class _Tally:
    """Signed answer counts per question and value. The key of a scale or a number is its
    value, of a choice or yes/no its option code, of a free text None; None also counts the
    skipped answers, which hold no value."""

    def __init__(self, questions: Sequence[SurveyQuestion]) -> None:
        self.kinds = {question.id: QuestionKind(question.kind) for question in questions}
        # Multiple choices asked only after a given answer: their people are counted (the
        # others are every complete response but those who skipped, see _closed_result).
        self.branched = [
            question.id
            for question in questions
            if question.kind == QuestionKind.multiple and question.show_if
        ]
        self.counts: dict[int, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
        self.people: dict[int, int] = defaultdict(int)  # multiple choice: who chose any

    def ids(self, *kinds: QuestionKind) -> list[int]:
        return [question_id for question_id, kind in self.kinds.items() if kind in kinds]

    async def every_answer(self, session: AsyncSession) -> None:
        """Every answer of the survey's questions, complete responses or not, from the two
        (question, value) indexes alone."""
        a = SurveyAnswer
        numeric = self.ids(QuestionKind.scale, QuestionKind.number, QuestionKind.text)
        options = self.ids(*_OPTIONS)
        multiple = self.branched
        for ids, column in ((numeric, a.value_number), (options, a.option_code)):
            if ids:
                rows = await _rows(
                    session,
                    select(a.question_id, column, func.count())
                    .where(a.question_id.in_(ids))
                    .group_by(a.question_id, column),
                )
                self._add(rows, 1)
        if multiple:
            # value_number is NULL on every option row: the condition makes the database walk
            # the (question_id, value_number) index, whose rows come in table order.
            rows = await _rows(
                session,
                select(a.question_id, func.count(distinct(a.response_id)))
                .where(a.question_id.in_(multiple), a.value_number.is_(None), a.skipped.is_(False))
                .group_by(a.question_id),
            )
            for question_id, count in rows:
                self.people[question_id] += count

    async def joined(self, session: AsyncSession, responses: _Responses, sign: int) -> None:
        a = SurveyAnswer
        rows = await _rows(
            session,
            responses.apply(
                select(a.question_id, a.value_number, a.option_code, func.count()).group_by(
                    a.question_id, a.value_number, a.option_code
                )
            ),
        )
        for question_id, value, code, count in rows:
            kind = self.kinds.get(question_id)
            if kind is None:
                continue
            key = code if kind in _OPTIONS else value
            self.counts[question_id][key] += sign * count
        if self.branched:
            rows = await _rows(
                session,
                responses.apply(
                    select(a.question_id, func.count(distinct(a.response_id)))
                    .where(a.option_code.is_not(None))
                    .group_by(a.question_id)
                ),
            )
            for question_id, count in rows:
                if question_id in self.branched:
                    self.people[question_id] += sign * count

    def _add(self, rows: Iterable[Any], sign: int) -> None:
        for question_id, key, count in rows:
            self.counts[question_id][key] += sign * count

    def values(self, question_id: int) -> dict[Any, int]:
        """Key -> count over complete responses, without the skipped (None) and empty ones."""
        counts = self.counts.get(question_id, {})
        return {key: count for key, count in counts.items() if key is not None and count}

    def unvalued(self, question_id: int) -> int:
        return self.counts.get(question_id, {}).get(None, 0)


async def _texts(
    session: AsyncSession,
    survey_id: int,
    questions: Sequence[SurveyQuestion],
    arrondissement: int | None,
) -> dict[int, list[str]]:
    """Free texts of complete responses per question."""
    text_ids = [question.id for question in questions if question.kind == QuestionKind.text]
    if not text_ids:
        return {}
    a = SurveyAnswer
    query = select(a.question_id, a.value_text).where(a.value_text.is_not(None))
    if arrondissement is None:
        query = query.join(SurveyResponse, SurveyResponse.id == a.response_id).where(
            a.question_id.in_(text_ids), SurveyResponse.completed_at.is_not(None)
        )
    else:
        # Through the arrondissement's responses; only free texts have a value_text.
        query = _Responses(survey_id, complete=True, arrondissement=arrondissement).apply(query)
    texts: dict[int, list[str]] = defaultdict(list)
    wanted = set(text_ids)
    for question_id, text in await _rows(session, query):
        if question_id in wanted:
            texts[question_id].append(text)
    return texts


def _empty(question: SurveyQuestion, number: int, answered: int, skipped: int) -> QuestionResult:
    return QuestionResult(
        question_id=question.id,
        code=question.code,
        kind=QuestionKind(question.kind).value,
        answered=answered,
        skipped=skipped,
        distribution={},
        mean=None,
        median=None,
        total=None,
        texts=[],
        position=number,
        options=[str(option["code"]) for option in question.options or []],
    )


def _text_result(
    question: SurveyQuestion, number: int, tally: _Tally, texts: list[str] | None
) -> QuestionResult:
    # A free text's rows are its texts and its skips, all keyed None in the tally.
    rows = tally.unvalued(question.id)
    if texts is None:  # texts not read: count them as answered, the skips cannot be told
        return _empty(question, number, rows, 0)
    result = _empty(question, number, len(texts), rows - len(texts))
    if result.published:
        result.texts = sorted(texts)
    return result


async def _closed_result(
    session: AsyncSession,
    question: SurveyQuestion,
    number: int,
    tally: _Tally,
    completed: int,
    arrondissement: int | None,
) -> QuestionResult:
    kind = QuestionKind(question.kind)
    counts = tally.values(question.id)
    skipped = tally.unvalued(question.id)
    option_codes = [str(option["code"]) for option in question.options or []]

    cells: dict[str, int]
    if kind in _NUMERIC:
        values = {float(value): count for value, count in counts.items()}
        cells = {_number_key(value): count for value, count in sorted(values.items())}
        if kind == QuestionKind.scale:
            cells = {
                **{_number_key(value): values.get(float(value), 0) for value in SCALE_VALUES},
                **cells,
            }
        answered = sum(values.values())
    else:
        known = [YES, NO] if kind == QuestionKind.yes_no else option_codes
        cells = {code: counts.get(code, 0) for code in known}
        cells.update({code: count for code, count in sorted(counts.items()) if code not in cells})
        if kind == QuestionKind.multiple:
            # Asked to everyone: a complete response holds an answer or a skip to each
            # question it was asked (storage.surveys), so no need to count people one by one.
            branched = question.id in tally.branched
            answered = tally.people.get(question.id, 0) if branched else completed - skipped
        else:
            answered = sum(counts.values())

    result = _empty(question, number, answered, skipped)
    if answered < MIN_GROUP:
        return result
    if kind == QuestionKind.multiple:
        result.distribution = await _merge_overlapping(session, question, cells, arrondissement)
    else:
        result.distribution = _merge_partition(cells)
    if kind in _NUMERIC:
        result.mean, result.median, total = _moments(values)
        if kind == QuestionKind.number:
            result.total = total
    return result


def _number_key(value: float) -> str:
    """How a value is named in a distribution: 3, not 3.0; 2.5 as is."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return repr(value)


def _moments(values: Mapping[float, int]) -> tuple[float, float, float]:
    """Mean, median and total from value -> count (counts > 0)."""
    n = sum(values.values())
    total = math.fsum(value * count for value, count in values.items())
    ordered = sorted(values.items())

    def nth(index: int) -> float:  # the index-th value (from 0) in ascending order
        seen = 0
        for value, count in ordered:
            seen += count
            if index < seen:
                return value
        raise AssertionError("index beyond the counts")

    if n % 2:
        median = nth(n // 2)
    else:
        median = (nth(n // 2 - 1) + nth(n // 2)) / 2
    return total / n, median, total


def _merge_partition(cells: Mapping[str, int]) -> dict[str, int]:
    """Cells adding up to the people who answered: small ones merged into SMALL, and more
    (the smallest first) while the bucket would itself be a small group."""
    small = [key for key, count in cells.items() if 0 < count < MIN_GROUP]
    if not small:
        return dict(cells)
    shown = {key: count for key, count in cells.items() if key not in small}
    merged = sum(cells[key] for key in small)
    order = list(cells)
    while merged < MIN_GROUP:
        candidates = [key for key, count in shown.items() if count > 0]
        if not candidates:
            break
        smallest = min(candidates, key=lambda key: (shown[key], order.index(key)))
        merged += shown.pop(smallest)
    shown[SMALL] = merged
    return shown


async def _merge_overlapping(
    session: AsyncSession,
    question: SurveyQuestion,
    cells: Mapping[str, int],
    arrondissement: int | None,
) -> dict[str, int]:
    """Multiple choice: small options merged into SMALL, counting the people who chose any of
    them; the bucket is left out when they are themselves fewer than MIN_GROUP."""
    small = [key for key, count in cells.items() if 0 < count < MIN_GROUP]
    shown = {key: count for key, count in cells.items() if key not in small}
    if not small:
        return shown
    # Few rows (the options are rare), so straight from the (question, option) index.
    query = (
        select(func.count(distinct(SurveyAnswer.response_id)))
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyAnswer.question_id == question.id,
            SurveyAnswer.option_code.in_(small),
            SurveyResponse.completed_at.is_not(None),
        )
    )
    if arrondissement is not None:
        query = query.where(SurveyResponse.arrondissement == arrondissement)
    people = int(await session.scalar(query) or 0)
    if people >= MIN_GROUP:
        shown[SMALL] = people
    return shown


# -- waves


async def compare_waves(session: AsyncSession, series: str) -> list[tuple[Survey, SurveyResults]]:
    """Every wave of a series that was sent (not drafts), in wave order, with its results."""
    surveys = await session.scalars(
        select(Survey)
        .where(Survey.series == series, Survey.status != SurveyStatus.draft)
        .order_by(Survey.wave, Survey.id)
    )
    return [(survey, await survey_results(session, survey.id)) for survey in surveys]


async def key_figures_over_time(
    session: AsyncSession, challenge_id: int, *, include_open: bool = False
) -> list[tuple[int, dict[str, float | None]]]:
    """wave -> {question code: figure} for the questions marked key_figure of a challenge's
    surveys, closed ones only unless `include_open` (results are published when a survey
    closes). The figure is the mean of a scale, the total of a number, the share of "yes" in
    percent for a yes/no question; None when the question's figures are suppressed. Waves of
    several series of the same challenge share a wave number: their codes merge."""
    statuses = [SurveyStatus.closed, *([SurveyStatus.open] if include_open else [])]
    surveys = list(
        await session.scalars(
            select(Survey)
            .where(Survey.challenge_id == challenge_id, Survey.status.in_(statuses))
            .order_by(Survey.wave, Survey.id)
        )
    )
    if not surveys:
        return []
    key_questions = await session.scalars(
        select(SurveyQuestion)
        .where(
            SurveyQuestion.survey_id.in_([survey.id for survey in surveys]),
            SurveyQuestion.key_figure.is_(True),
        )
        .order_by(SurveyQuestion.position, SurveyQuestion.id)
    )
    by_survey: dict[int, list[SurveyQuestion]] = defaultdict(list)
    for question in key_questions:
        by_survey[question.survey_id].append(question)
    waves: dict[int, dict[str, float | None]] = {}
    for survey in surveys:
        figures = waves.setdefault(survey.wave, {})
        questions = by_survey.get(survey.id, [])
        if not questions:
            continue
        results = await _results(session, survey, questions, None, with_texts=False)
        for result in results.questions:
            figures[result.code] = key_figure(result)
    return sorted(waves.items())


def key_figure(result: QuestionResult) -> float | None:
    """The one figure that sums a question up over waves (see key_figures_over_time)."""
    if not result.published:
        return None
    if result.kind == QuestionKind.scale:
        return result.mean
    if result.kind == QuestionKind.number:
        return result.total
    if result.kind == QuestionKind.yes_no:
        distribution = result.distribution
        if YES not in distribution or NO not in distribution:
            return None  # one of the two was merged: the share would show a small group
        return 100 * distribution[YES] / result.answered
    return None


# -- exports


def results_json(results: SurveyResults) -> bytes:
    """The aggregates as UTF-8 JSON, with the small-group threshold they were computed with."""
    document = {"min_group": MIN_GROUP, **dataclasses.asdict(results)}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


# Excel runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _number_cell(value: float) -> str:
    # French Excel reads "2,5" as a number and "2.5" as a date or text.
    return _number_key(value).replace(".", ",")


async def answers_csv(session: AsyncSession, survey_id: int) -> bytes:
    """Raw answers of complete responses for French Excel: UTF-8 with a BOM, ";" between
    cells, CRLF. One row per response (`response` numbers them 1..n, in no meaningful way
    beyond their order), `arrondissement` only where at least MIN_GROUP responses share it,
    then one column per question code: numbers with a decimal comma, yes/no and options as
    codes (a multiple choice joined with ", ", in the question's order), texts as written (a
    leading = + - @ is quoted with ' so that Excel does not run it). Skipped or not asked:
    empty. Answers are streamed, not loaded all at once."""
    questions = await _questions(session, survey_id)
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
    sheet = _Sheet(questions, responses.all(), sizes)
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


class _Sheet:
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
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, delimiter=";", lineterminator="\r\n")
        self.writer.writerow(["response", "arrondissement", *[q.code for q in questions]])

    def add(self, answers: Iterable[Any]) -> None:
        for response_id, question_id, value, code, text in answers:
            if self.current is None or self.current[0] != response_id:
                self._move_to(response_id)
            index = self.column.get(question_id)
            if index is None:
                continue
            if code is not None:
                cell = _text_cell(code)
            elif value is not None:
                if question_id in self.yes_no:
                    cell = YES if value else NO
                else:
                    cell = self.numbers.get(value) or self.numbers.setdefault(
                        value, _number_cell(value)
                    )
            elif text is not None:
                cell = _text_cell(text)
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
        self.writer.writerow(
            [
                str(self.number),
                "" if shown is None else str(shown),
                *(", ".join(values) for values in self.cells),
            ]
        )

    def finish(self) -> bytes:
        self._move_to(None)
        return self.buffer.getvalue().encode("utf-8-sig")


# -- charts

BAR = "#0072B2"  # Okabe–Ito blue
MERGED_BAR = "#7A8793"  # the SMALL bucket, tinted grey
BADGE = INK
CHART_SIZE = (1280, 800)
PANEL_SIZE = (420, 300)
WAVES_SIZE = (800, 480)
YES_MARK, NO_MARK = "✓", "✗"  # drawn as strokes, not glyphs: no font needed


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _width(text: str, size: int) -> int:
    left, _top, right, _bottom = _font(size).getbbox(text)
    return int(right - left)


def _fitting(text: str, size: int, room: float, smallest: int = 10) -> int | None:
    """The largest size up to `size` at which `text` fits in `room` pixels, or None."""
    while size >= smallest:
        if _width(text, size) <= room:
            return size
        size -= 2
    return None


def _check_labels(labels: Iterable[str]) -> None:
    for label in labels:
        if any(character.isalpha() for character in label):
            raise ValueError(f"charts hold no words: {label!r}")


def bar_labels(result: QuestionResult) -> list[str]:
    """Default labels for `question_chart`, one per distribution key: scale and number values
    as they are, yes and no as a tick and a cross, options by their number in the question
    (1 for the first option: the caption names them), the merged bucket as "<5"."""
    labels = []
    for key in result.distribution:
        if key == SMALL:
            labels.append(SMALL)
        elif result.kind == QuestionKind.yes_no:
            labels.append(YES_MARK if key == YES else NO_MARK)
        elif result.kind in (QuestionKind.single, QuestionKind.multiple):
            index = result.options.index(key) + 1 if key in result.options else 0
            labels.append(str(index))
        else:
            labels.append(key)
    return labels


def _nice_top(largest: float, whole: bool = False) -> tuple[float, float]:
    """(axis top, tick step): at most six steps of 1, 2 or 5 × 10ᵏ; whole steps for counts."""
    largest = max(largest, 1.0)
    exponent = math.floor(math.log10(largest)) - 1
    if whole:
        exponent = max(exponent, 0)
    while True:
        for factor in (1, 2, 5):
            step = factor * 10.0**exponent
            if step * 6 >= largest:
                return math.ceil(round(largest / step, 9)) * step, step
        exponent += 1


def _format(value: float, decimal_mark: str = ".") -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", decimal_mark)


def _mark(draw: ImageDraw.ImageDraw, centre: tuple[float, float], size: int, label: str) -> None:
    """A tick or a cross drawn with lines, `size` pixels high."""
    x, y = centre
    half = size / 2
    width = max(2, size // 7)
    if label == YES_MARK:
        draw.line(
            [(x - half, y), (x - half / 3, y + half * 0.7), (x + half, y - half * 0.8)],
            fill=INK,
            width=width,
            joint="curve",
        )
    else:
        draw.line(
            [(x - half * 0.7, y - half * 0.7), (x + half * 0.7, y + half * 0.7)],
            fill=INK,
            width=width,
        )
        draw.line(
            [(x - half * 0.7, y + half * 0.7), (x + half * 0.7, y - half * 0.7)],
            fill=INK,
            width=width,
        )


def _label(
    draw: ImageDraw.ImageDraw, centre_x: float, top: float, text: str, size: int, room: float
) -> None:
    if text in (YES_MARK, NO_MARK):
        _mark(draw, (centre_x, top + size / 2), size, text)
        return
    fitted = _fitting(text, size, room)
    if fitted is not None:
        draw.text((centre_x, top), text, fill=INK, font=_font(fitted), anchor="mt")


def _bars(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    values: Sequence[float | None],
    labels: Sequence[str],
    colours: Sequence[str],
    *,
    size: int,
    ticks: bool,
    whole: bool = True,
    decimal_mark: str = ".",
) -> None:
    """Bars of `values` in `box` (left, top, right, bottom), each with its value above it and
    its label below the axis; None draws no bar. Negative values hang below a zero line."""
    left, top, right, bottom = box
    present = [value for value in values if value is not None]
    high = max([0.0, *present])
    low = min([0.0, *present])
    # One step for both sides of zero, so that ticks fall on round values.
    _, step = _nice_top(max(high, -low), whole)
    top_value = math.ceil(round(high / step, 9)) * step if high > 0 else 0.0
    bottom_value = -math.ceil(round(-low / step, 9)) * step if low < 0 else 0.0
    if top_value == bottom_value:
        top_value = step
    span = top_value - bottom_value
    label_top = bottom - size - 6  # the labels' row, below everything
    # Room under the lowest bar for its value when bars hang below zero.
    baseline_low = label_top - 10 - (size + 10 if low < 0 else 0)
    plot_top = top + size + 14  # room for the tallest bar's value
    plot_left = left + (_width(_format(top_value), size - 4) + 16 if ticks else 8)
    height = baseline_low - plot_top

    def y_of(value: float) -> int:
        return baseline_low - round((value - bottom_value) * height / span)

    zero = y_of(0.0)
    if ticks:
        tick = bottom_value
        while tick <= top_value + step / 2:
            y = y_of(tick)
            if tick:
                draw.line((plot_left, y, right, y), fill=GRID, width=1)
            draw.text(
                (plot_left - 8, y), _format(tick), fill=INK, font=_font(size - 4), anchor="rm"
            )
            tick += step
    count = max(len(values), 1)
    slot = (right - plot_left) / count
    bar_width = max(1, round(slot * 0.68))
    for index, (value, label, colour) in enumerate(zip(values, labels, colours, strict=True)):
        centre = plot_left + (index + 0.5) * slot
        x0 = round(centre - bar_width / 2)
        x1 = x0 + bar_width - 1
        if value is not None:
            end = y_of(value)
            if value > 0 and end < zero:
                draw.rectangle((x0, end, x1, zero - 1), fill=colour)
            elif value < 0 and end > zero:
                draw.rectangle((x0, zero + 2, x1, end), fill=colour)
            text = _format(value, decimal_mark)
            fitted = _fitting(text, size, slot - 4)
            if fitted is not None:
                if value >= 0:
                    draw.text(
                        (centre, min(end, zero) - 5),
                        text,
                        fill=INK,
                        font=_font(fitted),
                        anchor="ms",
                    )
                else:
                    draw.text((centre, end + 5), text, fill=INK, font=_font(fitted), anchor="mt")
        _label(draw, centre, label_top, label, size, slot - 2)
    # The axis, just below the bars, never over them.
    draw.rectangle((plot_left, zero, right, zero + 1), fill=INK)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Pillow writes no timestamp chunk: equal inputs give equal bytes.
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _bar_colours(keys: Iterable[str]) -> list[str]:
    return [MERGED_BAR if key == SMALL else BAR for key in keys]


def _suppressed(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], size: int) -> None:
    left, top, right, bottom = box
    draw.text(
        ((left + right) / 2, (top + bottom) / 2),
        SMALL,
        fill=MERGED_BAR,
        font=_font(size),
        anchor="mm",
    )


def question_chart(result: QuestionResult, labels: Sequence[str] | None = None) -> bytes:
    """PNG bar chart of one question's distribution: a bar per key in its order, the count
    above, `labels` below (digits and signs only; default `bar_labels`). The merged bucket is
    grey. A question without figures shows a grey "<5" (fewer than MIN_GROUP answered) or
    nothing (no answers). ValueError when labels hold a letter or do not match the keys."""
    labels = bar_labels(result) if labels is None else list(labels)
    if len(labels) != len(result.distribution):
        raise ValueError("one label per distribution key")
    _check_labels(labels)
    image = Image.new("RGB", CHART_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    box = (24, 24, CHART_SIZE[0] - 24, CHART_SIZE[1] - 24)
    if not result.distribution:
        if result.answered:
            _suppressed(draw, box, 120)
        return _png(image)
    values = [float(count) for count in result.distribution.values()]
    _bars(draw, box, values, labels, _bar_colours(result.distribution), size=32, ticks=True)
    return _png(image)


def _badge(draw: ImageDraw.ImageDraw, left: int, top: int, number: int) -> None:
    text = str(number)
    width = _width(text, 24)
    draw.rounded_rectangle((left, top, left + width + 16, top + 32), radius=6, fill=BADGE)
    draw.text((left + 8 + width / 2, top + 16), text, fill=BACKGROUND, font=_font(24), anchor="mm")


def summary_chart(results: SurveyResults) -> bytes:
    """One PNG for a whole survey: a panel per closed question (scale, yes/no, single and
    multiple choice) in the survey's order, each with the question's number in a dark badge
    and its bars as in `question_chart` (default labels). Three panels a row."""
    panels = [result for result in results.questions if result.kind in CLOSED_KINDS]
    columns = 3
    rows = max(1, -(-len(panels) // columns))
    width, height = PANEL_SIZE
    image = Image.new("RGB", (columns * width, rows * height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for index, result in enumerate(panels):
        row, column = divmod(index, columns)
        left, top = column * width, row * height
        draw.rectangle(
            (left + 4, top + 4, left + width - 5, top + height - 5), outline=GRID, width=2
        )
        _badge(draw, left + 14, top + 14, result.position)
        box = (left + 14, top + 54, left + width - 16, top + height - 12)
        if not result.distribution:
            if result.answered:
                _suppressed(draw, box, 64)
            continue
        values = [float(count) for count in result.distribution.values()]
        _bars(
            draw,
            box,
            values,
            bar_labels(result),
            _bar_colours(result.distribution),
            size=20,
            ticks=False,
        )
    return _png(image)


def waves_chart(points: Sequence[tuple[int, float | None]], *, decimal_mark: str = ".") -> bytes:
    """A small PNG of one key figure over waves: a bar per wave in the order given, its value
    above (one decimal at most, `decimal_mark` for the caller's language), the wave number
    below; None (figure suppressed or missing) draws no bar."""
    if any(not isinstance(wave, int) for wave, _ in points):
        raise ValueError("waves are numbers")
    image = Image.new("RGB", WAVES_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    values = [None if value is None else float(value) for _, value in points]
    labels = [str(wave) for wave, _ in points]
    box = (16, 16, WAVES_SIZE[0] - 16, WAVES_SIZE[1] - 16)
    _bars(
        draw,
        box,
        values,
        labels,
        [BAR] * len(values),
        size=26,
        ticks=False,
        whole=False,
        decimal_mark=decimal_mark,
    )
    return _png(image)


async def key_figure_questions(
    session: AsyncSession, challenge_id: int
) -> dict[str, SurveyQuestion]:
    """code -> the latest wave's question of each key figure of a challenge's surveys (for its
    wording next to `key_figures_over_time`)."""
    questions = await session.scalars(
        select(SurveyQuestion)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .where(Survey.challenge_id == challenge_id, SurveyQuestion.key_figure.is_(True))
        .order_by(Survey.wave, Survey.id)
    )
    return {question.code: question for question in questions}
