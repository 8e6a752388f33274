"""Challenges: drafted, opened and closed by coordinators, joined with what people bring.
The people a challenge concerns are alerted by `storage.challenge_alerts`; the organisations
that take part ally through `storage.alliances`.

Every function takes the caller's session and never commits. Bad input raises
`InvalidChallenge` naming the field (`texts.fr.title`, `activities[2].code`, `kind`…) and why
(`reason`: missing, unknown, invalid, too_short…), never a sentence: the dialog or the CLI says it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import audit
from storage.challenge_alerts import withdraw_alerts
from storage.excel_csv import csv_bytes
from storage.models import (
    AssistedParticipation,
    Challenge,
    ChallengeStatus,
    Introduction,
    IntroductionStatus,
    Participation,
    Role,
    User,
    utcnow,
)
from storage.organisations import acting_for
from storage.privacy import has_current_notice
from storage.summary import local_date
from storage.texts import N_, TextRejected, clean_text
from storage.themes import known_theme_codes
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE

CONTRIBUTION_KINDS: dict[str, str] = {
    "time": N_("Volunteers' time"),
    "skills": N_("Skills"),
    "premises": N_("Premises"),
    "equipment": N_("Equipment"),
    "funding": N_("Funding"),
    "communication": N_("Communication"),
    "other": N_("Something else"),
}
ACTIVITY_FIELDS = ("code", "texts", "on_site", "remote", "hours_per_month")
EDITABLE_FIELDS = (
    "texts",
    "theme_code",
    "arrondissements",
    "starts_on",
    "ends_on",
    "contribution_kinds",
    "activities",
)
TITLE_LIMITS = (5, 100)
DESCRIPTION_LIMITS = (20, 2000)
CONTRIBUTION_TEXT_LIMITS = (3, 300)
ACTIVITY_LABEL_LIMITS = (2, 80)
HOURS_PER_MONTH_LIMITS = (1, 160)
ASSISTED_NAME_LIMITS = (1, 40)
RECENT_DAYS = 7

_LOCALE = re.compile(r"[a-z]{2,3}")
_ACTIVITY_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
# No 0/o, 1/l: a slug may be typed from a poster.
_SLUG_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_SLUG_LENGTH = 8
_PAYLOAD = re.compile(r"c_([a-z0-9]{4,16})")


class ChallengeError(Exception):
    """Base of what a challenge operation refuses."""


class ChallengeNotFound(ChallengeError, LookupError):
    pass


class ChallengeClosed(ChallengeError):
    """Joining or changing a participation in a challenge that is not open."""


class NotParticipating(ChallengeError):
    pass


class NotAllowed(ChallengeError, PermissionError):
    """This person may not do this: no current notice, wrong role, not the one asked."""


class AlreadyAnswered(ChallengeError):
    pass


class InvalidChallenge(ChallengeError):
    """A bad field: `field` names it, `reason` says what is wrong, `limit` the length bound."""

    def __init__(self, field: str, reason: str = "invalid", limit: int | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.limit = limit


# -- reading a challenge


def _in_locale(texts: Mapping[str, Any], locale: str) -> Any:
    for key in (locale, "fr"):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()), None)


def challenge_text(challenge: Challenge, locale: str) -> tuple[str, str]:
    """(title, description) in `locale`, else French, else the first language present."""
    entry = _in_locale(challenge.texts, locale) or {}
    return entry.get("title", ""), entry.get("description", "")


def text_language(challenge: Challenge, locale: str) -> str | None:
    """The language `challenge_text` shows to a reader of `locale`: theirs when the challenge
    has it, else French, else the first present (None: no text at all)."""
    texts = challenge.texts or {}
    return next((key for key in (locale, "fr") if key in texts), next(iter(texts), None))


def activity_label(activity: Mapping[str, Any], locale: str) -> str:
    return str(_in_locale(activity.get("texts") or {}, locale) or activity["code"])


def deep_link(bot_username: str, challenge: Challenge) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start=c_{challenge.slug}"


def parse_start_payload(payload: str) -> str | None:
    """The slug of a challenge's /start payload (`c_<slug>`), else None."""
    match = _PAYLOAD.fullmatch(payload or "")
    return match.group(1) if match else None


# -- validation


def _text(field: str, raw: Any, limits: tuple[int, int], *, one_line: bool = False) -> str:
    if raw is not None and not isinstance(raw, str):
        raise InvalidChallenge(field, "invalid")
    try:
        text = clean_text(raw, min_length=limits[0], max_length=limits[1])
    except TextRejected as error:
        if error.reason == TextRejected.EMPTY:
            raise InvalidChallenge(field, "missing") from None
        raise InvalidChallenge(field, error.reason, error.limit) from None
    return " ".join(text.split()) if one_line else text


def _optional_text(field: str, raw: Any, limits: tuple[int, int]) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _text(field, raw, limits)


def _check_keys(field: str, raw: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in raw:
        if key not in allowed:
            raise InvalidChallenge(f"{field}.{key}" if field else str(key), "unknown")


def _texts(raw: Any) -> dict[str, dict[str, str]]:
    if not isinstance(raw, Mapping) or not raw:
        raise InvalidChallenge("texts", "missing")
    texts = {}
    for locale, entry in raw.items():
        if not isinstance(locale, str) or not _LOCALE.fullmatch(locale):
            raise InvalidChallenge(f"texts.{locale}", "unknown")
        if not isinstance(entry, Mapping):
            raise InvalidChallenge(f"texts.{locale}", "invalid")
        _check_keys(f"texts.{locale}", entry, ("title", "description"))
        texts[locale] = {
            "title": _text(
                f"texts.{locale}.title", entry.get("title"), TITLE_LIMITS, one_line=True
            ),
            "description": _text(
                f"texts.{locale}.description", entry.get("description"), DESCRIPTION_LIMITS
            ),
        }
    return texts


def _arrondissements(raw: Any) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple | set | frozenset):
        raise InvalidChallenge("arrondissements", "invalid")
    for number in raw:
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or number not in ARRONDISSEMENTS
        ):
            raise InvalidChallenge("arrondissements", "invalid")
    return sorted(set(raw))


def _day(field: str, raw: Any) -> date | None:
    if raw is None:
        return None
    if isinstance(raw, datetime) or not isinstance(raw, date):
        raise InvalidChallenge(field, "invalid")
    return raw


def _kinds(raw: Any) -> list[str]:
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidChallenge("contribution_kinds", "missing")
    kinds: list[str] = []
    for kind in raw:
        if kind not in CONTRIBUTION_KINDS:
            raise InvalidChallenge("contribution_kinds", "unknown")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def _activities(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise InvalidChallenge("activities", "invalid")
    activities: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        where = f"activities[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidChallenge(where, "invalid")
        _check_keys(where, item, ACTIVITY_FIELDS)
        code = item.get("code")
        if not isinstance(code, str) or not _ACTIVITY_CODE.fullmatch(code):
            raise InvalidChallenge(f"{where}.code", "missing" if code is None else "invalid")
        if any(activity["code"] == code for activity in activities):
            raise InvalidChallenge(f"{where}.code", "duplicate")
        labels = item.get("texts")
        if not isinstance(labels, Mapping) or not labels:
            raise InvalidChallenge(f"{where}.texts", "missing")
        texts = {}
        for locale, label in labels.items():
            if not isinstance(locale, str) or not _LOCALE.fullmatch(locale):
                raise InvalidChallenge(f"{where}.texts.{locale}", "unknown")
            texts[locale] = _text(
                f"{where}.texts.{locale}", label, ACTIVITY_LABEL_LIMITS, one_line=True
            )
        modes = {}
        for mode in ("on_site", "remote"):
            value = item.get(mode, False)
            if not isinstance(value, bool):
                raise InvalidChallenge(f"{where}.{mode}", "invalid")
            modes[mode] = value
        if not any(modes.values()):
            raise InvalidChallenge(f"{where}.on_site", "missing")
        hours = item.get("hours_per_month")
        low, high = HOURS_PER_MONTH_LIMITS
        if isinstance(hours, bool) or not isinstance(hours, int) or not low <= hours <= high:
            raise InvalidChallenge(
                f"{where}.hours_per_month", "missing" if hours is None else "invalid"
            )
        activities.append({"code": code, "texts": texts, **modes, "hours_per_month": hours})
    return activities


async def _validated(session: AsyncSession, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The editable fields, cleaned; InvalidChallenge at the first bad one, in form order."""
    clean: dict[str, Any] = {"texts": _texts(fields.get("texts"))}
    if fields.get("theme_code") not in await known_theme_codes(session):
        raise InvalidChallenge("theme_code", "unknown")
    clean["theme_code"] = fields["theme_code"]
    clean["arrondissements"] = _arrondissements(fields.get("arrondissements"))
    clean["starts_on"] = _day("starts_on", fields.get("starts_on"))
    clean["ends_on"] = _day("ends_on", fields.get("ends_on"))
    if clean["starts_on"] and clean["ends_on"] and clean["ends_on"] < clean["starts_on"]:
        raise InvalidChallenge("ends_on", "before_start")
    clean["contribution_kinds"] = _kinds(fields.get("contribution_kinds"))
    clean["activities"] = _activities(fields.get("activities"))
    return clean


def _activity_code(challenge: Challenge, activity: str | None) -> str | None:
    if activity is None:
        return None
    if not any(item["code"] == activity for item in challenge.activities):
        raise InvalidChallenge("activity", "unknown")
    return activity


# -- coordinators: drafting, opening, closing


async def _new_slug(session: AsyncSession) -> str:
    while True:
        slug = "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(_SLUG_LENGTH))
        if await session.scalar(select(Challenge.id).where(Challenge.slug == slug)) is None:
            return slug


async def create_challenge(
    session: AsyncSession,
    *,
    texts: dict[str, dict[str, str]],
    theme_code: str,
    arrondissements: list[int],
    starts_on: date | None,
    ends_on: date | None,
    contribution_kinds: list[str],
    activities: list[dict[str, Any]],
    author_telegram_id: int | None,
) -> Challenge:
    """A draft, with a short opaque slug for its links; nothing is sent."""
    clean = await _validated(
        session,
        {
            "texts": texts,
            "theme_code": theme_code,
            "arrondissements": arrondissements,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "contribution_kinds": contribution_kinds,
            "activities": activities,
        },
    )
    challenge = Challenge(
        slug=await _new_slug(session),
        status=ChallengeStatus.draft,
        author_telegram_id=author_telegram_id,
        **clean,
    )
    session.add(challenge)
    await session.flush()
    return challenge


async def _locked(session: AsyncSession, challenge_id: int) -> Challenge:
    # FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE already holds the write lock); a row
    # read earlier in the session is read again, so that it shows what the lock waited for.
    challenge = await session.scalar(
        select(Challenge)
        .where(Challenge.id == challenge_id)
        .with_for_update(of=Challenge)
        .execution_options(populate_existing=True)
    )
    if challenge is None:
        raise ChallengeNotFound(challenge_id)
    return challenge


async def update_challenge(
    session: AsyncSession, challenge_id: int, actor_id: int, **fields: Any
) -> Challenge:
    """Changes some of `EDITABLE_FIELDS`, in any status, validated as at creation."""
    for name in fields:
        if name not in EDITABLE_FIELDS:
            raise InvalidChallenge(name, "unknown")
    challenge = await _locked(session, challenge_id)
    current = {name: getattr(challenge, name) for name in EDITABLE_FIELDS}
    clean = await _validated(session, {**current, **fields})
    changed = sorted(name for name in fields if clean[name] != current[name])
    for name in changed:
        setattr(challenge, name, clean[name])
    if changed:
        audit(
            session, actor_id, "challenge.update", "challenge", challenge.id, {"fields": changed}
        )
    await session.flush()
    return challenge


async def set_translation(
    session: AsyncSession,
    challenge_id: int,
    actor_id: int,
    locale: str,
    *,
    title: str | None,
    description: str | None,
) -> Challenge:
    """Adds the challenge's title and description in `locale` (or replaces them), validated
    as at creation (InvalidChallenge on `texts.<locale>.title`…); its other languages stay.
    The city's texts: no personal data."""
    if not isinstance(locale, str) or not _LOCALE.fullmatch(locale):
        raise InvalidChallenge(f"texts.{locale}", "unknown")
    challenge = await _locked(session, challenge_id)
    texts = {lang: dict(entry) for lang, entry in challenge.texts.items()}
    texts[locale] = {"title": title, "description": description}
    return await update_challenge(session, challenge_id, actor_id, texts=texts)


async def get_challenge(session: AsyncSession, challenge_id: int) -> Challenge | None:
    return await session.get(Challenge, challenge_id)


async def challenge_by_slug(session: AsyncSession, slug: str) -> Challenge | None:
    return await session.scalar(select(Challenge).where(Challenge.slug == slug))


async def list_challenges(
    session: AsyncSession,
    *,
    statuses: Sequence[ChallengeStatus] = (ChallengeStatus.open,),
    theme_code: str | None = None,
    page: int = 0,
    page_size: int = 5,
) -> tuple[Sequence[Challenge], int]:
    """A page of challenges, the most recently opened (else created) first, and the total."""
    query = select(Challenge).where(Challenge.status.in_(list(statuses)))
    if theme_code is not None:
        query = query.where(Challenge.theme_code == theme_code)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = await session.scalars(
        query.order_by(
            func.coalesce(Challenge.opened_at, Challenge.created_at).desc(), Challenge.id.desc()
        )
        .offset(max(page, 0) * page_size)
        .limit(page_size)
    )
    return items.all(), total


async def open_challenge(
    session: AsyncSession,
    challenge_id: int,
    actor_id: int,
    now: datetime | None = None,
    *,
    timezone: str,
) -> Challenge:
    """A draft or closed challenge opens; one whose end date has passed does not
    (InvalidChallenge on `ends_on`). The caller then sends the alerts."""
    challenge = await _locked(session, challenge_id)
    if challenge.status is ChallengeStatus.open:
        raise ChallengeError("already open")
    now = now or utcnow()
    if challenge.ends_on is not None and challenge.ends_on < local_date(now, timezone):
        raise InvalidChallenge("ends_on", "past")
    previous = challenge.status
    challenge.status = ChallengeStatus.open
    challenge.opened_at = now
    challenge.closed_at = None
    audit(session, actor_id, "challenge.open", "challenge", challenge.id, {"from": previous.value})
    await session.flush()
    return challenge


async def close_challenge(
    session: AsyncSession, challenge_id: int, actor_id: int, now: datetime | None = None
) -> Challenge:
    challenge = await _locked(session, challenge_id)
    if challenge.status is not ChallengeStatus.open:
        raise ChallengeError(f"not open ({challenge.status.value})")
    challenge.status = ChallengeStatus.closed
    challenge.closed_at = now or utcnow()
    audit(session, actor_id, "challenge.close", "challenge", challenge.id)
    await withdraw_alerts(session, challenge)
    await session.flush()
    return challenge


def has_ended(challenge: Challenge, now: datetime, timezone: str) -> bool:
    """Its end date (a local date) is past."""
    return challenge.ends_on is not None and challenge.ends_on < local_date(now, timezone)


def is_open(challenge: Challenge, *, timezone: str, now: datetime | None = None) -> bool:
    """Open, and not past its end date (the job that closes it may not have run yet)."""
    return challenge.status is ChallengeStatus.open and not has_ended(
        challenge, now or utcnow(), timezone
    )


async def ended_challenges(session: AsyncSession, now: datetime, timezone: str) -> Sequence[int]:
    """Open challenges past their end date: a cheap look before `close_ended`."""
    found = await session.scalars(
        select(Challenge.id).where(
            Challenge.status == ChallengeStatus.open,
            Challenge.ends_on < local_date(now, timezone),
        )
    )
    return found.all()


async def close_ended(session: AsyncSession, now: datetime, timezone: str) -> Sequence[Challenge]:
    """Closes every open challenge whose end date has passed, and returns them. The status
    change is its own claim: of two workers at once, the second's UPDATE ... WHERE status =
    'open' finds them closed already and closes nothing. Alerts about them still waiting are
    withdrawn."""
    closed = (
        await session.scalars(
            update(Challenge)
            .where(
                Challenge.status == ChallengeStatus.open,
                Challenge.ends_on < local_date(now, timezone),
            )
            .values(status=ChallengeStatus.closed, closed_at=now)
            .returning(Challenge)
            .execution_options(populate_existing=True)
        )
    ).all()
    for challenge in closed:
        audit(
            session,
            0,
            "challenge.close",
            "challenge",
            challenge.id,
            {"ended_on": challenge.ends_on.isoformat() if challenge.ends_on else None},
        )
        await withdraw_alerts(session, challenge)
    await session.flush()
    return closed


# -- taking part


def require_open(challenge: Challenge, now: datetime | None = None, *, timezone: str) -> None:
    if challenge.status is not ChallengeStatus.open:
        raise ChallengeClosed(challenge.status.value)
    if has_ended(challenge, now or utcnow(), timezone):
        raise ChallengeClosed("ended")


async def _organisation_id(session: AsyncSession, user: User) -> int | None:
    # The relationship is the truth: `organisation_id` lags until a flush after set_role.
    # On its behalf only once coordinators verified it (storage/organisations.py).
    organisation = acting_for(user)
    if organisation is None:
        return None
    if organisation.id is None:
        await session.flush()
    return organisation.id


async def join(
    session: AsyncSession,
    challenge: Challenge,
    user: User,
    *,
    kind: str,
    text: str | None,
    activity: str | None = None,
    timezone: str,
    now: datetime | None = None,
) -> Participation:
    """Joins an open challenge not past its end date, or changes what the person brings: one
    participation per person; joining again after leaving takes the same row back (its
    `joined_at` renewed)."""
    require_open(challenge, now, timezone=timezone)
    if not has_current_notice(user):
        raise NotAllowed("notice")
    if kind not in challenge.contribution_kinds:
        raise InvalidChallenge("kind", "unknown")
    cleaned = _optional_text("text", text, CONTRIBUTION_TEXT_LIMITS)
    activity = _activity_code(challenge, activity)
    now = now or utcnow()
    participation = await session.scalar(
        select(Participation).where(
            Participation.challenge_id == challenge.id, Participation.user_id == user.id
        )
    )
    if participation is None:
        participation = Participation(challenge_id=challenge.id, user_id=user.id, joined_at=now)
        session.add(participation)
    elif participation.left_at is not None:
        participation.joined_at = now
        participation.left_at = None
    participation.kind = kind
    participation.text = cleaned
    participation.activity = activity
    participation.organisation_id = await _organisation_id(session, user)
    await session.flush()
    return participation


async def leave(
    session: AsyncSession, challenge: Challenge, user: User, now: datetime | None = None
) -> Participation:
    participation = await participation_of(session, challenge.id, user)
    if participation is None:
        raise NotParticipating(challenge.id)
    participation.left_at = now or utcnow()
    await session.flush()
    return participation


async def participation_of(
    session: AsyncSession, challenge_id: int, user: User
) -> Participation | None:
    """The person's participation, unless they left."""
    return await session.scalar(
        select(Participation).where(
            Participation.challenge_id == challenge_id,
            Participation.user_id == user.id,
            Participation.left_at.is_(None),
        )
    )


def active_participants(challenge_id: int) -> Any:
    """Active participations with their (not erased) people, in the order they joined."""
    return (
        select(Participation, User)
        .join(User, User.id == Participation.user_id)
        .where(
            Participation.challenge_id == challenge_id,
            Participation.left_at.is_(None),
            User.erased_at.is_(None),
        )
        .order_by(Participation.joined_at, Participation.id)
    )


async def participants(
    session: AsyncSession, challenge_id: int
) -> Sequence[tuple[Participation, User]]:
    """Who takes part, in the order they joined. People erased since are left out of the list
    (their participation still counts in `challenge_figures`)."""
    rows = await session.execute(active_participants(challenge_id))
    return [(participation, user) for participation, user in rows.all()]


async def register_assisted(
    session: AsyncSession,
    challenge: Challenge,
    registered_by: User,
    *,
    name: str,
    arrondissement: int,
    wishes: str | None,
    activity: str | None,
    agreed: bool,
    timezone: str,
    now: datetime | None = None,
) -> AssistedParticipation:
    """A person without Telegram, registered by an organisation's member (or a coordinator)
    who records that the person agreed; no account is made for them."""
    require_open(challenge, now, timezone=timezone)
    if not has_current_notice(registered_by) or not (
        registered_by.role is Role.coordinator or acting_for(registered_by) is not None
    ):
        raise NotAllowed("role")
    if agreed is not True:
        raise InvalidChallenge("agreed", "missing")
    cleaned_name = _text("name", name, ASSISTED_NAME_LIMITS, one_line=True)
    # A first name or initials: a phone number or an address has no place here.
    if any(character.isdigit() for character in cleaned_name):
        raise InvalidChallenge("name", "invalid")
    if isinstance(arrondissement, bool) or arrondissement not in (
        *ARRONDISSEMENTS,
        OUTSIDE_MARSEILLE,
    ):
        raise InvalidChallenge("arrondissement", "invalid")
    now = now or utcnow()
    assisted = AssistedParticipation(
        challenge_id=challenge.id,
        registered_by=registered_by.id,
        name=cleaned_name,
        arrondissement=arrondissement,
        wishes=_optional_text("wishes", wishes, CONTRIBUTION_TEXT_LIMITS),
        activity=_activity_code(challenge, activity),
        agreement_recorded_at=now,
        created_at=now,
    )
    session.add(assisted)
    await session.flush()
    return assisted


async def assisted_of(session: AsyncSession, challenge_id: int) -> Sequence[AssistedParticipation]:
    rows = await session.scalars(
        select(AssistedParticipation)
        .where(AssistedParticipation.challenge_id == challenge_id)
        .order_by(AssistedParticipation.created_at, AssistedParticipation.id)
    )
    return rows.all()


# -- figures and export


@dataclass
class ChallengeFigures:
    participants: int = 0
    assisted: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    # People's arrondissements, assisted people included; people with none are not counted.
    by_arrondissement: dict[int, int] = field(default_factory=dict)
    joined_last_7_days: int = 0
    left: int = 0
    introductions_asked: int = 0
    introductions_made: int = 0


async def challenge_figures(
    session: AsyncSession, challenge_id: int, now: datetime | None = None
) -> ChallengeFigures:
    """Counts over every participation, erased people's included (anonymous aggregates)."""
    figures = ChallengeFigures()
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    of_challenge = Participation.challenge_id == challenge_id
    active = and_(of_challenge, Participation.left_at.is_(None))
    for kind, count in await session.execute(
        select(Participation.kind, func.count()).where(active).group_by(Participation.kind)
    ):
        figures.by_kind[kind] = count
    figures.participants = sum(figures.by_kind.values())
    figures.joined_last_7_days = (
        await session.scalar(select(func.count()).where(active, Participation.joined_at >= since))
        or 0
    )
    figures.left = (
        await session.scalar(
            select(func.count()).where(of_challenge, Participation.left_at.is_not(None))
        )
        or 0
    )
    places = (
        select(User.arrondissement.label("arrondissement"))
        .join(Participation, Participation.user_id == User.id)
        .where(active)
        .union_all(
            select(AssistedParticipation.arrondissement).where(
                AssistedParticipation.challenge_id == challenge_id
            )
        )
        .subquery()
    )
    for arrondissement, count in await session.execute(
        select(places.c.arrondissement, func.count())
        .where(places.c.arrondissement.is_not(None))
        .group_by(places.c.arrondissement)
    ):
        figures.by_arrondissement[arrondissement] = count
    figures.by_arrondissement = dict(sorted(figures.by_arrondissement.items()))
    figures.assisted = (
        await session.scalar(
            select(func.count()).where(AssistedParticipation.challenge_id == challenge_id)
        )
        or 0
    )
    for status, count in await session.execute(
        select(Introduction.status, func.count())
        .where(Introduction.challenge_id == challenge_id)
        .group_by(Introduction.status)
    ):
        figures.introductions_asked += count
        if status is IntroductionStatus.accepted:
            figures.introductions_made = count
    return figures


CSV_COLUMNS = (
    "type",
    "role",
    "organisation",
    "arrondissement",
    "kind",
    "activity",
    "text",
    "joined_on",
    "telegram_id",
)


def participants_csv(
    rows: Sequence[tuple[Participation, User]],
    assisted: Sequence[AssistedParticipation],
    *,
    timezone: str,
) -> bytes:
    """The participants for French Excel (`storage.excel_csv`). Columns are codes
    (`CSV_COLUMNS`), values too (role, kind, activity). A person's Telegram id only with their
    consent to share contact details; an assisted person's name never. Dates are local
    dates in `timezone`."""
    people = (
        (
            "participant",
            user.role.value if user.role else None,
            user.organisation.name if user.organisation else None,
            user.arrondissement,
            participation.kind,
            participation.activity,
            participation.text,
            local_date(participation.joined_at, timezone).isoformat(),
            user.telegram_id if user.contact_consent_at is not None else None,
        )
        for participation, user in rows
    )
    others = (
        (
            "assisted",
            None,
            None,
            person.arrondissement,
            None,
            person.activity,
            person.wishes,
            local_date(person.created_at, timezone).isoformat(),
            None,
        )
        for person in assisted
    )
    return csv_bytes(CSV_COLUMNS, (*people, *others))
