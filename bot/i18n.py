"""Catalogs: gettext with English msgids, loaded straight from the .po files with Babel."""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def ngettext(singular: str, plural: str, n: int) -> str:
    """Plural-aware text: Arabic has six forms, the catalogs know which one `n` takes."""
    return _(singular, plural, n)


class CatalogI18n(I18n):
    """Reads the .po files themselves, so there is no compiled file to forget to rebuild."""

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's `gettext` looks up I18n's own context variable; a subclass would otherwise
        # set a variable of its own that nobody reads.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext_module.GNUTranslations]:
        translations: dict[str, gettext_module.GNUTranslations] = {}
        for locale in LOCALES:
            po = self.path / locale / "LC_MESSAGES" / f"{self.domain}.po"
            if not po.exists():
                continue
            with po.open("rb") as source:
                catalog = read_po(source, locale=locale)
            compiled = BytesIO()
            write_mo(compiled, catalog, use_fuzzy=False)
            compiled.seek(0)
            translations[locale] = gettext_module.GNUTranslations(compiled)
        return translations


def create_i18n(default_locale: str = "fr") -> CatalogI18n:
    return CatalogI18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def guess_locale(language_code: str | None, default: str) -> str:
    """Telegram's language_code ("fr", "ar-MA", "en-GB") when it is one of ours."""
    if language_code:
        base = language_code.split("-")[0].lower()
        if base in LOCALES:
            return base
    return default


class UserLocaleMiddleware(I18nMiddleware):
    """The stored person's language in private chats; the group's language elsewhere."""

    def __init__(self, i18n: I18n, group_locale: str) -> None:
        super().__init__(i18n)
        self.group_locale = group_locale

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat = data.get("event_chat")
        if chat is not None and chat.type != "private":
            return self.group_locale
        return str(data.get("person_locale") or self.i18n.default_locale)


def format_when(moment: datetime, locale: str, timezone: str) -> str:
    """A date and time as people of that language write it, in the city's time zone."""
    return format_datetime(moment, "short", tzinfo=ZoneInfo(timezone), locale=locale)
