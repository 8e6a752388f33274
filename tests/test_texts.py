"""What people type is kept as they wrote it: only control characters and lone surrogates are
dropped, never the invisible characters that writing systems and emoji are made of."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from aiogram import html

from bot.i18n import CatalogI18n
from bot.standin import parse_html, utf16_len
from handlers.initiatives.cards import public_card, shorten
from storage.models import Initiative, InitiativeStatus
from storage.outbox import CAPTION_LIMIT, cut_caption, split_text
from storage.survey_files import load_survey_file
from storage.texts import TextRejected, clean_text, fold_lines
from tests.conversation import Harness
from tests.needs_setup import at_description, needs

ZWJ, ZWNJ = "\u200d", "\u200c"
FAMILY = f"👨{ZWJ}👩{ZWJ}👧"
# Persian "I want": the non-joiner keeps می apart from خواهم; without it the word is misspelt.
PERSIAN = f"می{ZWNJ}خواهم"
# The flag of Scotland: a black flag, the tag letters g b s c t, and a cancel tag.
SCOTLAND = "🏴" + "".join(chr(0xE0000 + ord(c)) for c in "gbsct") + "\U000e007f"
RLM, LRM, ALM = "\u200f", "\u200e", "\u061c"
# Arabic with a Latin name inside, isolated so that it stays in place.
ISOLATED = f"{RLM}موعد في \u2068Café Nour\u2069 يوم السبت"


@pytest.mark.parametrize(
    "typed",
    [
        f"Ma famille {FAMILY} cherche un jardin partagé",
        f"{PERSIAN} کمک کنم",
        f"Bénévoles bienvenus {SCOTLAND} et 🇫🇷",
        ISOLATED,
        f"{LRM}Rue de la République{LRM} {ALM}٣ شارع",
        "Un retour\nà la ligne\tet une tabulation, 👍🏽 compris",
    ],
)
def test_what_is_typed_is_kept(typed: str) -> None:
    assert clean_text(typed, max_length=500) == typed
    assert clean_text(typed, max_length=500).encode() == typed.encode()


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (f"\x00Bonjour\x07 {FAMILY}\x1b[31m\x7f", f"Bonjour {FAMILY}[31m"),
        ("Une ligne\r\nune autre\rune dernière", "Une ligne\nune autre\nune dernière"),
        # A lone surrogate cannot be stored nor sent as UTF-8.
        ("Bonjour \ud83d le quartier", "Bonjour  le quartier"),
        ("Ligne\x85 suivante\x0b", "Ligne suivante"),
        (f"  {PERSIAN}  \n\n\n\n  {FAMILY}  ", f"{PERSIAN}\n\n{FAMILY}"),
    ],
)
def test_control_characters_and_lone_surrogates_go(typed: str, kept: str) -> None:
    assert clean_text(typed, max_length=500) == kept
    kept.encode()


@pytest.mark.parametrize("typed", ["", "  \n\t ", f"{ZWJ}{ZWNJ}", f" {RLM}\u200b\n{LRM} ", "\x00"])
def test_nothing_visible_is_empty(typed: str) -> None:
    with pytest.raises(TextRejected) as rejected:
        clean_text(typed, min_length=3, max_length=500)
    assert rejected.value.reason == TextRejected.EMPTY


def test_limits_count_what_is_kept() -> None:
    # The family is five characters (three faces, two joiners): the limit counts them all.
    assert len(FAMILY) == 5
    assert clean_text(FAMILY, min_length=5, max_length=5) == FAMILY
    with pytest.raises(TextRejected) as rejected:
        clean_text(FAMILY, max_length=4)
    assert rejected.value.reason == TextRejected.TOO_LONG


def test_sent_back_as_written() -> None:
    """Escaped for HTML, parsed as Telegram parses it, cut to Telegram's limits: the joiners,
    non-joiners, tags and marks are still there and the lengths are counted in UTF-16."""
    typed = f"<{FAMILY}> & {PERSIAN} {SCOTLAND} {ISOLATED}"
    visible, entities = parse_html(f"<b>{html.quote(typed)}</b>")
    assert visible == typed
    assert entities == [{"type": "bold", "offset": 0, "length": utf16_len(typed)}]

    long = " ".join([f"{FAMILY} {PERSIAN} {SCOTLAND}"] * 300)
    parts = split_text(html.quote(long))
    assert len(parts) > 1 and all(utf16_len(part) <= 4096 for part in parts)
    assert " ".join(parts) == long
    caption, cut = cut_caption(long)
    assert cut and utf16_len(caption) <= 1024
    assert all(piece in (FAMILY, PERSIAN, SCOTLAND) for piece in caption[:-1].split())


async def test_a_need_is_stored_as_typed(harness: Harness) -> None:
    person = await at_description(harness)
    typed = f"Aide aux devoirs pour {FAMILY} : {PERSIAN} کمک کنم, {ISOLATED}"

    await person.send(typed)
    assert "Step 4 of 4" in person.last
    await person.press("Skip")
    await person.press("Send")

    (need,) = await needs(harness)
    assert need.text.encode() == typed.encode()
    assert typed in person.last


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Une phrase coupée\nau milieu.", "Une phrase coupée au milieu."),
        ("  Un\r\n  paragraphe.\r\n\r\n\n  \n  Un autre.  \n", "Un paragraphe.\n\nUn autre."),
        (
            "في مرسيليا، يعيش\nكثير من كبار السن وحدهم.",
            "في مرسيليا، يعيش كثير من كبار السن وحدهم.",
        ),
        ("Pour aider :\n- appeler\n• visiter\n1. venir\n2) rester", None),
        (
            "Un tiret-\nau bout, un nombre\n12 ans plus tard",
            "Un tiret- au bout, un nombre 12 ans plus tard",
        ),
    ],
)
def test_lines_of_a_file_fold_into_paragraphs(written: str, read: str | None) -> None:
    assert fold_lines(written) == (written if read is None else read)


def test_a_survey_file_folds_its_lines_too(tmp_path: Path) -> None:
    path = tmp_path / "survey.yaml"
    path.write_text(
        "series: isolation\n"
        "texts:\n"
        "  fr:\n"
        "    title: Point isolement\n"
        "    intro: |\n"
        "      Quelques questions courtes,\n"
        "      deux minutes.\n"
        "\n"
        "      Vos réponses restent anonymes.\n"
        "send_at: 2026-12-07 10:00:00\n",
        encoding="utf-8",
    )
    [survey] = load_survey_file(path)
    intro = survey["texts"]["fr"]["intro"]
    assert intro == "Quelques questions courtes, deux minutes.\n\nVos réponses restent anonymes."
    assert survey["send_at"] == datetime(2026, 12, 7, 10, 0)  # YAML's own types, as before


def test_a_card_of_emoji_fits_a_caption_as_telegram_counts(i18n: CatalogI18n) -> None:
    """Telegram counts UTF-16 code units: 1,000 emoji are 2,000 of them. The card of an
    initiative described in emoji must still fit a photo's caption."""
    initiative = Initiative(
        id=7,
        title=f"Goûter {FAMILY} 🎉",
        description=" ".join(["🎉🎂☕" + FAMILY] * 100),
        theme_code="older_people",
        arrondissement=3,
        status=InitiativeStatus.approved,
    )
    with i18n.context(), i18n.use_locale("fr"):
        card = public_card(initiative, "fr", CAPTION_LIMIT)
    shown = parse_html(card)[0]
    assert utf16_len(shown) <= CAPTION_LIMIT
    # Cut, not emptied: most of the caption is the description, ending with the cut's mark.
    assert utf16_len(shown) > CAPTION_LIMIT - 100 and "…" in shown


def test_shorten_counts_as_telegram_and_never_splits_a_character() -> None:
    text = "🎉" * 50
    cut = shorten(text, 21)
    assert utf16_len(cut) <= 21 and cut == "🎉" * 10 + "…"
    assert shorten("court", 21) == "court"
