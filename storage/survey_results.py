"""Impact survey results: aggregates and wave comparisons.

Only complete responses count. A survey's results take a handful of GROUP BY queries whatever
its size, never one query per question, answer or response. The whole city's figures count
every answer per (question, value) and (question, option) from their covering indexes, minus
those of the unfinished responses (usually few, read through them). An arrondissement's results
count the complete responses' answers per (question, answer, arrondissement answered from)
instead — slower, and needed only there. A multiple choice's options are folded into one number
per response first, so that each combination of options counts as one answer. Means, medians
and totals come from those counts. Free texts are read with a join on complete responses and
listed sorted (by code point, the same on every database), so that their order says nothing
about who answered when.

Results by arrondissement use the arrondissement each person answered from
(`SurveyResponse.arrondissement`), never their profile's today.

What is published never singles out a group of fewer than MIN_GROUP people
(PRIVACY.md; `storage.surveys.MIN_GROUP`), directly or by difference. The rule, in one place
(`_hide`, `_Publication`):

- **Answers are atoms.** For each question, every complete response asked it holds one answer:
  a value (scale, number), an option (yes/no, single choice), the set of options it ticked (a
  multiple choice: each combination is one answer), a written text, or none (skipped). A
  published figure is always a sum of whole atoms, so a group that can be read from the figures,
  by any addition or subtraction of them, is a union of atoms.
- **Hiding is by key, the same in every table.** Keys (values, options, "skipped") that 1 to
  MIN_GROUP - 1 people gave are hidden; a person who gave a hidden key counts in one bucket,
  `SMALL`, and while a bucket (or any combination still shown) holds 1 to MIN_GROUP - 1 people,
  one more key is hidden — the least given. Shown cells, the bucket and every combination left
  then hold 0 or at least MIN_GROUP people, so any sum or difference of them does too. A cell of
  0 is shown as such: nobody is not a small group, and the bucket's keys are known to be the
  hidden ones, so a zero tells nothing about how the bucket splits.
- **Means, medians and totals only when no value is hidden.** They are then functions of the
  cells shown, and tell nothing more. With a value hidden they would give the bucket's sum back
  (4 people answering "4" and 5 answering "2", all in the bucket with 1, 3 and 5 shown at 0:
  the mean 2.889 makes the 9 add up to 26, and 5 × 2 + 4 × 4 is the only way), so they are
  left out. The share of "yes" (a key figure) is shown only when yes and no both are.
- **Arrondissements.** An arrondissement has results of its own only if at least MIN_GROUP
  complete responses came from it, and the responses of the arrondissements left out (with the
  responses from outside Marseille) are 0 or at least MIN_GROUP: otherwise the smallest one
  shown joins them. Per question, the whole city's hidden keys are chosen first, from the city's
  answers alone; an arrondissement then shows that question only if, split from the rest, its
  answers and those of the rest (city minus every arrondissement shown) need no more hidden key —
  so whole-city figures never lose a cell to the arrondissements, and the city's figures minus
  those of every arrondissement are again atoms of 0 or at least MIN_GROUP.
- **Branching.** A question asked only after a given answer (show_if) is published only when
  that answer is itself shown in the earlier question, and in no arrondissement where the
  earlier question is not shown: how many were asked is then already known, and the people not
  asked are never merged with the answers of those asked.
- **Roles.** A question asked to some roles only counts only the people asked; it is published
  only when the respondents not asked are 0 or at least MIN_GROUP, and for the whole city only.
- **Counts around.** A question's `answered` and `skipped` are shown only when "skipped" is not
  hidden; a survey's response rate only when the invited who did not answer are 0 or at least
  MIN_GROUP; a survey (or an arrondissement) with fewer than MIN_GROUP complete responses has
  no figures at all (`suppressed`). `invited` and `started` are the coordinators' progress
  figures of the whole survey (the survey's card shows them too), None in an arrondissement's.
- **Free texts** are listed to the coordinators (who have the raw answers in the CSV); to anyone
  else only when the question is `published` (the respondents were told before answering) and
  its "written" atom is shown.

A multiple choice pays for this: a rare combination of options hides one of its options, so a
small survey shows few of them. Results of the coordinators' CSV export are raw answers, without
identity, for their own analysis; the arrondissement of a response is given there only where
at least MIN_GROUP complete responses share it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVarTuple

from sqlalchemy import Row, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from storage.surveys import MIN_GROUP, NO, YES, questions_of
from storage.users import ARRONDISSEMENTS

SMALL = "<5"  # the bucket: answers put together so that no small group shows
SCALE_VALUES = (1, 2, 3, 4, 5)
CLOSED_KINDS = (
    QuestionKind.scale,
    QuestionKind.yes_no,
    QuestionKind.single,
    QuestionKind.multiple,
)

_NUMERIC = (QuestionKind.scale, QuestionKind.number)
_OPTIONS = (QuestionKind.single, QuestionKind.multiple, QuestionKind.yes_no)
# Keys of an answer that are not a value nor an option (option codes start with a letter).
_SKIP = "\x00skipped"  # skipped, or no answer at all
_TEXT = "\x00written"  # a free text
_REST = "\x00rest"  # the part of the responses without results of their own
_ALL = "\x00all"  # every response, when no arrondissement's results are asked for

Atom = frozenset[Any]  # one person's answer to a question: one key, or a multiple choice's
Atoms = Counter[Atom]  # atom -> people


@dataclass
class QuestionResult:
    question_id: int
    code: str
    kind: str
    answered: int | None  # people who answered; None when "skipped" is hidden
    skipped: int | None  # people who skipped; None when hidden (then in the bucket)
    # Value (scale, number), "yes"/"no" or option code -> people; SMALL: the bucket (people
    # who gave a hidden key). A multiple choice counts people per option (they overlap).
    distribution: dict[str, int]
    mean: float | None  # scales and numbers, only when no value is hidden
    median: float | None
    total: float | None  # numbers only (e.g. total visits)
    texts: list[str]  # free texts, sorted, no identity; see the module's rule
    position: int = 0  # 1-based number of the question in the survey, as in charts
    options: list[str] = field(default_factory=list)  # option codes of the question, in order
    asked: int | None = None  # people the question was put to; None when not shown

    @property
    def published(self) -> bool:
        """Whether the question shows anything of its answers: a cell (possibly 0) beside the
        bucket, or for a free text how many wrote one."""
        if self.kind == QuestionKind.text:
            return self.answered is not None
        return any(key != SMALL for key in self.distribution)


@dataclass
class SurveyResults:
    survey_id: int
    invited: int | None  # the whole survey's; None in an arrondissement's results
    started: int | None  # the whole survey's; None in an arrondissement's results
    completed: int
    response_rate: float | None  # completed / invited, when it shows no small group
    questions: list[QuestionResult]
    arrondissement: int | None  # None: the whole survey
    # True when the results show no figure at all: fewer than MIN_GROUP complete responses
    # (the whole survey's counts above are then the coordinators' only), or an arrondissement
    # without results of its own.
    suppressed: bool = False

    def question(self, code: str) -> QuestionResult | None:
        return next((result for result in self.questions if result.code == code), None)


# -- aggregates


async def survey_results(
    session: AsyncSession,
    survey_id: int,
    *,
    arrondissement: int | None = None,
    coordinators: bool = False,
) -> SurveyResults:
    """A survey's results for the whole city, or for the respondents of one arrondissement,
    as the module's rule publishes them. `coordinators`: free texts of every question, not
    only of the published ones. LookupError for an unknown survey."""
    views = await survey_views(
        session,
        survey_id,
        [] if arrondissement is None else [arrondissement],
        coordinators=coordinators,
    )
    return views[arrondissement]


async def survey_views(
    session: AsyncSession,
    survey_id: int,
    arrondissements: Iterable[int | None],
    *,
    coordinators: bool = False,
) -> dict[int | None, SurveyResults]:
    """The whole city's results (key None) and those of each of `arrondissements`, counted
    once: for sending every respondent the results of the arrondissement they answered from."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise LookupError(f"no survey {survey_id}")
    questions = await questions_of(session, survey_id)
    places = [place for place in arrondissements if place is not None]
    analysis = await _analyse(session, survey, questions, split=bool(places))
    views: dict[int | None, SurveyResults] = {}
    for place in [None, *arrondissements]:
        if place not in views:
            views[place] = await analysis.view(session, place, coordinators=coordinators)
    return views


async def answered_from(session: AsyncSession, survey_id: int, user_id: int) -> int | None:
    """The arrondissement a person answered the survey from, when they completed it (None when
    they did not, or answered from no arrondissement)."""
    return await session.scalar(
        select(SurveyResponse.arrondissement).where(
            SurveyResponse.survey_id == survey_id,
            SurveyResponse.user_id == user_id,
            SurveyResponse.completed_at.is_not(None),
        )
    )


_Columns = TypeVarTuple("_Columns")


async def _rows(session: AsyncSession, query: Select[*_Columns]) -> Sequence[Row[*_Columns]]:
    """Rows of a Core query on the session's connection, without the ORM's work per row."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


def _complete(survey_id: int) -> tuple[Any, ...]:
    return (SurveyResponse.survey_id == survey_id, SurveyResponse.completed_at.is_not(None))


@dataclass(frozen=True)
class _Publication:
    """What a question's results may show: `hidden` keys (None: nothing at all), and the
    arrondissements where it has figures of its own."""

    hidden: frozenset[Any] | None
    arrondissements: frozenset[int] = frozenset()


class _Analysis:
    """A survey's answers as atoms per question and arrondissement, and what is published."""

    def __init__(
        self,
        survey: Survey,
        questions: Sequence[SurveyQuestion],
        sizes: Mapping[int | None, int],
        started: int,
        invited: int,
        atoms: Mapping[int, Mapping[Any, Atoms]],
        *,
        split: bool,
    ) -> None:
        self.survey = survey
        self.questions = questions
        self.sizes = dict(sizes)
        self.completed = sum(sizes.values())
        self.started = started
        self.invited = invited
        self.shown = _arrondissements_shown(sizes)
        # Atoms per arrondissement answered from, or (not split) of everyone under _ALL: the
        # whole city's figures need no more, and an arrondissement's splits do not change them.
        self.split = split
        places: Mapping[Any, int] = sizes if split else {_ALL: self.completed}
        self.atoms: dict[int, dict[Any, Atoms]] = {}
        self.publications: dict[int, _Publication] = {}
        by_code: dict[str, SurveyQuestion] = {}
        for question in questions:
            found = {
                place: Counter(counts) for place, counts in atoms.get(question.id, {}).items()
            }
            if not question.show_if and not question.roles:
                # Every complete response was asked: no answer at all counts as skipped.
                for place, size in places.items():
                    missing = size - sum(found.get(place, Counter()).values())
                    if missing > 0:
                        found.setdefault(place, Counter())[frozenset((_SKIP,))] += missing
            self.atoms[question.id] = found
            self.publications[question.id] = self._publication(question, found, by_code)
            by_code[question.code] = question

    def _publication(
        self,
        question: SurveyQuestion,
        found: Mapping[Any, Atoms],
        by_code: Mapping[str, SurveyQuestion],
    ) -> _Publication:
        candidates = frozenset(self.shown) if self.split else frozenset()
        if question.show_if:
            source = by_code.get(question.show_if["question"])
            if source is None:
                return _Publication(None)
            condition = self.publications[source.id]
            key = _condition_key(source, question.show_if["equals"])
            if condition.hidden is None or key in condition.hidden:
                return _Publication(None)  # how many were asked would show a hidden group
            candidates = condition.arrondissements
        if question.roles:
            # Asked to some roles only: how many were not asked is a group of its own (the
            # respondents of other roles), shown by difference; the figures are the whole
            # city's only, so that no arrondissement's small group of them shows.
            asked = sum(sum(atoms.values()) for atoms in found.values())
            if 0 < self.completed - asked < MIN_GROUP:
                return _Publication(None)
            candidates = frozenset()
        order = _key_order(question, found)
        everyone: Atoms = sum(found.values(), Counter())
        hidden = _hide({_REST: everyone}, order)
        if hidden is None:
            return _Publication(None)
        accepted: list[int] = []
        for place in sorted(candidates, key=lambda a: (-self.sizes.get(a, 0), a)):
            parts: dict[Any, Atoms] = {a: found.get(a, Counter()) for a in (*accepted, place)}
            parts[_REST] = everyone - sum(parts.values(), Counter())
            if _hide(parts, order) == hidden:
                accepted.append(place)
        return _Publication(hidden, frozenset(accepted))

    async def view(
        self, session: AsyncSession, arrondissement: int | None, *, coordinators: bool
    ) -> SurveyResults:
        survey_id = self.survey.id
        if arrondissement is not None:
            assert self.split, "an arrondissement's results need the answers split"
            if arrondissement not in self.shown:
                return SurveyResults(survey_id, None, None, 0, None, [], arrondissement, True)
            completed = self.sizes[arrondissement]
            invited: int | None = None
            started: int | None = None
            rate = None
        else:
            completed, invited, started = self.completed, self.invited, self.started
            not_answered = invited - completed
            rate = completed / invited if invited else None
            if 0 < not_answered < MIN_GROUP:
                rate = None
            if completed < MIN_GROUP:
                # The counts stay for the coordinators' progress; nothing is shown of them.
                return SurveyResults(survey_id, invited, started, completed, None, [], None, True)
        # Free texts: every one to the coordinators (they have the raw answers anyway); to
        # others, those of a published question, when how many wrote one may be shown.
        wanted = [
            question
            for question in self.questions
            if question.kind == QuestionKind.text
            and (coordinators or self._texts_shown(question, arrondissement))
        ]
        texts = await _texts(session, survey_id, wanted, arrondissement) if wanted else {}
        results = []
        for number, question in enumerate(self.questions, start=1):
            counts = None
            if self._shows(question, arrondissement):
                found = self.atoms[question.id]
                if arrondissement is None:
                    counts = sum(found.values(), Counter())
                else:
                    counts = found.get(arrondissement, Counter())
            publication = self.publications[question.id]
            results.append(
                _result(question, number, publication, counts, texts.get(question.id, []))
            )
        return SurveyResults(
            survey_id=survey_id,
            invited=invited,
            started=started,
            completed=completed,
            response_rate=rate,
            questions=results,
            arrondissement=arrondissement,
        )

    def _texts_shown(self, question: SurveyQuestion, arrondissement: int | None) -> bool:
        hidden = self.publications[question.id].hidden
        return (
            question.published
            and self._shows(question, arrondissement)
            and _TEXT not in (hidden or ())
        )

    def _shows(self, question: SurveyQuestion, arrondissement: int | None) -> bool:
        publication = self.publications[question.id]
        if publication.hidden is None:
            return False
        return arrondissement is None or arrondissement in publication.arrondissements


def _arrondissements_shown(sizes: Mapping[int | None, int]) -> dict[int, int]:
    """Arrondissements with results of their own: at least MIN_GROUP complete responses each,
    and the others together 0 or at least MIN_GROUP (else the smallest shown joins them)."""
    shown = {
        place: size
        for place, size in sizes.items()
        if place is not None and place in ARRONDISSEMENTS and size >= MIN_GROUP
    }
    rest = sum(sizes.values()) - sum(shown.values())
    while shown and 0 < rest < MIN_GROUP:
        smallest = min(shown, key=lambda place: (shown[place], place))
        rest += shown.pop(smallest)
    return shown


def _hide(parts: Mapping[Any, Atoms], order: Sequence[Any]) -> frozenset[Any] | None:
    """The keys to hide so that, in every part, each combination of shown keys (with or
    without a hidden one) holds 0 or at least MIN_GROUP people; None when even hiding every
    key leaves a part of 1 to MIN_GROUP - 1 people. Keys given by a small group in some part
    go first; then, while a part still has a small combination, the least given key among
    them (or, when only the bucket is small, among the part's keys): the figures keep as
    many cells as they can."""
    rank = {key: index for index, key in enumerate(order)}
    totals: Counter[Any] = Counter()
    hidden: set[Any] = set()
    for atoms in parts.values():
        given: Counter[Any] = Counter()
        for atom, count in atoms.items():
            for key in atom:
                given[key] += count
        totals.update(given)
        hidden.update(key for key, count in given.items() if 0 < count < MIN_GROUP)

    def least(key: Any) -> tuple[int, int, str]:
        return totals[key], rank.get(key, len(rank)), str(key)

    while True:
        keys: set[Any] = set()
        offending: list[Atoms] = []
        for atoms in parts.values():
            combinations: Counter[tuple[Atom, bool]] = Counter()
            for atom, count in atoms.items():
                if count:
                    combinations[(atom - hidden, bool(atom & hidden))] += count
            small = [shown for (shown, _), count in combinations.items() if count < MIN_GROUP]
            if small:
                offending.append(atoms)
                keys.update(*small)
        if not offending:
            return frozenset(hidden)
        if not keys:
            keys = {key for atoms in offending for atom, n in atoms.items() if n for key in atom}
            keys -= hidden
        if not keys:
            return None
        hidden.add(min(keys, key=least))


def _key_order(question: SurveyQuestion, found: Mapping[int | None, Atoms]) -> list[Any]:
    """The question's keys in their natural order (scale values, options…), then any other
    key answered, then "written" and "skipped": ties in hiding go to the earlier."""
    kind = QuestionKind(question.kind)
    present = {key for atoms in found.values() for atom in atoms for key in atom}
    present -= {_SKIP, _TEXT}
    order: list[Any] = []
    if kind == QuestionKind.scale:
        order = [float(value) for value in SCALE_VALUES]
    elif kind == QuestionKind.yes_no:
        order = [YES, NO]
    elif kind in (QuestionKind.single, QuestionKind.multiple):
        order = [str(option["code"]) for option in question.options or []]
    rest = sorted(present - set(order), key=lambda key: (isinstance(key, str), key))
    return [*order, *rest, _TEXT, _SKIP]


def _condition_key(source: SurveyQuestion, expected: Any) -> Any:
    """The key of `source`'s answer that a show_if condition on it asks for."""
    if source.kind in _NUMERIC:
        return float(expected)
    return expected


def _result(
    question: SurveyQuestion,
    number: int,
    publication: _Publication,
    counts: Atoms | None,
    texts: list[str],
) -> QuestionResult:
    """One question's figures in one table (the city, or an arrondissement): `counts` are its
    atoms there, None when the question shows nothing there; `texts` the free texts that may
    be listed (the caller chose them for the reader)."""
    kind = QuestionKind(question.kind)
    result = _empty(question, number)
    result.texts = sorted(texts)
    hidden = publication.hidden
    if hidden is None or counts is None:
        return result
    asked = sum(counts.values())
    result.asked = asked
    if _SKIP not in hidden:
        result.skipped = counts.get(frozenset((_SKIP,)), 0)
    if kind == QuestionKind.text:
        if _TEXT not in hidden:
            result.answered = counts.get(frozenset((_TEXT,)), 0)
        return result
    if result.skipped is not None:
        result.answered = asked - result.skipped
    given: Counter[Any] = Counter()
    bucket = 0
    for atom, count in counts.items():
        if atom & hidden:
            bucket += count
        for key in atom:
            given[key] += count
    listed = [key for key in _listed(question, given) if key not in hidden]
    if listed:
        result.distribution = {_key_name(key): given.get(key, 0) for key in listed}
        if bucket:
            result.distribution[SMALL] = bucket
    if kind in _NUMERIC and not any(isinstance(key, float) for key in hidden):
        values = {key: count for key, count in given.items() if isinstance(key, float) and count}
        if values:
            result.mean, result.median, total = _moments(values)
            if kind == QuestionKind.number:
                result.total = total
    return result


def _listed(question: SurveyQuestion, given: Mapping[Any, int]) -> list[Any]:
    """The keys a distribution lists, in order: a scale's five values and every option (0 for
    nobody), a number's values given; then any other key given."""
    kind = QuestionKind(question.kind)
    present = [key for key, count in given.items() if count and key not in (_SKIP, _TEXT)]
    if kind == QuestionKind.number:
        return sorted(present)
    order = _key_order(question, {})[:-2]
    extra = sorted(
        (key for key in present if key not in order), key=lambda key: (isinstance(key, str), key)
    )
    return [*order, *extra]


def _key_name(key: Any) -> str:
    return number_key(key) if isinstance(key, float) else str(key)


async def _analyse(
    session: AsyncSession, survey: Survey, questions: Sequence[SurveyQuestion], *, split: bool
) -> _Analysis:
    """The survey's answers, split by arrondissement answered from when `split` (needed for
    an arrondissement's results only)."""
    sizes = {
        place: int(count)
        for place, count in await _rows(
            session,
            select(SurveyResponse.arrondissement, func.count())
            .where(*_complete(survey.id))
            .group_by(SurveyResponse.arrondissement),
        )
    }
    started = int(
        await session.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.survey_id == survey.id)
        )
        or 0
    )
    invited = int(
        await session.scalar(
            select(func.count())
            .select_from(SurveyInvitation)
            .where(SurveyInvitation.survey_id == survey.id)
        )
        or 0
    )
    if split:
        atoms = await _atoms(session, survey.id, questions)
    else:
        atoms = await _atoms_of_everyone(
            session, survey.id, questions, unfinished=started > sum(sizes.values())
        )
    return _Analysis(survey, questions, sizes, started, invited, atoms, split=split)


async def _atoms(
    session: AsyncSession, survey_id: int, questions: Sequence[SurveyQuestion]
) -> dict[int, dict[Any, Atoms]]:
    """question -> arrondissement answered from -> atom -> people, over complete responses.
    The queries go through the survey's responses, then their answers by response."""
    a, r = SurveyAnswer, SurveyResponse
    kinds = {question.id: QuestionKind(question.kind) for question in questions}
    found: dict[int, dict[Any, Atoms]] = defaultdict(lambda: defaultdict(Counter))
    rows = await _rows(
        session,
        select(
            a.question_id, a.value_number, a.option_code, a.skipped, r.arrondissement, func.count()
        )
        .join(r, r.id == a.response_id)
        .where(*_complete(survey_id))
        .group_by(a.question_id, a.value_number, a.option_code, a.skipped, r.arrondissement),
    )
    for question_id, value, code, skipped, place, count in rows:
        kind = kinds.get(question_id)
        if kind is not None and kind != QuestionKind.multiple:
            found[question_id][place][frozenset((_key(kind, value, code, skipped),))] += count
    await _multiple_atoms(session, survey_id, questions, found)
    return found


def _key(kind: QuestionKind, value: float | None, code: str | None, skipped: bool | None) -> Any:
    """The key of one answer row of a question that takes one answer."""
    if skipped:
        return _SKIP
    if kind == QuestionKind.text:
        return _TEXT
    if kind in _OPTIONS:
        return code if code is not None else _SKIP
    return float(value) if value is not None else _SKIP


async def _atoms_of_everyone(
    session: AsyncSession,
    survey_id: int,
    questions: Sequence[SurveyQuestion],
    *,
    unfinished: bool,
) -> dict[int, dict[Any, Atoms]]:
    """The same atoms as `_atoms`, of every complete response together (under _ALL), from
    the (question, value) and (question, option) indexes alone: every answer of the
    questions, minus those of the unfinished responses (usually few, read through them)."""
    a, r = SurveyAnswer, SurveyResponse
    kinds = {question.id: QuestionKind(question.kind) for question in questions}
    found: dict[int, dict[Any, Atoms]] = defaultdict(lambda: defaultdict(Counter))
    numeric = [i for i, kind in kinds.items() if kind in _NUMERIC]
    options = [
        i for i, kind in kinds.items() if kind in (QuestionKind.yes_no, QuestionKind.single)
    ]
    text = [i for i, kind in kinds.items() if kind == QuestionKind.text]
    scans: list[tuple[list[int], Any, Any, Any]] = [
        (numeric, a.value_number, None, None),
        (options, None, a.option_code, None),
        (text, None, None, a.skipped),  # a text's value is not in an index: told by `skipped`
    ]
    for ids, value, code, skipped in scans:
        if not ids:
            continue
        column = next(c for c in (value, code, skipped) if c is not None)
        rows = await _rows(
            session,
            select(a.question_id, column, func.count())
            .where(a.question_id.in_(ids))
            .group_by(a.question_id, column),
        )
        for question_id, found_value, count in rows:
            key = _key(
                kinds[question_id],
                found_value if value is not None else None,
                found_value if code is not None else None,
                found_value if skipped is not None else None,
            )
            found[question_id][_ALL][frozenset((key,))] += count
    if unfinished:
        rows = await _rows(
            session,
            select(a.question_id, a.value_number, a.option_code, a.skipped, func.count())
            .join(r, r.id == a.response_id)
            .where(r.survey_id == survey_id, r.completed_at.is_(None))
            .group_by(a.question_id, a.value_number, a.option_code, a.skipped),
        )
        for question_id, value, code, skipped, count in rows:
            kind = kinds.get(question_id)
            if kind is not None and kind != QuestionKind.multiple:
                atom = frozenset((_key(kind, value, code, skipped),))
                found[question_id][_ALL][atom] -= count
    by_place: dict[int, dict[Any, Atoms]] = defaultdict(lambda: defaultdict(Counter))
    await _multiple_atoms(session, survey_id, questions, by_place)
    for question_id, places in by_place.items():
        found[question_id][_ALL] = sum(places.values(), Counter())
    for places in found.values():
        places[_ALL] = +places[_ALL]  # no answer left at 0 or below
    return found


async def _multiple_atoms(
    session: AsyncSession,
    survey_id: int,
    questions: Sequence[SurveyQuestion],
    found: dict[int, dict[Any, Atoms]],
) -> None:
    """Adds the multiple choices' atoms (per arrondissement answered from) to `found`."""
    a, r = SurveyAnswer, SurveyResponse
    multiple = [question for question in questions if question.kind == QuestionKind.multiple]
    if multiple:
        # One number per response and question: bit 0 for a skip, bit i + 1 for option i.
        bits = case(
            (a.skipped.is_(True), 1),
            *[
                (and_(a.question_id == question.id, a.option_code == option["code"]), 2 << index)
                for question in multiple
                for index, option in enumerate(question.options or [])
            ],
            else_=0,
        )
        per_response = (
            select(
                a.question_id.label("question_id"),
                r.arrondissement.label("arrondissement"),
                func.sum(bits).label("mask"),
            )
            .join(r, r.id == a.response_id)
            .where(*_complete(survey_id), a.question_id.in_([q.id for q in multiple]))
            .group_by(a.response_id, a.question_id, r.arrondissement)
            .subquery()
        )
        columns = (per_response.c.question_id, per_response.c.arrondissement, per_response.c.mask)
        rows = await _rows(session, select(*columns, func.count()).group_by(*columns))
        codes = {
            question.id: [str(option["code"]) for option in question.options or []]
            for question in multiple
        }
        for question_id, place, mask, count in rows:
            mask = int(mask or 0)
            atom = {code for index, code in enumerate(codes[question_id]) if mask & (2 << index)}
            if mask & 1:
                atom = {_SKIP}
            found[question_id][place][frozenset(atom)] += count


async def _texts(
    session: AsyncSession,
    survey_id: int,
    questions: Sequence[SurveyQuestion],
    arrondissement: int | None,
) -> dict[int, list[str]]:
    """Free texts of complete responses (of one arrondissement) per question."""
    a = SurveyAnswer
    query = (
        select(a.question_id, a.value_text)
        .join(SurveyResponse, SurveyResponse.id == a.response_id)
        .where(*_complete(survey_id), a.value_text.is_not(None))
    )
    if arrondissement is not None:
        query = query.where(SurveyResponse.arrondissement == arrondissement)
    texts: dict[int, list[str]] = defaultdict(list)
    wanted = {question.id for question in questions}
    for question_id, text in await _rows(session, query):
        if question_id in wanted and text is not None:  # None left out by the query
            texts[question_id].append(text)
    return texts


def _empty(question: SurveyQuestion, number: int) -> QuestionResult:
    return QuestionResult(
        question_id=question.id,
        code=question.code,
        kind=QuestionKind(question.kind).value,
        answered=None,
        skipped=None,
        distribution={},
        mean=None,
        median=None,
        total=None,
        texts=[],
        position=number,
        options=[str(option["code"]) for option in question.options or []],
    )


def number_key(value: float) -> str:
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
    waves: dict[int, dict[str, float | None]] = {}
    for survey in surveys:
        figures = waves.setdefault(survey.wave, {})
        questions = await questions_of(session, survey.id)
        if not any(question.key_figure for question in questions):
            continue
        analysis = await _analyse(session, survey, questions, split=False)
        results = await analysis.view(session, None, coordinators=False)
        shown = {result.code: key_figure(result) for result in results.questions}
        for question in questions:
            if question.key_figure:
                figures[question.code] = shown.get(question.code)
    return sorted(waves.items())


def key_figure(result: QuestionResult) -> float | None:
    """The one figure that sums a question up over waves (see key_figures_over_time)."""
    if result.kind == QuestionKind.scale:
        return result.mean
    if result.kind == QuestionKind.number:
        return result.total
    if result.kind == QuestionKind.yes_no:
        distribution = result.distribution
        if YES not in distribution or NO not in distribution:
            return None  # one of the two is hidden: the share would give it back
        answered = distribution[YES] + distribution[NO]
        return 100 * distribution[YES] / answered if answered else None
    return None


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
