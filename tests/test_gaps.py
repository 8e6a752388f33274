"""The map of gaps in the coordinators' group: the text as before, then a picture written in
the group's language."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from bot.i18n import create_i18n
from handlers.profile.labels import arrondissement_short, theme_label
from storage.gaps_chart import ANSWERED, SHORT, UNANSWERED, GapsTexts, gaps_png
from storage.models import Need
from storage.organisations import Gap
from storage.users import find_user
from tests.conversation import Harness
from tests.initiatives_setup import group_person, onboarded
from tests.texts import t


async def test_gaps_answers_with_the_text_and_a_picture(harness: Harness) -> None:
    await onboarded(harness, 1001)
    async with harness.sessionmaker.begin() as session:
        reporter = await find_user(session, 1001)
        assert reporter is not None
        session.add(
            Need(
                reporter_id=reporter.id,
                theme_code="housing",
                arrondissement=13,
                text="Logements insalubres",
            )
        )
    coordinator = group_person(harness)
    calls = await coordinator.send("/gaps")
    (text,) = [c for c in calls if c.method == "sendMessage"]
    assert t("fr", "<b>Map of gaps</b>") in text.params["text"]
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    _name, content = photo.files["photo"]
    assert content.startswith(b"\x89PNG")
    caption = photo.params["caption"]
    explained = (
        "In each cell: open needs / initiatives and organisations acting there. Red: no "
        "answer; orange: fewer answers than needs; green: answered. Rows: arrondissements."
    )
    assert caption == t("fr", explained)  # the names are in the picture now


async def test_the_weekly_stats_end_with_the_gaps(harness: Harness) -> None:
    await onboarded(harness, 1001)
    async with harness.sessionmaker.begin() as session:
        reporter = await find_user(session, 1001)
        assert reporter is not None
        session.add(
            Need(reporter_id=reporter.id, theme_code="housing", arrondissement=13, text="Toits")
        )
    coordinator = group_person(harness)
    await coordinator.send("/stats week")
    line = t("fr", "Places and themes with open needs and no answer: {count} — /gaps", count=1)
    assert coordinator.last.rstrip().endswith(line)
    await coordinator.send("/stats")
    assert "/gaps" not in coordinator.last


I18N = create_i18n()
FOUND = [
    Gap(13, "housing", needs=3),
    Gap(3, "older_people", needs=6, initiatives=1, organisations=1),
    Gap(1, "health", needs=2, initiatives=2, organisations=1),
]
ORDER = ["health", "housing", "older_people"]


def words(locale: str, order: list[str] = ORDER) -> GapsTexts:
    """What the /gaps handler passes, from the catalogs."""
    with I18N.context(), I18N.use_locale(locale):
        return GapsTexts(
            title=t(locale, "Map of gaps"),
            cell=t(
                locale, "In each cell: open needs / initiatives and organisations acting there"
            ),
            key=(
                t(locale, "no answer"),
                t(locale, "fewer answers than needs"),
                t(locale, "answered"),
            ),
            places={number: arrondissement_short(number) for number in range(17)},
            themes=[theme_label(theme, locale) for theme in order],
        )


def picture(locale: str) -> Image.Image:
    data = gaps_png(FOUND, ORDER, words(locale))
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data)).convert("RGB")


def drawn(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    part = image.crop(box)
    return ImageChops.difference(part, Image.new("RGB", part.size, "white")).getbbox()


def written(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    """Whether text (dark ink, not the light grid or cell colours) is drawn in `box`."""
    low, _high = image.crop(box).convert("L").getextrema()
    return bool(low < 100)


def test_the_picture_names_themes_and_places_in_the_groups_language() -> None:
    french, english, arabic = picture("fr"), picture("en"), picture("ar")
    assert french.size == arabic.size and 600 < french.width < 2000 and french.height < 1200
    assert ImageChops.difference(french, english).getbbox() is not None
    assert ImageChops.difference(french, arabic).getbbox() is not None
    # The colours of the three kinds of cell, in the cells and in the key.
    colours = {colour for _count, colour in french.getcolors(maxcolors=1 << 16) or []}
    for hex_colour in (UNANSWERED, SHORT, ANSWERED):
        assert tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)) in colours


def test_an_arabic_picture_reads_from_the_right() -> None:
    french, arabic = picture("fr"), picture("ar")
    width = french.width
    french_title = drawn(french, (0, 0, width, 44))
    arabic_title = drawn(arabic, (0, 0, width, 44))
    assert french_title is not None and arabic_title is not None
    assert french_title[0] < 40 and arabic_title[2] > width - 40
    # The arrondissements' names stand at the start of their rows: left, or right in Arabic.
    grid_top, bottom = 180, french.height
    start, end = (40, grid_top, 150, bottom), (width - 150, grid_top, width - 40, bottom)
    assert written(french, start) and not written(french, end)
    assert written(arabic, end) and not written(arabic, start)


def test_one_name_per_theme() -> None:
    with pytest.raises(ValueError):
        gaps_png(FOUND, ORDER, words("fr", ["health"]))
    with pytest.raises(ValueError):
        gaps_png(FOUND, [], words("fr", []))
