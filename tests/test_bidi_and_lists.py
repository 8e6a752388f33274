"""Texts written in the reader's way (issue 13): Latin names isolated inside Arabic sentences,
lists joined as the language joins them, French "1er" on the first of the month."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.bidi import FSI, PDI, RLM, isolate, isolated, line_start
from handlers.summary.texts import Labels
from handlers.texts import format_day, join_list, quoted
from storage.users import find_user
from tests.conversation import Harness, Person
from tests.delivery_setup import deliver
from tests.initiatives_setup import onboarded, published
from tests.texts import t


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        ("Jardin du Panier", "ar", f"{FSI}Jardin du Panier{PDI}"),
        ("@voisins13", "ar", f"{FSI}@voisins13{PDI}"),
        ("I-12", "ar", f"{FSI}I-12{PDI}"),
        ("13e", "ar", f"{FSI}13e{PDI}"),
        ("حديقة الحي", "ar", "حديقة الحي"),  # Arabic needs nothing
        ("12", "ar", "12"),  # a bare number sits well
        ("Jardin du Panier", "fr", "Jardin du Panier"),  # left to right: nothing changes
        ("Jardin du Panier", "en", "Jardin du Panier"),
        ("first line\nsecond", "ar", "first line\nsecond"),  # an isolate ends with its line
    ],
)
def test_isolate(value: str, locale: str, shown: str) -> None:
    assert isolate(value, locale) == shown
    assert isolate(shown, locale) == shown  # once is enough


def test_isolated_format_arguments() -> None:
    text = "«{title}» ({reference}) مفتوحة، {count} مشاركين."
    shown = text.format(**isolated("ar", title="Tea time", reference="I-3", count=4))
    assert shown == f"«{FSI}Tea time{PDI}» ({FSI}I-3{PDI}) مفتوحة، 4 مشاركين."
    assert text.format(**isolated("fr", title="Tea time", reference="I-3", count=4)) == (
        "«Tea time» (I-3) مفتوحة، 4 مشاركين."
    )
    assert line_start("ar") == RLM and line_start("fr") == ""


def test_a_latin_title_in_an_arabic_summary_is_isolated() -> None:
    texts = {"fr": {"title": "Rompre l'isolement"}}
    assert Labels("ar").title(texts, "#1") == f"{FSI}Rompre l'isolement{PDI}"
    assert Labels("fr").title(texts, "#1") == "Rompre l'isolement"


@pytest.mark.parametrize(
    ("locale", "style", "joined"),
    [
        ("fr", "standard", "Culture, Santé et Sport"),
        ("en", "standard", "Culture, Santé, and Sport"),
        ("ar", "standard", "Culture وSanté وSport"),
        ("ar", "unit", "Culture، وSanté، وSport"),
    ],
)
def test_join_list(locale: str, style: str, joined: str) -> None:
    assert join_list(["Culture", "Santé", "Sport"], locale, style) == joined  # type: ignore[arg-type]
    assert "," not in join_list(["أ", "ب", "ج"], "ar", style)  # type: ignore[arg-type]
    assert join_list([], locale) == ""
    assert join_list(["Seul"], locale) == "Seul"


def test_quoted() -> None:
    assert quoted("Passer", "fr") == "«\u00a0Passer\u00a0»"
    assert quoted("Skip", "en") == "“Skip”"
    assert quoted("تخطي", "ar") == "«تخطي»"


@pytest.mark.parametrize(
    ("day", "locale", "length", "shown"),
    [
        (date(2026, 12, 1), "fr", "medium", "1er déc. 2026"),
        (date(2026, 12, 1), "fr", "long", "1er décembre 2026"),
        (date(2026, 12, 1), "fr", "full", "mardi 1er décembre 2026"),
        (date(2026, 12, 1), "fr", "short", "01/12/2026"),
        (date(2026, 12, 11), "fr", "medium", "11 déc. 2026"),
        (date(2026, 12, 21), "fr", "long", "21 décembre 2026"),
        (date(2026, 12, 1), "en", "medium", "Dec 1, 2026"),
    ],
)
def test_format_day_writes_the_first_as_french_does(
    day: date, locale: str, length: str, shown: str
) -> None:
    assert format_day(day, locale, length) == shown


async def speaks(harness: Harness, person: Person, locale: str) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, person.id)
        assert user is not None
        user.locale = locale


async def test_an_arabic_reader_sees_latin_names_in_their_place(harness: Harness) -> None:
    await onboarded(harness, 1001, organisation="Voisins Solidaires", verified=True)
    author = await onboarded(harness, 1003)
    await published(harness, author, "Tea and talk", theme="culture", arrondissement=3)
    reader = await onboarded(harness, 1002)
    await speaks(harness, reader, "ar")

    await reader.send("/help")
    await reader.press(t("ar", "Who acts near me?"))
    await reader.press(t("ar", "All themes"))
    await reader.press(t("ar", "The whole city"))
    lines = reader.last.splitlines()
    # Each entry's line starts right to left, its Latin name one block inside it.
    (organisation,) = [line for line in lines if "Voisins Solidaires" in line]
    assert organisation.startswith(RLM + "1. ")
    assert f"{FSI}Voisins Solidaires ✓{PDI} — {t('ar', 'Organisation')}" in organisation
    (initiative,) = [line for line in lines if "Tea and talk" in line]
    assert initiative.startswith(RLM) and f"{FSI}Tea and talk{PDI}" in initiative

    # In French nothing is added.
    await speaks(harness, reader, "fr")
    await reader.send("/help")
    await reader.press(t("fr", "Who acts near me?"))
    await reader.press(t("fr", "All themes"))
    await reader.press(t("fr", "The whole city"))
    assert "1. Voisins Solidaires ✓ — Organisation" in reader.last
    assert FSI not in reader.last and RLM not in reader.last


async def test_an_arabic_member_reads_a_latin_name_asking_to_join(harness: Harness) -> None:
    member = await onboarded(harness, 1001, organisation="Les Amis du Panier")
    await speaks(harness, member, "ar")
    asker = await onboarded(harness, 1002)

    await asker.send("/help")
    await asker.press("Who acts near me?")
    await asker.press("All themes")
    await asker.press("The whole city")
    await asker.press("1. Les Amis du Panier")
    await asker.press("Ask to join it")
    await asker.press("Yes, ask")
    (request,) = [m for m in await deliver(harness) if m["chat"]["id"] == 1001]
    heading = request["text"].splitlines()[0]
    # The line starts right to left; the asker's Telegram name and the organisation's are
    # each one block in it.
    assert heading.startswith(RLM)
    assert f"{FSI}Les Amis du Panier{PDI}" in heading
    assert heading.count(FSI) == heading.count(PDI) == 2
