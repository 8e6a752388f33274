"""Rules for text that people type, shared by every flow."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any


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


def _kept(char: str) -> bool:
    """Control characters (newline and tab aside) and lone surrogates are dropped; everything
    else is kept as typed, format characters included: the joiner inside 👨‍👩‍👧, the Persian
    zero-width non-joiner, the tag characters of a regional flag, direction marks."""
    return char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs")


def _visible(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) != "Cf"


def clean_text(raw: str | None, *, min_length: int = 1, max_length: int) -> str:
    """Trims, drops control characters and folds runs of blank lines; enforces the limits.

    A text of nothing but spaces and invisible characters is empty."""
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(char for char in text if _kept(char))
    lines = [line.strip() for line in text.strip().splitlines()]
    text = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    if not any(_visible(char) for char in text):
        raise TextRejected(TextRejected.EMPTY, min_length)
    if len(text) < min_length:
        raise TextRejected(TextRejected.TOO_SHORT, min_length)
    if len(text) > max_length:
        raise TextRejected(TextRejected.TOO_LONG, max_length)
    return text


# A line that starts a list item keeps its line break: "- ", "• ", "* ", "– ", "1. ", "2) ".
_LIST_ITEM = re.compile(r"(?:[-•*–—]|\d{1,2}[.)])\s")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def fold_lines(text: str) -> str:
    """A text written across lines in a file, as it should read in Telegram, which breaks
    lines itself: a single line break inside a paragraph becomes a space; a blank line (a new
    paragraph) and a line starting with a list marker keep theirs."""
    paragraphs = []
    for paragraph in _BLANK_LINE.split(text.replace("\r\n", "\n").strip()):
        folded = ""
        for line in (line.strip() for line in paragraph.splitlines()):
            if not line:
                continue
            if folded:
                folded += "\n" if _LIST_ITEM.match(line) else " "
            folded += line
        if folded:
            paragraphs.append(folded)
    return "\n\n".join(paragraphs)


@lru_cache(maxsize=1)
def _folding_loader() -> Any:
    """YAML's safe loader, with literal blocks (`|`) folded as `fold_lines` says: people use
    them to write long texts on several lines, not to break lines in the middle of a sentence.
    Built, and PyYAML loaded, with the first file read."""
    import yaml

    class FoldingLoader(yaml.SafeLoader):
        pass

    def string(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        value = loader.construct_scalar(node)
        return fold_lines(value) if node.style == "|" else value

    FoldingLoader.add_constructor("tag:yaml.org,2002:str", string)
    return FoldingLoader


def load_yaml(source: str) -> Any:
    """A YAML file's data, as yaml.safe_load reads it but for its literal blocks, folded."""
    import yaml

    return yaml.load(source, Loader=_folding_loader())  # a SafeLoader: no object is built
