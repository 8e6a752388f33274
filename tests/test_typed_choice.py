"""Typed text read as the button it names (handlers/typed_choice.py), in French, English and
Arabic."""

from __future__ import annotations

import pytest

from handlers.typed_choice import normalise, typed_choice, typed_choices

FR_DISTRICTS = [(f"{n}{'er' if n == 1 else 'e'} arrondissement", n) for n in range(1, 17)] + [
    ("Hors de Marseille", 0)
]
EN_DISTRICTS = [(f"{n}{'st' if n == 1 else 'th'} arrondissement", n) for n in range(1, 17)] + [
    ("Outside Marseille", 0)
]
AR_DIGITS = "٠١٢٣٤٥٦٧٨٩"
AR_DISTRICTS = [
    ("الدائرة " + "".join(AR_DIGITS[int(d)] for d in str(n)), n) for n in range(1, 17)
] + [("خارج مرسيليا", 0)]

FR_YES_NO = [("✅ Oui", "yes"), ("Non", "no")]
FR_CONSENT = [("Oui, partager mon contact", True), ("Non, merci", False)]
FR_THEMES = [
    ("🤝 Solidarité", "solidarity"),
    ("🌳 Environnement et cadre de vie", "environment"),
    ("🎭 Culture", "culture"),
    ("L’éducation", "education"),
]
AR_YES_NO = [("نعم", "yes"), ("لا", "no")]
AR_THEMES = [("🤝 التضامن", "solidarity"), ("الثقافة", "culture"), ("البيئة", "environment")]


@pytest.mark.parametrize(
    "typed",
    [
        "13",
        "13e",
        "13E",
        "13ème",
        "13eme",
        "13è",
        "13 e",
        "13ᵉ",
        "13th",
        "13e arr",
        "13e arrondissement",
        "13 ème arrondissement",
        "Marseille 13",
        "13013",
        "١٣",
        "۱۳",
        "１３",
        "  13e !",
        "n°13",
    ],
)
def test_an_arrondissement_as_people_write_it(typed: str) -> None:
    assert typed_choice(typed, FR_DISTRICTS) == 13
    assert typed_choice(typed, EN_DISTRICTS) == 13
    assert typed_choice(typed, AR_DISTRICTS) == 13


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1er", 1), ("1", 1), ("1st", 1), ("2nd", 2), ("3rd", 3), ("13001", 1), ("الدائرة 16", 16)],
)
def test_first_and_other_ordinals(typed: str, expected: int) -> None:
    assert typed_choice(typed, FR_DISTRICTS) == expected
    assert typed_choice(typed, AR_DISTRICTS) == expected


def test_words_name_the_option_outside_marseille() -> None:
    assert typed_choice("hors de marseille", FR_DISTRICTS) == 0
    assert typed_choice("OUTSIDE MARSEILLE.", EN_DISTRICTS) == 0
    assert typed_choice("خارج مرسيليا", AR_DISTRICTS) == 0


@pytest.mark.parametrize("typed", ["17", "0", "13014 Paris", "treize", "13013013", "", "   "])
def test_what_names_no_arrondissement(typed: str) -> None:
    assert typed_choice(typed, FR_DISTRICTS) is None


@pytest.mark.parametrize(
    ("typed", "options", "expected"),
    [
        ("oui", FR_YES_NO, "yes"),
        ("OUI !", FR_YES_NO, "yes"),
        ("non", FR_YES_NO, "no"),
        ("non merci", FR_YES_NO, "no"),
        ("Non, pas maintenant", FR_YES_NO, "no"),
        ("non merci", FR_CONSENT, False),
        ("Non merci 🙏", FR_CONSENT, False),
        ("oui", FR_CONSENT, True),
        ("Solidarité", FR_THEMES, "solidarity"),
        ("solidarite", FR_THEMES, "solidarity"),
        ("SOLIDARITÉ", FR_THEMES, "solidarity"),
        ("environnement", FR_THEMES, "environment"),
        ("l'education", FR_THEMES, "education"),
        ("نعم", AR_YES_NO, "yes"),
        ("لا شكرا", AR_YES_NO, "no"),
        ("التضامن", AR_THEMES, "solidarity"),
        ("الثقافه", AR_THEMES, "culture"),
        ("الثقافـــة", AR_THEMES, "culture"),
        ("Yes", [("Yes", True), ("No", False)], True),
        ("no thanks", [("Yes", True), ("No", False)], False),
    ],
)
def test_a_label_typed_loosely(
    typed: str, options: list[tuple[str, object]], expected: object
) -> None:
    assert typed_choice(typed, options) == expected


@pytest.mark.parametrize(
    ("typed", "options"),
    [
        ("peut-être", FR_YES_NO),
        ("culture et sport", [("Culture et loisirs", 2), ("Sport", 3)]),
        ("1", [("1 to 3 hours", "few"), ("1st arrondissement", "first")]),
        ("5", [("Moins de 5", "few"), ("10 ou plus", "many")]),
        ("l", FR_THEMES),
        ("و", [("والدين", 1), ("أطفال", 2)]),
        ("culture", [("Culture et loisirs", 1), ("Culture et sport", 2)]),
        ("🙂", [("🙂 Oui", 1), ("Non", 2)]),
        ("solidarité", AR_THEMES),
    ],
)
def test_nothing_or_ambiguous_is_none(typed: str, options: list[tuple[str, object]]) -> None:
    assert typed_choice(typed, options) is None


def test_a_number_names_the_label_it_leads() -> None:
    hours = [("1 à 3 heures", "few"), ("4 à 6 heures", "some"), ("Plus de 6 heures", "many")]
    assert typed_choice("4", hours) == "some"
    assert typed_choice("6", hours) is None
    assert typed_choice("13", [("Arrondissement 13", 13), ("Marseille 14e", 14)]) == 13
    assert typed_choice("14", [("Arrondissement 13", 13), ("Marseille 14e", 14)]) == 14


def test_the_same_value_under_two_labels_is_not_ambiguous() -> None:
    assert typed_choice("culture", [("Culture", "c"), ("Culture et loisirs", "c")]) == "c"
    assert typed_choice("13", [("13e", 13), ("13e arrondissement", 13)]) == 13


def test_an_exact_label_wins_over_a_longer_one() -> None:
    options = [("Culture", 1), ("Culture et loisirs", 2)]
    assert typed_choice("culture", options) == 1
    assert typed_choice("culture et loisirs", options) == 2
    assert typed_choice("culture et", options) == 2


def test_normalised_form() -> None:
    assert normalise("  L’Été   à Marseille !! 🌞 ") == "l ete a marseille"
    assert normalise("١٣ème") == "13eme"
    assert normalise("أهلا") == "اهلا"


def test_several_options_on_one_line() -> None:
    themes = FR_THEMES
    assert typed_choices("Solidarité, culture", themes) == ["solidarity", "culture"]
    assert typed_choices("culture / solidarite + culture", themes) == ["culture", "solidarity"]
    assert typed_choices("التضامن، الثقافة", AR_THEMES) == ["solidarity", "culture"]
    # A label with a comma in it is still one option when its parts are not options.
    assert typed_choices("Non, merci", FR_CONSENT) == [False]
    assert typed_choices("culture", themes) == ["culture"]
    assert typed_choices("culture, théâtre", themes) == ["culture"]  # the whole: rule 4
    assert typed_choices("théâtre, danse", themes) is None
