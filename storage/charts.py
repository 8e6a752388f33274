"""The needs map as a picture: needs per arrondissement, stacked by theme, as PNG bytes.

The picture holds digits only. The bot speaks French, English and Arabic and the host may have
no font able to shape Arabic, so every word lives in the photo's caption instead; the chart
numbers the themes 1..n in the caption's order, and `theme_marker` gives the caption a coloured
emoji matching each theme's colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageDraw

from storage.drawing import BACKGROUND, GRID, INK, font, png, text_size

WIDTH = 1280
HEIGHT = 800
ARRONDISSEMENTS = range(1, 17)
OUTSIDE = 0  # needs reported outside Marseille

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

_MARGIN = 24
_KEY_TOP = 16
_KEY_ROW = 44
_SWATCH = 30
_PLOT_LEFT = 84  # room for four-digit tick labels
_BASELINE = HEIGHT - 64  # room below for the arrondissement numbers
_TOTAL_GAP = 6  # white between a bar's top and its total, so the two never touch
_BAR_FILL = 0.68  # share of a slot a bar covers; the rest separates neighbours


def theme_colour(index: int) -> str:
    """Hex colour of the theme at `index` (from 0) in `theme_order`; cycles past the palette."""
    return _PALETTE[index % len(_PALETTE)][0]


def theme_marker(index: int) -> str:
    """Emoji for the theme at `index` (from 0) in `theme_order`, matching `theme_colour`."""
    return THEME_MARKERS[index % len(THEME_MARKERS)]


def theme_colours(theme_order: Sequence[str]) -> list[tuple[str, str]]:
    """(theme code, hex colour) in `theme_order`; the chart numbers them 1..n in this order."""
    return [(code, theme_colour(index)) for index, code in enumerate(theme_order)]


def _draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: str,
    anchor: str,
) -> None:
    draw.text(xy, text, fill=fill, font=font(size), anchor=anchor)


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


def _scale_top(largest: int) -> tuple[int, int]:
    """(axis top, tick step): at most five whole-number steps of 1, 2 or 5 × 10ᵏ."""
    # A floor of 5 keeps a lone need from filling the whole height and looking alarming.
    largest = max(largest, 5)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * 5 >= largest:
                return -(-largest // step) * step, step
        magnitude *= 10


def _luminance(hex_colour: str) -> float:
    red, green, blue = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _draw_key(draw: ImageDraw.ImageDraw, theme_count: int) -> int:
    """Swatch and number for each theme, centred rows at the top; returns the key's bottom."""
    if theme_count == 0:
        return _KEY_TOP
    size = 28
    number_width = text_size(str(theme_count), size)[0]
    entry = _SWATCH + 8 + number_width + 28
    per_row = max(1, (WIDTH - 2 * _MARGIN) // entry)
    rows = -(-theme_count // per_row)
    for index in range(theme_count):
        row, column = divmod(index, per_row)
        in_row = min(per_row, theme_count - row * per_row)
        left = (WIDTH - in_row * entry + 28) // 2 + column * entry
        top = _KEY_TOP + row * _KEY_ROW
        draw.rectangle(
            (left, top, left + _SWATCH - 1, top + _SWATCH - 1), fill=theme_colour(index)
        )
        _draw_text(draw, (left + _SWATCH + 8, top + _SWATCH // 2), str(index + 1), size, INK, "lm")
    return _KEY_TOP + rows * _KEY_ROW


def needs_chart(counts: Mapping[tuple[int, str], int], theme_order: Sequence[str]) -> bytes:
    """PNG bar chart of `counts[(arrondissement, theme code)]`, one column per arrondissement.

    Columns 1..16 always appear, plus a column labelled "0" for needs outside Marseille when
    there are any, set apart by a dotted line. Each column stacks its themes bottom-up in
    `theme_order` with the colours of `theme_colours`, theme numbers inside segments tall
    enough to hold them, and the column's total above it. Raises ValueError for a theme
    missing from `theme_order`, an arrondissement outside 0..16 or a negative count.
    """
    _validate(counts, theme_order)
    columns = [*ARRONDISSEMENTS]
    if any(count for (arrondissement, _), count in counts.items() if arrondissement == OUTSIDE):
        columns.append(OUTSIDE)
    stacks = {
        arrondissement: [counts.get((arrondissement, theme), 0) for theme in theme_order]
        for arrondissement in columns
    }
    top_value, step = _scale_top(max(sum(stack) for stack in stacks.values()))

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    key_bottom = _draw_key(draw, len(theme_order))
    # Room above the plot for the tallest column's total.
    plot_top = key_bottom + 48
    plot_right = WIDTH - _MARGIN
    plot_height = _BASELINE - plot_top

    def y_of(value: int) -> int:
        # Rounding cumulative values (not each segment) keeps every column's height exact.
        return _BASELINE - round(value * plot_height / top_value)

    for tick in range(0, top_value + 1, step):
        y = y_of(tick)
        if tick:
            draw.line((_PLOT_LEFT, y, plot_right, y), fill=GRID, width=1)
        _draw_text(draw, (_PLOT_LEFT - 10, y), str(tick), 24, INK, "rm")

    # Half a slot of extra room before "outside Marseille" so it does not read as a 17th one.
    gap = 0.5 if OUTSIDE in columns else 0.0
    slot = (plot_right - _PLOT_LEFT) / (len(columns) + gap)
    bar_width = round(slot * _BAR_FILL)
    for position, arrondissement in enumerate(columns):
        offset = position + (gap if arrondissement == OUTSIDE else 0.0)
        centre = _PLOT_LEFT + (offset + 0.5) * slot
        left = round(centre - bar_width / 2)
        right = left + bar_width - 1
        running = 0
        for index, count in enumerate(stacks[arrondissement]):
            if not count:
                continue
            bottom_y, top_y = y_of(running), y_of(running + count)
            running += count
            if top_y == bottom_y:
                continue  # too small to show at this scale; the caption still counts it
            colour = theme_colour(index)
            draw.rectangle((left, top_y, right, bottom_y - 1), fill=colour)
            label = str(index + 1)
            width, height = text_size(label, 22)
            if bottom_y - top_y >= height + 8 and width <= bar_width - 8:
                ink = INK if _luminance(colour) > 0.45 else BACKGROUND
                middle = (top_y + bottom_y) / 2
                _draw_text(draw, (centre, middle), label, 22, ink, "mm")
        _draw_text(draw, (centre, y_of(running) - _TOTAL_GAP), str(running), 28, INK, "ms")
        _draw_text(draw, (centre, _BASELINE + 12), str(arrondissement), 32, INK, "mt")

    if gap:
        divider = round(_PLOT_LEFT + (len(columns) - 1 + gap / 2) * slot)
        for y in range(plot_top, _BASELINE + 48, 8):
            draw.line((divider, y, divider, y + 3), fill=INK, width=2)
    # Just below the columns, never over their bottom row.
    draw.rectangle((_PLOT_LEFT, _BASELINE, plot_right, _BASELINE + 1), fill=INK)

    return png(image)
