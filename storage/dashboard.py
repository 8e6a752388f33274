"""The daily summary's picture: the last 14 days of activity, as PNG.

Like `storage.charts`: digits only, never words (the group may read French, English or
Arabic, and the host may have no font able to shape Arabic), equal inputs give equal bytes.
One band per series (new people, needs, proposals, joins, survey responses), each with its own
scale so that a small series still shows, a coloured swatch and its number at the left, each
day's count above its bar, the days of the month below. The caption names the series by the
emoji of their colour (`series_marker`).
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.charts import theme_colour, theme_marker
from storage.drawing import BACKGROUND, GRID, INK, font, png
from storage.summary import DayActivity

WIDTH = 1280
HEIGHT = 800
_TOP = 12
_BOTTOM = 48  # room for the days of the month
_GAP = 10  # between bands
_LEFT = 96  # swatch and series number
_RIGHT = 20
_SWATCH = 28
_LABEL_ROOM = 30  # above the tallest bar, for its count
_BAR_FILL = 0.62


def series_colour(index: int) -> str:
    return theme_colour(index)


def series_marker(index: int) -> str:
    """The emoji of the series' colour, for the caption."""
    return theme_marker(index)


def dashboard_png(days: Sequence[DayActivity]) -> bytes:
    """One column per day (oldest left), one band per series of `DayActivity.SERIES`."""
    if not days:
        raise ValueError("no day to draw")
    series = DayActivity.SERIES
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    band = (HEIGHT - _TOP - _BOTTOM - _GAP * (len(series) - 1)) / len(series)
    slot = (WIDTH - _LEFT - _RIGHT) / len(days)
    bar_width = max(2, round(slot * _BAR_FILL))
    value_size = 22 if slot >= 60 else 16
    for index, _name in enumerate(series):
        top = _TOP + index * (band + _GAP)
        baseline = round(top + band)
        colour = series_colour(index)
        values = [day.values()[index] for day in days]
        largest = max(max(values), 1)
        plot = baseline - top - _LABEL_ROOM
        middle = top + band / 2
        draw.rectangle(
            (16, middle - _SWATCH / 2, 16 + _SWATCH - 1, middle + _SWATCH / 2 - 1), fill=colour
        )
        draw.text(
            (16 + _SWATCH + 10, middle), str(index + 1), fill=INK, font=font(28), anchor="lm"
        )
        draw.line((_LEFT, baseline, WIDTH - _RIGHT, baseline), fill=GRID, width=2)
        for position, value in enumerate(values):
            centre = _LEFT + (position + 0.5) * slot
            height = round(value * plot / largest)
            if height:
                left = round(centre - bar_width / 2)
                draw.rectangle(
                    (left, baseline - height, left + bar_width - 1, baseline - 1), fill=colour
                )
            draw.text(
                (centre, baseline - height - 4),
                str(value),
                fill=INK,
                font=font(value_size),
                anchor="ms",
            )
    axis = HEIGHT - _BOTTOM + 10
    for position, day in enumerate(days):
        centre = _LEFT + (position + 0.5) * slot
        draw.text((centre, axis), str(day.day.day), fill=INK, font=font(26), anchor="mt")
    return png(image)
