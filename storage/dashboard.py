"""The daily summary's picture: the last 14 days of activity, as PNG.

Written in the group's language (`DashboardTexts`, from the caller), equal inputs give equal
bytes. A title, then one band per series (new people, needs, proposals, joins, survey
responses), each with its own scale so that a small series still shows, headed by a coloured
swatch and the series' name, each day's count above its bar; the days of the month below,
named. Arabic names and title sit on the right; the days run left to right in every language,
like the dates of a calendar. The caption repeats the series by the emoji of their colour
(`series_marker`), for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.charts import theme_colour, theme_marker
from storage.drawing import BACKGROUND, GRID, INK, draw_text, font, is_rtl, png, shortened
from storage.summary import DayActivity

WIDTH = 1280
HEIGHT = 800
_TOP = 60  # room for the title
_BOTTOM = 70  # room for the days of the month and their name
_GAP = 10  # between bands
_SIDE = 20
_HEADER = 28  # a band's swatch and name
_SWATCH = 20
_LABEL_ROOM = 26  # above the tallest bar, for its count
_BAR_FILL = 0.62


@dataclass(frozen=True)
class DashboardTexts:
    """The dashboard's words in the group's language."""

    title: str
    series: Sequence[str]  # one name per `DayActivity.SERIES`, in that order
    days: str  # what the numbers under the bars are: the days of the month


def series_colour(index: int) -> str:
    return theme_colour(index)


def series_marker(index: int) -> str:
    """The emoji of the series' colour, for the caption."""
    return theme_marker(index)


def dashboard_png(days: Sequence[DayActivity], texts: DashboardTexts) -> bytes:
    """One column per day (oldest left), one band per series of `DayActivity.SERIES`."""
    if not days:
        raise ValueError("no day to draw")
    series = DayActivity.SERIES
    if len(texts.series) != len(series):
        raise ValueError("one name per series")
    rtl = is_rtl(texts.title)
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    start = WIDTH - _SIDE if rtl else _SIDE
    side = "r" if rtl else "l"
    draw_text(
        draw,
        (start, 14),
        shortened(texts.title, 30, WIDTH - 2 * _SIDE, True),
        30,
        INK,
        side + "t",
        bold=True,
    )
    band = (HEIGHT - _TOP - _BOTTOM - _GAP * (len(series) - 1)) / len(series)
    slot = (WIDTH - 2 * _SIDE) / len(days)
    bar_width = max(2, round(slot * _BAR_FILL))
    value_size = 20 if slot >= 60 else 15
    for index, name in enumerate(texts.series):
        top = _TOP + index * (band + _GAP)
        baseline = round(top + band)
        colour = series_colour(index)
        values = [day.values()[index] for day in days]
        largest = max(max(values), 1)
        plot = baseline - top - _HEADER - _LABEL_ROOM
        swatch = start - _SWATCH if rtl else start
        draw.rectangle((swatch, top + 2, swatch + _SWATCH - 1, top + 2 + _SWATCH - 1), fill=colour)
        name_x = start - _SWATCH - 8 if rtl else start + _SWATCH + 8
        label = shortened(name, 22, WIDTH / 2)
        draw_text(draw, (name_x, top + 2 + _SWATCH / 2), label, 22, INK, side + "m", bold=True)
        draw.line((_SIDE, baseline, WIDTH - _SIDE, baseline), fill=GRID, width=2)
        for position, value in enumerate(values):
            centre = _SIDE + (position + 0.5) * slot
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
    axis = HEIGHT - _BOTTOM + 8
    for position, day in enumerate(days):
        centre = _SIDE + (position + 0.5) * slot
        draw.text((centre, axis), str(day.day.day), fill=INK, font=font(24), anchor="mt")
    draw_text(draw, (WIDTH / 2, HEIGHT - 8), texts.days, 20, INK, "ms")
    return png(image)
