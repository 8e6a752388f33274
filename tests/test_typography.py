"""Each catalog follows its language's typography (issue 13): French spaces, apostrophes and
quotation marks, English quotation marks, Arabic punctuation and right-to-left lines.

The rules apply to the text around placeholders, HTML tags and entities, code, URLs and
commands. Each failure names the msgid. bot/typography.py sets the catalogs right
(`collective i18n`, or `python -m bot.catalogs --typography`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

import pytest
from babel.messages.pofile import read_po

from bot.catalogs import po_path, typeset
from bot.typography import fix

# Set aside before a rule reads a text: placeholders, markup, code, URLs, commands.
ASIDE = re.compile(
    r"<(code|pre)\b[^>]*>.*?</\1>|<[^>]*>|&#?\w+;|\{[^{}]*\}|%\(\w+\)[sd]|%[sd]"
    r"|(?:https?|tg)://\S+|(?<![\w/])/[a-zA-Z_]+",
    re.DOTALL,
)
SPACES = " \u00a0\u202f"


def translations(locale: str) -> Iterator[tuple[str, str]]:
    """(msgid, translated text with what the rules do not read replaced by a "x")."""
    with po_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale)
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            if string:
                yield msgid, ASIDE.sub("x", string)


def offences(locale: str, rule: Callable[[str], Iterator[str]]) -> list[tuple[str, str]]:
    return [(msgid, found) for msgid, text in translations(locale) for found in rule(text)]


def around(text: str, match: re.Match[str]) -> str:
    return repr(text[max(match.start() - 12, 0) : match.end() + 12])


# -- French


def french_high_signs(text: str) -> Iterator[str]:
    """; ? ! take a narrow no-break space (U+202F) after a word, never a plain space or none."""
    for match in re.finditer(r"[;?!]", text):
        before = text[: match.start()]
        if not before or before[-1] in "\n;?!«" or before.endswith("\u00ab\u00a0"):
            continue
        if before[-1] != "\u202f":
            yield around(text, match)


def french_colons(text: str) -> Iterator[str]:
    """: takes a no-break space (U+00A0 or U+202F) after a word; 21:00 or HH:MM is no colon."""
    for match in re.finditer(r":", text):
        before, after = text[: match.start()], text[match.end() :]
        if not before or before[-1] in "\n:«" or before.endswith("\u00ab\u00a0"):
            continue
        if not before[-1].isspace() and after[:1].isalnum():
            continue
        if before[-1] not in "\u00a0\u202f":
            yield around(text, match)


def french_guillemets(text: str) -> Iterator[str]:
    """« and » hold their text with no-break spaces."""
    for match in re.finditer(r"«(?!\u00a0|\u202f)|(?<![\u00a0\u202f])»", text):
        yield around(text, match)
    for match in re.finditer(
        r"«[\u00a0\u202f][ \u00a0\u202f]|[ \u00a0\u202f] [\u00a0\u202f]?»", text
    ):
        yield around(text, match)


def french_apostrophes(text: str) -> Iterator[str]:
    for match in re.finditer("'", text):
        yield around(text, match)


@pytest.mark.parametrize(
    "rule", [french_high_signs, french_colons, french_guillemets, french_apostrophes]
)
def test_french_typography(rule: Callable[[str], Iterator[str]]) -> None:
    assert offences("fr", rule) == [], rule.__doc__


# -- English


def english_guillemets(text: str) -> Iterator[str]:
    """English quotes with “ ”, not « »."""
    for match in re.finditer("[«»]", text):
        yield around(text, match)


def test_english_quotes_with_curly_marks() -> None:
    assert offences("en", english_guillemets) == [], english_guillemets.__doc__


# -- Arabic


def arabic_punctuation(text: str) -> Iterator[str]:
    """The Arabic comma, semicolon and question mark (، ؛ ؟), except inside a number (1,5) or
    a sign quoted alone («;»)."""
    for match in re.finditer(r"[,;?]", text):
        before, after = text[: match.start()], text[match.end() :]
        if before.endswith("«") and after.startswith("»"):
            continue
        if match.group() == "," and before[-1:].isdigit() and after[:1].isdigit():
            continue
        yield around(text, match)


def first_strong(line: str) -> str:
    """The line as Telegram would lay it out: "R" (right to left) or "L" (a Latin word, a
    command or a placeholder, which may well be Latin), "" when nothing decides."""
    line = re.sub(r"<[^>]*>|&#?\w+;", "", line)
    for i, char in enumerate(line):
        if char in "{%/" and ASIDE.match(line, i):
            return "L"
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):  # U+200F is R, U+061C is AL
            return "R"
        if kind == "L":
            return "L"
    return ""


def arabic_lines_not_right_to_left() -> list[tuple[str, str]]:
    """Lines with Arabic words whose first strong character is not Arabic: a line with no
    Arabic word of its own (a lone number or placeholder) takes the direction of what it shows.
    """
    with po_path("ar").open("rb") as source:
        catalog = read_po(source, locale="ar")
    found = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            for line in string.split("\n"):
                words = ASIDE.sub("", line)
                if any(unicodedata.bidirectional(c) == "AL" for c in words):
                    if first_strong(line) != "R":
                        found.append((msgid, repr(line[:40])))
    return found


def test_arabic_punctuation() -> None:
    assert offences("ar", arabic_punctuation) == [], arabic_punctuation.__doc__


def test_arabic_lines_start_right_to_left() -> None:
    """Every line with Arabic text starts right to left: an Arabic word first, or U+200F (or
    U+061C) before what is not (a Latin word, a command, a placeholder); otherwise Telegram
    lays the line out left to right."""
    assert arabic_lines_not_right_to_left() == []


def test_back_and_next_buttons_show_arrows() -> None:
    """« and » are quotation marks: a button that goes back or forward shows an arrow."""
    found = []
    for locale in ("fr", "en", "ar"):
        for msgid, text in translations(locale):
            if (text.startswith("«") and "»" not in text) or (
                text.endswith("»") and "«" not in text
            ):
                found.append((locale, msgid))
    assert found == []


# -- the fixer


@pytest.mark.parametrize(
    ("locale", "msgid", "before", "after"),
    [
        (
            "fr",
            "x",
            "Qu'en pensez-vous ? <a href='{url}'>Lien</a> : « {title} » ; à 21:00 !",
            "Qu’en pensez-vous\u202f? <a href='{url}'>Lien</a>\u00a0: «\u00a0{title}\u00a0»"
            "\u202f; à 21:00\u202f!",
        ),
        (
            "fr",
            "x",
            "Voir https://a.fr/?q=1 ou /help : «{x}»!",
            "Voir https://a.fr/?q=1 ou /help\u00a0: «\u00a0{x}\u00a0»\u202f!",
        ),
        ("fr", "x", "CSV (UTF-8, « ; ») &amp; co", "CSV (UTF-8, «\u00a0;\u00a0») &amp; co"),
        ("fr", "« Back", "« Retour", "← Retour"),
        ("en", "« Back", "« Back", "← Back"),
        ("en", "x", "Press «Skip» or « Done ».", "Press “Skip” or “Done”."),
        ("ar", "« Back", "« رجوع", "→ رجوع"),
        ("fr", "Next »", "Suivant\u00a0»", "Suivant →"),
        ("ar", "Next »", "التالي »", "التالي ←"),
        ("ar", "x", "هل {name}, متأكد?", "هل {name}، متأكد؟"),
        ("ar", "x", "{name}، مرحبًا\n/start للبدء", "\u200f{name}، مرحبًا\n\u200f/start للبدء"),
        ("ar", "x", "{number}", "{number}"),
        ("ar", "x", "القيمة 1,5 و«;»", "القيمة 1,5 و«;»"),
    ],
)
def test_the_fixer_sets_typography_once(locale: str, msgid: str, before: str, after: str) -> None:
    fixed = fix(msgid, before, locale)
    assert fixed == after
    assert fix(msgid, fixed, locale) == fixed


@pytest.mark.parametrize("locale", ["fr", "en", "ar"])
def test_the_catalogs_are_already_set(locale: str) -> None:
    """Running the fixer over a catalog changes nothing: it has been run since the last change."""
    with po_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale)
    assert typeset(catalog) == 0


# Common singular forms of address: the bot speaks to people in the plural (أنتم), as its
# examples do (يمكنكم, not يمكنك).
SINGULAR_ADDRESS = ("أنت", "يمكنك", "لديك", "بياناتك", "اضغط", "اختر", "اكتب", "هل تريد", "تودّ")
ARABIC_LETTER = "\u0621-\u065f\u066e-\u06d3\u0670"


def test_arabic_addresses_people_in_the_plural() -> None:
    singular = re.compile(
        rf"(?<![{ARABIC_LETTER}])(?:{'|'.join(SINGULAR_ADDRESS)})(?![{ARABIC_LETTER}])"
    )
    found = [
        (msgid, match.group())
        for msgid, text in translations("ar")
        for match in singular.finditer(text)
    ]
    assert found == []
