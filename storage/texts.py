"""Rules for text that people type, shared by every flow."""

from __future__ import annotations

import unicodedata


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated where it is shown."""
    return message


class TextRejected(ValueError):
    """Typed text that cannot be stored; `reason` is one of the class constants."""

    EMPTY = "empty"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"

    def __init__(self, reason: str, limit: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


def clean_text(raw: str | None, *, min_length: int = 1, max_length: int) -> str:
    """Trims, drops control characters and folds runs of blank lines; enforces the limits."""
    text = "".join(ch for ch in (raw or "") if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [line.strip() for line in text.strip().splitlines()]
    text = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    if not text:
        raise TextRejected(TextRejected.EMPTY, min_length)
    if len(text) < min_length:
        raise TextRejected(TextRejected.TOO_SHORT, min_length)
    if len(text) > max_length:
        raise TextRejected(TextRejected.TOO_LONG, max_length)
    return text
