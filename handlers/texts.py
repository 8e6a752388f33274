"""Messages shared by every flow."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Literal

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.lists import format_list

from bot.i18n import ngettext
from storage.texts import TextRejected


def explain_rejection(rejected: TextRejected) -> str:
    if rejected.reason == TextRejected.TOO_LONG:
        return ngettext(
            "This is too long: {limit} character at most. Please shorten it and send it again.",
            "This is too long: {limit} characters at most. Please shorten it and send it again.",
            rejected.limit,
        ).format(limit=rejected.limit)
    if rejected.reason == TextRejected.TOO_SHORT:
        return ngettext(
            "This is too short: at least {limit} character, please.",
            "This is too short: at least {limit} characters, please.",
            rejected.limit,
        ).format(limit=rejected.limit)
    return _("This is empty. Please type your answer as a text message.")


def stale_button() -> str:
    return _("This button is no longer valid. Please use the latest message.")


def mention(telegram_id: int, label: str) -> str:
    """`label` (HTML, already escaped) linked to that person: Telegram makes it a mention."""
    return f'<a href="tg://user?id={telegram_id}">{label}</a>'


def contact_link(telegram_id: int) -> str:
    """A link that opens a chat with that person (shared only with their consent)."""
    return mention(telegram_id, _("write to them"))


ListStyle = Literal["standard", "unit", "or"]


def join_list(items: Iterable[str], locale: str, style: ListStyle = "standard") -> str:
    """Items as a list is written in that language ("Culture, Santé et Sport", "a, b, and c",
    "أ وب وج"); style "unit" for values with no "and" (Arabic "أ، وب، وج"). Never a Latin
    comma in Arabic."""
    shown = [item for item in items if item]
    if not shown:
        return ""
    return format_list(shown, style=style, locale=locale)


def quoted(text: str, locale: str) -> str:
    """A quotation (a title, a button's name) as the language quotes: «\u00a0…\u00a0» in French,
    “…” in English, «…» in Arabic."""
    language = locale.split("-")[0].split("_")[0]
    if language == "fr":
        return f"«\u00a0{text}\u00a0»"
    if language == "ar":
        return f"«{text}»"
    return f"“{text}”"


# A French day of the month 1 is written "1er" (premier): "1er déc. 2026", "lundi 1er décembre".
_FIRST_OF_THE_MONTH = re.compile(r"(?<![\d/.:])1(?=[\s\u00a0\u202f])")


def format_day(day: date, locale: str, length: str = "medium") -> str:
    """A date as people of that language write it (Babel's "short", "medium", "long" or
    "full"), with French's "1er" on the first of the month."""
    text = format_date(day, length, locale=locale)
    if day.day == 1 and locale.split("-")[0].split("_")[0] == "fr":
        text = _FIRST_OF_THE_MONTH.sub("1er", text, count=1)
    return text
