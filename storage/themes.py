"""The programme's themes: seeded ones carry catalog labels, added ones carry their own."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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


@event.listens_for(Session, "after_flush")
def _forget_changed_themes(session: Session, _context: object) -> None:
    if "themes" in session.info and any(
        isinstance(changed, Theme) for changed in (*session.new, *session.dirty, *session.deleted)
    ):
        del session.info["themes"]


async def list_themes(session: AsyncSession) -> Sequence[Theme]:
    """The active themes, in order; read once per session, however many times a step asks
    (read again after the session changed a theme)."""
    known: Sequence[Theme] | None = session.info.get("themes")
    if known is None:
        result = await session.scalars(
            select(Theme).where(Theme.active.is_(True)).order_by(Theme.position, Theme.code)
        )
        known = session.info["themes"] = result.all()
    return known


async def known_theme_codes(session: AsyncSession) -> set[str]:
    return {theme.code for theme in await list_themes(session)}
