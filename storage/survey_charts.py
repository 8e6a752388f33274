"""Impact survey results as pictures: a question's bars, a whole survey's panels, a key figure
over waves.

Deterministic bytes. A whole survey's panels are written in the reader's language when the
caller gives the words (`SurveyChartWords`: each question's text, the options' labels), Arabic
read from the right (badge and text on the right, first option's bar on the right); without
words, and for a single question or the waves, the picture holds numbers and signs that the
photo's caption explains.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageDraw

from storage.drawing import (
    BACKGROUND,
    GRID,
    INK,
    draw_text,
    font,
    is_rtl,
    lines_within,
    png,
    text_size,
)
from storage.models import QuestionKind
from storage.survey_results import CLOSED_KINDS, SMALL, QuestionResult, SurveyResults
from storage.surveys import YES

BAR = "#0072B2"  # Okabe–Ito blue
MERGED_BAR = "#7A8793"  # the SMALL bucket, tinted grey
BADGE = INK
CHART_SIZE = (1280, 800)
PANEL_SIZE = (420, 300)
WORDED_PANEL_SIZE = (480, 360)  # room for a question's text and its options' names
WAVES_SIZE = (800, 480)
YES_MARK, NO_MARK = "✓", "✗"  # drawn as strokes, not glyphs: no font needed


@dataclass(frozen=True)
class SurveyChartWords:
    """A survey's words in the reader's language, by question position (as in the survey)."""

    questions: Mapping[int, str] = field(default_factory=dict)  # position -> question's text
    # position -> distribution key (option code, "yes", "no") -> its label
    keys: Mapping[int, Mapping[str, str]] = field(default_factory=dict)

    @property
    def rtl(self) -> bool:
        return any(is_rtl(text) for text in self.questions.values())


def worded_labels(result: QuestionResult, words: SurveyChartWords) -> list[str]:
    """`bar_labels`, with each option (or yes and no) named as in `words` where it names it."""
    named = words.keys.get(result.position, {})
    return [
        named.get(key, label) if key != SMALL else label
        for key, label in zip(result.distribution, bar_labels(result), strict=True)
    ]


def _width(text: str, size: int) -> int:
    return text_size(text, size)[0]


def _fitting(text: str, size: int, room: float, smallest: int = 10) -> int | None:
    """The largest size up to `size` at which `text` fits in `room` pixels, or None."""
    while size >= smallest:
        if _width(text, size) <= room:
            return size
        size -= 2
    return None


def _check_labels(labels: Iterable[str]) -> None:
    for label in labels:
        if any(character.isalpha() for character in label):
            raise ValueError(f"charts hold no words: {label!r}")


def bar_labels(result: QuestionResult) -> list[str]:
    """Default labels for `question_chart`, one per distribution key: scale and number values
    as they are, yes and no as a tick and a cross, options by their number in the question
    (1 for the first option: the caption names them), the merged bucket as "<5"."""
    labels = []
    for key in result.distribution:
        if key == SMALL:
            labels.append(SMALL)
        elif result.kind == QuestionKind.yes_no:
            labels.append(YES_MARK if key == YES else NO_MARK)
        elif result.kind in (QuestionKind.single, QuestionKind.multiple):
            index = result.options.index(key) + 1 if key in result.options else 0
            labels.append(str(index))
        else:
            labels.append(key)
    return labels


def _nice_top(largest: float, whole: bool = False) -> tuple[float, float]:
    """(axis top, tick step): at most six steps of 1, 2 or 5 × 10ᵏ; whole steps for counts."""
    largest = max(largest, 1.0)
    exponent = math.floor(math.log10(largest)) - 1
    if whole:
        exponent = max(exponent, 0)
    while True:
        for factor in (1, 2, 5):
            step = factor * 10.0**exponent
            if step * 6 >= largest:
                return math.ceil(round(largest / step, 9)) * step, step
        exponent += 1


def _format(value: float, decimal_mark: str = ".") -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", decimal_mark)


def _mark(draw: ImageDraw.ImageDraw, centre: tuple[float, float], size: int, label: str) -> None:
    """A tick or a cross drawn with lines, `size` pixels high."""
    x, y = centre
    half = size / 2
    width = max(2, size // 7)
    if label == YES_MARK:
        draw.line(
            [(x - half, y), (x - half / 3, y + half * 0.7), (x + half, y - half * 0.8)],
            fill=INK,
            width=width,
            joint="curve",
        )
    else:
        draw.line(
            [(x - half * 0.7, y - half * 0.7), (x + half * 0.7, y + half * 0.7)],
            fill=INK,
            width=width,
        )
        draw.line(
            [(x - half * 0.7, y + half * 0.7), (x + half * 0.7, y - half * 0.7)],
            fill=INK,
            width=width,
        )


def _label(
    draw: ImageDraw.ImageDraw, centre_x: float, top: float, text: str, size: int, room: float
) -> None:
    if text in (YES_MARK, NO_MARK):
        _mark(draw, (centre_x, top + size / 2), size, text)
        return
    if any(character.isalpha() for character in text):
        # A name: on up to two lines, a little smaller than the figures.
        small = max(11, size - 4)
        for number, line in enumerate(lines_within(text, small, room, 2)):
            draw_text(draw, (centre_x, top + number * (small + 4)), line, small, INK, "mt")
        return
    fitted = _fitting(text, size, room)
    if fitted is not None:
        draw.text((centre_x, top), text, fill=INK, font=font(fitted), anchor="mt")


def _bars(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    values: Sequence[float | None],
    labels: Sequence[str],
    colours: Sequence[str],
    *,
    size: int,
    ticks: bool,
    whole: bool = True,
    decimal_mark: str = ".",
    label_lines: int = 1,
) -> None:
    """Bars of `values` in `box` (left, top, right, bottom), each with its value above it and
    its label below the axis (`label_lines` lines of room); None draws no bar. Negative values
    hang below a zero line."""
    left, top, right, bottom = box
    present = [value for value in values if value is not None]
    high = max([0.0, *present])
    low = min([0.0, *present])
    # One step for both sides of zero, so that ticks fall on round values.
    _, step = _nice_top(max(high, -low), whole)
    top_value = math.ceil(round(high / step, 9)) * step if high > 0 else 0.0
    bottom_value = -math.ceil(round(-low / step, 9)) * step if low < 0 else 0.0
    if top_value == bottom_value:
        top_value = step
    span = top_value - bottom_value
    # The labels' row, below everything.
    label_top = bottom - size - 6 - (label_lines - 1) * size
    # Room under the lowest bar for its value when bars hang below zero.
    baseline_low = label_top - 10 - (size + 10 if low < 0 else 0)
    plot_top = top + size + 14  # room for the tallest bar's value
    plot_left = left + (_width(_format(top_value), size - 4) + 16 if ticks else 8)
    height = baseline_low - plot_top

    def y_of(value: float) -> int:
        return baseline_low - round((value - bottom_value) * height / span)

    zero = y_of(0.0)
    if ticks:
        tick = bottom_value
        while tick <= top_value + step / 2:
            y = y_of(tick)
            if tick:
                draw.line((plot_left, y, right, y), fill=GRID, width=1)
            draw.text(
                (plot_left - 8, y), _format(tick), fill=INK, font=font(size - 4), anchor="rm"
            )
            tick += step
    count = max(len(values), 1)
    slot = (right - plot_left) / count
    bar_width = max(1, round(slot * 0.68))
    for index, (value, label, colour) in enumerate(zip(values, labels, colours, strict=True)):
        centre = plot_left + (index + 0.5) * slot
        x0 = round(centre - bar_width / 2)
        x1 = x0 + bar_width - 1
        if value is not None:
            end = y_of(value)
            if value > 0 and end < zero:
                draw.rectangle((x0, end, x1, zero - 1), fill=colour)
            elif value < 0 and end > zero:
                draw.rectangle((x0, zero + 2, x1, end), fill=colour)
            text = _format(value, decimal_mark)
            fitted = _fitting(text, size, slot - 4)
            if fitted is not None:
                if value >= 0:
                    draw.text(
                        (centre, min(end, zero) - 5),
                        text,
                        fill=INK,
                        font=font(fitted),
                        anchor="ms",
                    )
                else:
                    draw.text((centre, end + 5), text, fill=INK, font=font(fitted), anchor="mt")
        _label(draw, centre, label_top, label, size, slot - 2)
    # The axis, just below the bars, never over them.
    draw.rectangle((plot_left, zero, right, zero + 1), fill=INK)


def _bar_colours(keys: Iterable[str]) -> list[str]:
    return [MERGED_BAR if key == SMALL else BAR for key in keys]


def _suppressed(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], size: int) -> None:
    left, top, right, bottom = box
    draw.text(
        ((left + right) / 2, (top + bottom) / 2),
        SMALL,
        fill=MERGED_BAR,
        font=font(size),
        anchor="mm",
    )


def _hidden(result: QuestionResult) -> bool:
    """Whether a question without cells had answers, hidden (not: nobody answered)."""
    return result.answered != 0 and result.asked != 0


def question_chart(result: QuestionResult, labels: Sequence[str] | None = None) -> bytes:
    """PNG bar chart of one question's distribution: a bar per key in its order, the count
    above, `labels` below (digits and signs only; default `bar_labels`). The bucket is grey. A
    question without cells shows a grey "<5" (its answers hidden) or nothing (no answers).
    ValueError when labels hold a letter or do not match the keys."""
    labels = bar_labels(result) if labels is None else list(labels)
    if len(labels) != len(result.distribution):
        raise ValueError("one label per distribution key")
    _check_labels(labels)
    from PIL import Image, ImageDraw

    image = Image.new("RGB", CHART_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    box = (24, 24, CHART_SIZE[0] - 24, CHART_SIZE[1] - 24)
    if not result.distribution:
        if _hidden(result):
            _suppressed(draw, box, 120)
        return png(image)
    values = [float(count) for count in result.distribution.values()]
    _bars(draw, box, values, labels, _bar_colours(result.distribution), size=32, ticks=True)
    return png(image)


def _badge(draw: ImageDraw.ImageDraw, left: int, top: int, number: int) -> None:
    text = str(number)
    width = _width(text, 24)
    draw.rounded_rectangle((left, top, left + width + 16, top + 32), radius=6, fill=BADGE)
    draw.text((left + 8 + width / 2, top + 16), text, fill=BACKGROUND, font=font(24), anchor="mm")


def summary_chart(results: SurveyResults, words: SurveyChartWords | None = None) -> bytes:
    """One PNG for a whole survey: a panel per closed question (scale, yes/no, single and
    multiple choice) in the survey's order, each with the question's number in a dark badge
    and its bars as in `question_chart` (default labels). Three panels a row. With `words`,
    each panel also writes its question and names its options, from the right in Arabic."""
    panels = [result for result in results.questions if result.kind in CLOSED_KINDS]
    columns = 3
    rows = max(1, -(-len(panels) // columns))
    width, height = PANEL_SIZE if words is None else WORDED_PANEL_SIZE
    rtl = words is not None and words.rtl
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (columns * width, rows * height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for index, result in enumerate(panels):
        row, column = divmod(index, columns)
        if rtl:
            column = columns - 1 - column
        left, top = column * width, row * height
        draw.rectangle(
            (left + 4, top + 4, left + width - 5, top + height - 5), outline=GRID, width=2
        )
        badge_width = _width(str(result.position), 24) + 16
        _badge(
            draw, left + width - 16 - badge_width if rtl else left + 14, top + 14, result.position
        )
        header = 54
        if words is not None:
            question = words.questions.get(result.position, "")
            room = width - 44 - badge_width - 12
            size = 17
            lines = lines_within(question, size, room, 2)
            for number, line in enumerate(lines):
                x = left + width - 16 - badge_width - 12 if rtl else left + 14 + badge_width + 12
                draw_text(
                    draw, (x, top + 16 + number * 22), line, size, INK, "rt" if rtl else "lt"
                )
            header = 70
        box = (left + 14, top + header, left + width - 16, top + height - 12)
        if not result.distribution:
            if _hidden(result):
                _suppressed(draw, box, 64)
            continue
        values = [float(count) for count in result.distribution.values()]
        labels = bar_labels(result) if words is None else worded_labels(result, words)
        colours = _bar_colours(result.distribution)
        if rtl:
            values, labels, colours = values[::-1], labels[::-1], colours[::-1]
        _bars(
            draw,
            box,
            values,
            labels,
            colours,
            size=20,
            ticks=False,
            label_lines=1 if words is None else 2,
        )
    return png(image)


def waves_chart(
    points: Sequence[tuple[int, float | None]],
    *,
    decimal_mark: str = ".",
    title: str = "",
    axis: str = "",
) -> bytes:
    """A small PNG of one key figure over waves: a bar per wave in the order given, its value
    above (one decimal at most, `decimal_mark` for the caller's language), the wave number
    below; None (figure suppressed or missing) draws no bar. `title` (the figure's question)
    is written above, on up to two lines, and `axis` (what the numbers below are) under them,
    in the caller's language; the waves run left to right in every language."""
    if any(not isinstance(wave, int) for wave, _ in points):
        raise ValueError("waves are numbers")
    from PIL import Image, ImageDraw

    image = Image.new("RGB", WAVES_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width, height = WAVES_SIZE
    top, bottom = 16, height - 16
    if title:
        rtl = is_rtl(title)
        lines = lines_within(title, 20, width - 32, 2, bold=True)
        for number, line in enumerate(lines):
            x = width - 16 if rtl else 16
            draw_text(draw, (x, 14 + number * 26), line, 20, INK, "rt" if rtl else "lt", True)
        top += 26 * len(lines) + 8
    if axis:
        draw_text(draw, (width / 2, height - 10), axis, 18, INK, "ms")
        bottom -= 26
    values = [None if value is None else float(value) for _, value in points]
    labels = [str(wave) for wave, _ in points]
    _bars(
        draw,
        (16, top, width - 16, bottom),
        values,
        labels,
        [BAR] * len(values),
        size=26,
        ticks=False,
        whole=False,
        decimal_mark=decimal_mark,
    )
    return png(image)
