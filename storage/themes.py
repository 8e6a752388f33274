"""The programme's themes: seeded ones carry catalog labels, added ones carry their own."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Theme
from storage.texts import N_

# The themes of La Collective's programme, in the order they are offered.
SEEDED_THEMES: dict[str, str] = {
    "solidarity": N_("Solidarity"),
    "older_people": N_("Older people and isolation"),
    "housing": N_("Housing"),
    "education": N_("Education"),
    "poverty": N_("Poverty"),
    "employment": N_("Employment"),
    "health": N_("Health and well-being"),
    "culture": N_("Culture"),
    "sport": N_("Sport"),
    "safety": N_("Safety"),
    "ecology": N_("Ecology"),
    "digital": N_("Digital inclusion"),
}


async def list_themes(session: AsyncSession) -> Sequence[Theme]:
    result = await session.scalars(
        select(Theme).where(Theme.active.is_(True)).order_by(Theme.position, Theme.code)
    )
    return result.all()


async def known_theme_codes(session: AsyncSession) -> set[str]:
    return {theme.code for theme in await list_themes(session)}
