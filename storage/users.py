"""People: found or created at first contact, then their profile, step by step."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import FsmRecord, Organisation, Role, User, UserTheme, utcnow
from storage.texts import clean_text
from storage.themes import known_theme_codes

ARRONDISSEMENTS = range(1, 17)
OUTSIDE_MARSEILLE = 0
ORGANISATION_NAME_MAX = 120
# When a person was last seen is kept to the hour: an update from someone seen minutes ago
# writes nothing for it.
SEEN_PRECISION = timedelta(hours=1)


async def get_or_create_user(
    session: AsyncSession,
    telegram_id: int,
    locale: str,
    now: datetime | None = None,
    *,
    found: User | None = None,
) -> User:
    """Only the Telegram id and the language are stored before the notice is acknowledged.
    `found`: the person, already read (by `find_user_and_dialog`)."""
    user = found or await find_user(session, telegram_id)
    now = now or utcnow()
    if user is None:
        user = User(
            telegram_id=telegram_id,
            locale=locale,
            created_at=now,
            last_seen_at=now,
            organisation=None,
            theme_links=[],
        )
        session.add(user)
        await session.flush()
    else:
        if abs(now - user.last_seen_at) >= SEEN_PRECISION:
            user.last_seen_at = now
        if not user.active:
            user.active = True
    return user


def _person() -> Select[User]:
    # Their themes in the same statement, rather than a second one for every update.
    return select(User).options(joinedload(User.theme_links))


@lru_cache
def _person_by_telegram_id() -> Select[User]:
    # Built once: where the dialogs live in Redis, every update runs it.
    return _person().where(User.telegram_id == bindparam("telegram_id"))


async def find_user(session: AsyncSession, telegram_id: int) -> User | None:
    found = await session.scalars(_person_by_telegram_id(), {"telegram_id": telegram_id})
    return found.unique().one_or_none()


@lru_cache
def _person_and_dialog() -> Select[User, str | None, str | None, dict[str, Any] | None]:
    # Built once: every update runs it. The dialog as columns: the ORM has nothing to track
    # there (storage/dialogs.py writes it).
    return (
        _person()
        .add_columns(FsmRecord.key, FsmRecord.state, FsmRecord.data)
        .outerjoin(FsmRecord, FsmRecord.key == bindparam("dialog_key"))
        .where(User.telegram_id == bindparam("telegram_id"))
    )


async def find_user_and_dialog(
    session: AsyncSession, telegram_id: int, dialog_key: str
) -> tuple[User | None, tuple[str | None, dict[str, Any]] | None]:
    """The person and their dialog's stored state and data, in one statement; None for a
    dialog with no row. With no such person, (None, None): the dialog, if any, is to be read
    on its own."""
    rows = await session.execute(
        _person_and_dialog(), {"telegram_id": telegram_id, "dialog_key": dialog_key}
    )
    # All rows: they carry the person's themes, one a row (the same person on each).
    found = rows.unique(lambda row: row[0]).all()
    if not found:
        return None, None
    user, key, state, data = found[0]
    return user, (None if key is None else (state, data or {}))


def set_role(user: User, role: Role, organisation_name: str | None = None) -> None:
    """An organisation's member names it; a citizen belongs to none."""
    if role.is_organisation:
        name = clean_text(organisation_name, min_length=2, max_length=ORGANISATION_NAME_MAX)
        if user.organisation is not None and user.organisation.kind is role:
            user.organisation.name = name
        else:
            user.organisation = Organisation(name=name, kind=role)
    else:
        user.organisation = None
    user.role = role


def set_arrondissement(user: User, arrondissement: int) -> None:
    if arrondissement != OUTSIDE_MARSEILLE and arrondissement not in ARRONDISSEMENTS:
        raise ValueError(f"no arrondissement {arrondissement}")
    user.arrondissement = arrondissement


async def set_themes(session: AsyncSession, user: User, codes: Iterable[str]) -> None:
    wanted = set(codes)
    unknown = wanted - await known_theme_codes(session)
    if unknown:
        raise ValueError(f"unknown themes {sorted(unknown)}")
    kept = [link for link in user.theme_links if link.theme_code in wanted]
    kept_codes = {link.theme_code for link in kept}
    user.theme_links = kept + [UserTheme(theme_code=c) for c in sorted(wanted - kept_codes)]


def complete_onboarding(user: User, now: datetime | None = None) -> None:
    if user.onboarded_at is None:
        user.onboarded_at = now or utcnow()


def is_onboarded(user: User) -> bool:
    return user.onboarded_at is not None


def mark_unreachable(user: User) -> None:
    """The person blocked the bot: nothing more is sent until they come back."""
    user.active = False
