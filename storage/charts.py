"""The needs map as a picture: Marseille's sixteen arrondissements laid out as the city is,
each tile coloured by its number of needs and labelled in the reader's language, and the needs
per theme beside it, as PNG bytes.

The words come from the caller, already translated (`MapTexts`); Arabic reads right to left and
its page is mirrored (title on the right, themes on the left, names right-aligned), while the
map keeps the city's geography. Published figures follow one rule, `published_count`: 1 to 4
shows as "<5" (PRIVACY.md), on the tiles, the bars and in the caption alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageDraw

from storage.drawing import (
    BACKGROUND,
    GRID,
    INK,
    draw_text,
    is_rtl,
    lines_within,
    png,
    shortened,
)
from storage.initiative_support import is_small

WIDTH = 1280
HEIGHT = 800
ARRONDISSEMENTS = range(1, 17)
OUTSIDE = 0  # needs reported outside Marseille
SMALL = "<5"

# Okabe–Ito first: those eight stay apart under every common colour-vision deficiency, and the
# twelve seeded themes mostly fall on them. The rest (Paul Tol's muted scheme and a few tints)
# only tell themes apart together with the numbers printed in each segment and in the key.
# Each colour is paired with the emoji that comes closest, so the caption can name the colour.
_PALETTE: tuple[tuple[str, str], ...] = (
    ("#E69F00", "🟧"),
    ("#56B4E9", "🔵"),
    ("#009E73", "🟩"),
    ("#F0E442", "🟨"),
    ("#0072B2", "🟦"),
    ("#D55E00", "🟥"),
    ("#CC79A7", "🟪"),
    ("#000000", "⬛"),
    ("#8C510A", "🟫"),
    ("#332288", "🟣"),
    ("#117733", "🟢"),
    ("#CC6677", "🔴"),
    ("#DDCC77", "🟡"),
    # Tinted, not neutral: anti-aliased ink makes every neutral grey, and a theme colour must
    # never be mistaken for the edge of a digit.
    ("#7A8793", "⚫"),
    ("#FDB863", "🟠"),
    ("#BF8A5A", "🟤"),
)
# ⬜ and ⚪ are left out on purpose: a white segment would vanish on the white background.
THEME_MARKERS: tuple[str, ...] = tuple(marker for _, marker in _PALETTE)


def theme_colour(index: int) -> str:
    """Hex colour of the theme at `index` (from 0) in `theme_order`; cycles past the palette."""
    return _PALETTE[index % len(_PALETTE)][0]


def theme_marker(index: int) -> str:
    """Emoji for the theme at `index` (from 0) in `theme_order`, matching `theme_colour`."""
    return THEME_MARKERS[index % len(THEME_MARKERS)]


def theme_colours(theme_order: Sequence[str]) -> list[tuple[str, str]]:
    """(theme code, hex colour) in `theme_order`; the chart numbers them 1..n in this order."""
    return [(code, theme_colour(index)) for index, code in enumerate(theme_order)]


def _validate(counts: Mapping[tuple[int, str], int], theme_order: Sequence[str]) -> None:
    if len(set(theme_order)) != len(theme_order):
        raise ValueError("theme_order lists a theme twice")
    known = set(theme_order)
    for (arrondissement, theme), count in counts.items():
        if not 0 <= arrondissement <= 16:
            raise ValueError(f"arrondissement {arrondissement} is not in 0..16")
        # A silently dropped theme would make the bars disagree with the caption's totals.
        if theme not in known:
            raise ValueError(f"theme {theme!r} is missing from theme_order")
        if count < 0:
            raise ValueError(f"negative count for {(arrondissement, theme)}")


def _luminance(hex_colour: str) -> float:
    red, green, blue = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def published_count(count: int) -> str:
    """A count as the bot publishes it: 1 to 4 as "<5" (`is_small`), so that nobody is
    singled out; otherwise its digits."""
    return SMALL if is_small(count) else str(count)


# -- the tile map

# (row, column) of each arrondissement, the sea to the west: the north (16e by the port at
# l'Estaque, 15e, 14e, 13e to the north-east) on top; the centre around the Vieux-Port (2e, 3e,
# 4e, then 7e by the sea, 1er, 5e); the south-west and south (6e, 8e along the coast) below;
# the east (12e, 11e, 10e, 9e towards the calanques) on the right.
TILES: dict[int, tuple[int, int]] = {
    16: (0, 0),
    15: (0, 1),
    14: (0, 2),
    13: (0, 3),
    2: (1, 0),
    3: (1, 1),
    4: (1, 2),
    12: (1, 3),
    7: (2, 0),
    1: (2, 1),
    5: (2, 2),
    11: (2, 3),
    6: (3, 1),
    10: (3, 2),
    8: (4, 1),
    9: (4, 2),
}
OUTSIDE_TILE = (4, 3)  # set apart in a free corner, drawn only when it has needs
ROWS, COLUMNS = 5, 4

# A sequential single-hue scale (ColorBrewer Blues): lighter is fewer, which every common
# colour-vision deficiency still reads in order. The classes are fixed, so that two days' maps
# compare at a glance; their names are the scale key under the map.
SCALE: tuple[tuple[int, str, str], ...] = (
    (0, "#FFFFFF", "0"),
    (1, "#DEEBF7", SMALL),
    (5, "#9ECAE1", "5–9"),
    (10, "#6BAED6", "10–19"),
    (20, "#3182BD", "20–49"),
    (50, "#08519C", "50+"),
)

_TOP = 96  # below the title
_SIDE = 24
_TILE_W, _TILE_H, _TILE_GAP = 168, 116, 8
_MAP_W = COLUMNS * _TILE_W + (COLUMNS - 1) * _TILE_GAP
_PANEL = _SIDE + _MAP_W + 40  # where the themes begin (mirrored in Arabic)


@dataclass(frozen=True)
class MapTexts:
    """The words of the needs map in the reader's language."""

    title: str
    places: Mapping[int, str]  # arrondissement (0: outside Marseille) -> its name
    themes_title: str
    themes: Sequence[str]  # the names of `theme_order`, in that order

    @property
    def rtl(self) -> bool:
        return is_rtl(self.title)


def tile_colour(count: int) -> str:
    """The scale's colour for a tile of `count` needs."""
    return next(colour for low, colour, _ in reversed(SCALE) if count >= low)


def _ink_on(colour: str) -> str:
    return BACKGROUND if _luminance(colour) < 0.5 else INK


def _map_left(rtl: bool) -> int:
    return WIDTH - _SIDE - _MAP_W if rtl else _SIDE


def tile_box(place: int, rtl: bool = False) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the tile of `place` (0: outside Marseille) on the
    picture; the map sits on the right of an Arabic page."""
    row, column = OUTSIDE_TILE if place == OUTSIDE else TILES[place]
    x = _map_left(rtl) + column * (_TILE_W + _TILE_GAP)
    y = _TOP + row * (_TILE_H + _TILE_GAP)
    return x, y, x + _TILE_W - 1, y + _TILE_H - 1


def _draw_tile(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    name: str,
    count: int,
    dashed: bool = False,
) -> None:
    left, top, right, bottom = box
    colour = tile_colour(count)
    ink = _ink_on(colour)
    draw.rounded_rectangle(box, radius=10, fill=colour, outline=GRID if count == 0 else colour)
    if dashed:
        for x in range(left + 4, right - 4, 12):
            draw.line((x, top, x + 5, top), fill=INK, width=2)
            draw.line((x, bottom, x + 5, bottom), fill=INK, width=2)
    centre = (left + right) / 2
    lines = lines_within(name, 19, right - left - 14, 2)
    for number, line in enumerate(lines):
        draw_text(draw, (centre, top + 8 + number * 24), line, 19, ink, "mt")
    draw_text(draw, (centre, bottom - 10), published_count(count), 38, ink, "ms", bold=True)


def _draw_scale(draw: ImageDraw.ImageDraw, left: int, rtl: bool) -> None:
    """The scale key under the map: a swatch and its range per class."""
    top = _TOP + ROWS * (_TILE_H + _TILE_GAP) + 6
    entry = _MAP_W / len(SCALE)
    for index, (_low, colour, name) in enumerate(SCALE):
        position = len(SCALE) - 1 - index if rtl else index
        x = left + position * entry
        if rtl:  # the swatch on the right of its range, read first
            x += entry - 40
            draw.rectangle((x, top, x + 26, top + 26), fill=colour, outline=INK)
            draw_text(draw, (x - 8, top + 13), name, 20, INK, "rm")
        else:
            draw.rectangle((x, top, x + 26, top + 26), fill=colour, outline=INK)
            draw_text(draw, (x + 34, top + 13), name, 20, INK, "lm")


def _draw_themes(
    draw: ImageDraw.ImageDraw,
    texts: MapTexts,
    counts: Sequence[int],
    mirror: Callable[[float], float],
) -> None:
    """The needs per theme: the theme's name, then a bar in its colour with the count."""
    right_end = WIDTH - _SIDE
    anchor = "rs" if texts.rtl else "ls"
    draw_text(draw, (mirror(_PANEL), _TOP + 24), texts.themes_title, 28, INK, anchor, bold=True)
    if not counts:
        return
    room = HEIGHT - _TOP - 60 - 24
    row = min(60.0, room / len(counts))
    size = max(12, min(22, round(row * 0.4)))
    bar_room = right_end - _PANEL - 70
    # 1 to 4 are drawn alike, as 4: a bar must not give away what its label hides.
    largest = max(max(counts), 4)
    for index, (name, count) in enumerate(zip(texts.themes, counts, strict=True)):
        top = _TOP + 50 + index * row
        label = shortened(name, size, right_end - _PANEL)
        draw_text(draw, (mirror(_PANEL), top + size), label, size, INK, anchor)
        bar_top = top + size + 6
        bar_height = max(6, round(row - size - 14))
        length = round(bar_room * (4 if is_small(count) else count) / largest)
        if length:
            start, end = mirror(_PANEL), mirror(_PANEL + length)
            draw.rectangle(
                (min(start, end), bar_top, max(start, end), bar_top + bar_height),
                fill=theme_colour(index),
            )
        value_anchor = "rm" if texts.rtl else "lm"
        value_x = mirror(_PANEL + length + 8)
        value_size = min(size, bar_height + 6)
        shown = published_count(count)
        draw_text(draw, (value_x, bar_top + bar_height / 2), shown, value_size, INK, value_anchor)


def needs_map_png(
    counts: Mapping[tuple[int, str], int], theme_order: Sequence[str], texts: MapTexts
) -> bytes:
    """PNG of the needs map: a tile per arrondissement where it lies in the city (`TILES`),
    coloured by its needs (`SCALE`) and labelled with its name and `published_count`, a tile
    for outside Marseille when it has needs, the scale key under the map; beside it, each
    theme of `theme_order` with a bar in its `theme_colour`. Raises ValueError for a theme
    missing from `theme_order` (or listed twice), an arrondissement outside 0..16, a negative
    count, or names that do not match the themes."""
    _validate(counts, theme_order)
    if len(texts.themes) != len(theme_order):
        raise ValueError("one name per theme of theme_order")
    totals = {place: 0 for place in (*ARRONDISSEMENTS, OUTSIDE)}
    by_theme = dict.fromkeys(theme_order, 0)
    for (place, theme), count in counts.items():
        totals[place] += count
        by_theme[theme] += count
    rtl = texts.rtl

    def mirror(x: float) -> float:
        return WIDTH - x if rtl else x

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title = shortened(texts.title, 40, WIDTH - 2 * _SIDE, bold=True)
    draw_text(draw, (mirror(_SIDE), 28), title, 40, INK, "rt" if rtl else "lt", bold=True)
    for place in TILES:
        _draw_tile(draw, tile_box(place, rtl), texts.places.get(place, str(place)), totals[place])
    if totals[OUTSIDE]:
        box = tile_box(OUTSIDE, rtl)
        _draw_tile(draw, box, texts.places.get(OUTSIDE, ""), totals[OUTSIDE], dashed=True)
    _draw_scale(draw, _map_left(rtl), rtl)
    _draw_themes(draw, texts, [by_theme[theme] for theme in theme_order], mirror)
    return png(image)
