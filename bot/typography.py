"""Each language's typography, applied to the catalogs' translations (`collective i18n` runs it,
and `python -m bot.catalogs --typography` runs it alone).

French: a narrow no-break space (U+202F) before ; ? !, a no-break space (U+00A0) before : and
inside « », the typographic apostrophe ’. English: “ ” quotes, never « ». Arabic: the Arabic
comma, semicolon and question mark (، ؛ ؟), and every line starting right to left: a line
whose first strong character would be Latin (a word, a command, a placeholder) starts with a
right-to-left mark (U+200F), or Telegram lays it out left to right. Every language: a button
that goes back or forward shows an arrow, not « or » (which read as quotation marks).

Placeholders ({name}, %(name)s), HTML tags and entities, <code> and <pre> blocks, URLs and
commands (/start) are left as they are: the rules apply to the text around them. Each rule
leaves a text that follows it unchanged, so running them again changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

NBSP = "\u00a0"
NNBSP = "\u202f"
RLM = "\u200f"
ALM = "\u061c"

# What the rules must not touch, the text around it aside.
PROTECTED = re.compile(
    r"<(code|pre)\b[^>]*>.*?</\1>"  # code, kept as typed
    r"|<[^>]*>"  # HTML tags, their attributes included
    r"|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);"  # HTML entities (their ; is no semicolon)
    r"|\{[^{}]*\}"  # str.format placeholders
    r"|%\([a-z_]+\)[sd]|%[sd]"  # %-placeholders
    r"|(?:https?|tg)://[^\s<>\"«»]+"  # URLs
    r"|(?<![\w/])/[a-zA-Z_]+(?:@\w+)?",  # commands
    re.DOTALL,
)
# Stands for a protected span while the rules run: a "word" to them, never changed.
SLOT = "\ue000"

_SPACES = " \u00a0\u202f"


def masked(text: str, rule: Callable[[str], str]) -> str:
    """`rule` applied to `text` with its protected spans set aside (and put back)."""
    kept = [match.group(0) for match in PROTECTED.finditer(text)]
    if SLOT in text:  # cannot happen in a catalog; never lose a character if it does
        return text
    result = rule(PROTECTED.sub(SLOT, text))
    pieces = result.split(SLOT)
    assert len(pieces) == len(kept) + 1, "a typography rule dropped a placeholder"
    return "".join(piece + (kept[i] if i < len(kept) else "") for i, piece in enumerate(pieces))


def arrows(msgid: str, text: str, locale: str) -> str:
    """ "« Back" and "Next »" and their translations: arrows, not quotation marks (Arabic
    reads right to left: back points right, next points left)."""
    back, forward = ("→", "←") if locale == "ar" else ("←", "→")
    if msgid.startswith(("« ", "← ")) and text.startswith("«") and "»" not in text:
        return back + " " + text[1:].lstrip(_SPACES)
    if msgid.endswith((" »", " →")) and text.endswith("»") and "«" not in text:
        return text[:-1].rstrip(_SPACES) + " " + forward
    return text


def _french(text: str) -> str:
    text = text.replace("'", "’")
    text = re.sub(f"«[{_SPACES}]*", "«" + NBSP, text)
    text = re.sub(f"[{_SPACES}]*»", NBSP + "»", text)
    # ; ? ! after a word (not after another ? or !): one narrow no-break space before.
    # A sign quoted alone (« ; ») is left alone.
    text = re.sub(rf"(?<=[^\s;?!«])[{_SPACES}]?(?=[;?!])", NNBSP, text)
    # : after a word: a no-break space (a narrow one is kept); not inside 21:00.
    text = re.sub(r"(?<=[^\s:«])[ ](?=:)", NBSP, text)
    text = re.sub(r"(?<=[^\s:\d«])(?=:(?:\s|$|" + SLOT + "))", NBSP, text)
    return text


def _english(text: str) -> str:
    text = re.sub(f"«[{_SPACES}]*", "“", text)
    return re.sub(f"[{_SPACES}]*»", "”", text)


def _arabic(text: str) -> str:
    # Not inside a number (1,5), nor a sign quoted alone («;»).
    text = re.sub(r"(?<![\d«]),|(?<!«),(?![\d»])", "،", text)
    text = re.sub(r"(?<!«)\?", "؟", text)
    return re.sub(r"(?<!«);(?!»)", "؛", text)


def first_strong(line: str) -> str | None:
    """What decides the direction of a line of a translation: "R" (right to left: Arabic or a
    right-to-left mark), "L" (a Latin letter or a command), "{" (a placeholder, which may be
    anything), or None (no strong character). HTML tags and entities are not shown."""
    i = 0
    while i < len(line):
        char = line[i]
        if char == "<":
            end = line.find(">", i)
            if end > 0:
                i = end + 1
                continue
        if char == "&":
            entity = re.match(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);", line[i:])
            if entity:
                i += entity.end()
                continue
        if char in "{%" and PROTECTED.match(line, i):
            return "{"
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "R"
        if kind == "L" or (char == "/" and re.match(r"/[a-zA-Z]", line[i:])):
            return "L"
        i += 1
    return None


def arabic_words(line: str) -> bool:
    """Whether a line has Arabic text of its own (a lone placeholder or number has not: what
    it shows decides its direction)."""
    return any(unicodedata.bidirectional(char) == "AL" for char in PROTECTED.sub("", line))


def right_to_left_lines(text: str) -> str:
    """Each line with Arabic text whose first strong character is not Arabic (a Latin word, a
    command, a placeholder) starts with a right-to-left mark."""
    return "\n".join(
        RLM + line if arabic_words(line) and first_strong(line) in ("L", "{") else line
        for line in text.split("\n")
    )


def fix(msgid: str, text: str, locale: str) -> str:
    """One translation with its language's typography."""
    if not text:
        return text
    text = arrows(msgid, text, locale)
    if locale == "fr":
        return masked(text, _french)
    if locale == "en":
        return masked(text, _english)
    if locale == "ar":
        return right_to_left_lines(masked(text, _arabic))
    return text
