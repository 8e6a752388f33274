"""The needs map picture, checked by reading its pixels back: bars are found where they are
drawn, not where the layout code says they should be."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pytest
from PIL import Image, ImageChops, ImageColor

from storage.charts import (
    THEME_MARKERS,
    needs_chart,
    theme_colour,
    theme_colours,
    theme_marker,
)
from storage.themes import SEEDED_THEMES

THEMES = list(SEEDED_THEMES)
Rgb = tuple[int, int, int]
PALETTE: dict[Rgb, int] = {
    ImageColor.getrgb(theme_colour(index))[:3]: index for index in range(len(THEME_MARKERS))
}


def rgb(hex_colour: str) -> Rgb:
    red, green, blue = ImageColor.getrgb(hex_colour)[:3]
    return red, green, blue


def render(counts: Mapping[tuple[int, str], int], order: list[str] | None = None) -> Image.Image:
    image = Image.open(io.BytesIO(needs_chart(counts, THEMES if order is None else order)))
    assert image.format == "PNG"
    return image.convert("RGB")


def axis_row(image: Image.Image) -> int:
    """The top row of the horizontal axis: the lowest rows that are dark almost all the way."""
    pixels = image.load()

    def is_axis(y: int) -> bool:
        dark = sum(1 for x in range(image.width) if sum(pixels[x, y]) < 3 * 100)
        return dark > 0.8 * image.width

    # From the bottom, since the axis sits low and full rows are slow to read in Python.
    y = image.height - 1
    while y >= 0 and not is_axis(y):
        y -= 1
    assert y >= 0, "no axis found"
    while is_axis(y - 1):
        y -= 1
    return y


def where(image: Image.Image, colour: Rgb) -> tuple[tuple[int, int, int, int] | None, int]:
    """Bounding box and number of the pixels of exactly `colour`."""
    difference = ImageChops.difference(image, Image.new("RGB", image.size, colour))
    mask = difference.convert("L").point(lambda value: 255 if value == 0 else 0)
    return mask.getbbox(), mask.histogram()[255]


def bars(image: Image.Image) -> list[tuple[int, int]]:
    """(left, right) of every bar, left to right, read on the row just above the axis."""
    pixels, y = image.load(), axis_row(image) - 1
    found: list[tuple[int, int]] = []
    start: int | None = None
    for x in range(image.width + 1):
        inside = x < image.width and pixels[x, y] in PALETTE
        if inside and start is None:
            start = x
        elif not inside and start is not None:
            if x - start >= 10:  # a stray anti-aliased text pixel is not a bar
                found.append((start, x - 1))
            start = None
    return found


def segments(image: Image.Image, x: int) -> list[tuple[Rgb, int]]:
    """(colour, height in pixels) of a bar's stacked segments, bottom-up, along column x."""
    pixels = image.load()
    runs: list[tuple[Rgb, int]] = []
    y = axis_row(image) - 1
    while y >= 0 and pixels[x, y] in PALETTE:
        colour = pixels[x, y]
        if runs and runs[-1][0] == colour:
            runs[-1] = (colour, runs[-1][1] + 1)
        else:
            runs.append((colour, 1))
        y -= 1
    return runs


def stack_at(image: Image.Image, bar: tuple[int, int]) -> list[tuple[Rgb, int]]:
    # Near the left edge: theme numbers are printed in the middle of the segments.
    return segments(image, bar[0] + 2)


def spread(arrondissement: int) -> dict[tuple[int, str], int]:
    """Distinct, uneven counts over several themes, all non-zero for that arrondissement."""
    return {
        (arrondissement, THEMES[(arrondissement + k) % len(THEMES)]): arrondissement + 3 * k
        for k in range(3)
    }


def every_arrondissement() -> dict[tuple[int, str], int]:
    counts: dict[tuple[int, str], int] = {}
    for arrondissement in range(1, 17):
        counts.update(spread(arrondissement))
    return counts


def totals_by_arrondissement(counts: Mapping[tuple[int, str], int]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for (arrondissement, _), count in counts.items():
        totals[arrondissement] = totals.get(arrondissement, 0) + count
    return totals


def test_it_is_a_png_the_size_of_a_telegram_photo() -> None:
    data = needs_chart(every_arrondissement(), THEMES)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert Image.open(io.BytesIO(data)).size == (1280, 800)


def test_bar_heights_are_proportional_to_the_totals() -> None:
    counts = every_arrondissement()
    image = render(counts)
    found = bars(image)
    assert len(found) == 16
    totals = totals_by_arrondissement(counts)
    heights = [sum(height for _, height in stack_at(image, bar)) for bar in found]
    tallest = max(range(16), key=lambda i: heights[i])
    assert tallest + 1 == max(totals, key=lambda a: totals[a])
    per_need = heights[tallest] / totals[tallest + 1]
    assert per_need > 3  # the picture must actually use its height
    for position, height in enumerate(heights):
        # Rounding is the only slack allowed, once when drawing and once in the estimate.
        assert abs(height - totals[position + 1] * per_need) <= 1.5, position + 1


def test_bars_sit_in_arrondissement_order_and_zero_means_no_bar() -> None:
    slots = bars(render(every_arrondissement()))
    assert len(slots) == 16  # read left to right, so slots[n] is arrondissement n + 1
    counts = {(2, "housing"): 4, (15, "health"): 9, (7, "sport"): 0}
    found = bars(render(counts))
    assert found == [slots[1], slots[14]]
    heights = [sum(height for _, height in stack_at(render(counts), bar)) for bar in found]
    assert heights[1] / heights[0] == pytest.approx(9 / 4, rel=0.05)


def test_segments_are_stacked_in_theme_order_with_the_theme_colours() -> None:
    counts = every_arrondissement()
    image = render(counts)
    colours = dict(theme_colours(THEMES))
    for position, bar in enumerate(bars(image)):
        arrondissement = position + 1
        expected = [
            (theme, counts[(arrondissement, theme)])
            for theme in THEMES
            if counts.get((arrondissement, theme))
        ]
        stack = stack_at(image, bar)
        assert [colour for colour, _ in stack] == [rgb(colours[theme]) for theme, _ in expected]
        per_need = sum(height for _, height in stack) / sum(count for _, count in expected)
        for (_, height), (theme, count) in zip(stack, expected, strict=True):
            assert abs(height - count * per_need) <= 1.5, (arrondissement, theme)


def test_theme_order_decides_both_the_colours_and_the_stacking() -> None:
    counts = {(5, "housing"): 6, (5, "culture"): 2}
    forward_image = render(counts, ["housing", "culture"])
    forward = stack_at(forward_image, bars(forward_image)[0])
    backward_image = render(counts, ["culture", "housing"])
    backward = stack_at(backward_image, bars(backward_image)[0])
    first, second = rgb(theme_colour(0)), rgb(theme_colour(1))
    assert [colour for colour, _ in forward] == [first, second]
    assert [colour for colour, _ in backward] == [first, second]
    assert forward[0][1] == pytest.approx(3 * forward[1][1], abs=1.5)  # housing 6 below
    assert backward[1][1] == pytest.approx(3 * backward[0][1], abs=1.5)  # housing 6 on top


def test_outside_marseille_gets_a_last_bar_only_when_it_has_needs() -> None:
    counts = every_arrondissement()
    without = render({**counts, (0, "housing"): 0})
    found = bars(without)
    assert len(found) == 16
    # Not even an empty column: no "0" label nor divider below the axis past the 16th bar.
    gap = found[15][0] - found[14][1]
    beyond = without.crop((found[15][1] + gap, axis_row(without) + 2, 1280, 800))
    assert beyond.getextrema() == ((255, 255), (255, 255), (255, 255))
    with_outside = {**counts, (0, "housing"): 20, (0, "digital"): 5}
    image = render(with_outside)
    found = bars(image)
    assert len(found) == 17
    assert found[-1][0] - found[-2][1] > found[1][0] - found[0][1]  # set apart
    outside = stack_at(image, found[-1])
    assert [colour for colour, _ in outside] == [
        rgb(theme_colour(THEMES.index("housing"))),
        rgb(theme_colour(THEMES.index("digital"))),
    ]
    sixteenth = sum(height for _, height in stack_at(image, found[15]))
    total_16 = totals_by_arrondissement(counts)[16]
    assert sum(height for _, height in outside) == pytest.approx(
        25 * sixteenth / total_16, abs=1.5
    )


def test_the_key_shows_one_swatch_per_theme_in_order() -> None:
    image = render({})  # no bars, so every theme colour on the picture belongs to the key
    boxes = []
    for index in range(len(THEMES)):
        box, area = where(image, rgb(theme_colour(index)))
        assert box is not None, index
        left, top, right, bottom = box
        assert right - left == bottom - top >= 20  # a filled square big enough to see
        assert area == (right - left) ** 2
        boxes.append(box)
    lefts = [left for left, _, _, _ in boxes]
    assert lefts == sorted(lefts)
    assert len({top for _, top, _, _ in boxes}) == 1  # twelve themes fit on one row
    for index in range(len(THEMES), len(THEME_MARKERS)):
        box, _ = where(image, rgb(theme_colour(index)))
        assert box is None, index  # no swatch for a theme that is not in the order


def test_an_empty_chart_still_renders_its_axis_and_no_bars() -> None:
    image = render({})
    assert image.size == (1280, 800)
    assert bars(image) == []
    assert axis_row(image) > image.height // 2
    # The arrondissement numbers and the zero totals are drawn in ink around the axis.
    below = image.crop((0, axis_row(image) + 2, image.width, image.height))
    assert below.getextrema() != ((255, 255), (255, 255), (255, 255))
    assert len(needs_chart({}, [])) > 0


def test_same_input_gives_the_same_bytes() -> None:
    counts = every_arrondissement()
    shuffled = dict(reversed(list(counts.items())))
    assert needs_chart(counts, THEMES) == needs_chart(shuffled, THEMES)
    assert needs_chart(counts, THEMES) != needs_chart({**counts, (3, "health"): 99}, THEMES)


def test_colours_and_markers_go_together() -> None:
    assert len(THEME_MARKERS) >= len(THEMES)
    assert len(set(THEME_MARKERS)) == len(THEME_MARKERS)
    assert len(PALETTE) == len(THEME_MARKERS)  # no colour used twice within one cycle
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
        needs_chart(counts, THEMES)
