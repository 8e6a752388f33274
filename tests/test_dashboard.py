"""The daily summary's picture: each series in its colour, named in the group's language
(Arabic on the right), the days of the month below."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image, ImageChops

from bot.i18n import create_i18n
from handlers.summary.texts import Labels, dashboard_texts
from storage.dashboard import WIDTH, DashboardTexts, dashboard_png, series_colour
from storage.summary import DayActivity

I18N = create_i18n()
DAYS = [
    DayActivity(date(2026, 11, 2) + timedelta(days=n), n, 2 * n, n % 3, 0, 40 - n)
    for n in range(14)
]


def words(locale: str) -> DashboardTexts:
    with I18N.context(), I18N.use_locale(locale):
        return dashboard_texts(DAYS, Labels(locale))


def image_of(picture: bytes) -> Image.Image:
    return Image.open(io.BytesIO(picture)).convert("RGB")


def test_the_dashboard_draws_each_series_in_its_colour() -> None:
    picture = dashboard_png(DAYS, words("fr"))
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    assert picture == dashboard_png(DAYS, words("fr"))
    assert picture != dashboard_png([*DAYS[:-1], DayActivity(date(2026, 11, 15), 99)], words("fr"))
    image = image_of(picture)
    assert image.size == (1280, 800)
    colours = {colour for _count, colour in image.getcolors(maxcolors=1 << 16) or []}
    for series in range(len(DayActivity.SERIES)):
        hex_colour = series_colour(series)
        assert tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)) in colours, hex_colour


def test_the_series_are_named_in_the_groups_language() -> None:
    french, english, arabic = (words(locale) for locale in ("fr", "en", "ar"))
    assert french.series[0] != english.series[0] != arabic.series[0]
    assert "14" in french.title and "14" in arabic.title
    pictures = {dashboard_png(DAYS, texts) for texts in (french, english, arabic)}
    assert len(pictures) == 3


def ink_columns(image: Image.Image, top: int, bottom: int) -> tuple[int, int]:
    """Leftmost and rightmost drawn column between two rows."""
    band = image.crop((0, top, image.width, bottom))
    box = ImageChops.difference(band, Image.new("RGB", band.size, "white")).getbbox()
    assert box is not None
    return box[0], box[2]


def test_arabic_titles_and_names_sit_on_the_right() -> None:
    french = image_of(dashboard_png(DAYS, words("fr")))
    arabic = image_of(dashboard_png(DAYS, words("ar")))
    left, right = ink_columns(french, 0, 50)  # the title
    assert left < 40 and right < WIDTH * 0.6
    left, right = ink_columns(arabic, 0, 50)
    assert right > WIDTH - 40 and left > WIDTH * 0.4


def test_one_name_per_series() -> None:
    with pytest.raises(ValueError):
        dashboard_png(DAYS, DashboardTexts("Activity", ("people",), "day"))
    with pytest.raises(ValueError):
        dashboard_png([], words("en"))
