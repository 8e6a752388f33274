"""What the bot's pictures share: paper, ink and grid colours, fonts loaded once, PNG bytes.

The charts (`storage.charts`, `storage.dashboard`, `storage.survey_charts`) hold digits only,
never words: the bot speaks French, English and Arabic, and the host may have no font able to
shape Arabic, so their words live in the photo's caption. Pillow's bundled scalable font draws
digits with nothing to install. A poster's title (`storage.posters`) asks for a system font
first.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Pillow (some 4 MB resident) is loaded with the first picture drawn.

BACKGROUND = "#FFFFFF"
# Not pure black: pure black is a theme colour, and tests tell bars from ink by colour.
INK = "#333333"
GRID = "#E6E6E6"


@lru_cache(maxsize=64)
def font(size: int, files: tuple[str, ...] = ()) -> Font:
    """The first of `files` the system has, at `size`; else Pillow's bundled font."""
    from PIL import ImageFont

    for name in files:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def text_size(text: str, size: int) -> tuple[int, int]:
    """Width and height of `text` in the bundled font at `size`, in pixels."""
    left, top, right, bottom = font(size).getbbox(text)
    return int(right - left), int(bottom - top)


def png(image: Image.Image, **options: Any) -> bytes:
    buffer = io.BytesIO()
    # Pillow writes no timestamp chunk, so equal inputs give equal bytes.
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()
