"""Texts about organisations other flows use too."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _

from handlers.bidi import isolate_here
from storage.models import Organisation
from storage.organisations import badged


def not_verified_yet() -> str:
    """Why a member of an organisation not verified yet acts as themselves."""
    return _(
        "Your organisation is not verified by the coordinators yet: until it is, you act in "
        "your own name, not on its behalf."
    )


def organisation_label(organisation: Organisation) -> str:
    """Its name, escaped, with the verified badge; isolated inside a right-to-left text
    (handlers/bidi.py)."""
    return isolate_here(html.quote(badged(organisation)))
