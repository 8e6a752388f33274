"""The map of gaps as a picture: arrondissements as rows, themes as columns, as PNG bytes.

Like `storage.charts`: digits only, never words (the coordinators' group may read French,
English or Arabic, and the host may have no font able to shape Arabic); the themes are numbered
1..n and named in the caption. Each cell shows "needs/answers" (answers: published initiatives
and active organisations there) and is coloured: red when open needs have no answer, orange
when they have fewer answers than needs, green otherwise, blank where no need is open.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.drawing import BACKGROUND, GRID, INK, font, png
from storage.organisations import Gap

ARRONDISSEMENTS = tuple(range(1, 17))
OUTSIDE = 0  # needs reported outside Marseille
UNANSWERED = "#F4A6A6"
SHORT = "#F9D38C"
ANSWERED = "#A8DDB5"
_CELL_HEIGHT = 44
_HEADER = 52
_LEFT = 72
_MARGIN = 16
_MIN_CELL = 96


def cell_colour(gap: Gap) -> str:
    if gap.needs == 0:
        return BACKGROUND
    if gap.answered == 0:
        return UNANSWERED
    return SHORT if gap.answered < gap.needs else ANSWERED


def gaps_png(found: Sequence[Gap], theme_order: Sequence[str]) -> bytes:
    """One row per arrondissement (and one for outside Marseille when needed), one column per
    theme of `theme_order`, numbered from 1."""
    if not theme_order:
        raise ValueError("no theme to draw")
    from PIL import Image, ImageDraw

    cells = {(gap.arrondissement, gap.theme): gap for gap in found}
    rows = list(ARRONDISSEMENTS)
    if any(gap.arrondissement not in ARRONDISSEMENTS for gap in found):
        rows.append(OUTSIDE)
    cell_width = max(_MIN_CELL, 960 // len(theme_order))
    width = _LEFT + cell_width * len(theme_order) + _MARGIN
    height = _HEADER + _CELL_HEIGHT * len(rows) + _MARGIN
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for column, _theme in enumerate(theme_order):
        centre = _LEFT + (column + 0.5) * cell_width
        draw.text((centre, _HEADER / 2), str(column + 1), fill=INK, font=font(26), anchor="mm")
    for row, arrondissement in enumerate(rows):
        top = _HEADER + row * _CELL_HEIGHT
        label = str(arrondissement) if arrondissement != OUTSIDE else "–"
        draw.text(
            (_LEFT - 12, top + _CELL_HEIGHT / 2), label, fill=INK, font=font(24), anchor="rm"
        )
        for column, theme in enumerate(theme_order):
            left = _LEFT + column * cell_width
            box = (left, top, left + cell_width - 1, top + _CELL_HEIGHT - 1)
            gap = cells.get((arrondissement, theme))
            draw.rectangle(box, fill=cell_colour(gap) if gap else BACKGROUND, outline=GRID)
            if gap is not None and gap.needs:
                draw.text(
                    (left + cell_width / 2, top + _CELL_HEIGHT / 2),
                    f"{gap.needs}/{gap.answered}",
                    fill=INK,
                    font=font(22),
                    anchor="mm",
                )
    return png(image)
