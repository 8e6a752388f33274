"""How profile values read in the person's language."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from storage.models import Role, Theme
from storage.themes import SEEDED_THEMES
from storage.users import OUTSIDE_MARSEILLE

# Each language named in itself, so that anyone finds their own.
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "ar": "العربية"}


def role_label(role: Role) -> str:
    return {
        Role.citizen: _("Citizen"),
        Role.association: _("Association"),
        Role.company: _("Company"),
        Role.institution: _("Institution"),
        Role.coordinator: _("Coordinator"),
    }[role]


def arrondissement_label(number: int) -> str:
    if number == OUTSIDE_MARSEILLE:
        return _("Outside Marseille")
    if number == 1:
        # TRANSLATORS: the first arrondissement of Marseille (French: "1er arrondissement").
        return _("Arrondissement 1")
    # TRANSLATORS: one of Marseille's arrondissements (French: "{number}e arrondissement").
    return _("Arrondissement {number}").format(number=number)


def arrondissement_short(number: int) -> str:
    """An arrondissement in a picture's small space (a tile, a row): "1er arr." in French."""
    if number == OUTSIDE_MARSEILLE:
        return arrondissement_label(number)
    if number == 1:
        # TRANSLATORS: Marseille's 1st arrondissement in a chart (French: "1er arr.").
        return _("Arr. 1")
    # TRANSLATORS: one of Marseille's arrondissements in a chart (French: "{number}e arr.").
    return _("Arr. {number}").format(number=number)


def arrondissement_button(number: int) -> str:
    """An arrondissement on a small button, four to a row: "1er", "2e"… in French."""
    if number == OUTSIDE_MARSEILLE:
        return arrondissement_label(number)
    # TRANSLATORS: Marseille's 1st arrondissement on a small button (French: "1er").
    ordinals = {1: _("1st"), 2: _("2nd"), 3: _("3rd")}
    # TRANSLATORS: Marseille's 4th to 16th arrondissements on a small button (French: "{number}e").
    return ordinals.get(number) or _("{number}th").format(number=number)


def theme_label(theme: Theme | str, locale: str) -> str:
    code = theme if isinstance(theme, str) else theme.code
    if code in SEEDED_THEMES:
        return _(SEEDED_THEMES[code])
    labels = {} if isinstance(theme, str) else theme.labels
    return str(labels.get(locale) or labels.get("fr") or code)
