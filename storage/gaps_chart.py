"""The map of gaps as a picture: arrondissements as rows, themes as columns, as PNG bytes.

Written in the coordinators' group's language (`GapsTexts`, from the caller): a title, what a
cell holds, the colours' key, the themes' names over their columns and the arrondissements'
names beside their rows — on the right, and the columns read from the right, in Arabic. Each
cell shows "needs/answers" (answers: published initiatives and active organisations there) and
is coloured: red when open needs have no answer, orange when they have fewer answers than
needs, green otherwise, blank where no need is open. The figures are exact: the picture goes to
the coordinators' group only, next to the list it draws, and publishes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.drawing import (
    BACKGROUND,
    GRID,
    INK,
    draw_text,
    fitting,
    is_rtl,
    lines_within,
    png,
    shortened,
    text_width,
)
from storage.organisations import Gap

ARRONDISSEMENTS = tuple(range(1, 17))
OUTSIDE = 0  # needs reported outside Marseille
UNANSWERED = "#F4A6A6"
SHORT = "#F9D38C"
ANSWERED = "#A8DDB5"
_CELL_HEIGHT = 40
_TITLE = 104  # title, what a cell holds, the colours' key
_HEADER = 76  # the themes' names, up to three lines
_ROW_NAMES = 150
_MARGIN = 16
_MIN_CELL = 104


@dataclass(frozen=True)
class GapsTexts:
    """The words of the map of gaps in the reader's language."""

    title: str
    cell: str  # what "3/1" in a cell means
    key: tuple[str, str, str]  # no answer, fewer answers than needs, answered
    places: Mapping[int, str]  # arrondissement (0: outside Marseille) -> its name
    themes: Sequence[str]  # the names of `theme_order`, in that order


def cell_colour(gap: Gap) -> str:
    if gap.needs == 0:
        return BACKGROUND
    if gap.answered == 0:
        return UNANSWERED
    return SHORT if gap.answered < gap.needs else ANSWERED


def gaps_png(found: Sequence[Gap], theme_order: Sequence[str], texts: GapsTexts) -> bytes:
    """One row per arrondissement (and one for outside Marseille when needed), one column per
    theme of `theme_order`, each named."""
    if not theme_order:
        raise ValueError("no theme to draw")
    if len(texts.themes) != len(theme_order):
        raise ValueError("one name per theme of theme_order")
    from PIL import Image, ImageDraw

    rtl = is_rtl(texts.title)
    cells = {(gap.arrondissement, gap.theme): gap for gap in found}
    rows = list(ARRONDISSEMENTS)
    if any(gap.arrondissement not in ARRONDISSEMENTS for gap in found):
        rows.append(OUTSIDE)
    cell_width = max(_MIN_CELL, 960 // len(theme_order))
    width = _ROW_NAMES + cell_width * len(theme_order) + 2 * _MARGIN
    top = _TITLE + _HEADER
    height = top + _CELL_HEIGHT * len(rows) + _MARGIN
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)

    def x(position: float) -> float:
        """Left to right, or right to left on an Arabic page."""
        return width - position if rtl else position

    side = "r" if rtl else "l"
    room = width - 2 * _MARGIN
    draw_text(
        draw,
        (x(_MARGIN), 12),
        shortened(texts.title, 28, room, True),
        28,
        INK,
        side + "t",
        bold=True,
    )
    draw_text(draw, (x(_MARGIN), 50), shortened(texts.cell, 18, room), 18, INK, side + "t")
    key_x = float(_MARGIN)
    for colour, name in zip((UNANSWERED, SHORT, ANSWERED), texts.key, strict=True):
        swatch = x(key_x + 22) if rtl else x(key_x)
        draw.rectangle((swatch, 80, swatch + 21, 101), fill=colour, outline=GRID)
        draw_text(draw, (x(key_x + 30), 91), name, 18, INK, side + "m")
        key_x += 30 + text_width(name, 18) + 28

    grid_start = _MARGIN + _ROW_NAMES
    for column, name in enumerate(texts.themes):
        centre = x(grid_start + (column + 0.5) * cell_width)
        lines = lines_within(name, 16, cell_width - 8, 3)
        first = _TITLE + _HEADER - 8 - 20 * len(lines)
        for number, line in enumerate(lines):
            draw_text(draw, (centre, first + number * 20), line, 16, INK, "mt")
    for row, arrondissement in enumerate(rows):
        row_top = top + row * _CELL_HEIGHT
        name = texts.places.get(arrondissement, str(arrondissement))
        size = fitting(name, 20, _ROW_NAMES - 12, smallest=13)
        draw_text(
            draw,
            (x(grid_start - 12), row_top + _CELL_HEIGHT / 2),
            name,
            size,
            INK,
            ("l" if rtl else "r") + "m",
        )
        for column, theme in enumerate(theme_order):
            left = (
                x(grid_start + (column + 1) * cell_width)
                if rtl
                else x(grid_start + column * cell_width)
            )
            box = (left, row_top, left + cell_width - 1, row_top + _CELL_HEIGHT - 1)
            gap = cells.get((arrondissement, theme))
            draw.rectangle(box, fill=cell_colour(gap) if gap else BACKGROUND, outline=GRID)
            if gap is not None and gap.needs:
                draw_text(
                    draw,
                    (left + cell_width / 2, row_top + _CELL_HEIGHT / 2),
                    f"{gap.needs}/{gap.answered}",
                    20,
                    INK,
                    "mm",
                )
    return png(image)
