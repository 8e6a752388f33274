"""Reading a typed message as one of the buttons of a step.

At a button step people often type instead of pressing: "13", "13e", "oui", "Solidarité",
"non merci", "١٣". `typed_choice` tells which button such a text names, so every flow can take
it as if that button had been pressed, and only otherwise ask again with the buttons.

Use it in a step's catch-all message handler (the one that would say "please use the buttons"),
with the labels exactly as they were shown to this person (already translated, in their
locale) and the value the button stands for::

    options = [(label_of(code, locale), code) for code in CODES]
    code = typed_choice(message.text or "", options)
    if code is None:
        ...  # ask again with the buttons
    else:
        ...  # do what pressing the button would do

Rules, in this order (the first that finds an answer wins):

1. **Same words.** Both texts are normalised: NFKC, casefolded, accents and other combining marks
   stripped (so Arabic hamza/harakat too), the Arabic letters people swap (ة/ه, ى/ي) and the
   tatweel folded, every Unicode decimal digit (Arabic-Indic, Persian,
   full-width…) read as its ASCII digit, and everything that is neither a letter nor a digit
   (emoji, punctuation, ’ and ', extra spaces) treated as one space. "NON, merci !" names the
   button "Non merci 🙏"; "solidarite" names "Solidarité".
2. **A number as people write arrondissements.** A typed number, alone or with an ordinal
   suffix and the word "arrondissement" ("13", "13e", "13ème", "13eme", "13è", "13 e", "13th",
   "1er", "1st", "١٣", "13e arr", "13e arrondissement", "Marseille 13", "الدائرة ١٣"), names
   the option whose label *starts* with that number, maybe after words such as "Marseille",
   "Arrondissement" or "الدائرة" ("13e arrondissement", "Arrondissement 13", "13th", "1 to 3
   hours"; not "Fewer than 5"). A Marseille postcode ("13013") names the option whose leading
   number is its arrondissement (13), unless an option's leading number is the postcode itself.
3. **The first words of one label.** A typed text that is the beginning of a label, in whole
   words ("oui" for "Oui, partager mon contact", "solidarité" for "Solidarité et entraide");
   not a single letter.
4. **A label and a few more words.** A typed text that begins with a whole label ("non merci"
   or "non, pas maintenant" for "Non"); when several labels fit, the longest one counts.

Within a rule, options that share the same value count once; when the text fits options of
different values the rule is ambiguous and the answer is None (the next rules are not tried:
"1" among "1 to 3 hours" and "1st arrondissement" asks again). An empty text, or one that
normalises to nothing (an emoji alone), is None.

At a multiple choice (themes, a survey's "choose every answer that applies"), `typed_choices`
reads several options typed on one line, separated by commas, semicolons, slashes, "+" or new
lines ("Culture, sport"), each part by the rules above; else the whole text as one option.

The functions are pure (no I/O, no gettext): they run on any text, in any flow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")

__all__ = ["normalise", "typed_choice", "typed_choices"]

# Arabic letters people write interchangeably on a phone keyboard (alef wasla, dotless yeh,
# teh marbuta as heh, tatweel for stretching a word); hamza forms decompose and lose their mark
# in `normalise`.
_ARABIC_FOLDS = str.maketrans({"ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None})

_SEPARATORS = re.compile(r"[,;،؛\n+/]+")
_POSTCODE = re.compile(r"^130(?P<district>0[1-9]|1[0-6])$")


def normalise(text: str) -> str:
    """The form two texts are compared in (see the module's rule 1)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            continue
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            kept.append(str(digit))
        elif char.isalnum():
            kept.append(char)
        else:
            kept.append(" ")
    return " ".join("".join(kept).translate(_ARABIC_FOLDS).split())


# Compared after `normalise`: é/è have lost their accent, ئ its hamza ("13ème" is "13eme").
_ORDINALS = ("e", "er", "ere", "re", "eme", "em", "ieme", "me", "ee", "th", "st", "nd", "rd", "d")
_DISTRICT_WORDS = (
    *("arr", "arrt", "arrdt", "ardt", "arrond", "arrondissement", "arrondissements"),
    *("district", "borough", "الدائرة", "دائرة", "الحي", "حي", "المقاطعة", "مقاطعة"),
)
_NUMBER_WORDS = ("n", "no", "nr", "number", "numero", "رقم")


def _either(words: Iterable[str]) -> str:
    forms = {normalise(word) for word in words}
    return "(?:" + "|".join(sorted(map(re.escape, forms), key=len, reverse=True)) + ")"


_BEFORE_NUMBER = rf"(?:{_either(('marseille', *_DISTRICT_WORDS, *_NUMBER_WORDS))} )*"
# After `normalise`: "13", "13e", "13 eme", "1er", "13th", "13 arr", "marseille 13"...
_NUMBER_TYPED = re.compile(
    rf"^{_BEFORE_NUMBER}"
    rf"(?P<number>\d+) ?{_either(_ORDINALS)}?"
    rf"(?: {_either(_DISTRICT_WORDS)})?(?: (?:de )?marseille)?$"
)
# A label's leading number: "13e arrondissement", "arrondissement 13", "1 a 3 heures".
_LEADING_NUMBER = re.compile(rf"^{_BEFORE_NUMBER}(?P<number>\d+)")


def typed_choice(text: str, options: Iterable[tuple[str, T]]) -> T | None:
    """The value of the option `text` names, or None when it names none or several.

    `options` are (label as shown to this person, value) pairs; see the module's docstring
    for the rules. Options of equal value may repeat (a label and its short form).
    """
    typed = normalise(text)
    if not typed:
        return None
    labelled = [(normalise(label), value) for label, value in options]

    same = [value for label, value in labelled if label and label == typed]
    if same:
        return _unique(same)

    number = _typed_number(typed)
    if number is not None:
        by_number = [value for label, value in labelled if _leading_number(label) == number]
        if not by_number:
            postcode = _POSTCODE.match(str(number))
            if postcode is not None:
                district = int(postcode["district"])
                by_number = [
                    value for label, value in labelled if _leading_number(label) == district
                ]
        if by_number:
            return _unique(by_number)

    # A letter alone ("l", "و") begins too many labels to name one.
    starting = [
        value
        for label, value in labelled
        if len(typed) > 1 and label.startswith(typed + " ") and label != typed
    ]
    if starting:
        return _unique(starting)

    longer = [
        (len(label), value) for label, value in labelled if label and typed.startswith(label + " ")
    ]
    if longer:
        longest = max(length for length, _value in longer)
        return _unique([value for length, value in longer if length == longest])
    return None


def typed_choices(text: str, options: Iterable[tuple[str, T]]) -> list[T] | None:
    """The values of the options `text` names, in the order typed, without repeats: several
    parts separated by `_SEPARATORS` when every part names one, else the whole text as one
    option (`typed_choice`); None when it names none."""
    options = list(options)
    parts = [part for part in _SEPARATORS.split(text) if normalise(part)]
    if len(parts) > 1:
        named = [typed_choice(part, options) for part in parts]
        values = [value for value in named if value is not None]
        if len(values) == len(parts):
            return list(dict.fromkeys(values))
    whole = typed_choice(text, options)
    return None if whole is None else [whole]


def _typed_number(typed: str) -> int | None:
    found = _NUMBER_TYPED.match(typed)
    # No option has a number of more than a few digits; int() refuses past 4300 of them.
    if found is None or len(found["number"]) > 9:
        return None
    return int(found["number"])


def _leading_number(label: str) -> int | None:
    found = _LEADING_NUMBER.match(label)
    return int(found["number"]) if found is not None else None


def _unique(values: list[T]) -> T | None:
    first = values[0]
    return first if all(value == first for value in values[1:]) else None
