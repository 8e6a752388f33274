"""Impact surveys, storage side: files imported (or refused with the item and field named),
audiences, sending and reminders in time, and a response walked through question by question —
typed answers of each kind, branching both ways, skip, /back, resume, complete, never twice."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_sessionmaker
from storage.models import (
    AuditEntry,
    Challenge,
    ChallengeStatus,
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
)
from storage.privacy import NOTICE_VERSION, accept_notice
from storage.survey_files import InvalidSurvey, import_surveys, load_survey_file
from storage.surveys import (
    TEXT_ANSWER_LIMITS,
    InvalidAnswer,
    SurveyError,
    answer,
    audience,
    close_survey,
    complete_if_done,
    due_reminders,
    due_to_send,
    get_survey,
    list_surveys,
    mark_reminded,
    next_question,
    open_survey,
    option_label,
    parse_answer,
    pending_response,
    previous_question,
    progress,
    published_surveys,
    question_text,
    questions_of,
    skip,
    start_response,
    survey_text,
)
from storage.users import get_or_create_user, set_themes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "isolation-survey.yaml"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COORDINATOR = 42


def texts(fr: str, en: str, **extra: tuple[str, str]) -> dict[str, dict[str, str]]:
    return {
        "fr": {"text": fr, **{k: v[0] for k, v in extra.items()}},
        "en": {"text": en, **{k: v[1] for k, v in extra.items()}},
    }


def options(*codes: str) -> list[dict[str, Any]]:
    return [{"code": c, "texts": {"fr": c.upper(), "en": c.title()}} for c in codes]


SURVEY: dict[str, Any] = {
    "series": "isolation",
    "texts": {
        "fr": {"title": "Isolement", "intro": "Quelques questions.", "thanks": "Merci !"},
        "en": {"title": "Isolation", "intro": "A few questions.", "thanks": "Thank you!"},
    },
    "reminder_after_hours": 48,
    "questions": [
        {
            "code": "lonely",
            "kind": "scale",
            "key_figure": True,
            "texts": texts(
                "Seuls ?", "Lonely?", low=("Jamais", "Never"), high=("Souvent", "Often")
            ),
        },
        {
            "code": "visits",
            "kind": "number",
            "min": 0,
            "max": 10000,
            "key_figure": True,
            "texts": texts("Visites ?", "Visits?", unit=("visites", "visits")),
        },
        {"code": "called", "kind": "yes_no", "texts": {"fr": "Appelé ?", "en": "Called?"}},
        {
            "code": "about",
            "kind": "text",
            "required": False,
            "show_if": {"question": "called", "equals": True},
            "texts": texts("De quoi ?", "About what?"),
        },
        {
            "code": "helped",
            "kind": "single",
            "options": options("visits", "calls", "meals"),
            "texts": texts("Le plus utile ?", "Most useful?"),
        },
        {
            "code": "needs",
            "kind": "multiple",
            "required": False,
            "options": options("volunteers", "premises", "funding"),
            "texts": texts("Besoins ?", "Needs?"),
        },
    ],
}
CODES = [q["code"] for q in SURVEY["questions"]]


def item(change: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, Any]:
    result = copy.deepcopy(SURVEY)
    if change is not None:
        change(result)
    return result


def question(survey: dict[str, Any], code: str) -> dict[str, Any]:
    return next(q for q in survey["questions"] if q["code"] == code)


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker.begin() as session:
        yield session


@contextmanager
def selects(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SELECT statements run meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def person(
    session: AsyncSession,
    telegram_id: int,
    *,
    role: Role = Role.citizen,
    themes: tuple[str, ...] = (),
    arrondissement: int = 3,
    notice: bool = True,
    active: bool = True,
) -> User:
    user = await get_or_create_user(session, telegram_id, "fr", NOW)
    if notice:
        accept_notice(user, NOW)
    user.role = role
    user.arrondissement = arrondissement
    user.active = active
    await set_themes(session, user, themes)
    await session.flush()
    return user


async def challenge(session: AsyncSession, slug: str = "iso") -> Challenge:
    found = Challenge(
        slug=slug,
        texts={"fr": {"title": "Isolement", "description": "Rompre l'isolement des aînés."}},
        theme_code="older_people",
        status=ChallengeStatus.open,
    )
    session.add(found)
    await session.flush()
    return found


async def join(
    session: AsyncSession, found: Challenge, user: User, left: bool = False
) -> Participation:
    participation = Participation(
        challenge_id=found.id, user_id=user.id, kind="time", left_at=NOW if left else None
    )
    session.add(participation)
    await session.flush()
    return participation


async def imported(session: AsyncSession, survey: dict[str, Any] | None = None) -> Survey:
    (found,) = await import_surveys(session, [survey or item()], COORDINATOR)
    return found


async def opened(
    session: AsyncSession, users: int = 1, survey: dict[str, Any] | None = None
) -> tuple[Survey, list[User]]:
    """An open survey for everyone, and `users` people invited to it."""
    people = [await person(session, 1000 + n) for n in range(users)]
    found = await imported(session, survey)
    await open_survey(session, found.id, COORDINATOR, NOW)
    return found, people


async def started(session: AsyncSession) -> tuple[Survey, SurveyResponse, dict[str, Any]]:
    found, (user,) = await opened(session)
    response = await start_response(session, found, user, NOW)
    by_code = {q.code: q for q in await questions_of(session, found.id)}
    return found, response, by_code


async def rows(session: AsyncSession, response: SurveyResponse) -> list[SurveyAnswer]:
    result = await session.scalars(
        select(SurveyAnswer)
        .where(SurveyAnswer.response_id == response.id)
        .order_by(SurveyAnswer.question_id, SurveyAnswer.option_code)
    )
    return list(result)


async def walk_to(session: AsyncSession, response: SurveyResponse) -> str | None:
    found = await next_question(session, response)
    return found.code if found else None


# -- files


async def test_a_yaml_file_becomes_a_draft_with_its_questions(
    session: AsyncSession, tmp_path: Path
) -> None:
    survey = item()
    survey["send_at"] = "2026-12-07 10:00"  # Paris time, winter: UTC+1
    path = tmp_path / "survey.yaml"
    path.write_text(
        "# a comment\n"
        + json.dumps(survey, ensure_ascii=False).replace('"equals": true', '"equals": yes')
    )
    (found,) = await import_surveys(session, load_survey_file(path), COORDINATOR)

    assert (found.series, found.wave, found.status) == ("isolation", 1, SurveyStatus.draft)
    assert found.send_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert found.reminder_after_hours == 48 and found.author_telegram_id == COORDINATOR
    assert found.challenge_id is None and found.audience == {}
    stored = await questions_of(session, found.id)
    assert [q.code for q in stored] == CODES
    assert [q.position for q in stored] == [1, 2, 3, 4, 5, 6]
    lonely, visits, called, about, helped, needs = stored
    assert lonely.kind is QuestionKind.scale and (lonely.min_value, lonely.max_value) == (1, 5)
    assert (visits.min_value, visits.max_value, visits.key_figure) == (0, 10000, True)
    assert called.options == [] and called.required and not called.key_figure
    assert about.show_if == {"question": "called", "equals": "yes"} and not about.required
    assert [o["code"] for o in helped.options] == ["visits", "calls", "meals"]
    assert needs.kind is QuestionKind.multiple and not needs.required
    assert visits.texts["en"] == {"text": "Visits?", "unit": "visits"}


async def test_a_json_list_series_from_the_title_and_next_waves(
    session: AsyncSession, tmp_path: Path
) -> None:
    first = item(lambda s: s.pop("series"))
    first["texts"]["fr"]["title"] = "Évaluation : été 2026"
    first["send_at"] = "2026-07-01T08:00:00+00:00"
    second = copy.deepcopy(first)
    path = tmp_path / "surveys.json"
    path.write_text(json.dumps({"surveys": [first, second]}))

    surveys = await import_surveys(session, load_survey_file(path))
    assert [(s.series, s.wave) for s in surveys] == [
        ("evaluation-ete-2026", 1),
        ("evaluation-ete-2026", 2),
    ]
    assert surveys[0].send_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    (third,) = await import_surveys(session, load_survey_file(path)[:1])
    assert third.wave == 3
    (explicit,) = await import_surveys(session, [{**first, "wave": 7}])
    assert explicit.wave == 7


async def test_the_example_file_imports(session: AsyncSession) -> None:
    (found,) = await import_surveys(session, load_survey_file(EXAMPLE))
    stored = await questions_of(session, found.id)
    kinds = {q.code: q.kind for q in stored}
    assert set(kinds.values()) == set(QuestionKind)
    key_figures = [q.code for q in stored if q.key_figure]
    assert key_figures == ["lonely_companionship", "lonely_left_out", "lonely_isolated", "visits"]
    visits = next(q for q in stored if q.code == "visits")
    assert (visits.min_value, visits.max_value) == (0, 10000)
    assert question_text(visits, "en")["unit"] == "visits"
    branch = next(q for q in stored if q.show_if)
    assert not branch.required and branch.kind is QuestionKind.text
    for q in stored:
        assert set(q.texts) == {"fr", "en", "ar"}
        assert all(set(o["texts"]) == {"fr", "en", "ar"} for o in q.options)
    assert found.audience == {"themes": ["older_people"], "roles": ["citizen", "association"]}
    assert [q.code for q in stored if q.roles] == ["visits"] and visits.roles == ["association"]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change at a dotted path; "q:code" names a question, a number a list index."""

    def change(survey: dict[str, Any]) -> None:
        keys = path.split(".")
        target: Any = survey
        for key in keys[:-1]:
            if key.startswith("q:"):
                target = question(target, key[2:])
            elif key.isdigit():
                target = target[int(key)]
            else:
                target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value

    return change


DELETE = object()
Q = "survey 1 (isolation), question"

BAD_FILES = [
    ("titel", "Isolement", "survey 1", "titel"),
    ("texts", DELETE, "survey 1", "texts"),
    ("texts.fr.title", DELETE, "survey 1", "texts.fr.title"),
    ("texts.en.intro", DELETE, "survey 1", "texts.en.intro"),
    ("texts.fr.title", "x" * 121, "survey 1", "texts.fr.title"),
    ("series", "Isolation 2026", "survey 1", "series"),
    ("wave", 0, "survey 1 (isolation)", "wave"),
    ("reminder_after_hours", 0, "survey 1 (isolation)", "reminder_after_hours"),
    ("send_at", "tomorrow", "survey 1 (isolation)", "send_at"),
    ("send_at", datetime(2026, 12, 7).date(), "survey 1 (isolation)", "send_at"),
    ("audience", {"roles": ["mayor"]}, "survey 1 (isolation)", "audience.roles"),
    ("audience", {"themes": ["knitting"]}, "survey 1 (isolation)", "audience.themes"),
    ("audience", {"who": ["all"]}, "survey 1 (isolation)", "audience.who"),
    ("challenge", "nope", "survey 1 (isolation)", "challenge"),
    ("q:visits.roles", ["mayor"], f"{Q} 2 (visits)", "roles"),
    ("q:visits.roles", "association, company", f"{Q} 2 (visits)", "roles"),
    ("q:visits.roles", [1], f"{Q} 2 (visits)", "roles"),
    ("questions", [], "survey 1 (isolation)", "questions"),
    ("questions.0.code", "Lonely!", f"{Q} 1", "code"),
    ("questions.1.code", "lonely", f"{Q} 2", "code"),
    ("q:visits.kind", "slider", f"{Q} 2 (visits)", "kind"),
    ("q:visits.requierd", True, f"{Q} 2 (visits)", "requierd"),
    ("q:visits.texts.en", DELETE, f"{Q} 2 (visits)", "texts.en"),
    ("q:visits.texts.de", {"text": "Besuche?"}, f"{Q} 2 (visits)", "texts.de"),
    ("q:visits.texts.fr.text", "x" * 501, f"{Q} 2 (visits)", "texts.fr.text"),
    ("q:visits.min", 20000, f"{Q} 2 (visits)", "max"),
    ("q:visits.max", "many", f"{Q} 2 (visits)", "max"),
    ("q:lonely.texts.fr.low", DELETE, f"{Q} 1 (lonely)", "texts.fr.low"),
    ("q:lonely.max", 10, f"{Q} 1 (lonely)", "max"),
    ("q:about.min", 1, f"{Q} 4 (about)", "min"),
    ("q:called.options", options("yes", "no"), f"{Q} 3 (called)", "options"),
    ("q:called.key_figure", True, f"{Q} 3 (called)", "key_figure"),
    ("q:called.required", "yes", f"{Q} 3 (called)", "required"),
    ("q:helped.options", options("visits"), f"{Q} 5 (helped)", "options"),
    ("q:helped.options.1.code", "visits", f"{Q} 5 (helped), option 2", "code"),
    ("q:helped.options.0.texts.en", DELETE, f"{Q} 5 (helped), option 1", "texts.en"),
    ("q:about.show_if", {"question": "helped", "equals": "calls"}, f"{Q} 4", "show_if.question"),
    ("q:helped.show_if", {"question": "about", "equals": "x"}, f"{Q} 5", "show_if.question"),
    ("q:helped.show_if", {"question": "called", "equals": "maybe"}, f"{Q} 5", "show_if.equals"),
    ("q:needs.show_if", {"question": "helped", "equals": "bus"}, f"{Q} 6", "show_if.equals"),
    ("q:needs.show_if", {"question": "lonely", "equals": 9}, f"{Q} 6", "show_if.equals"),
    ("q:needs.show_if", {"question": "lonely"}, f"{Q} 6", "show_if"),
]


@pytest.mark.parametrize(("path", "value", "where", "field"), BAD_FILES)
async def test_a_bad_file_names_the_item_and_the_field(
    session: AsyncSession, path: str, value: Any, where: str, field: str
) -> None:
    with pytest.raises(InvalidSurvey) as raised:
        await import_surveys(session, [item(_set(path, value))])
    assert raised.value.item.startswith(where)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{raised.value.item}: {field}: ")


async def test_a_challenge_is_named_by_slug_or_id_and_only_roles_narrow_it(
    session: AsyncSession,
) -> None:
    found = await challenge(session, "k3x9")
    by_slug = await imported(session, item(_set("challenge", "k3x9")))
    by_id = await imported(session, item(_set("challenge", found.id)))
    assert by_slug.challenge_id == by_id.challenge_id == found.id
    narrowed = item(_set("challenge", "k3x9"))
    narrowed["audience"] = {"roles": ["association"]}
    assert (await imported(session, narrowed)).audience == {"roles": ["association"]}
    narrowed["audience"] = {"roles": ["association"], "themes": ["older_people"]}
    with pytest.raises(InvalidSurvey) as raised:
        await imported(session, narrowed)
    assert raised.value.field == "audience.themes"


async def test_a_question_for_some_roles_is_within_the_surveys_roles(
    session: AsyncSession,
) -> None:
    one = item(_set("q:visits.roles", "association"))
    stored = {q.code: q for q in await questions_of(session, (await imported(session, one)).id)}
    assert stored["visits"].roles == ["association"] and stored["lonely"].roles is None
    outside = item(_set("audience", {"roles": ["citizen", "company"]}))
    outside["questions"][1]["roles"] = ["association", "company"]
    with pytest.raises(InvalidSurvey) as raised:
        await imported(session, outside)
    assert (raised.value.item, raised.value.field) == (f"{Q} 2 (visits)", "roles")
    assert raised.value.problem.startswith("association: not a role the survey goes to")


async def test_a_wave_taken_already_is_refused(session: AsyncSession) -> None:
    await imported(session, item(_set("wave", 2)))
    with pytest.raises(InvalidSurvey) as raised:
        await imported(session, item(_set("wave", 2)))
    assert (raised.value.field, raised.value.problem) == ("wave", "isolation already has wave 2")
    with pytest.raises(InvalidSurvey, match="wave"):
        await import_surveys(session, [item(_set("wave", 5)), item(_set("wave", 5))])


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("broken.yaml", "texts: [\n", "broken.yaml: line 2: not YAML"),
        ("broken.json", '{"texts": }', "broken.json: line 1: not JSON"),
        ("empty.yaml", "", "empty.yaml: no survey in the file"),
        ("scalars.yaml", "- 1\n- 2\n", "survey 1: must be a mapping of fields"),
    ],
)
def test_an_unreadable_file_is_named(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(InvalidSurvey) as raised:
        load_survey_file(tmp_path / name)
    assert str(raised.value).startswith(problem)
    with pytest.raises(InvalidSurvey, match=r"missing\.yaml: cannot be read"):
        load_survey_file(tmp_path / "missing.yaml")


def collective(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_imports_all_or_nothing(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    result = collective("surveys", "import", str(EXAMPLE), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "survey 1: series isolation-older-people, wave 1, 8 questions\n"
        f"Saved in the database {database}.\n"
    )
    assert result.stderr == ""

    bad = [item(), item(_set("q:visits.min", 20000))]
    (tmp_path / "two.json").write_text(json.dumps(bad))
    result = collective("surveys", "import", "two.json", env=env, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Survey file error: survey 2 (isolation), question 2 (visits): max: smaller than min"
    ]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM surveys").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM survey_questions").fetchone() == (8,)


# -- texts


async def test_texts_in_the_person_s_language_else_french_else_the_first(
    session: AsyncSession,
) -> None:
    found = await imported(session)
    assert survey_text(found, "en")["title"] == "Isolation"
    assert survey_text(found, "ar") == {
        "title": "Isolement",
        "intro": "Quelques questions.",
        "thanks": "Merci !",
    }
    found.texts = {"en": {"title": "Isolation"}}
    assert survey_text(found, "ar") == {"title": "Isolation", "intro": "", "thanks": ""}
    by_code = {q.code: q for q in await questions_of(session, found.id)}
    assert question_text(by_code["lonely"], "en") == {
        "text": "Lonely?",
        "low": "Never",
        "high": "Often",
        "unit": "",
    }
    assert question_text(by_code["called"], "ar")["text"] == "Appelé ?"
    assert option_label(by_code["helped"], "calls", "en") == "Calls"
    assert option_label(by_code["helped"], "calls", "ar") == "CALLS"
    assert option_label(by_code["called"], "yes", "en") == "yes"


# -- typed answers


PARSED = [
    ("visits", "12", {"value_number": 12.0}),
    ("visits", " 2,5 ", {"value_number": 2.5}),
    ("visits", "1 000", {"value_number": 1000.0}),
    ("visits", "1\u202f000", {"value_number": 1000.0}),
    ("visits", "1.000", {"value_number": 1000.0}),
    ("visits", "1,000", {"value_number": 1000.0}),
    ("visits", "1.000,5", {"value_number": 1000.5}),
    ("visits", "0,125", {"value_number": 0.125}),
    ("visits", "١٢", {"value_number": 12.0}),
    ("visits", "١٢٫٥", {"value_number": 12.5}),
    ("lonely", "4", {"value_number": 4.0}),
    ("lonely", "٥", {"value_number": 5.0}),
    ("called", "Oui", {"option_codes": ["yes"]}),
    ("called", "no", {"option_codes": ["no"]}),
    ("called", "نعم", {"option_codes": ["yes"]}),
    ("helped", "2", {"option_codes": ["calls"]}),
    ("helped", "Meals", {"option_codes": ["meals"]}),
    ("needs", "1, 3", {"option_codes": ["volunteers", "funding"]}),
    ("needs", "premises premises", {"option_codes": ["premises"]}),
    (
        "about",
        "  Des nouvelles \n\n\n de sa fille ",
        {"value_text": "Des nouvelles\n\nde sa fille"},
    ),
]


@pytest.mark.parametrize(("code", "raw", "expected"), PARSED)
async def test_typed_answers_are_read(
    session: AsyncSession, code: str, raw: str, expected: dict[str, Any]
) -> None:
    found = await imported(session)
    by_code = {q.code: q for q in await questions_of(session, found.id)}
    assert parse_answer(by_code[code], raw) == expected


REFUSED = [
    ("visits", "douze", "not_a_number", None),
    ("visits", "nan", "not_a_number", None),
    ("visits", "inf", "not_a_number", None),
    ("visits", "1e3", "not_a_number", None),
    ("visits", "1,2,3", "not_a_number", None),
    ("visits", "-1", "below_min", 0),
    ("visits", "10001", "above_max", 10000),
    ("visits", "   ", "empty", None),
    ("visits", None, "not_text", None),
    ("lonely", "0", "below_min", 1),
    ("lonely", "6", "above_max", 5),
    ("lonely", "2,5", "unknown_option", None),
    ("lonely", "beaucoup", "not_a_number", None),
    ("lonely", None, "not_text", None),
    ("called", "peut-être", "unknown_option", None),
    ("called", "", "empty", None),
    ("called", None, "not_text", None),
    ("helped", "4", "unknown_option", None),
    ("helped", "bus", "unknown_option", None),
    ("helped", "1 2", "unknown_option", None),
    ("helped", None, "not_text", None),
    ("needs", "volunteers, bus", "unknown_option", None),
    ("needs", " , ", "empty", None),
    ("needs", None, "not_text", None),
    ("about", "  \n ", "empty", TEXT_ANSWER_LIMITS[0]),
    ("about", "x" * 501, "too_long", TEXT_ANSWER_LIMITS[1]),
    ("about", None, "not_text", None),
]


@pytest.mark.parametrize(("code", "raw", "reason", "limit"), REFUSED)
async def test_typed_answers_are_refused_with_a_reason(
    session: AsyncSession, code: str, raw: str | None, reason: str, limit: int | None
) -> None:
    found = await imported(session)
    by_code = {q.code: q for q in await questions_of(session, found.id)}
    with pytest.raises(InvalidAnswer) as raised:
        parse_answer(by_code[code], raw)
    assert (raised.value.reason, raised.value.limit) == (reason, limit)


STORED_REFUSALS = [
    ("lonely", {"value_number": 6}, "above_max", 5),
    ("lonely", {"value_number": 0}, "below_min", 1),
    ("lonely", {"value_number": 2.5}, "unknown_option", None),
    ("lonely", {}, "empty", None),
    ("visits", {"value_number": -3}, "below_min", 0),
    ("visits", {"value_number": 1e9}, "above_max", 10000),
    ("visits", {"value_number": float("nan")}, "not_a_number", None),
    ("visits", {"value_text": "12"}, "empty", None),
    ("called", {"option_codes": ["maybe"]}, "unknown_option", None),
    ("called", {"option_codes": ["yes", "no"]}, "unknown_option", None),
    ("called", {"value_number": 2}, "unknown_option", None),
    ("called", {"option_codes": []}, "empty", None),
    ("helped", {"option_codes": ["visits", "calls"]}, "unknown_option", None),
    ("helped", {"option_codes": ["bus"]}, "unknown_option", None),
    ("helped", {}, "empty", None),
    ("needs", {"option_codes": ["volunteers", "bus"]}, "unknown_option", None),
    ("needs", {"option_codes": []}, "empty", None),
]


@pytest.mark.parametrize(("code", "fields", "reason", "limit"), STORED_REFUSALS)
async def test_answers_are_checked_in_storage(
    session: AsyncSession, code: str, fields: dict[str, Any], reason: str, limit: int | None
) -> None:
    _, response, by_code = await started(session)
    for earlier in CODES[: CODES.index(code)]:
        if earlier != "about":
            await answer(session, response, by_code[earlier], **_valid(earlier))
    with pytest.raises(InvalidAnswer) as raised:
        await answer(session, response, by_code[code], **fields)
    assert (raised.value.reason, raised.value.limit) == (reason, limit)
    assert by_code[code].id not in {row.question_id for row in await rows(session, response)}


async def test_free_text_is_checked_in_storage(session: AsyncSession) -> None:
    _, response, by_code = await started(session)
    for code in ("lonely", "visits", "called"):
        await answer(session, response, by_code[code], **_valid(code))
    for value, reason in (("x" * 501, "too_long"), ("  ", "empty"), (None, "empty")):
        with pytest.raises(InvalidAnswer) as raised:
            await answer(session, response, by_code["about"], value_text=value)
        assert raised.value.reason == reason
    await answer(session, response, by_code["about"], value_text="x" * 500)


def _valid(code: str) -> dict[str, Any]:
    return {
        "lonely": {"value_number": 4},
        "visits": {"value_number": 25},
        "called": {"option_codes": ["yes"]},
        "about": {"value_text": "Sa fille a appelé."},
        "helped": {"option_codes": ["calls"]},
        "needs": {"option_codes": ["volunteers", "funding"]},
    }[code]


# -- a response, question by question


async def test_a_whole_response_with_the_branch_taken(session: AsyncSession) -> None:
    _, response, by_code = await started(session)
    seen = []
    while (current := await next_question(session, response)) is not None:
        seen.append((current.code, await progress(session, response)))
        await answer(session, response, current, **_valid(current.code))
    assert seen == [
        ("lonely", (1, 6)),
        ("visits", (2, 6)),
        ("called", (3, 6)),
        ("about", (4, 6)),
        ("helped", (5, 6)),
        ("needs", (6, 6)),
    ]
    assert await complete_if_done(session, response, NOW + timedelta(minutes=3))
    assert response.completed_at == NOW + timedelta(minutes=3)
    stored = [
        (r.question_id, r.value_number, r.option_code, r.value_text, r.skipped)
        for r in await rows(session, response)
    ]
    q = {code: by_code[code].id for code in CODES}
    assert stored == [
        (q["lonely"], 4.0, None, None, False),
        (q["visits"], 25.0, None, None, False),
        (q["called"], 1.0, "yes", None, False),
        (q["about"], None, None, "Sa fille a appelé.", False),
        (q["helped"], None, "calls", None, False),
        (q["needs"], None, "funding", None, False),
        (q["needs"], None, "volunteers", None, False),
    ]
    assert response.arrondissement == 3


async def test_the_branch_not_taken_is_not_asked(session: AsyncSession) -> None:
    _, response, by_code = await started(session)
    for code in ("lonely", "visits"):
        await answer(session, response, by_code[code], **_valid(code))
    assert await progress(session, response) == (3, 6)
    await answer(session, response, by_code["called"], value_number=0)
    assert await walk_to(session, response) == "helped"
    assert await progress(session, response) == (4, 5)
    with pytest.raises(SurveyError) as raised:
        await answer(session, response, by_code["about"], value_text="Rien.")
    assert raised.value.reason == SurveyError.NOT_ASKED
    await answer(session, response, by_code["helped"], option_codes=["meals"])
    await answer(session, response, by_code["needs"], option_codes=["premises"])
    assert await next_question(session, response) is None
    assert await complete_if_done(session, response, NOW)
    called = next(
        r for r in await rows(session, response) if r.question_id == by_code["called"].id
    )
    assert (called.option_code, called.value_number) == ("no", 0.0)


async def test_optional_questions_can_be_skipped_required_ones_cannot(
    session: AsyncSession,
) -> None:
    _, response, by_code = await started(session)
    with pytest.raises(InvalidAnswer) as raised:
        await skip(session, response, by_code["lonely"])
    assert raised.value.reason == "required"
    for code in ("lonely", "visits", "called"):
        await answer(session, response, by_code[code], **_valid(code))
    await skip(session, response, by_code["about"])
    assert await walk_to(session, response) == "helped"
    await answer(session, response, by_code["helped"], **_valid("helped"))
    assert not await complete_if_done(session, response, NOW)
    await skip(session, response, by_code["needs"])
    assert await complete_if_done(session, response, NOW)
    skipped = {r.question_id for r in await rows(session, response) if r.skipped}
    assert skipped == {by_code["about"].id, by_code["needs"].id}
    rows_needs = [r for r in await rows(session, response) if r.question_id == by_code["needs"].id]
    assert len(rows_needs) == 1 and rows_needs[0].option_code is None


async def test_a_skipped_branch_source_hides_its_questions(session: AsyncSession) -> None:
    survey = item(_set("q:called.required", False))
    found, (user,) = await opened(session, survey=survey)
    response = await start_response(session, found, user, NOW)
    by_code = {q.code: q for q in await questions_of(session, found.id)}
    for code in ("lonely", "visits"):
        await answer(session, response, by_code[code], **_valid(code))
    await skip(session, response, by_code["called"])
    assert await walk_to(session, response) == "helped"


async def test_back_removes_the_previous_answer_so_it_is_asked_again(
    session: AsyncSession,
) -> None:
    _, response, by_code = await started(session)
    assert await previous_question(session, response) is None
    for code in ("lonely", "visits", "called", "about"):
        await answer(session, response, by_code[code], **_valid(code))
    back = await previous_question(session, response)
    assert back is not None and back.code == "about"
    assert await walk_to(session, response) == "about"
    assert await progress(session, response) == (4, 6)
    back = await previous_question(session, response)
    assert back is not None and back.code == "called"
    await answer(session, response, by_code["called"], option_codes=["no"])
    assert await walk_to(session, response) == "helped"
    await answer(session, response, by_code["helped"], option_codes=["visits"])
    back = await previous_question(session, response)
    assert back is not None and back.code == "helped"
    back = await previous_question(session, response)
    assert back is not None and back.code == "called"
    assert [r.question_id for r in await rows(session, response)] == [
        by_code["lonely"].id,
        by_code["visits"].id,
    ]


async def test_an_answer_changed_to_close_a_branch_drops_its_answers_at_the_end(
    session: AsyncSession,
) -> None:
    _, response, by_code = await started(session)
    for code in ("lonely", "visits", "called", "about", "helped"):
        await answer(session, response, by_code[code], **_valid(code))
    await answer(session, response, by_code["called"], option_codes=["no"])  # replaced
    await answer(session, response, by_code["needs"], option_codes=["funding"])
    assert await complete_if_done(session, response, NOW)
    answered = {r.question_id: r for r in await rows(session, response)}
    assert by_code["about"].id not in answered
    assert answered[by_code["called"].id].option_code == "no"
    assert len(answered) == 5


async def test_a_response_resumes_after_a_restart(
    sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    async with sessionmaker.begin() as session:
        _, response, by_code = await started(session)
        for code in ("lonely", "visits"):
            await answer(session, response, by_code[code], **_valid(code))
        user_id = response.user_id

    fresh = create_sessionmaker(engine)  # a new process: nothing in memory
    async with fresh.begin() as session:
        user = await session.get(User, user_id)
        assert user is not None
        resumed = await pending_response(session, user)
        assert resumed is not None
        assert await walk_to(session, resumed) == "called"
        assert await progress(session, resumed) == (3, 6)


async def test_answering_twice_is_impossible(session: AsyncSession) -> None:
    found, response, by_code = await started(session)
    user = await session.get(User, response.user_id)
    assert user is not None
    assert await start_response(session, found, user, NOW) is response
    await answer(session, response, by_code["lonely"], value_number=2)
    await answer(session, response, by_code["lonely"], value_number=5)  # replaces, not adds
    assert [r.value_number for r in await rows(session, response)] == [5.0]
    for code in CODES[1:]:
        await answer(session, response, by_code[code], **_valid(code))
    assert await complete_if_done(session, response, NOW)
    assert await complete_if_done(session, response, NOW + timedelta(hours=1))
    assert response.completed_at == NOW

    attempts: list[Callable[[], Awaitable[Any]]] = [
        lambda: answer(session, response, by_code["lonely"], value_number=1),
        lambda: skip(session, response, by_code["needs"]),
        lambda: previous_question(session, response),
        lambda: start_response(session, found, user, NOW),
    ]
    for attempt in attempts:
        with pytest.raises(SurveyError) as raised:
            await attempt()
        assert raised.value.reason == SurveyError.COMPLETED
    assert await next_question(session, response) is None
    assert await pending_response(session, user) is None


async def test_one_response_per_person_even_behind_the_storage_s_back(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        _, response, _ = await started(session)
        survey_id, user_id = response.survey_id, response.user_id
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as session:
            session.add(SurveyResponse(survey_id=survey_id, user_id=user_id))


async def test_only_invited_people_answer_an_open_survey(session: AsyncSession) -> None:
    found, (user,) = await opened(session)
    stranger = await person(session, 9999)
    with pytest.raises(SurveyError) as raised:
        await start_response(session, found, stranger, NOW)
    assert raised.value.reason == SurveyError.NOT_INVITED

    draft = await imported(session, item(_set("series", "other")))
    with pytest.raises(SurveyError) as raised:
        await start_response(session, draft, user, NOW)
    assert raised.value.reason == SurveyError.CLOSED

    response = await start_response(session, found, user, NOW)
    other_questions = await questions_of(session, draft.id)
    with pytest.raises(SurveyError) as raised:
        await answer(session, response, other_questions[0], value_number=3)
    assert raised.value.reason == SurveyError.NOT_ASKED

    await close_survey(session, found.id, COORDINATOR, NOW)
    first = (await questions_of(session, found.id))[0]
    with pytest.raises(SurveyError) as raised:
        await answer(session, response, first, value_number=3)
    assert raised.value.reason == SurveyError.CLOSED
    with pytest.raises(SurveyError):
        await start_response(session, found, user, NOW)
    assert await pending_response(session, user) is None


async def test_pending_response_is_the_latest_unfinished_of_an_open_survey(
    session: AsyncSession,
) -> None:
    user = await person(session, 1000)
    first = await imported(session)
    second = await imported(session, item(_set("series", "second")))
    for found in (first, second):
        await open_survey(session, found.id, COORDINATOR, NOW)
    assert await pending_response(session, user) is None
    older = await start_response(session, first, user, NOW)
    newer = await start_response(session, second, user, NOW + timedelta(minutes=1))
    assert await pending_response(session, user) is newer
    await close_survey(session, second.id, COORDINATOR, NOW)
    assert await pending_response(session, user) is older


# -- audience, sending, reminders


async def test_a_challenge_survey_goes_to_its_reachable_participants_in_one_query(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    found = await challenge(session)
    staying = await person(session, 1, role=Role.association)
    left = await person(session, 2)
    blocked = await person(session, 3, active=False)
    no_notice = await person(session, 4, notice=False)
    old_notice = await person(session, 5)
    old_notice.notice_version = NOTICE_VERSION - 1
    await person(session, 6, themes=("older_people",))  # interested, not participating
    other = await challenge(session, "other")
    elsewhere = await person(session, 7)
    await join(session, other, elsewhere)
    for user in (staying, blocked, no_notice, old_notice):
        await join(session, found, user)
    await join(session, found, left, left=True)
    survey = await imported(session, item(_set("challenge", found.slug)))
    await session.flush()

    with selects(engine) as seen:
        people = await audience(session, survey)
    assert [u.telegram_id for u in people] == [1]
    assert len(seen) == 1


async def test_a_challenge_survey_for_some_roles_goes_to_those_participants_only(
    session: AsyncSession,
) -> None:
    found = await challenge(session)
    for telegram_id, role in ((1, Role.association), (2, Role.citizen), (3, Role.company)):
        await join(session, found, await person(session, telegram_id, role=role))
    narrowed = item(_set("challenge", found.slug))
    narrowed["audience"] = {"roles": ["association", "company"]}
    survey = await imported(session, narrowed)
    assert [u.telegram_id for u in await audience(session, survey)] == [1, 3]
    _opened, invitees = await open_survey(session, survey.id, COORDINATOR, NOW)
    assert [u.telegram_id for u in invitees] == [1, 3]
    citizen = await session.scalar(select(User).where(User.telegram_id == 2))
    assert citizen is not None
    with pytest.raises(SurveyError) as raised:
        await start_response(session, survey, citizen, NOW)
    assert raised.value.reason == SurveyError.NOT_INVITED


async def test_a_question_for_some_roles_is_asked_to_them_only(session: AsyncSession) -> None:
    survey = await imported(session, item(_set("q:visits.roles", ["association"])))
    citizen = await person(session, 1)
    member = await person(session, 2, role=Role.association)
    await open_survey(session, survey.id, COORDINATOR, NOW)
    by_code = {q.code: q for q in await questions_of(session, survey.id)}
    for user, second in ((citizen, "called"), (member, "visits")):
        response = await start_response(session, survey, user, NOW)
        await answer(session, response, by_code["lonely"], value_number=2)
        assert await walk_to(session, response) == second
        assert await progress(session, response) == (2, 6 if second == "visits" else 5)
    # Answering it anyway (a forged or old button) is refused for the citizen.
    response = await start_response(session, survey, citizen, NOW)
    with pytest.raises(SurveyError) as raised:
        await answer(session, response, by_code["visits"], value_number=3)
    assert raised.value.reason == SurveyError.NOT_ASKED


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ({"roles": ["association"], "themes": ["older_people"]}, [1]),
        ({"roles": ["association", "company"]}, [1, 2, 4]),
        ({"themes": ["older_people", "housing"]}, [1, 3, 5]),
        ({}, [1, 2, 3, 4, 5]),
    ],
)
async def test_a_role_and_theme_audience_in_one_query(
    session: AsyncSession, engine: AsyncEngine, wanted: dict[str, Any], expected: list[int]
) -> None:
    await person(session, 1, role=Role.association, themes=("older_people", "culture"))
    await person(session, 2, role=Role.association, themes=("culture",))
    await person(session, 3, role=Role.citizen, themes=("older_people",))
    await person(session, 4, role=Role.company)
    await person(session, 5, role=Role.citizen, themes=("housing",))
    await person(session, 6, role=Role.association, themes=("older_people",), active=False)
    await person(session, 7, role=Role.association, themes=("older_people",), notice=False)
    survey = await imported(session, item(_set("audience", wanted)))
    with selects(engine) as seen:
        people = await audience(session, survey)
    assert [u.telegram_id for u in people] == expected
    assert len(seen) == 1


async def _audit(session: AsyncSession, survey_id: int) -> list[tuple[str, int, dict[str, Any]]]:
    entries = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "survey", AuditEntry.object_id == survey_id)
        .order_by(AuditEntry.id)
    )
    return [(e.action, e.actor_telegram_id, e.details) for e in entries]


async def test_opening_invites_the_audience_once_and_newcomers_later(
    session: AsyncSession,
) -> None:
    found = await challenge(session)
    first, second = await person(session, 1), await person(session, 2)
    for user in (first, second):
        await join(session, found, user)
    survey = await imported(session, item(_set("challenge", found.slug)))

    opened_survey, invitees = await open_survey(session, survey.id, COORDINATOR, NOW)
    assert opened_survey.status is SurveyStatus.open and opened_survey.opened_at == NOW
    assert [u.telegram_id for u in invitees] == [1, 2]
    later = NOW + timedelta(days=1)
    assert (await open_survey(session, survey.id, COORDINATOR, later))[1] == []
    newcomer = await person(session, 3)
    await join(session, found, newcomer)
    assert [u.telegram_id for u in (await open_survey(session, survey.id, None, later))[1]] == [3]
    invitations = await session.scalars(
        select(SurveyInvitation.invited_at).where(SurveyInvitation.survey_id == survey.id)
    )
    assert sorted(invitations) == [NOW, NOW, later]
    assert opened_survey.opened_at == NOW

    closed = await close_survey(session, survey.id, 7, later)
    assert (closed.status, closed.closed_at) == (SurveyStatus.closed, later)
    assert await _audit(session, survey.id) == [
        ("survey.open", COORDINATOR, {"invited": 2}),
        ("survey.invite", COORDINATOR, {"invited": 1}),  # on the author's behalf
        ("survey.close", 7, {}),
    ]
    with pytest.raises(SurveyError) as raised:
        await open_survey(session, survey.id, COORDINATOR, later)
    assert raised.value.reason == SurveyError.CLOSED
    with pytest.raises(SurveyError) as raised:
        await close_survey(session, survey.id, COORDINATOR, later)
    assert raised.value.reason == SurveyError.NOT_OPEN
    assert await published_surveys(session) == [closed]


async def test_surveys_are_due_to_send_at_their_time(session: AsyncSession) -> None:
    later = await imported(session, item(_set("send_at", "2026-12-01T12:00:00+00:00")))
    sooner = await imported(session, item(_set("send_at", "2026-12-01T10:00:00+01:00")))
    await imported(session, item())  # no time: sent by hand
    assert await due_to_send(session, NOW - timedelta(seconds=1)) == []
    assert await due_to_send(session, NOW) == [sooner]
    assert await due_to_send(session, NOW + timedelta(hours=3)) == [sooner, later]
    await open_survey(session, sooner.id, None, NOW)
    assert await due_to_send(session, NOW + timedelta(hours=3)) == [later]


async def test_reminders_go_once_to_those_who_have_not_finished(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    found = await challenge(session)
    names = ["done", "halfway", "silent", "leaving", "blocked", "reminded"]
    people = {name: await person(session, n) for n, name in enumerate(names, 1)}
    for user in people.values():
        await join(session, found, user)
    survey = await imported(session, item(_set("challenge", found.slug)))
    no_reminder = await imported(session, item(_set("reminder_after_hours", None)))
    general = await imported(session, item(_set("series", "general")))
    for each in (survey, no_reminder, general):
        await open_survey(session, each.id, COORDINATOR, NOW)

    done = await start_response(session, survey, people["done"], NOW)
    for q in await questions_of(session, survey.id):
        await answer(session, done, q, **_valid(q.code))
    assert await complete_if_done(session, done, NOW)
    await start_response(session, survey, people["halfway"], NOW)
    leaving = await session.scalar(
        select(Participation).where(Participation.user_id == people["leaving"].id)
    )
    assert leaving is not None
    leaving.left_at = NOW + timedelta(hours=1)
    people["blocked"].active = False
    await mark_reminded(session, survey.id, [people["reminded"].id], NOW + timedelta(hours=1))
    await session.flush()

    assert await due_reminders(session, NOW + timedelta(hours=47, minutes=59)) == []
    with selects(engine) as seen:
        due = await due_reminders(session, NOW + timedelta(hours=48))
    assert len(seen) == 1
    expected = [
        (survey.id, people["halfway"].telegram_id),
        (survey.id, people["silent"].telegram_id),
        *((general.id, p.telegram_id) for p in people.values() if p.active),
    ]
    assert [(s.id, u.telegram_id) for s, u in due] == expected

    later = NOW + timedelta(hours=49)
    await mark_reminded(session, survey.id, [people["halfway"].id, people["silent"].id], later)
    await close_survey(session, general.id, COORDINATOR, later)
    assert await due_reminders(session, later) == []
    reminded = await session.scalar(
        select(SurveyInvitation.reminded_at).where(
            SurveyInvitation.user_id == people["reminded"].id,
            SurveyInvitation.survey_id == survey.id,
        )
    )
    assert reminded == NOW + timedelta(hours=1)  # once


async def test_listing_and_reading_surveys(session: AsyncSession) -> None:
    first = await imported(session)
    second = await imported(session, item(_set("series", "second")))
    await open_survey(session, second.id, COORDINATOR, NOW)
    assert await list_surveys(session) == [second, first]
    assert await list_surveys(session, statuses=(SurveyStatus.draft,)) == [first]
    assert await get_survey(session, first.id) is first
    assert await get_survey(session, 999) is None
    assert await published_surveys(session) == []
    count = await session.scalar(select(func.count()).select_from(SurveyQuestion))
    assert count == 2 * len(CODES)
