"""Published figures never single out fewer than 5 people, directly or by difference: the two
attacks seen on the survey results (a mean giving back hidden answers; an arrondissement's
figures subtracted from the whole city's, read by switching arrondissement in /settings), free
texts kept to the coordinators unless announced as published — and, over random small surveys,
every figure of every table checked against the rule."""

from __future__ import annotations

import itertools
import random
import re
import statistics
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import create_sessionmaker
from storage.models import QuestionKind, SurveyQuestion
from storage.survey_files import InvalidSurvey, import_surveys
from storage.survey_results import (
    SMALL,
    QuestionResult,
    SurveyResults,
    survey_results,
    survey_views,
)
from storage.surveys import (
    MIN_GROUP,
    answer,
    close_survey,
    complete_if_done,
    get_survey,
    open_survey,
    questions_of,
    start_response,
)
from storage.users import get_or_create_user
from tests.conversation import Harness, Person, texts
from tests.survey_results_setup import SKIP, P, Q, build, key
from tests.surveys_setup import COORDINATOR, NOW, both, citizen

# -- a survey answered through storage.surveys


def survey_file(*questions: dict[str, Any]) -> dict[str, Any]:
    return {
        "series": "disclosure",
        "texts": {
            "en": {"title": "Neighbours", "intro": "Two questions.", "thanks": "Thanks!"},
            "fr": {"title": "Voisins", "intro": "Deux questions.", "thanks": "Merci !"},
        },
        "questions": list(questions),
    }


SCALE = {
    "code": "lonely",
    "kind": "scale",
    "texts": both(
        "How lonely?", "Seul ?", low=("Not at all", "Pas du tout"), high=("Very", "Très")
    ),
}
YES_NO = {"code": "helped", "kind": "yes_no", "texts": both("Helped?", "Aidé ?")}
SHARED = {
    "code": "shared",
    "kind": "text",
    "required": False,
    "published": True,
    "texts": both("A word for everyone?", "Un mot pour tous ?"),
}
PRIVATE = {
    "code": "private",
    "kind": "text",
    "required": False,
    "texts": both("A word for the city?", "Un mot pour la Ville ?"),
}


async def opened(harness: Harness, *questions: dict[str, Any]) -> int:
    async with harness.sessionmaker.begin() as session:
        (survey,) = await import_surveys(session, [survey_file(*questions)], COORDINATOR)
        await open_survey(session, survey.id, COORDINATOR, NOW)
        return survey.id


async def answered(harness: Harness, survey_id: int, telegram_id: int, **answers: Any) -> None:
    """The person answers every question, as the survey flow stores it."""
    async with harness.sessionmaker.begin() as session:
        await open_survey(session, survey_id, COORDINATOR, NOW)  # invites the newcomers
        user = await get_or_create_user(session, telegram_id, "en")
        survey = await get_survey(session, survey_id)
        assert survey is not None
        response = await start_response(session, survey, user, NOW)
        for question in await questions_of(session, survey_id):
            value = answers[question.code]
            if question.kind is QuestionKind.scale:
                await answer(session, response, question, value_number=value)
            elif question.kind is QuestionKind.text:
                await answer(session, response, question, value_text=value)
            else:
                await answer(session, response, question, option_codes=[value])
        assert await complete_if_done(session, response, NOW)


async def closed(harness: Harness, survey_id: int) -> None:
    async with harness.sessionmaker.begin() as session:
        await close_survey(session, survey_id, COORDINATOR, NOW)


async def read_results(person: Person) -> str:
    """What the person reads of the survey's results in the Surveys menu."""
    await person.send("/start")
    await person.press("Surveys")
    return "\n".join(texts(await person.press("Results: Neighbours")))


async def move(person: Person, button: str) -> None:
    """The person says in /settings they now live in another arrondissement."""
    await person.send("/settings")
    await person.press("Arrondissement")
    await person.press(button)


def sections(text: str) -> dict[str, str]:
    """The whole city's part of a results message ("city"), and its arrondissement's."""
    city, _, local = text.partition("In your arrondissement")
    return {"city": city, **({"local": local} if local else {})}


def cells(section: str) -> dict[str, int]:
    """Answer -> people, as written in a results message."""
    return {label: int(count) for label, count in re.findall(r"• ([^:\n]+): (\d+)", section)}


# -- the mean that gave hidden answers back


async def test_a_mean_no_longer_gives_back_answers_hidden_in_the_bucket(harness: Harness) -> None:
    survey_id = await opened(harness, SCALE)
    # Four answer «4» from the 3rd, five «2» from the 4th: «4» is a group of four.
    for number in range(9):
        telegram_id = 3000 + number
        await citizen(harness, telegram_id, arrondissement=3 if number < 4 else 4)
        await answered(harness, survey_id, telegram_id, lonely=4 if number < 4 else 2)
    await closed(harness, survey_id)
    async with harness.sessionmaker() as session:
        whole = await survey_results(session, survey_id)
    (lonely,) = whole.questions
    # «2» goes with «4», or the bucket would be the four; the zeros stay.
    assert lonely.distribution == {"1": 0, "3": 0, "5": 0, SMALL: 9}
    # 9 × 2.889 = 26 = 5 × 2 + 4 × 4: a mean (or a median) would give the four back.
    assert (lonely.mean, lonely.median, lonely.total) == (None, None, None)

    text = await read_results(harness.person(3000))
    assert "mean" not in text and "median" not in text
    assert "• other answers, put together so that no small group stands out: 9 (100%)" in text
    assert "• 4" not in text and "• 2:" not in text
    # The four of the 3rd have no arrondissement figures; the 4th's five would give them by
    # difference, so they have none either.
    for telegram_id in (3000, 3008):
        local = sections(await read_results(harness.person(telegram_id)))["local"]
        assert "Not shown separately" in local and not cells(local)


# -- the arrondissement subtracted from the whole city


async def test_arrondissements_subtracted_from_the_city_single_out_nobody(
    harness: Harness,
) -> None:
    survey_id = await opened(harness, YES_NO)
    # Five in the 1st said yes, five in the 2nd no, one in the 13th yes.
    people = {4000 + n: (1, "yes") for n in range(5)}
    people |= {4100 + n: (2, "no") for n in range(5)}
    people[4200] = (13, "yes")
    for telegram_id, (arrondissement, said) in people.items():
        await citizen(harness, telegram_id, arrondissement=arrondissement)
        await answered(harness, survey_id, telegram_id, helped=said)
    curious = await citizen(harness, 4999, arrondissement=13)  # answered nothing
    await closed(harness, survey_id)

    # Everything anyone can read: each respondent, and the curious one from every
    # arrondissement /settings offers.
    read: list[dict[str, str]] = []
    for telegram_id in people:
        read.append(sections(await read_results(harness.person(telegram_id))))
    for button in ("1st", "2nd", "13th"):
        await move(curious, button)
        found = sections(await read_results(curious))
        assert "local" not in found  # no arrondissement's figures to someone who did not answer
        read.append(found)

    city = (
        {cells(found["city"])["Yes"] for found in read},
        {cells(found["city"])["No"] for found in read},
    )
    assert city == ({6}, {5})
    shown: dict[int, dict[str, int]] = {}
    for (_telegram_id, (arrondissement, _)), found in zip(people.items(), read, strict=False):
        local = cells(found.get("local", ""))
        if local:
            shown[arrondissement] = local
    # Only one of the 1st and the 2nd has figures: with both, the city minus them is the 13th.
    assert list(shown) == [2] and shown[2] == {"Yes": 0, "No": 5}
    for places in itertools.chain.from_iterable(
        itertools.combinations(shown, size) for size in range(1, len(shown) + 1)
    ):
        for answer_label, total in (("Yes", 6), ("No", 5)):
            rest = total - sum(shown[place][answer_label] for place in places)
            assert rest == 0 or rest >= MIN_GROUP, (places, answer_label, rest)
    # The 1st's and the 13th's respondents are told why they see no figures of their own.
    lone = sections(await read_results(harness.person(4200)))["local"]
    assert "Not shown separately" in lone and not cells(lone)


async def test_results_follow_the_arrondissement_answered_from_not_the_profile(
    harness: Harness,
) -> None:
    survey_id = await opened(harness, YES_NO)
    for number in range(10):
        telegram_id = 5000 + number
        await citizen(harness, telegram_id, arrondissement=2 if number < 5 else 3)
        await answered(harness, survey_id, telegram_id, helped="yes" if number % 2 else "no")
    await closed(harness, survey_id)
    person = harness.person(5000)  # answered from the 2nd
    before = sections(await read_results(person))["local"]
    assert "(Arrondissement 2)" in before
    await move(person, "13th")
    after = sections(await read_results(person))["local"]
    assert after == before


# -- free texts


async def test_free_texts_reach_readers_only_when_announced_as_published(
    harness: Harness,
) -> None:
    survey_id = await opened(harness, SHARED, PRIVATE)
    for number in range(6):
        telegram_id = 6000 + number
        await citizen(harness, telegram_id)
        await answered(
            harness,
            survey_id,
            telegram_id,
            shared=f"Bravo {number}",
            private=f"Mon voisin Ahmed est malade {number}",
        )
    await closed(harness, survey_id)
    for reader in (harness.person(6000), await citizen(harness, 6999)):
        text = await read_results(reader)
        assert "• Bravo 0" in text and "• Bravo 5" in text
        assert "Ahmed" not in text
        assert "The written answers are read by the coordinators only." in text
    async with harness.sessionmaker() as session:
        public = await survey_results(session, survey_id)
        coordinators = await survey_results(session, survey_id, coordinators=True)
    assert public.questions[1].texts == [] and public.questions[1].answered == 6
    assert len(coordinators.questions[1].texts) == 6


async def test_respondents_are_told_before_a_published_question(harness: Harness) -> None:
    survey_id = await opened(harness, SHARED, PRIVATE)
    person = await citizen(harness, 7000)
    async with harness.sessionmaker.begin() as session:
        await open_survey(session, survey_id, COORDINATOR, NOW)
    await person.send("/start")
    await person.press("Surveys")
    await person.press("Answer: Neighbours")
    assert "A word for everyone?" in person.last
    assert (
        "⚠️ The answers to this question will be published with the results, as written, "
        "without your name: anyone using the bot can read them." in person.last
    )
    await person.send("Bravo")
    assert "A word for the city?" in person.last
    assert "Your answer will be read by the city's coordinators only." in person.last
    assert "published" not in person.last


async def test_only_a_free_text_question_is_published(harness: Harness) -> None:
    async with harness.sessionmaker.begin() as session:
        with pytest.raises(InvalidSurvey) as refused:
            await import_surveys(session, [survey_file({**SCALE, "published": True})])
        assert refused.value.field == "published"
        with pytest.raises(InvalidSurvey) as refused:
            await import_surveys(session, [survey_file({**SHARED, "published": "yes"})])
        assert refused.value.field == "published"
        (survey,) = await import_surveys(session, [survey_file(SHARED, PRIVATE)])
        shared, private = await questions_of(session, survey.id)
        assert (shared.published, private.published) == (True, False)


# -- every figure of every table, over random small surveys


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_sessionmaker(engine)() as opened, opened.begin():
        yield opened


RANDOM_QUESTIONS = (
    Q("mood", QuestionKind.scale, required=False),
    Q("met", QuestionKind.yes_no),
    Q("again", QuestionKind.yes_no, show_if={"question": "met", "equals": "yes"}),
    Q("where", QuestionKind.single, ("club", "home", "phone")),
    Q("often", QuestionKind.scale, show_if={"question": "where", "equals": "club"}),
    Q("what", QuestionKind.multiple, ("walks", "games", "music"), required=False),
    Q("visits", QuestionKind.number, required=False),
    Q("shared", QuestionKind.text, required=False),
    Q("notes", QuestionKind.text, required=False),
)
BY_CODE = {question.code: question for question in RANDOM_QUESTIONS}
PUBLISHED = {"shared"}


def weighted(rnd: random.Random, values: Sequence[Any]) -> Any:
    """A value with weights drawn for the survey: some values rare, some common."""
    return rnd.choices(values, [rnd.random() ** 2 for _ in values])[0]


def random_people(rnd: random.Random) -> list[P]:
    places = [1, 2, 3, 13, None]
    weights = [rnd.random() for _ in places]
    size = rnd.choice((rnd.randint(5, 20), rnd.randint(20, 90)))
    mood = [rnd.random() ** 2 for _ in range(5)]
    people = []
    for _ in range(size):
        answers: dict[str, Any] = {
            "mood": SKIP if rnd.random() < 0.15 else rnd.choices(range(1, 6), mood)[0],
            "met": "yes" if rnd.random() < rnd.choice((0.2, 0.5, 0.9)) else "no",
            "where": rnd.choice(("club", "club", "home", "phone")),
            "visits": SKIP if rnd.random() < 0.3 else rnd.choice((0, 0, 1, 2, 2, 3, 10)),
            "shared": SKIP if rnd.random() < 0.4 else rnd.choice(("Bien", "Merci", "Top")),
            "notes": SKIP if rnd.random() < 0.4 else f"note {rnd.randint(1, 9)}",
        }
        if answers["met"] == "yes":
            answers["again"] = rnd.choice(("yes", "yes", "no"))
        if answers["where"] == "club":
            answers["often"] = rnd.randint(3, 5)
        answers["what"] = (
            SKIP
            if rnd.random() < 0.2
            else rnd.sample(("walks", "games", "music"), rnd.choice((1, 1, 1, 2, 3)))
        )
        people.append(
            P(answers, complete=rnd.random() < 0.9, arrondissement=rnd.choices(places, weights)[0])
        )
    return people


def raw(people: Sequence[P], code: str) -> tuple[int, int, Counter[str], list[Any]]:
    """(asked, skipped, people per key — per option for a multiple choice, values given)."""
    question = BY_CODE[code]
    asked = skipped = 0
    given: Counter[str] = Counter()
    values: list[Any] = []
    for person in people:
        if not person.complete or code not in person.answers:
            continue
        asked += 1
        value = person.answers[code]
        if value is SKIP:
            skipped += 1
            continue
        values.append(value)
        if question.kind == QuestionKind.multiple:
            given.update(value)
        elif question.kind != QuestionKind.text:
            given[key(value)] += 1
    return asked, skipped, given, values


def small(count: int) -> bool:
    return 0 < count < MIN_GROUP


def figures(results: SurveyResults) -> dict[tuple[str, str], int]:
    """Every count a table publishes, by (question, figure); the survey's under ("", …)."""
    found: dict[tuple[str, str], int] = {}
    if results.suppressed:
        return found
    found[("", "completed")] = results.completed
    if results.response_rate is not None and results.invited is not None:
        found[("", "invited")] = results.invited
        found[("", "not answered")] = results.invited - results.completed
    for result in results.questions:
        for name in ("asked", "answered", "skipped"):
            value = getattr(result, name, None)
            if value is not None:
                found[(result.code, name)] = value
        for cell, count in result.distribution.items():
            found[(result.code, cell)] = count
            if result.answered is not None and cell != SMALL:
                found[(result.code, f"answered but not {cell}")] = result.answered - count
        if result.texts:
            found[(result.code, "texts")] = len(result.texts)
    return found


def check_table(results: SurveyResults, people: Sequence[P]) -> None:
    """One table against the answers: every count 0 or at least MIN_GROUP, every shown cell
    exact, means only when no value given there is hidden, free texts only if published."""
    for name, count in figures(results).items():
        assert not small(count), (results.arrondissement, name, count)
    for result in results.questions:
        asked, skipped, given, values = raw(people, result.code)
        check_question(result, asked, skipped, given, values)


def check_question(
    result: QuestionResult, asked: int, skipped: int, given: Counter[str], values: list[Any]
) -> None:
    where = result.code
    if getattr(result, "asked", None) is not None:
        assert result.asked == asked, where
    if result.skipped is not None:
        assert result.skipped == skipped, where
    if result.answered is not None:
        assert result.answered == asked - skipped, where
    for cell, count in result.distribution.items():
        if cell != SMALL:
            assert count == given.get(cell, 0), (where, cell)
    hidden = [cell for cell, count in given.items() if count and cell not in result.distribution]
    if result.kind != QuestionKind.multiple and result.distribution:
        assert result.distribution.get(SMALL, 0) == sum(given[cell] for cell in hidden) + (
            skipped if result.skipped is None else 0
        ), where
    numeric = BY_CODE[where].kind in (QuestionKind.scale, QuestionKind.number)
    if result.mean is not None or result.median is not None or result.total is not None:
        assert numeric and not hidden, where  # every value given is shown
        assert result.mean == pytest.approx(statistics.fmean(values)), where
        assert result.median == pytest.approx(statistics.median(values)), where
    if result.kind == QuestionKind.text:
        listed = where in PUBLISHED and result.answered is not None
        assert result.texts == (sorted(values) if listed else []), where


@pytest.mark.parametrize("seed", range(16))
async def test_no_table_nor_difference_of_tables_singles_out_a_small_group(
    session: AsyncSession, seed: int
) -> None:
    rnd = random.Random(seed)
    people = random_people(rnd)
    built = await build(session, people, RANDOM_QUESTIONS, series=f"random-{seed}")
    await session.execute(
        update(SurveyQuestion)
        .where(SurveyQuestion.survey_id == built.survey.id, SurveyQuestion.code.in_(PUBLISHED))
        .values(published=True)
    )
    city = await survey_results(session, built.survey.id)
    check_table(city, people)
    views = await survey_views(session, built.survey.id, range(1, 17))
    # The whole city's figures are the same, counted with the arrondissements or without.
    assert views.pop(None) == city
    local: dict[int, SurveyResults] = {}
    for place, results in views.items():
        assert place is not None
        check_table(results, [p for p in people if p.arrondissement == place])
        if not results.suppressed:
            local[place] = results
    # The city minus any set of arrondissements: every figure they all show.
    whole = figures(city)
    for size in range(1, len(local) + 1):
        for places in itertools.combinations(local, size):
            tables = [figures(local[place]) for place in places]
            for name, total in whole.items():
                if all(name in table for table in tables):
                    rest = total - sum(table[name] for table in tables)
                    assert not small(rest), (seed, places, name, rest)
