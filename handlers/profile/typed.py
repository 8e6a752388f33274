"""A profile question's buttons named by a typed text (handlers/typed_choice.py): "13e",
"Association", "English", "oui", "non merci", "Solidarité, culture", "Terminé"."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.profile.keyboards import CHOOSABLE_ROLES
from handlers.profile.labels import (
    LANGUAGE_NAMES,
    arrondissement_button,
    arrondissement_label,
    role_label,
    theme_label,
)
from handlers.typed_choice import typed_choice, typed_choices
from storage.models import Role, User
from storage.themes import list_themes
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE

# The themes' «Done», as a value no theme code takes (codes are slugs).
DONE = "«done»"


def _yes_no(yes: str, no: str) -> list[tuple[str, bool]]:
    """A yes/no question's buttons, and the plain Yes and No they stand for."""
    return [(yes, True), (no, False), (_("Yes"), True), (_("No"), False)]


def language(text: str) -> str | None:
    """Each language's name in itself, or its code ("fr")."""
    return typed_choice(text, [*((n, c) for c, n in LANGUAGE_NAMES.items()), *_codes()])


def _codes() -> list[tuple[str, str]]:
    return [(code, code) for code in LANGUAGE_NAMES]


def notice(text: str) -> bool | None:
    """The notice's own buttons only: a bare "yes" is no acknowledgement of having read it."""
    return typed_choice(text, [(_("I have read it, continue"), True), (_("No, thank you"), False)])


def role(text: str) -> Role | None:
    return typed_choice(text, [(role_label(r), r) for r in CHOOSABLE_ROLES])


def arrondissement(text: str) -> int | None:
    numbers = [*ARRONDISSEMENTS, OUTSIDE_MARSEILLE]
    return typed_choice(
        text,
        [(arrondissement_button(n), n) for n in numbers]
        + [(arrondissement_label(n), n) for n in numbers],
    )


async def themes(text: str, session: AsyncSession, user: User) -> list[str] | None:
    """Theme codes, with DONE where «Done» was typed ("Culture, terminé")."""
    options = [(theme_label(t, user.locale), t.code) for t in await list_themes(session)]
    return typed_choices(text, [*options, (_("Done"), DONE)])


def contact(text: str) -> bool | None:
    return typed_choice(text, _yes_no(_("Yes, they may"), _("No")))


def alerts(text: str) -> bool | None:
    return typed_choice(text, _yes_no(_("Yes, alert me"), _("No, thanks")))
