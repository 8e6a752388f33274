"""A challenge's poster for a community centre's wall: its title, a large QR code of its link,
and the link written out, on a PNG in A4 proportions (150 dpi).

The title is drawn in the packaged DejaVu Sans Bold (`storage.drawing`), Arabic right to left;
a letter the font lacks is replaced by its unaccented form, or dropped, rather than printed as
a box.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno
    from PIL.ImageFont import FreeTypeFont

    from storage.drawing import Font

from storage import drawing

WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MARGIN = 90
BACKGROUND = "#FFFFFF"
INK = "#000000"
ACCENT = "#0B5CAD"
TITLE_SIZES = (96, 84, 72, 64, 56)
TITLE_MAX_LINES = 4
LINK_SIZES = (40, 34, 28, 24, 20)
QUIET_ZONE = 4  # modules of white around the code, as the standard asks
# Q (25 % of the code can be lost): a poster gets dirty, torn, or half in a shadow.
ERROR_LEVEL = "q"
FOOTER = "La Collective · Marseille"


def _font(size: int) -> FreeTypeFont:
    return drawing.font(size, bold=True)


def _missing(font: Font, character: str) -> bool:
    """Whether the font draws this letter as its "missing glyph" box."""
    return _glyph(font, character) == _glyph(font, "\uffff")


@lru_cache(maxsize=4096)
def _glyph(font: Font, character: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(character)
    return mask.size, bytes(mask)


def drawable(text: str, font: Font) -> str:
    """`text` with every letter the font lacks replaced by its unaccented form (œ → oe),
    or dropped when it has none."""
    out = []
    for character in text:
        if character.isspace() or not _missing(font, character):
            out.append(character)
            continue
        folded = unicodedata.normalize("NFKD", character)
        base = "".join(c for c in folded if not unicodedata.combining(c))
        base = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "’": "'"}.get(character, base)
        out.append("".join(c for c in base if not _missing(font, c)))
    return "".join(out)


def wrap(text: str, font: Font, width: int) -> list[str]:
    """Lines of at most `width` pixels, cut between words (inside a word only when it is wider
    than a line by itself)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:
            fits = (i for i in range(len(word) - 1, 0, -1) if font.getlength(word[:i]) <= width)
            cut = next(fits, 1)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _title_lines(title: str, width: int) -> tuple[FreeTypeFont, list[str]]:
    """The largest size at which the title fits in `TITLE_MAX_LINES`; at the smallest, the
    last line ends with "…"."""
    for size in TITLE_SIZES:
        font = _font(size)
        lines = wrap(drawable(title, font), font, width)
        if len(lines) <= TITLE_MAX_LINES:
            return font, lines
    lines = lines[:TITLE_MAX_LINES]
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1].rstrip()
    lines[-1] = last + drawable("…", font)
    return font, lines


@dataclass(frozen=True)
class QrPlacement:
    """Where the code is drawn: its top-left corner (quiet zone excluded) and module size."""

    left: int
    top: int
    module: int
    modules: int


def qr_code(link: str) -> segno.QRCode:
    """The code drawn for `link`: a full QR code (never a Micro QR, which phones' cameras do
    not read), error correction Q."""
    import segno

    return segno.make(link, error=ERROR_LEVEL, micro=False, boost_error=False)


def layout(title: str, link: str) -> tuple[FreeTypeFont, list[str], FreeTypeFont, QrPlacement]:
    width = WIDTH - 2 * MARGIN
    title_font, title_lines = _title_lines(title, width)
    link_font = next(
        (f for f in map(_font, LINK_SIZES) if f.getlength(link) <= width), _font(LINK_SIZES[-1])
    )
    # At scale 1 the size is a whole number of modules.
    modules = int(qr_code(link).symbol_size(border=0)[0])
    title_height = len(title_lines) * round(title_font.size * 1.2)
    top = MARGIN + title_height + 60
    # Below the code: the link, and the footer.
    room = HEIGHT - MARGIN - top - 3 * LINK_SIZES[0] - 80
    module = min(width, room) // (modules + 2 * QUIET_ZONE)
    size = module * modules
    return (
        title_font,
        title_lines,
        link_font,
        QrPlacement(
            left=(WIDTH - size) // 2, top=top + module * QUIET_ZONE, module=module, modules=modules
        ),
    )


def challenge_poster(title: str, link: str) -> bytes:
    """PNG poster: `title` (in any of the bot's languages) in large type,
    wrapped on up to four lines, the QR code of `link` as large as the page allows, the link
    under it."""
    title_font, title_lines, link_font, qr = layout(title, link)
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    line_height = round(title_font.size * 1.2)
    for number, line in enumerate(title_lines):
        y = MARGIN + number * line_height
        drawing.draw_text(
            draw, (WIDTH // 2, y), line, int(title_font.size), ACCENT, "mt", bold=True
        )
    for row, cells in enumerate(qr_code(link).matrix):
        for column, dark in enumerate(cells):
            if dark:
                x = qr.left + column * qr.module
                y = qr.top + row * qr.module
                draw.rectangle((x, y, x + qr.module - 1, y + qr.module - 1), fill=INK)
    below = qr.top + (qr.modules + QUIET_ZONE) * qr.module + 10
    draw.text((WIDTH // 2, below), link, fill=INK, font=link_font, anchor="mt")
    footer_font = _font(LINK_SIZES[-1] + 4)
    draw.text(
        (WIDTH // 2, HEIGHT - MARGIN // 2),
        drawable(FOOTER, footer_font),
        fill=ACCENT,
        font=footer_font,
        anchor="ms",
    )
    return drawing.png(image, dpi=(150, 150))
