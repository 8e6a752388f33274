"""What people typed, inside a right-to-left sentence: isolated, so that it keeps its place.

In an Arabic sentence a Latin title ("Jardin du Panier"), an @username, a reference (I-12,
C-3) or a number written with Latin letters ("13e") is laid out by the Unicode bidirectional
algorithm together with the Arabic around it: its words, and the punctuation next to it, jump
to the wrong side. First Strong Isolate (U+2068) … Pop Directional Isolate (U+2069) make it one
block, laid out in its own direction, placed where the sentence puts it. Nothing changes for
readers of a left-to-right language.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from aiogram.utils.i18n import I18n

RLM = "\u200f"
FSI = "\u2068"
PDI = "\u2069"
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})


def right_to_left(locale: str | None) -> bool:
    return (locale or "").replace("_", "-").split("-")[0].lower() in RIGHT_TO_LEFT


def _needs_isolation(text: str) -> bool:
    """A left-to-right letter (Latin, a reference, a username) or a mix of directions; a plain
    Arabic word or a bare number sits well without."""
    kinds = {unicodedata.bidirectional(char) for char in text}
    return "L" in kinds or "LRE" in kinds or "LRO" in kinds


def isolate(text: str, locale: str | None) -> str:
    """`text` as one block inside a sentence of `locale`: isolated when the locale is right to
    left and the text holds left-to-right letters; unchanged otherwise (and when already
    isolated)."""
    if not text or not right_to_left(locale) or text.startswith(FSI) or "\n" in text:
        return text  # an isolate ends with its paragraph: a text of several lines is not one
    return FSI + text + PDI if _needs_isolation(text) else text


def isolated(locale: str | None, **values: Any) -> dict[str, Any]:
    """Format arguments with each text isolated for `locale`:
    `_("«{title}» is open.").format(**isolated(locale, title=title))`. Numbers and other
    values pass through."""
    return {
        name: isolate(value, locale) if isinstance(value, str) else value
        for name, value in values.items()
    }


def current_locale() -> str | None:
    """The locale the texts being written are in (the update's, or the one set around an
    outbox or scheduled job)."""
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else None


def isolate_here(text: str) -> str:
    """`isolate` in the current locale: for labels written where the locale is not at hand."""
    return isolate(text, current_locale())


def line_start(locale: str | None) -> str:
    """What starts a line built in code (a bullet, a reference, a title) so that it is laid
    out right to left in a right-to-left locale: a right-to-left mark; nothing otherwise."""
    return RLM if right_to_left(locale) else ""
