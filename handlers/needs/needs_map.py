"""The needs map: Marseille's arrondissements as a tile map coloured by needs, with the needs
per theme beside it, written in the reader's language; its figures in the caption.

Open to anyone, even before the notice: it shows counts only — never a need's text, reporter,
date or location — and each count follows the published figures' rule (`published_count`: 1 to
4 show as "fewer than 5"), in the picture and the caption alike.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from html import unescape

from aiogram import Bot, F, html
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import ngettext
from handlers.flow import Flow
from handlers.menu import MenuAction, MenuCb, menu_keyboard
from handlers.profile.labels import arrondissement_label, arrondissement_short, theme_label
from handlers.ui import show
from storage.charts import OUTSIDE, MapTexts, needs_map_png, theme_marker
from storage.initiative_support import is_small
from storage.models import Theme, User
from storage.needs import needs_counts, themes_in_order, totals_by_arrondissement, totals_by_theme

router = Flow("needs-map")

CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4096
# A theme added by coordinators may have a long label; one line of the key stays short.
LABEL_LIMIT = 60
_TAG = re.compile(r"<[^>]*>")


@router.callback_query(MenuCb.filter(F.action == MenuAction.needs_map))
async def needs_map(query: CallbackQuery, session: AsyncSession, user: User, bot: Bot) -> None:
    """Sends the chart with its figures as the caption, for screen readers too; when they do
    not fit in a caption, the caption is cut between lines and the full figures follow."""
    counts = await needs_counts(session)
    if not counts:
        await show(
            query,
            _("No need has been reported yet: there is no map to show."),
            menu_keyboard(user),
        )
        return
    themes = await themes_in_order(session, {theme for _, theme in counts})
    order = [theme.code for theme in themes]
    picture = await asyncio.to_thread(needs_map_png, counts, order, map_texts(themes, user.locale))
    lines = figure_lines(counts, themes, user.locale)
    caption, cut = fit(lines, CAPTION_LIMIT)
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    markup = menu_keyboard(user)
    await bot.send_photo(
        chat_id,
        BufferedInputFile(picture, filename="needs-map.png"),
        caption=caption,
        reply_markup=None if cut else markup,
    )
    if cut:
        parts = split(lines, MESSAGE_LIMIT)
        for number, part in enumerate(parts, start=1):
            await bot.send_message(
                chat_id, part, reply_markup=markup if number == len(parts) else None
            )


def map_texts(themes: Sequence[Theme], locale: str) -> MapTexts:
    """The picture's words in the current language: title, arrondissements, themes."""
    places = {number: arrondissement_short(number) for number in range(OUTSIDE, 17)}
    return MapTexts(
        title=_("Needs map"),
        places=places,
        themes_title=_("By theme"),
        themes=[theme_label(theme, locale) for theme in themes],
    )


def figure_lines(
    counts: Mapping[tuple[int, str], int], themes: Sequence[Theme], locale: str
) -> list[str]:
    """The chart in words: the total, each arrondissement, then the key of theme colours."""

    def number(value: int) -> str:
        # The picture's rule (`published_count`), in words.
        return _("fewer than 5") if is_small(value) else format_decimal(value, locale=locale)

    def figure(label: str, value: int) -> str:
        # TRANSLATORS: one line of the needs map's figures, e.g. "Arrondissement 3: 12".
        return _("{label}: {count}").format(label=html.quote(label), count=number(value))

    total = sum(counts.values())
    lines = [
        "<b>{}</b>".format(_("Needs map")),
        # "fewer than 5" counts as a plural.
        ngettext(
            "{count} need reported",
            "{count} needs reported",
            max(total, 5) if is_small(total) else total,
        ).format(count=number(total)),
        "",
        "<b>{}</b>".format(_("By arrondissement")),
    ]
    for arrondissement, value in totals_by_arrondissement(counts).items():
        lines.append(figure(arrondissement_label(arrondissement), value))
    lines += ["", "<b>{}</b>".format(_("By theme"))]
    by_theme = totals_by_theme(counts)
    for index, theme in enumerate(themes):
        label = theme_label(theme, locale)
        if len(label) > LABEL_LIMIT:
            label = label[: LABEL_LIMIT - 1].rstrip() + "…"
        # The picture lists its themes in this order, each bar in the colour of the marker.
        lines.append(f"{theme_marker(index)} {index + 1}. {figure(label, by_theme[theme.code])}")
    return lines


def visible_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 units) once the HTML is parsed; the lines hold
    only whole tags and escaped text."""
    return len(unescape(_TAG.sub("", text)).strip().encode("utf-16-le")) // 2


def fit(lines: Sequence[str], limit: int) -> tuple[str, bool]:
    """The lines as one text within `limit`, cut between two lines if need be; True if cut."""
    whole = "\n".join(lines)
    if visible_length(whole) <= limit:
        return whole, False
    more = "…\n" + _("All the figures follow in the next message.")
    kept: list[str] = []
    for line in lines:
        if visible_length("\n".join([*kept, line, more])) > limit:
            break
        kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join([*kept, more]), True


def split(lines: Sequence[str], limit: int) -> list[str]:
    """The lines in as few messages as `limit` allows, never cutting a line."""
    parts: list[list[str]] = [[]]
    for line in lines:
        if parts[-1] and visible_length("\n".join([*parts[-1], line])) > limit:
            parts.append([])
        parts[-1].append(line)
    return ["\n".join(part) for part in parts]
