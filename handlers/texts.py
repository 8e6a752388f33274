"""Messages shared by every flow."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.i18n import ngettext
from storage.texts import TextRejected


def explain_rejection(rejected: TextRejected) -> str:
    if rejected.reason == TextRejected.TOO_LONG:
        return ngettext(
            "This is too long: {limit} character at most. Please shorten it and send it again.",
            "This is too long: {limit} characters at most. Please shorten it and send it again.",
            rejected.limit,
        ).format(limit=rejected.limit)
    if rejected.reason == TextRejected.TOO_SHORT:
        return ngettext(
            "This is too short: at least {limit} character, please.",
            "This is too short: at least {limit} characters, please.",
            rejected.limit,
        ).format(limit=rejected.limit)
    return _("This is empty. Please type your answer as a text message.")


def stale_button() -> str:
    return _("This button is no longer valid. Please use the latest message.")


def mention(telegram_id: int, label: str) -> str:
    """`label` (HTML, already escaped) linked to that person: Telegram makes it a mention."""
    return f'<a href="tg://user?id={telegram_id}">{label}</a>'


def contact_link(telegram_id: int) -> str:
    """A link that opens a chat with that person (shared only with their consent)."""
    return mention(telegram_id, _("write to them"))
