"""Challenges written in a file (YAML or JSON) by coordinators, imported as drafts.

A file holds one challenge, a list of them, or `{challenges: [...]}`. A challenge:

    theme: older_people               # a theme code
    arrondissements: all              # or a list: [1, 2, 3]
    starts_on: 2026-01-15             # optional, YYYY-MM-DD
    ends_on: 2026-12-31               # optional
    contribution_kinds: [time, skills]
    texts:                            # one or more languages
      fr: {title: …, description: …}
      en: {title: …, description: …}
    activities:                       # optional: the ways to help
      - code: visits
        on_site: true
        remote: false
        hours_per_month: 4
        texts: {fr: Visites à domicile, en: Home visits}

With a single language, `title`, `description` (and `label` for an activity) may stand alone,
with `language: fr` (the default) naming it.

A challenge already in the database (one written in Telegram, say) is named by its `slug` — the
end of its link, `…?start=c_<slug>`, shown on its card and by the import — to add its texts in
other languages (or replace them); nothing else of it changes, and only texts are taken:

    slug: k7mq3xpt
    texts:
      en: {title: …, description: …}
      ar: {title: …, description: …}

A long description is written on several lines with `|`: Telegram breaks lines itself, so a
single line break becomes a space; a blank line starts a paragraph, and a line starting with
"- " or "1. " a list item (storage.texts.fold_lines). A JSON file's texts are taken as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.challenges import (
    InvalidChallenge,
    challenge_by_slug,
    create_challenge,
    set_translation,
)
from storage.models import Challenge
from storage.texts import load_yaml

CHALLENGE_KEYS = (
    "theme",
    "arrondissements",
    "starts_on",
    "ends_on",
    "contribution_kinds",
    "texts",
    "title",
    "description",
    "language",
    "activities",
    "slug",
)
ACTIVITY_KEYS = ("code", "texts", "label", "on_site", "remote", "hours_per_month")
# A challenge named by its slug takes its texts in more languages, and nothing else.
TRANSLATION_KEYS = ("slug", "texts", "title", "description", "language")
TEXT_KEYS = ("title", "description")
WHOLE_CITY = ("all", "city")
# The validator's names for what the file calls otherwise.
_FILE_NAMES = {"theme_code": "theme"}


class ChallengeFileError(ValueError):
    """What is wrong in a challenge file, in one line: which challenge (`item`, from 1), which
    field, and why (`reason`, as InvalidChallenge's)."""

    def __init__(
        self,
        reason: str,
        *,
        item: int | None = None,
        title: str | None = None,
        field: str | None = None,
        limit: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.reason, self.item, self.title = reason, item, title
        self.field, self.limit, self.detail = field, limit, detail
        where = []
        if item is not None:
            where.append(f"challenge {item}" + (f" ({title!r})" if title else ""))
        if field is not None:
            where.append(field)
        what = reason.replace("_", " ")
        if limit is not None:
            what += f" (limit {limit})"
        if detail:
            what += f": {detail}"
        super().__init__(": ".join([*where, what]))

    def located(self, item: int, title: str | None) -> ChallengeFileError:
        """The same error, naming the challenge it is about."""
        return ChallengeFileError(
            self.reason,
            item=item,
            title=title,
            field=self.field,
            limit=self.limit,
            detail=self.detail,
        )


def load_challenge_file(path: str | Path) -> list[dict[str, Any]]:
    """The challenges of a .yaml, .yml or .json file, as written (`import_challenges` checks
    them); ChallengeFileError when the file cannot be read or is not a list of mappings."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ChallengeFileError("unsupported_format", detail="use .yaml, .yml or .json")
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ChallengeFileError("unreadable", detail=str(error)) from None
    import yaml  # loaded on first use, as with every file format

    try:
        data = json.loads(source) if suffix == ".json" else load_yaml(source)
    except json.JSONDecodeError as error:
        raise ChallengeFileError("not_json", detail=f"line {error.lineno}: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "?"
        problem = getattr(error, "problem", None) or "syntax error"
        raise ChallengeFileError("not_yaml", detail=f"{line}: {problem}") from None
    if isinstance(data, Mapping) and "challenges" in data:
        if set(data) != {"challenges"}:
            extra = sorted(str(key) for key in set(data) - {"challenges"})
            raise ChallengeFileError("unknown", field=extra[0])
        data = data["challenges"]
    items = [data] if isinstance(data, Mapping) else data
    if not isinstance(items, list) or not items:
        raise ChallengeFileError("no_challenge")
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise ChallengeFileError("not_a_mapping", item=number)
    return [dict(item) for item in items]


def _title(item: Mapping[str, Any]) -> str | None:
    texts = item.get("texts")
    if isinstance(texts, Mapping):
        entry = texts.get("fr") or next(iter(texts.values()), None)
        title = entry.get("title") if isinstance(entry, Mapping) else None
    else:
        title = item.get("title")
    return title[:40] if isinstance(title, str) else None


def _texts(item: Mapping[str, Any], language: str) -> Any:
    if "texts" in item:
        for key in ("title", "description"):
            if key in item:
                raise ChallengeFileError("both_texts_and_title", field=key)
        return item["texts"]
    return {language: {"title": item.get("title"), "description": item.get("description")}}


def _arrondissements(raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and raw.lower() in WHOLE_CITY):
        return []
    if isinstance(raw, int) and not isinstance(raw, bool):
        return [raw]
    return raw


def _day(field: str, raw: Any) -> date | None:
    if raw is None or (isinstance(raw, date) and not isinstance(raw, datetime)):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise ChallengeFileError("invalid", field=field, detail="a date is written YYYY-MM-DD")


def _activity(index: int, raw: Any, language: str) -> Any:
    if not isinstance(raw, Mapping):
        return raw
    for key in raw:
        if key not in ACTIVITY_KEYS:
            raise ChallengeFileError("unknown", field=f"activities[{index}].{key}")
    activity = {key: value for key, value in raw.items() if key != "label"}
    if "label" in raw:
        if "texts" in raw:
            raise ChallengeFileError("both_texts_and_label", field=f"activities[{index}].label")
        activity["texts"] = {language: raw["label"]}
    return activity


def challenge_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of `create_challenge` for one challenge of a file."""
    for key in item:
        if key not in CHALLENGE_KEYS:
            raise ChallengeFileError("unknown", field=str(key))
    language = item.get("language", "fr")
    if not isinstance(language, str):
        raise ChallengeFileError("invalid", field="language")
    activities = item.get("activities")
    if isinstance(activities, list):
        activities = [_activity(i, activity, language) for i, activity in enumerate(activities)]
    kinds = item.get("contribution_kinds")
    return {
        "texts": _texts(item, language),
        "theme_code": item.get("theme"),
        "arrondissements": _arrondissements(item.get("arrondissements")),
        "starts_on": _day("starts_on", item.get("starts_on")),
        "ends_on": _day("ends_on", item.get("ends_on")),
        "contribution_kinds": [kinds] if isinstance(kinds, str) else kinds,
        "activities": activities,
    }


def file_field(item: Mapping[str, Any], field: str) -> str:
    """The validator's name of a field (`texts.fr.title`) as the file spells it (`title`)."""
    if field in _FILE_NAMES:
        return _FILE_NAMES[field]
    if "texts" not in item:
        field = re.sub(r"^texts\.[^.]+\.", "", field)
    match = re.match(r"activities\[(\d+)\]\.texts(\.[^.]+)?$", field)
    activities = item.get("activities")
    if match and isinstance(activities, list):
        activity = activities[int(match.group(1))]
        if isinstance(activity, Mapping) and "label" in activity:
            field = f"activities[{match.group(1)}].label"
    return field


async def add_translations(
    session: AsyncSession, item: Mapping[str, Any], actor_id: int
) -> Challenge:
    """The texts of an item naming an existing challenge by its `slug`, added to it (a
    language it already has is replaced); ChallengeFileError, or InvalidChallenge from the
    checks every challenge's texts pass."""
    for key in item:
        if key not in TRANSLATION_KEYS:
            raise ChallengeFileError(
                "not_with_slug", field=str(key), detail="a challenge named by its slug takes texts"
            )
    slug = item.get("slug")
    challenge = await challenge_by_slug(session, slug) if isinstance(slug, str) else None
    if challenge is None:
        raise ChallengeFileError("unknown", field="slug", detail=str(slug))
    language = item.get("language", "fr")
    if not isinstance(language, str):
        raise ChallengeFileError("invalid", field="language")
    texts = _texts(item, language)
    if not isinstance(texts, Mapping) or not texts:
        raise ChallengeFileError("missing", field="texts")
    for locale, entry in texts.items():
        if not isinstance(entry, Mapping):
            raise ChallengeFileError("invalid", field=f"texts.{locale}")
        for key in entry:
            if key not in TEXT_KEYS:
                raise ChallengeFileError("unknown", field=f"texts.{locale}.{key}")
        challenge = await set_translation(
            session,
            challenge.id,
            actor_id,
            str(locale),
            title=entry.get("title"),
            description=entry.get("description"),
        )
    return challenge


async def _existing_titles(session: AsyncSession) -> set[tuple[str, str, str]]:
    rows = await session.execute(select(Challenge.theme_code, Challenge.texts))
    return {
        (theme, locale, entry["title"].casefold())
        for theme, texts in rows.all()
        for locale, entry in texts.items()
    }


@contextmanager
def _located(item: Mapping[str, Any], number: int, title: str | None) -> Iterator[None]:
    """An error in the file's `number`th item, said with where it stands."""
    try:
        yield
    except ChallengeFileError as error:
        raise error.located(number, title) from None
    except InvalidChallenge as error:
        raise ChallengeFileError(
            error.reason,
            item=number,
            title=title,
            field=file_field(item, error.field),
            limit=error.limit,
        ) from None


async def import_challenges(
    session: AsyncSession,
    items: Sequence[Mapping[str, Any]],
    author_telegram_id: int | None = None,
) -> list[Challenge]:
    """Every challenge as a draft — or, for one named by its slug, its texts added — in the
    caller's transaction; the first bad one raises ChallengeFileError (the caller rolls back).
    A new challenge whose title, in one of its languages, is already a challenge's of the same
    theme is refused as a duplicate: importing a file twice creates nothing twice (adding the
    same translations twice changes nothing the second time)."""
    titles = await _existing_titles(session)
    created = []
    for number, item in enumerate(items, start=1):
        title = _title(item)
        if "slug" in item:
            with _located(item, number, title):
                created.append(await add_translations(session, item, author_telegram_id or 0))
            continue
        with _located(item, number, title):
            fields = challenge_fields(item)
            challenge = await create_challenge(
                session, author_telegram_id=author_telegram_id, **fields
            )
        keys = [
            (challenge.theme_code, locale, entry["title"].casefold())
            for locale, entry in challenge.texts.items()
        ]
        for key in keys:
            if key in titles:
                field = file_field(item, f"texts.{key[1]}.title")
                raise ChallengeFileError("duplicate", item=number, title=title, field=field)
        titles.update(keys)
        created.append(challenge)
    return created
