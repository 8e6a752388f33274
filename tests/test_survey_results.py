"""Impact survey results: aggregates checked against figures computed here from the generated
answers, small groups never shown, waves, the CSV and JSON exports, and charts read back by
their pixels."""

from __future__ import annotations

import csv
import io
import json
import random
import statistics
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import pytest
from PIL import Image, ImageColor
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.i18n import create_i18n
from handlers.surveys.results_text import results_message
from storage.db import create_sessionmaker
from storage.drawing import INK
from storage.models import (
    Challenge,
    ChallengeStatus,
    QuestionKind,
    SurveyInvitation,
    SurveyQuestion,
    SurveyStatus,
    User,
)
from storage.survey_charts import (
    BAR,
    MERGED_BAR,
    PANEL_SIZE,
    bar_labels,
    question_chart,
    summary_chart,
    waves_chart,
)
from storage.survey_export import answers_csv, results_json
from storage.survey_results import (
    SMALL,
    QuestionResult,
    SurveyResults,
    compare_waves,
    key_figures_over_time,
    survey_results,
    survey_views,
)
from storage.surveys import (
    MIN_GROUP,
    answer,
    complete_if_done,
    previous_question,
    skip,
    start_response,
)
from tests.survey_results_setup import (
    BY_CODE,
    NOW,
    QUESTIONS,
    SKIP,
    P,
    Q,
    build,
    key,
    telegram_ids,
)
from tests.texts import t, tn

WAVES = ((1, 40), (2, 25), (3, 30))  # (wave, people)


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_sessionmaker(engine)() as opened, opened.begin():
        yield opened


def random_person(rnd: random.Random, arrondissement: int | None, complete: bool = True) -> P:
    """Answers following the survey's branching; an unfinished response stops halfway."""
    answers: dict[str, Any] = {
        "calm": rnd.choices(range(1, 6), (1, 3, 6, 5, 2))[0],
        "lonely": SKIP if rnd.random() < 0.15 else rnd.choices(range(1, 6), (4, 3, 3, 2, 1))[0],
        "met": "yes" if rnd.random() < 0.65 else "no",
    }
    if answers["met"] == "yes":
        answers["again"] = "yes" if rnd.random() < 0.7 else "no"
        answers["with_whom"] = (
            SKIP
            if rnd.random() < 0.2
            else rnd.sample(("family", "friends", "neighbours"), rnd.randint(1, 2))
        )
    # "other" is rare: a small cell to merge.
    answers["where"] = rnd.choices(("club", "home", "phone", "other"), (40, 30, 29, 0.5))[0]
    if answers["where"] == "club":
        answers["how_often"] = rnd.randint(1, 5)
    answers["what"] = (
        SKIP
        if rnd.random() < 0.1
        else rnd.sample(("walks", "games", "music", "garden"), rnd.randint(1, 3))
    )
    if rnd.random() < 0.03:
        answers["what"] = ["tea"]  # rare option
    answers["visits"] = SKIP if rnd.random() < 0.2 else rnd.randint(0, 60)
    answers["hours"] = rnd.choice((0.5, 1, 1.5, 2, 2.5, 3, 4, 10))
    answers["words"] = (
        SKIP
        if rnd.random() < 0.5
        else rnd.choice(
            ("Merci", "merci", "Plus de sorties", "Très bien", "=1+1", "Zut", "à refaire", "Non")
        )
    )
    if not complete:
        # Extreme answers, so that counting an unfinished response would show.
        kept = dict(list(answers.items())[: rnd.randint(1, 6)])
        return P(
            {
                code: (5 if BY_CODE[code].kind == QuestionKind.scale else value)
                for code, value in kept.items()
            },
            complete=False,
            arrondissement=arrondissement,
        )
    return P(answers, arrondissement=arrondissement)


def generated(seed: int = 20261201) -> list[P]:
    rnd = random.Random(seed)
    people = [random_person(rnd, rnd.choice((13, 13, 13, 14, 1, 2, None))) for _ in range(260)]
    people += [random_person(rnd, rnd.choice((13, 14)), complete=False) for _ in range(30)]
    # Exactly 4 complete responses in the 7th (and unfinished ones, which do not count), 5 in
    # the 8th; one person of the 8th has since moved to the 9th.
    people += [random_person(rnd, 7) for _ in range(4)]
    people += [random_person(rnd, 7, complete=False) for _ in range(3)]
    people += [random_person(rnd, 8) for _ in range(5)]
    people[-1].lives_in = 9
    return people


# -- figures computed independently, from the people


def raw_values(people: Sequence[P], code: str) -> list[Any]:
    """Answers (not skipped) to `code` of complete responses."""
    return [
        person.answers[code]
        for person in people
        if person.complete and code in person.answers and person.answers[code] is not SKIP
    ]


def skipped(people: Sequence[P], code: str) -> int:
    return sum(1 for p in people if p.complete and p.answers.get(code, None) is SKIP)


def raw_given(people: Sequence[P], code: str) -> Counter[str]:
    """People per value or option (a multiple choice: per option) of complete responses."""
    given: Counter[str] = Counter()
    for value in raw_values(people, code):
        if BY_CODE[code].kind == QuestionKind.multiple:
            given.update(value)
        else:
            given[key(value)] += 1
    return given


def asked(people: Sequence[P], code: str) -> int:
    return sum(1 for p in people if p.complete and code in p.answers)


def check_question(result: QuestionResult, people: Sequence[P]) -> None:
    """The published figures against the answers: what is shown is exact and never a small
    group, what would be one is hidden (storage.survey_results' rule), means only when no
    value is hidden."""
    question = BY_CODE[result.code]
    values = raw_values(people, result.code)
    assert result.kind == question.kind.value
    for count in (result.asked, result.answered, result.skipped, *result.distribution.values()):
        assert count is None or count == 0 or count >= MIN_GROUP, result
    if result.asked is not None:
        assert result.asked == asked(people, result.code), result.code
    if result.skipped is not None:
        assert result.skipped == skipped(people, result.code), result.code
        assert result.answered == len(values), result.code
    else:
        assert result.answered is None or question.kind == QuestionKind.text
    if question.kind == QuestionKind.text:
        assert result.distribution == {}
        if result.answered is not None:
            assert result.answered == len(values)
        return
    given = raw_given(people, result.code)
    hidden = [cell for cell, count in given.items() if count and cell not in result.distribution]
    for cell, count in given.items():
        if 0 < count < MIN_GROUP:
            assert cell in hidden, (result.code, cell)
    for cell, count in result.distribution.items():
        if cell != SMALL:
            assert count == given.get(cell, 0), (result.code, cell)
    if question.kind != QuestionKind.multiple and result.distribution:
        no_answer = skipped(people, result.code) if result.skipped is None else 0
        assert result.distribution.get(SMALL, 0) == sum(given[c] for c in hidden) + no_answer
    keys = (
        ["1", "2", "3", "4", "5"]
        if question.kind == QuestionKind.scale
        else ["yes", "no"]
        if question.kind == QuestionKind.yes_no
        else list(question.options)
        if question.options
        else sorted(given, key=float)
    )
    # In a stable order: the question's values or options, then the bucket.
    shown = [cell for cell in result.distribution if cell != SMALL]
    assert shown == [cell for cell in keys if cell in result.distribution]
    if SMALL in result.distribution:
        assert list(result.distribution)[-1] == SMALL
    numeric = question.kind in (QuestionKind.scale, QuestionKind.number)
    if numeric and values and not hidden:
        assert result.mean == pytest.approx(statistics.fmean(values))
        assert result.median == pytest.approx(statistics.median(values))
        if question.kind == QuestionKind.number:
            assert result.total == pytest.approx(sum(values))
        else:
            assert result.total is None
    else:
        # A hidden value would come back from them (its people × it = mean × n - the rest).
        assert (result.mean, result.median, result.total) == (None, None, None), result.code


def hidden_alone(counts: Mapping[str, int], order: Sequence[str]) -> set[str]:
    """The rule for one table of one answer per person (no arrondissement shown), written
    again here: keys of 1 to 4 people hidden, then the least given (earliest on ties) while
    the hidden ones hold 1 to 4 people."""
    hidden = {k for k, count in counts.items() if 0 < count < MIN_GROUP}
    while 0 < sum(counts[k] for k in hidden) < MIN_GROUP:
        left = [k for k in order if k not in hidden and counts.get(k, 0)]
        hidden.add(min(left, key=lambda k: (counts[k], order.index(k))))
    return hidden


# -- aggregates


async def test_whole_survey_figures_match_the_answers(session: AsyncSession) -> None:
    people = generated()
    built = await build(session, people, invited_only=40)
    results = await survey_results(session, built.survey.id)
    complete = [p for p in people if p.complete]
    assert (results.invited, results.started, results.completed) == (
        len(people) + 40,
        len(people),
        len(complete),
    )
    assert results.response_rate == pytest.approx(len(complete) / (len(people) + 40))
    assert results.arrondissement is None and not results.suppressed
    assert [r.code for r in results.questions] == [q.code for q in QUESTIONS]
    assert [r.position for r in results.questions] == list(range(1, len(QUESTIONS) + 1))
    for result in results.questions:
        check_question(result, complete)
    # Counted from the indexes minus the unfinished responses, or through the complete ones
    # by arrondissement (for an arrondissement's results): the same figures.
    assert (await survey_views(session, built.survey.id, [13]))[None] == results
    # The generated data does exercise the rules: merged cells, a rare option, branching.
    where = results.question("where")
    assert where is not None and SMALL in where.distribution and "other" not in where.distribution
    visits = results.question("visits")
    assert visits is not None and SMALL in visits.distribution and visits.total is None
    calm = results.question("calm")
    assert calm is not None and SMALL not in calm.distribution and calm.mean is not None
    how_often = results.question("how_often")
    assert how_often is not None
    assert how_often.answered == sum(1 for p in complete if p.answers["where"] == "club")
    # Free texts: the coordinators read them all; the question was not announced as published.
    words = results.question("words")
    assert (
        words is not None
        and words.texts == []
        and words.answered == len(raw_values(complete, "words"))
    )
    read = (await survey_results(session, built.survey.id, coordinators=True)).question("words")
    assert read is not None and read.texts == sorted(raw_values(complete, "words"))


async def test_one_arrondissement_counts_the_complete_responses_answered_from_it(
    session: AsyncSession,
) -> None:
    people = generated(7)
    built = await build(session, people)
    for arrondissement in (13, 14, 8):
        mine = [p for p in people if p.arrondissement == arrondissement]
        results = await survey_results(session, built.survey.id, arrondissement=arrondissement)
        done = [p for p in mine if p.complete]
        assert not results.suppressed and results.arrondissement == arrondissement
        assert results.completed == len(done)
        # Profiles say where people live now: the progress figures are the whole survey's.
        assert (results.invited, results.started, results.response_rate) == (None, None, None)
        for result in results.questions:
            check_question(result, done)
    eighth = await survey_results(session, built.survey.id, arrondissement=8)
    assert eighth.completed == 5  # one of them lives in the 9th now: still counted here
    # Its five people answered so diversely that no question has figures of its own there.
    assert not any(result.published for result in eighth.questions)
    thirteenth = await survey_results(session, built.survey.id, arrondissement=13)
    assert any(result.published for result in thirteenth.questions)
    ninth = await survey_results(session, built.survey.id, arrondissement=9)
    assert ninth.suppressed  # nobody answered from it


async def test_an_arrondissement_has_figures_only_when_the_rest_is_not_a_small_group(
    session: AsyncSession,
) -> None:
    people = [P({"calm": 4, "met": "yes"}, arrondissement=3) for _ in range(4)]
    people += [P({"calm": 5}, complete=False, arrondissement=3) for _ in range(3)]
    people += [P({"calm": 2, "met": "no"}, arrondissement=4) for _ in range(5)]
    built = await build(session, people, QUESTIONS[:3])
    four = await survey_results(session, built.survey.id, arrondissement=3)
    assert four == SurveyResults(built.survey.id, None, None, 0, None, [], 3, suppressed=True)
    # The 4th's five would be the whole city minus the 3rd's four: no figures either.
    five = await survey_results(session, built.survey.id, arrondissement=4)
    assert five.suppressed and five.questions == []
    nobody = await survey_results(session, built.survey.id, arrondissement=16)
    assert nobody.suppressed and nobody.questions == []
    whole = await survey_results(session, built.survey.id)
    calm = whole.question("calm")
    # "4" (four people) is hidden, and "2" with it: the bucket alone would show four. No mean:
    # 9 × 2.889 = 26 = 5 × 2 + 4 × 4 would give the four back.
    assert calm is not None and calm.distribution == {"1": 0, "3": 0, "5": 0, SMALL: 9}
    assert (calm.mean, calm.median) == (None, None)

    # One more from outside Marseille: the rest (the 3rd's four and them) is five.
    people.append(P({"calm": 2, "met": "yes"}, arrondissement=0))
    built = await build(session, people, QUESTIONS[:3], series="again")
    five = await survey_results(session, built.survey.id, arrondissement=4)
    assert not five.suppressed and five.completed == 5
    met = five.question("met")
    assert met is not None and met.distribution == {"yes": 0, "no": 5}
    calm = five.question("calm")
    # The city hides «2» and «4» (four «4»), so the 4th does too, and the rest is five.
    assert calm is not None and calm.distribution == {"1": 0, "3": 0, "5": 0, SMALL: 5}
    assert (await survey_results(session, built.survey.id, arrondissement=3)).suppressed


async def test_a_question_answered_by_four_has_no_figures_and_by_five_has(
    session: AsyncSession,
) -> None:
    four = [P({"visits": 10 * (i + 1), "words": f"texte {i}"}) for i in range(4)]
    four += [P({"visits": SKIP, "words": SKIP}) for _ in range(3)]
    built = await build(session, four, (BY_CODE["visits"], BY_CODE["words"]))
    results = await survey_results(session, built.survey.id)
    for result in results.questions:
        # Four answered, three skipped: neither count can show.
        assert (result.answered, result.skipped, result.asked) == (None, None, 7)
        assert not result.published
        assert (result.distribution, result.mean, result.median, result.total, result.texts) == (
            {},
            None,
            None,
            None,
            [],
        )
    five = [*four, P({"visits": 7, "words": "encore"}), P({"visits": 7, "words": SKIP})]
    five += [P({"visits": 7, "words": SKIP}) for _ in range(3)]
    built = await build(session, five, (BY_CODE["visits"], BY_CODE["words"]), series="other")
    results = await survey_results(session, built.survey.id, coordinators=True)
    visits, words = results.questions
    assert (visits.answered, visits.skipped) == (None, None)  # the three skipped are hidden
    # 7 given by four people… no: by five (one with «encore», three skipping the words, one
    # more); 10, 20, 30 and 40 by one each: hidden, and so is the total they would give back.
    assert visits.distribution == {"7": 5, SMALL: 7}
    assert (visits.mean, visits.median, visits.total) == (None, None, None)
    assert (words.answered, words.skipped) == (5, 7) and words.published
    assert words.texts == ["encore", "texte 0", "texte 1", "texte 2", "texte 3"]
    public = await survey_results(session, built.survey.id)
    assert public.questions[1].texts == []  # not announced as published


async def test_a_question_for_some_roles_counts_only_the_people_asked(
    session: AsyncSession,
) -> None:
    questions = (
        Q("calm", QuestionKind.scale),
        Q("visits", QuestionKind.number, roles=["association"]),
    )
    members = [P({"calm": 3, "visits": 7}) for _ in range(6)]
    citizens = [P({"calm": 4}) for _ in range(5)]
    built = await build(session, [*members, *citizens], questions)
    results = await survey_results(session, built.survey.id)
    calm, visits = results.questions
    assert (calm.asked, calm.answered, calm.skipped) == (11, 11, 0)
    # The five citizens were not asked: they are neither answers nor skips.
    assert (visits.asked, visits.answered, visits.skipped) == (6, 6, 0)
    assert visits.distribution == {"7": 6} and visits.mean == 7
    # Figures of the whole city only: an arrondissement's few would show by difference.
    thirteenth = await survey_results(session, built.survey.id, arrondissement=13)
    assert thirteenth.questions[0].published and not thirteenth.questions[1].published

    # Three citizens not asked: a small group, so the question has no figures at all.
    few = await build(session, [*members, *citizens[:3]], questions, series="few")
    visits = (await survey_results(session, few.survey.id)).questions[1]
    assert not visits.published and visits.distribution == {} and visits.asked is None


async def test_results_where_every_figure_is_hidden_say_so_once(session: AsyncSession) -> None:
    questions = (BY_CODE["calm"], BY_CODE["hours"])
    diverse = [P({"calm": 1 + i % 5, "hours": 10 + i}) for i in range(5)]
    built = await build(session, diverse, questions)
    results = await survey_results(session, built.survey.id)
    assert not any(result.published for result in results.questions)
    stored = list(
        await session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == built.survey.id)
            .order_by(SurveyQuestion.position)
        )
    )
    i18n = create_i18n("fr")
    with i18n.context(), i18n.use_locale("fr"):
        text = results_message(results, built.survey, "fr", stored)
    note = t(
        "fr",
        "The figures of every question are hidden, so that no group of fewer than "
        "{count} people can be singled out.",
        count=MIN_GROUP,
    )
    assert text.count(note) == 1 and text.rstrip().endswith(f"{note}</i>")
    assert "moins de 5" not in text.replace(note, "")
    assert "<b>1. calm</b>" in text and "<b>2. hours</b>" in text

    # One question shown, two hidden: the note names them, once, in the locale's way.
    questions = (BY_CODE["calm"], BY_CODE["hours"], BY_CODE["visits"])
    mixed = [P({"calm": 3, "hours": 10 + i, "visits": 20 + i}) for i in range(5)]
    built = await build(session, mixed, questions, series="mixed")
    results = await survey_results(session, built.survey.id)
    stored = list(
        await session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == built.survey.id)
            .order_by(SurveyQuestion.position)
        )
    )
    with i18n.context(), i18n.use_locale("fr"):
        text = results_message(results, built.survey, "fr", stored)
    note = tn(
        "fr",
        "The figures of question {numbers} are not shown, so that no group of fewer than "
        "{count} people can be singled out.",
        "The figures of questions {numbers} are not shown, so that no group of fewer than "
        "{count} people can be singled out.",
        2,
        numbers="2 et 3",
        count=MIN_GROUP,
    )
    assert text.count(note) == 1 and "• 3\xa0: 5 (100" in text


async def test_small_cells_are_merged_until_the_bucket_is_not_small(
    session: AsyncSession,
) -> None:
    # Scale: 1 and 2 are small, together 5 -> one bucket of 5.
    scale = [1] * 2 + [2] * 3 + [3] * 10 + [5] * 7
    # Yes/no: "no" is 3; the bucket would be 3, so "yes" goes with it: nothing left to show.
    yes_no = ["yes"] * 19 + ["no"] * 3
    # Single: "other" alone (1) is too few; the smallest other cell (phone, 5) joins it.
    single = ["club"] * 9 + ["home"] * 7 + ["phone"] * 5 + ["other"]
    people = [
        P({"calm": s, "met": y, "where": w}) for s, y, w in zip(scale, yes_no, single, strict=True)
    ]
    built = await build(session, people, (BY_CODE["calm"], BY_CODE["met"], BY_CODE["where"]))
    results = await survey_results(session, built.survey.id)
    calm, met, where = results.questions
    assert calm.distribution == {"3": 10, "4": 0, "5": 7, SMALL: 5}
    assert met.distribution == {} and not met.published and met.answered == 22
    assert where.distribution == {"club": 9, "home": 7, SMALL: 6}
    # No mean nor median: with the five of the bucket (2 × 1 + 3 × 2 = 8), the mean would
    # tell that two answered 1 and three 2.
    assert (calm.mean, calm.median) == (None, None)
    # Without the small cells, every cell shows and so do the mean and median.
    people = [P({"calm": s}) for s in [3] * 10 + [5] * 7]
    built = await build(session, people, (BY_CODE["calm"],), series="calm")
    (calm,) = (await survey_results(session, built.survey.id)).questions
    assert calm.distribution == {"1": 0, "2": 0, "3": 10, "4": 0, "5": 7}
    assert (calm.mean, calm.median) == (pytest.approx(statistics.fmean([3] * 10 + [5] * 7)), 3)


async def test_a_multiple_choice_is_counted_by_combination_of_options(
    session: AsyncSession,
) -> None:
    chosen = [["walks"]] * 8 + [["walks", "games"]] * 5 + [["music"]] * 6
    built = await build(session, [P({"what": c}) for c in chosen], (BY_CODE["what"],))
    (what,) = (await survey_results(session, built.survey.id)).questions
    assert what.answered == 19
    assert what.distribution == {"walks": 13, "games": 5, "music": 6, "garden": 0, "tea": 0}
    # Two chose walks and tea: tea is hidden, and so is walks, or «walks with a hidden
    # option» would be those two. Those who chose walks count in the bucket.
    chosen += [["walks", "tea"]] * 2
    built = await build(session, [P({"what": c}) for c in chosen], (BY_CODE["what"],), series="b")
    (what,) = (await survey_results(session, built.survey.id)).questions
    assert what.distribution == {"games": 5, "music": 6, "garden": 0, SMALL: 15}
    # Ten chose walks, two of them with music and tea, two others games: walks (10) shown
    # with 12 answers would tell that two chose something else.
    chosen = [["walks"]] * 8 + [["walks", "tea", "music"]] * 2 + [["games"]] * 2
    built = await build(session, [P({"what": c}) for c in chosen], (BY_CODE["what"],), series="c")
    (what,) = (await survey_results(session, built.survey.id)).questions
    assert what.answered == 12
    assert what.distribution == {"garden": 0, SMALL: 12}


async def test_answers_written_by_the_survey_flow_are_read_back(session: AsyncSession) -> None:
    """The same figures when the answers come through storage.surveys, /back and skip."""
    built = await build(session, [], (*QUESTIONS[:4], BY_CODE["what"]), status=SurveyStatus.open)
    q = built.questions
    users = [User(telegram_id=next(telegram_ids), locale="fr", arrondissement=2) for _ in range(7)]
    session.add_all(users)
    await session.flush()
    await session.execute(
        insert(SurveyInvitation), [{"survey_id": built.survey.id, "user_id": u.id} for u in users]
    )
    for index, user in enumerate(users):
        response = await start_response(session, built.survey, user, NOW)
        if index == 0:  # a first answer taken back with /back
            await answer(session, response, q["calm"], value_number=5)
            assert await previous_question(session, response) == q["calm"]
        await answer(session, response, q["calm"], value_number=index % 3 + 1)
        if index % 2:
            await skip(session, response, q["lonely"])
        else:
            await answer(session, response, q["lonely"], value_number=4)
        await answer(session, response, q["met"], option_codes=["yes"])
        await answer(session, response, q["again"], option_codes=["no" if index < 5 else "yes"])
        await answer(session, response, q["what"], option_codes=["walks", "tea"])
        if index < 6:
            assert await complete_if_done(session, response, NOW)
    results = await survey_results(session, built.survey.id)
    assert (results.invited, results.started, results.completed) == (7, 7, 6)
    assert results.response_rate is None  # the one who did not finish would show
    calm, lonely, met, again, what = results.questions
    # 1, 2 and 3 twice each: hidden, and the mean with them; the 5 taken back is gone.
    assert calm.answered == 6 and calm.distribution == {"4": 0, "5": 0, SMALL: 6}
    assert calm.mean is None
    assert (lonely.answered, lonely.skipped, lonely.mean) == (None, None, None)
    assert met.distribution == {"yes": 6, "no": 0}
    assert again.distribution == {} and again.asked == 6  # "no" 5, "yes" 1: both hidden
    assert what.answered == 6 and what.distribution == {
        "walks": 6,
        "games": 0,
        "music": 0,
        "garden": 0,
        "tea": 6,
    }
    with pytest.raises(LookupError):
        await survey_results(session, built.survey.id + 1000)


# -- waves


async def test_waves_of_a_series_come_in_order_with_their_results(session: AsyncSession) -> None:
    rnd = random.Random(3)
    second = await build(session, [random_person(rnd, 13) for _ in range(30)], wave=2)
    first = await build(session, [random_person(rnd, 13) for _ in range(20)], wave=1)
    await build(session, [], wave=3, status=SurveyStatus.draft)
    await build(session, [random_person(rnd, 13) for _ in range(10)], series="another")
    waves = await compare_waves(session, "isolation")
    assert [survey.id for survey, _ in waves] == [first.survey.id, second.survey.id]
    for (survey, results), built in zip(waves, (first, second), strict=True):
        assert results == await survey_results(session, survey.id)
        assert results.completed == len(built.people)
        for result in results.questions:
            check_question(result, built.people)
    assert await compare_waves(session, "nothing") == []


async def test_key_figures_move_across_the_waves_of_a_challenge(session: AsyncSession) -> None:
    challenge = Challenge(
        slug="isokey",
        texts={"fr": {"title": "Isolement", "description": "Rompre l'isolement."}},
        theme_code="older_people",
        status=ChallengeStatus.open,
    )
    session.add(challenge)
    await session.flush()
    rnd = random.Random(11)
    people = {wave: [random_person(rnd, 13) for _ in range(size)] for wave, size in WAVES}
    # The score and the visits of the first wave given by groups of five or more: they show.
    for number, person in enumerate(people[1]):
        person.answers["lonely"] = 2 + number % 3
        person.answers["visits"] = number % 4
    # In the second wave only four people gave their visits: no total for it.
    for person in people[2][4:]:
        person.answers["visits"] = SKIP
    waves = {}
    for wave, status in (
        (2, SurveyStatus.closed),
        (1, SurveyStatus.closed),
        (3, SurveyStatus.open),
    ):
        waves[wave] = await build(
            session, people[wave], wave=wave, status=status, challenge_id=challenge.id
        )
    # Another challenge's survey does not mix in.
    await build(session, [random_person(rnd, 13) for _ in range(10)], series="else")

    def expected(people: Sequence[P]) -> dict[str, float | None]:
        found: dict[str, float | None] = {}
        for code in ("lonely", "visits", "met"):
            values = raw_values(people, code)
            counts = Counter(key(value) for value in values)
            order = ["yes", "no"] if code == "met" else sorted(counts, key=float)
            counts["skipped"] = skipped(people, code)
            hidden = hidden_alone(counts, [*order, "skipped"]) - {"skipped"}
            if hidden or not values:
                found[code] = None
            elif code == "lonely":
                found[code] = statistics.fmean(values)
            elif code == "visits":
                found[code] = float(sum(values))
            else:
                found[code] = 100 * counts["yes"] / len(values)
        return found

    figures = await key_figures_over_time(session, challenge.id)
    assert [wave for wave, _ in figures] == [1, 2]
    for wave, values in figures:
        want = expected(waves[wave].people)
        assert values.keys() == want.keys()
        for code, value in want.items():
            assert values[code] == (None if value is None else pytest.approx(value)), code
    assert figures[1][1]["visits"] is None
    assert None not in (figures[0][1]["lonely"], figures[0][1]["visits"], figures[0][1]["met"])
    with_open = await key_figures_over_time(session, challenge.id, include_open=True)
    assert [wave for wave, _ in with_open] == [1, 2, 3]
    assert await key_figures_over_time(session, challenge.id + 1) == []


# -- exports


async def test_csv_is_for_french_excel_and_names_nobody(session: AsyncSession) -> None:
    tricky = 'Il a dit "bonjour"; puis\nil est parti'
    people = [
        P({"calm": 3, "met": "yes", "what": ["music", "walks"], "hours": 2.5, "words": tricky}),
        P({"calm": 4, "met": "no", "what": SKIP, "hours": 1, "words": "=SUM(A1:A9)"}),
        P({"calm": 5, "met": "no", "what": ["tea"], "hours": 0.5, "words": "Très bien — ça va"}),
        *[P({"calm": 1, "met": "no", "what": ["games"], "hours": 3}) for _ in range(3)],
        *[
            P({"calm": 2, "met": "no", "what": ["games"], "hours": 3}, arrondissement=2)
            for _ in range(2)
        ],
        P({"calm": 2, "met": "no", "hours": 3}, arrondissement=None),
        P({"calm": 1}, complete=False),  # unfinished: not exported
    ]
    questions = (
        BY_CODE["calm"],
        BY_CODE["met"],
        BY_CODE["what"],
        BY_CODE["hours"],
        BY_CODE["words"],
    )
    built = await build(session, people, questions)
    data = await answers_csv(session, built.survey.id)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert text.endswith("\r\n")
    assert text.count("\r\n") == 1 + 9  # header and the nine complete responses
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == ["response", "arrondissement", "calm", "met", "what", "hours", "words"]
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, 10)]
    assert rows[1][1:] == ["13", "3", "yes", "walks, music", "2,5", tricky]
    assert rows[2][1:] == ["13", "4", "no", "", "1", "'=SUM(A1:A9)"]
    assert rows[3][1:] == ["13", "5", "no", "tea", "0,5", "Très bien — ça va"]
    # Six complete responses in the 13th; two in the 2nd and one without: no arrondissement.
    assert [row[1] for row in rows[1:]] == ["13"] * 6 + ["", "", ""]
    # The text with ; " and a line break is quoted, its quotes doubled.
    assert '"Il a dit ""bonjour""; puis\nil est parti"' in text
    for person in people:
        assert str(person.telegram_id).encode() not in data
    assert b"user" not in data.lower() and b"2026" not in data
    nobody = await build(session, [], (BY_CODE["calm"],), series="empty")
    assert await answers_csv(session, nobody.survey.id) == (
        b"\xef\xbb\xbfresponse;arrondissement;calm\r\n"
    )


async def test_json_and_summary_chart_of_real_results(session: AsyncSession) -> None:
    people = generated(5)
    built = await build(session, people, invited_only=3)
    results = await survey_results(session, built.survey.id, coordinators=True)
    document = json.loads(results_json(results).decode("utf-8"))
    assert document.pop("min_group") == MIN_GROUP
    assert document == json.loads(json.dumps(asdict(results)))
    assert document["completed"] == sum(1 for p in people if p.complete)
    # Distributions keep their order (values, options, then the bucket).
    assert [list(q["distribution"]) for q in document["questions"]] == [
        list(result.distribution) for result in results.questions
    ]
    assert "Très bien" in results_json(results).decode("utf-8")  # not \u-escaped
    local = await survey_results(session, built.survey.id, arrondissement=7)
    assert json.loads(results_json(local))["suppressed"] is True

    image = picture(summary_chart(results))
    closed = [r for r in results.questions if r.kind in ("scale", "yes_no", "single", "multiple")]
    assert len(closed) == 8
    for panel, result in zip(panels(image), closed, strict=False):
        values = [v for v in result.distribution.values() if v]
        if values:
            assert_proportional([h for _, h, _ in bars(panel)], values)
        else:
            assert no_bars(panel)


# -- charts

Rgb = tuple[int, int, int]
BARS: dict[Rgb, str] = {
    ImageColor.getrgb(BAR)[:3]: BAR,
    ImageColor.getrgb(MERGED_BAR)[:3]: MERGED_BAR,
}


def picture(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def axis_row(image: Image.Image) -> int:
    """The top row of the lowest line drawn in ink over most of the width."""
    pixels = image.load()
    ink = ImageColor.getrgb(INK)[:3]

    def is_axis(y: int) -> bool:
        return sum(1 for x in range(image.width) if pixels[x, y] == ink) > 0.6 * image.width

    y = image.height - 1
    while y >= 0 and not is_axis(y):
        y -= 1
    assert y >= 0, "no axis"
    while is_axis(y - 1):
        y -= 1
    return y


def bars(image: Image.Image) -> list[tuple[int, int, str]]:
    """(left x, height, colour) of every bar, left to right, measured from the axis up."""
    pixels = image.load()
    y = axis_row(image) - 1
    found = []
    x = 0
    while x < image.width:
        colour = pixels[x, y]
        if colour in BARS:
            start = x
            while x < image.width and pixels[x, y] == colour:
                x += 1
            if x - start >= 4:
                top = y
                while top >= 0 and pixels[start + 1, top] == colour:
                    top -= 1
                found.append((start, y - top, BARS[colour]))
        x += 1
    return found


def assert_proportional(heights: Sequence[int], values: Sequence[float]) -> None:
    assert max(heights) >= 60  # the picture uses its height
    scale = max(heights) / max(values)
    for height, value in zip(heights, values, strict=True):
        assert abs(height - value * scale) <= 1.5, (heights, values)


def result_of(kind: QuestionKind, distribution: Mapping[str, int], **extra: Any) -> QuestionResult:
    fields: dict[str, Any] = {
        "question_id": 1,
        "code": "q",
        "kind": kind.value,
        "answered": sum(distribution.values()),
        "skipped": 0,
        "distribution": dict(distribution),
        "mean": None,
        "median": None,
        "total": None,
        "texts": [],
        "position": 1,
        "options": [],
    }
    return QuestionResult(**{**fields, **extra})


def test_question_chart_bars_follow_the_distribution() -> None:
    result = result_of(QuestionKind.scale, {"1": 0, "2": 12, "3": 30, "4": 7, "5": 21, SMALL: 9})
    image = picture(question_chart(result))
    found = bars(image)
    # No bar for 0; the merged bucket last, in its own colour.
    assert [colour for _, _, colour in found] == [BAR, BAR, BAR, BAR, MERGED_BAR]
    assert_proportional([height for _, height, _ in found], [12, 30, 7, 21, 9])
    lefts = [left for left, _, _ in found]
    step = lefts[2] - lefts[1]
    assert lefts[1] - lefts[0] == pytest.approx(step, abs=2)
    assert lefts[0] - step > 0  # the empty slot of "1" is left of the first bar


def test_question_chart_labels_are_digits_and_one_per_bar() -> None:
    result = result_of(
        QuestionKind.single, {"club": 10, "phone": 6, SMALL: 5}, options=["club", "home", "phone"]
    )
    assert bar_labels(result) == ["1", "3", SMALL]
    assert bar_labels(result_of(QuestionKind.yes_no, {"yes": 5, "no": 6})) == ["✓", "✗"]
    assert picture(question_chart(result, ["1", "3", "<5"])).size == (1280, 800)
    with pytest.raises(ValueError):
        question_chart(result, ["club", "3", "<5"])
    with pytest.raises(ValueError):
        question_chart(result, ["نادي", "3", "<5"])
    with pytest.raises(ValueError):
        question_chart(result, ["1", "3"])
    assert question_chart(result) == question_chart(result)  # deterministic


def no_bars(image: Image.Image) -> bool:
    """No axis, so no bar; the grey "<5" of a hidden question is drawn in the middle."""
    with pytest.raises(AssertionError, match="no axis"):
        axis_row(image)
    return True


def test_a_question_without_figures_draws_no_bar() -> None:
    hidden = picture(question_chart(result_of(QuestionKind.scale, {}, answered=3)))
    assert no_bars(hidden)
    grey = ImageColor.getrgb(MERGED_BAR)[:3]
    middle = hidden.crop((440, 200, 840, 600))
    assert grey in {colour for _, colour in middle.getcolors(1 << 16) or []}
    empty = picture(question_chart(result_of(QuestionKind.scale, {}, answered=0)))
    assert empty.getextrema() == ((255, 255), (255, 255), (255, 255))


def panels(image: Image.Image) -> list[Image.Image]:
    width, height = PANEL_SIZE
    return [
        image.crop((x, y, x + width, y + height))
        for y in range(0, image.height, height)
        for x in range(0, image.width, width)
    ]


def test_summary_chart_has_a_panel_per_closed_question_with_its_bars() -> None:
    questions = [
        result_of(QuestionKind.scale, {"1": 5, "2": 10, "3": 20, "4": 15, "5": 0}, position=1),
        result_of(QuestionKind.number, {"3": 50}, position=2),  # not a closed question
        result_of(QuestionKind.yes_no, {"yes": 33, "no": 17}, position=3),
        result_of(QuestionKind.text, {}, answered=40, position=4),  # no panel either
        result_of(
            QuestionKind.single, {"a": 8, "b": 25, SMALL: 6}, position=5, options=["a", "b"]
        ),
        result_of(
            QuestionKind.multiple, {"x": 40, "y": 12}, answered=45, position=6, options=["x", "y"]
        ),
        result_of(QuestionKind.scale, {}, answered=4, position=7),  # too few: no bars
    ]
    results = SurveyResults(1, 60, 55, 50, 50 / 60, questions, None)
    image = picture(summary_chart(results))
    width, height = PANEL_SIZE
    assert image.size == (3 * width, 2 * height)  # five panels, three a row
    cut = panels(image)
    expected = [[5, 10, 20, 15], [33, 17], [8, 25, 6], [40, 12]]
    for panel, values in zip(cut[:4], expected, strict=True):
        found = bars(panel)
        assert_proportional([h for _, h, _ in found], values)
    assert [c for _, _, c in bars(cut[2])] == [BAR, BAR, MERGED_BAR]
    assert no_bars(cut[4])  # the question answered by four
    assert cut[5].getextrema() == ((255, 255), (255, 255), (255, 255))  # no sixth panel
    assert summary_chart(results) == summary_chart(results)


def test_waves_chart_draws_a_bar_per_known_figure() -> None:
    image = picture(waves_chart([(1, 3.4), (2, None), (3, 2.1), (4, 4.0)]))
    assert image.size == (800, 480)
    found = bars(image)
    assert len(found) == 3
    assert_proportional([h for _, h, _ in found], [3.4, 2.1, 4.0])
    lefts = [left for left, _, _ in found]
    assert lefts[1] - lefts[0] == pytest.approx(2 * (lefts[2] - lefts[1]), abs=2)
    assert waves_chart([(1, 1200.0), (2, 1530.0)]) != waves_chart([(1, 1200.0), (2, 1531.0)])
    assert waves_chart([(1, 2.5)], decimal_mark=",") != waves_chart([(1, 2.5)])
    picture(waves_chart([]))
    picture(waves_chart([(1, -3.0), (2, 5.0)]))
