"""Survey files: the surveys coordinators write in YAML or JSON, read and checked, then stored as
drafts with their questions (`collective surveys import`). Every error names the survey, the
question or the option, and the field, so that the file can be mended.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Challenge, QuestionKind, Role, Survey, SurveyQuestion, SurveyStatus
from storage.surveys import NO, SCALE, YES, SurveyError, in_locale
from storage.texts import load_yaml
from storage.themes import known_theme_codes

MAX_QUESTIONS = 50
MAX_OPTIONS = 12
# Lengths in the files: titles and questions are message text, labels end up on buttons.
TITLE_MAX, INTRO_MAX, QUESTION_MAX, LABEL_MAX, UNIT_MAX = 120, 1000, 500, 60, 30
SERIES_MAX = 40
REMINDER_MAX_HOURS = 14 * 24
CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
LOCALE = re.compile(r"[a-z]{2,3}")


class InvalidSurvey(SurveyError):
    """A survey file that cannot be imported: `item` says which survey / question / option,
    `field` which of its keys, `problem` what is wrong with it."""

    def __init__(self, item: str, field: str, problem: str) -> None:
        super().__init__(f"{item}: {field}: {problem}" if field else f"{item}: {problem}")
        self.item = item
        self.field = field
        self.problem = problem


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
    import yaml  # loaded on first use

    try:
        if path.suffix.lower() == ".json":
            data = json.loads(source)
        else:
            data = load_yaml(source)  # a text written on lines after | reads as paragraphs
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
    "roles",
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
        self.survey_roles: list[str] = []

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
            series = _slug(in_locale(texts, "fr")["title"])
            if not series:
                raise self.fail("series", "cannot be made from the title: give one")
        elif not isinstance(series, str) or not _slug(series) or _slug(series) != series:
            raise self.fail("series", "lowercase letters, digits and dashes (up to 40)")
        self.name = f"survey {self.index} ({series})"
        wave = item.get("wave", 1)
        if isinstance(wave, bool) or not isinstance(wave, int) or not 1 <= wave <= 1000:
            raise self.fail("wave", "a whole number from 1")
        audience = self.audience(item.get("audience"))
        if item.get("challenge") is not None and audience.get("themes"):
            problem = "a challenge's survey goes to its participants (roles may narrow it)"
            raise self.fail("audience.themes", problem)
        self.survey_roles = audience.get("roles") or []
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
            audience=audience,
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
        roles = self.roles(value.get("roles"), "audience.roles", self.name)
        themes = _strings(value.get("themes"), self.name, "audience.themes")
        for theme in themes:
            if theme not in self.themes:
                raise self.fail("audience.themes", f"no theme {theme!r}")
        return {key: found for key, found in (("roles", roles), ("themes", themes)) if found}

    def roles(self, value: Any, field: str, item: str) -> list[str]:
        """Role codes (one may be written alone: `roles: association`)."""
        roles = _strings([value] if isinstance(value, str) else value, item, field)
        for role in roles:
            if role not in Role.__members__:
                raise self.fail(field, f"no role {role!r} ({', '.join(Role)})", item)
        return list(dict.fromkeys(roles))

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
        moment: datetime = value if value.tzinfo is not None else value.replace(tzinfo=self.zone)
        return moment.astimezone(ZoneInfo("UTC"))

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
            kind = QuestionKind(entry.get("kind", ""))
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
        roles = self.roles(entry.get("roles"), "roles", item)
        others = [role for role in roles if self.survey_roles and role not in self.survey_roles]
        if others:
            problem = f"{', '.join(others)}: not a role the survey goes to (audience.roles)"
            raise self.fail("roles", problem, item)
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
            roles=roles or None,
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
