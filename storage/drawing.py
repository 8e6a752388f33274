"""What the bot's pictures share: paper, ink and grid colours, the font, text written in the
reader's language and direction, PNG bytes.

The font travels with the package (`storage/fonts`: DejaVu Sans, whose licence allows it, see
its LICENSE), so a picture reads the same on every server and never depends on what the host
has installed. Arabic is shaped by Pillow's raqm layout (HarfBuzz and FriBiDi) when Pillow has
it; without raqm, `visual` shapes it here: each letter takes its joined form from Unicode's
presentation forms and the runs are put in visual order. That is enough for the short labels of
a chart (no marks above letters placed by the font, no kerning), and keeps Arabic pictures in
Arabic rather than falling back to numbers explained in the caption.
"""

from __future__ import annotations

import io
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

    Font = ImageFont.FreeTypeFont

# Pillow (some 4 MB resident) is loaded with the first picture drawn.

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

BACKGROUND = "#FFFFFF"
# Not pure black: pure black is a theme colour, and tests tell bars from ink by colour.
INK = "#333333"
GRID = "#E6E6E6"


@lru_cache(maxsize=1)
def has_raqm() -> bool:
    """Whether Pillow lays text out with raqm (bidirectional text, Arabic shaping)."""
    from PIL import features

    return bool(features.check("raqm"))


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> Font:
    """The packaged DejaVu Sans at `size` pixels, with raqm's layout when Pillow has it."""
    from PIL import ImageFont

    layout = ImageFont.Layout.RAQM if has_raqm() else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(BOLD if bold else REGULAR), size, layout_engine=layout)


def is_rtl(text: str) -> bool:
    """Whether `text` reads right to left: its first strong letter is Arabic or Hebrew."""
    for character in text:
        direction = unicodedata.bidirectional(character)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def _layout(text: str) -> tuple[str, dict[str, Any]]:
    """The string to hand Pillow and the options that go with it."""
    if not is_rtl(text):
        return text, {"direction": "ltr"} if has_raqm() else {}
    if has_raqm():
        return text, {"direction": "rtl", "language": "ar"}
    return visual(text), {}


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: str = INK,
    anchor: str = "la",
    bold: bool = False,
) -> None:
    """`text` at `xy` (Pillow's anchors), shaped and ordered for its language."""
    shown, options = _layout(text)
    draw.text(xy, shown, fill=fill, font=font(size, bold), anchor=anchor, **options)


def text_width(text: str, size: int, bold: bool = False) -> float:
    """How wide `text` is drawn at `size`, in pixels."""
    shown, options = _layout(text)
    return float(font(size, bold).getlength(shown, **options))


def text_size(text: str, size: int, bold: bool = False) -> tuple[int, int]:
    """Width and height of `text`'s ink at `size`, in pixels."""
    shown, options = _layout(text)
    left, top, right, bottom = font(size, bold).getbbox(shown, **options)
    return int(right - left), int(bottom - top)


def fitting(text: str, size: int, room: float, smallest: int = 10, bold: bool = False) -> int:
    """The largest size from `size` down to `smallest` at which `text` fits in `room` pixels
    (`smallest` when none does)."""
    while size > smallest and text_width(text, size, bold) > room:
        size -= 1
    return size


def shortened(text: str, size: int, room: float, bold: bool = False) -> str:
    """`text`, cut with "…" if need be so that it fits in `room` pixels at `size`."""
    if text_width(text, size, bold) <= room:
        return text
    while text and text_width(text + "…", size, bold) > room:
        text = text[:-1].rstrip()
    return text + "…"


def lines_within(text: str, size: int, room: float, most: int, bold: bool = False) -> list[str]:
    """`text` on at most `most` lines of `room` pixels, cut between words; the last line is
    shortened with "…" when words are left over."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < most:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size, bold) <= room:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words:
        lines[-1] = lines[-1] + " " + " ".join(words)
    if lines:
        lines[-1] = shortened(lines[-1], size, room, bold)
    return lines


def png(image: Image.Image, **options: Any) -> bytes:
    buffer = io.BytesIO()
    # Pillow writes no timestamp chunk, so equal inputs give equal bytes.
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


# -- Arabic without raqm

_LTR = r"[0-9A-Za-z\u00C0-\u024F\u0660-\u0669\u06F0-\u06F9]+"
_LTR_RUN = re.compile(rf"{_LTR}(?:[ .,:/%+–-]+{_LTR})*")
_MIRRORED = str.maketrans("()[]{}<>«»", ")(][}{><»«")
_LAM_ALEF = ("\u0644\u0622", "\u0644\u0623", "\u0644\u0625", "\u0644\u0627")
_TATWEEL = "\u0640"


@lru_cache(maxsize=1)
def _forms() -> dict[str, dict[str, str]]:
    """Arabic letter (or lam-alef pair) -> {"isolated"|"final"|"initial"|"medial": glyph},
    read from the compatibility decompositions of the presentation forms B."""
    forms: dict[str, dict[str, str]] = {}
    for code in range(0xFE80, 0xFEFD):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) < 2 or not parts[0].startswith("<"):
            continue
        base = "".join(chr(int(part, 16)) for part in parts[1:])
        forms.setdefault(base, {})[parts[0][1:-1]] = chr(code)
    forms[_TATWEEL] = dict.fromkeys(("isolated", "final", "initial", "medial"), _TATWEEL)
    return forms


def _joined(text: str) -> str:
    """Arabic letters in their joined forms, in logical order."""
    forms = _forms()
    units: list[str] = []
    index = 0
    while index < len(text):
        if text[index : index + 2] in _LAM_ALEF:
            units.append(text[index : index + 2])
            index += 2
        else:
            units.append(text[index])
            index += 1

    def transparent(unit: str) -> bool:
        return unicodedata.category(unit[0]) == "Mn"

    def neighbour(position: int, step: int) -> str | None:
        position += step
        while 0 <= position < len(units) and transparent(units[position]):
            position += step
        return units[position] if 0 <= position < len(units) else None

    out = []
    for position, unit in enumerate(units):
        own = forms.get(unit)
        if own is None:
            out.append(unit)
            continue
        before, after = neighbour(position, -1), neighbour(position, 1)
        # A letter joins the one before if it has a final form and that one an initial form.
        joins_before = "final" in own and before is not None and "initial" in forms.get(before, {})
        joins_after = "initial" in own and after is not None and "final" in forms.get(after, {})
        if joins_before and joins_after:
            kind = "medial"
        elif joins_before:
            kind = "final"
        elif joins_after:
            kind = "initial"
        else:
            kind = "isolated"
        out.append(own.get(kind) or own.get("isolated") or unit)
    return "".join(out)


def visual(text: str) -> str:
    """A right-to-left line in the order its glyphs are drawn left to right: letters joined,
    runs of digits and Latin letters kept in their own order, brackets mirrored."""
    joined = _joined(text)
    pieces: list[str] = []
    position = 0
    for run in _LTR_RUN.finditer(joined):
        pieces.extend(joined[position : run.start()].translate(_MIRRORED))
        pieces.append(run.group())
        position = run.end()
    pieces.extend(joined[position:].translate(_MIRRORED))
    return "".join(reversed(pieces))
