"""The needs map picture, checked by reading its pixels back: tiles are found where the city
has them, coloured by their needs, written in the reader's language with the packaged font,
and no figure of 1 to 4 is ever drawn."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageFont

from bot.i18n import create_i18n
from handlers.needs.needs_map import map_texts
from storage import charts, drawing
from storage.charts import (
    SCALE,
    THEME_MARKERS,
    TILES,
    MapTexts,
    needs_map_png,
    published_count,
    theme_colour,
    theme_colours,
    theme_marker,
    tile_box,
    tile_colour,
)
from storage.models import Theme
from storage.themes import SEEDED_THEMES

THEMES = list(SEEDED_THEMES)
I18N = create_i18n()
Rgb = tuple[int, int, int]


def texts(locale: str, order: list[str] = THEMES) -> MapTexts:
    """The words the needs map handler passes, from the catalogs."""
    with I18N.context(), I18N.use_locale(locale):
        return map_texts([Theme(code=code, labels={}) for code in order], locale)


def render(
    counts: Mapping[tuple[int, str], int], locale: str = "fr", order: list[str] = THEMES
) -> Image.Image:
    image = Image.open(io.BytesIO(needs_map_png(counts, order, texts(locale, order))))
    assert image.format == "PNG"
    return image.convert("RGB")


def rgb(hex_colour: str) -> Rgb:
    red, green, blue = ImageColor.getrgb(hex_colour)[:3]
    return red, green, blue


def fill_of(image: Image.Image, place: int, rtl: bool = False) -> Rgb:
    """The tile's colour, read just inside its left edge, halfway down (no text there)."""
    left, top, _right, bottom = tile_box(place, rtl)
    red, green, blue = image.getpixel((left + 4, (top + bottom) // 2))  # type: ignore[misc]
    return red, green, blue


def spread() -> dict[tuple[int, str], int]:
    """Uneven counts in every arrondissement, over several themes, some of 1 to 4."""
    counts: dict[tuple[int, str], int] = {}
    for arrondissement in range(1, 17):
        for k in range(3):
            theme = THEMES[(arrondissement + k) % len(THEMES)]
            counts[(arrondissement, theme)] = (arrondissement * 7 + k * 5) % 23
    return counts


def totals(counts: Mapping[tuple[int, str], int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for (arrondissement, _), count in counts.items():
        found[arrondissement] = found.get(arrondissement, 0) + count
    return found


def ink(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """Bounding box of what is drawn (not white) inside `box`, in `box`'s coordinates."""
    part = image.crop(box)
    return ImageChops.difference(part, Image.new("RGB", part.size, "white")).getbbox()


def test_it_is_a_png_the_size_of_a_telegram_photo() -> None:
    data = needs_map_png(spread(), THEMES, texts("fr"))
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()
    assert Image.open(io.BytesIO(data)).size == (1280, 800)
    assert 10_000 < len(data) < 1_000_000


def test_the_tiles_are_laid_out_as_the_city_is() -> None:
    assert sorted(TILES) == list(range(1, 17))
    cells = list(TILES.values())
    assert len(set(cells)) == 16  # one cell each
    assert charts.OUTSIDE_TILE not in cells

    def near(a: int, b: int) -> bool:
        (row_a, column_a), (row_b, column_b) = TILES[a], TILES[b]
        return max(abs(row_a - row_b), abs(column_a - column_b)) == 1

    # Neighbours in Marseille are neighbours on the map.
    for a, b in [(1, 2), (1, 6), (1, 7), (1, 5), (2, 3), (3, 14), (15, 16), (13, 12), (8, 9)]:
        assert near(a, b), (a, b)
    for a, b in [(1, 16), (8, 13), (7, 11), (2, 9)]:
        assert not near(a, b), (a, b)
    row = {place: cell[0] for place, cell in TILES.items()}
    column = {place: cell[1] for place, cell in TILES.items()}
    assert {place for place, r in row.items() if r == 0} == {13, 14, 15, 16}  # the north
    assert row[8] == max(row.values())  # the south
    assert column[16] == column[2] == column[7] == 0  # by the sea, to the west
    assert column[16] < column[15] < column[14] < column[13]  # l'Estaque to Château-Gombert
    assert all(column[east] == max(column.values()) for east in (11, 12, 13))


def test_tile_boxes_do_not_overlap_and_stay_in_the_picture() -> None:
    for rtl in (False, True):
        boxes = [tile_box(place, rtl) for place in [*TILES, charts.OUTSIDE]]
        for left, top, right, bottom in boxes:
            assert 0 <= left < right < charts.WIDTH and 0 <= top < bottom < charts.HEIGHT
        for (l1, t1, r1, b1), (l2, t2, r2, b2) in itertools.combinations(boxes, 2):
            assert r1 < l2 or r2 < l1 or b1 < t2 or b2 < t1


def test_each_tile_is_coloured_by_its_needs() -> None:
    counts = spread()
    image = render(counts)
    by_place = totals(counts)
    for place in TILES:
        assert fill_of(image, place) == rgb(tile_colour(by_place[place])), place
    empty = render({})
    assert {fill_of(empty, place) for place in TILES} == {rgb(tile_colour(0))}


def test_the_scale_is_sequential_and_its_classes_are_read_in_order() -> None:
    lows = [low for low, _, _ in SCALE]
    assert lows == sorted(lows) and lows[:2] == [0, 1]
    assert [tile_colour(low) for low, _, _ in SCALE] == [colour for _, colour, _ in SCALE]
    assert tile_colour(4) == tile_colour(1)  # 1 to 4 are one class: "<5"
    assert tile_colour(1000) == SCALE[-1][1]

    def luminance(hex_colour: str) -> float:
        red, green, blue = rgb(hex_colour)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    # Darker for more, so that it reads without hue (colour-vision deficiencies, greyscale).
    shades = [luminance(colour) for _, colour, _ in SCALE]
    assert shades == sorted(shades, reverse=True) and len(set(shades)) == len(shades)


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_a_count_of_1_to_4_is_published_as_fewer_than_5(count: int) -> None:
    shown = published_count(count)
    assert shown == "<5" and str(count) not in shown


def test_counts_of_0_and_from_5_are_published_as_they_are() -> None:
    assert [published_count(n) for n in (0, 5, 6, 12, 150)] == ["0", "5", "6", "12", "150"]


def test_a_count_of_1_to_4_cannot_be_read_from_the_picture() -> None:
    # Tiles, labels and theme bars alike: 1, 2, 3 and 4 draw the very same picture.
    base = {(5, "housing"): 12, (13, "health"): 30}
    pictures = {
        needs_map_png({**base, (3, "culture"): small}, THEMES, texts("fr"))
        for small in (1, 2, 3, 4)
    }
    assert len(pictures) == 1
    five = needs_map_png({**base, (3, "culture"): 5}, THEMES, texts("fr"))
    six = needs_map_png({**base, (3, "culture"): 6}, THEMES, texts("fr"))
    assert len({*pictures, five, six}) == 3


def test_outside_marseille_gets_a_tile_only_when_it_has_needs() -> None:
    counts = spread()
    without = render({**counts, (0, "housing"): 0})
    assert ink(without, tile_box(charts.OUTSIDE)) is None
    with_outside = render({**counts, (0, "housing"): 20})
    assert fill_of(with_outside, charts.OUTSIDE) == rgb(tile_colour(20))


def test_the_words_are_drawn_in_the_readers_language() -> None:
    counts = spread()
    french, english, arabic = (render(counts, locale) for locale in ("fr", "en", "ar"))
    assert ImageChops.difference(french, english).getbbox() is not None
    assert ImageChops.difference(french, arabic).getbbox() is not None
    # The same tile's name differs between languages: "3e arr." against "الدائرة 3".
    tile = tile_box(3)
    assert ImageChops.difference(french.crop(tile), english.crop(tile)).getbbox() is not None


def test_an_arabic_page_reads_from_the_right_and_keeps_the_citys_geography() -> None:
    counts = spread()
    french, arabic = render(counts, "fr"), render(counts, "ar")
    title_band = (0, 0, charts.WIDTH, 80)
    french_title = ink(french, title_band)
    arabic_title = ink(arabic, title_band)
    assert french_title is not None and arabic_title is not None
    assert french_title[0] < 40 and french_title[2] < charts.WIDTH / 2  # on the left
    assert arabic_title[2] > charts.WIDTH - 40 and arabic_title[0] > charts.WIDTH / 2
    # The map moves to the right, the tiles keep their places relative to each other.
    by_place = totals(counts)
    for place in TILES:
        assert fill_of(arabic, place, rtl=True) == rgb(tile_colour(by_place[place]))
    assert tile_box(16, rtl=True)[0] < tile_box(13, rtl=True)[0]  # the port stays west


def test_theme_bars_are_in_the_theme_colours_and_mirrored_in_arabic() -> None:
    counts = {(5, "housing"): 12, (13, "health"): 30}
    order = ["housing", "health"]
    for locale, rtl in (("fr", False), ("ar", True)):
        image = render(counts, locale, order)
        boxes = []
        for index in range(2):
            mask = ImageChops.difference(
                image, Image.new("RGB", image.size, rgb(theme_colour(index)))
            ).convert("L")
            box = mask.point(lambda value: 255 if value == 0 else 0).getbbox()
            assert box is not None, (locale, index)
            boxes.append(box)
        (housing_left, _, housing_right, _), (health_left, _, health_right, _) = boxes
        # 30 against 12: the longer bar is health's, growing from the page's reading side.
        assert health_right - health_left == pytest.approx(
            (housing_right - housing_left) * 30 / 12, abs=3
        )
        if rtl:
            assert housing_right == health_right and housing_right < charts.WIDTH / 2
        else:
            assert housing_left == health_left and housing_left > charts.WIDTH / 2


def test_the_font_is_the_one_shipped_with_the_package() -> None:
    package = Path(charts.__file__).resolve().parent
    assert drawing.REGULAR.is_file() and drawing.BOLD.is_file()
    assert drawing.REGULAR.parent == package / "fonts"
    assert (package / "fonts" / "LICENSE").read_text().count("Bitstream") >= 3
    assert drawing.font(20).path == str(drawing.REGULAR)
    assert drawing.font(20, bold=True).path == str(drawing.BOLD)
    pyproject = (package.parent / "pyproject.toml").read_text()
    assert '"fonts/*"' in pyproject  # installed with the package, not only in the checkout


def arabic_line(text: str) -> Image.Image:
    image = Image.new("RGB", (700, 80), "white")
    drawing.draw_text(ImageDraw.Draw(image), (690, 40), text, 36, "#000000", "rm")
    return image


def test_without_raqm_arabic_is_still_joined_and_right_to_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    label = "الدائرة 13 — السكن"
    shaped = drawing.visual(label)
    # Joined forms (presentation forms B), the words in visual order, digits kept in order.
    assert all("\ufe70" <= c <= "\ufefc" for c in shaped if c not in " —13")
    assert shaped.index("13") > shaped.index("—")
    assert drawing.visual("لا") == "\ufefb"  # lam-alef is one glyph
    by_raqm = arabic_line(label) if drawing.has_raqm() else None
    drawing.font.cache_clear()
    monkeypatch.setattr(drawing, "has_raqm", lambda: False)
    try:
        assert drawing.font(36).layout_engine == ImageFont.Layout.BASIC
        basic = arabic_line(label)
    finally:
        drawing.font.cache_clear()
    drawn = ink(basic, (0, 0, 700, 80))
    assert drawn is not None and drawn[2] >= 685  # right-aligned
    if by_raqm is None:
        pytest.skip("this Pillow has no raqm to compare with")
    # As wide as raqm draws it: the same joined glyphs, not a line of boxes or loose letters.
    reference = ink(by_raqm, (0, 0, 700, 80))
    assert reference is not None
    width, reference_width = drawn[2] - drawn[0], reference[2] - reference[0]
    assert abs(width - reference_width) <= 0.05 * reference_width


def test_same_input_gives_the_same_bytes() -> None:
    counts = spread()
    shuffled = dict(reversed(list(counts.items())))
    words = texts("fr")
    assert needs_map_png(counts, THEMES, words) == needs_map_png(shuffled, THEMES, words)
    assert needs_map_png(counts, THEMES, words) != needs_map_png(
        {**counts, (3, "health"): 99}, THEMES, words
    )


def test_colours_and_markers_go_together() -> None:
    assert len(THEME_MARKERS) >= len(THEMES)
    assert len(set(THEME_MARKERS)) == len(THEME_MARKERS)
    assert len({theme_colour(i) for i in range(len(THEME_MARKERS))}) == len(THEME_MARKERS)
    assert "⬜" not in THEME_MARKERS and "⚪" not in THEME_MARKERS  # white vanishes on white
    assert theme_colours(["a", "b"]) == [("a", theme_colour(0)), ("b", theme_colour(1))]
    cycle = len(THEME_MARKERS)
    assert theme_marker(cycle + 2) == theme_marker(2)
    assert theme_colour(cycle + 2) == theme_colour(2)


@pytest.mark.parametrize(
    "counts",
    [{(17, "housing"): 1}, {(-1, "housing"): 1}, {(3, "unknown"): 1}, {(3, "housing"): -1}],
)
def test_bad_counts_are_refused(counts: dict[tuple[int, str], int]) -> None:
    with pytest.raises(ValueError):
        needs_map_png(counts, THEMES, texts("fr"))


def test_names_must_match_the_themes() -> None:
    words = texts("fr", ["housing"])
    with pytest.raises(ValueError):
        needs_map_png({}, THEMES, words)
