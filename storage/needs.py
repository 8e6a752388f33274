"""Local needs: reported by people who acknowledged the notice, published only as counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Need, NeedStatus, Theme, User, utcnow
from storage.privacy import has_current_notice
from storage.texts import clean_text
from storage.themes import known_theme_codes
from storage.users import ARRONDISSEMENTS

NEED_TEXT_MIN = 10
NEED_TEXT_MAX = 500
# About 100 m: enough to place a need on a map, too coarse to point at a door.
LOCATION_DECIMALS = 3


def need_reference(need: Need) -> str:
    """How a need is named to the person who reported it and to coordinators."""
    return f"N-{need.id}"


def is_need_arrondissement(number: int | None) -> bool:
    """Needs map Marseille: one of its 16 arrondissements, never "outside Marseille"."""
    return number in ARRONDISSEMENTS


def clean_need_text(raw: str | None) -> str:
    """The description as it will be stored; TextRejected when it cannot be."""
    return clean_text(raw, min_length=NEED_TEXT_MIN, max_length=NEED_TEXT_MAX)


async def report_need(
    session: AsyncSession,
    user: User,
    theme_code: str,
    arrondissement: int,
    text: str,
    latitude: float | None = None,
    longitude: float | None = None,
    now: datetime | None = None,
) -> Need:
    """Stores a need in the caller's transaction. TextRejected for the text, ValueError for a
    theme, arrondissement or location that cannot be, PermissionError before the notice."""
    if not has_current_notice(user):
        raise PermissionError("the privacy notice must be acknowledged first")
    if theme_code not in await known_theme_codes(session):
        raise ValueError(f"unknown theme {theme_code!r}")
    if not is_need_arrondissement(arrondissement):
        raise ValueError(f"no arrondissement {arrondissement}")
    cleaned = clean_need_text(text)
    if (latitude is None) != (longitude is None):
        raise ValueError("a location needs both latitude and longitude")
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError("no such place on Earth")
        latitude = round(latitude, LOCATION_DECIMALS)
        longitude = round(longitude, LOCATION_DECIMALS)
    need = Need(
        reporter_id=user.id,
        theme_code=theme_code,
        arrondissement=arrondissement,
        text=cleaned,
        latitude=latitude,
        longitude=longitude,
        created_at=now or utcnow(),
    )
    session.add(need)
    await session.flush()
    return need


async def needs_counts(session: AsyncSession) -> dict[tuple[int, str], int]:
    """Needs per (arrondissement, theme), in one query; only non-empty cells. A need its author
    withdrew is no longer on the map."""
    rows = await session.execute(
        select(Need.arrondissement, Need.theme_code, func.count(Need.id))
        .where(Need.status != NeedStatus.withdrawn)
        .group_by(Need.arrondissement, Need.theme_code)
    )
    return {(arrondissement, theme): count for arrondissement, theme, count in rows.all()}


async def themes_in_order(session: AsyncSession, codes: Iterable[str]) -> list[Theme]:
    """These themes in the programme's order (withdrawn ones too: their needs still count)."""
    ordered = await session.scalars(
        select(Theme).where(Theme.code.in_(set(codes))).order_by(Theme.position, Theme.code)
    )
    return list(ordered)


def totals_by_arrondissement(counts: Mapping[tuple[int, str], int]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for (arrondissement, _theme), count in counts.items():
        totals[arrondissement] = totals.get(arrondissement, 0) + count
    return dict(sorted(totals.items()))


def totals_by_theme(counts: Mapping[tuple[int, str], int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_arrondissement, theme), count in counts.items():
        totals[theme] = totals.get(theme, 0) + count
    return totals
