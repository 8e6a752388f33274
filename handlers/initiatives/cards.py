"""How an initiative reads: on its public card, in the coordinators' group, in a summary."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _

from handlers.profile.labels import arrondissement_label, theme_label
from storage.initiatives import reference
from storage.models import Initiative, InitiativeStatus
from storage.organisations import badged
from storage.outbox import TEXT_LIMIT, utf16_len


def status_label(status: InitiativeStatus) -> str:
    return {
        InitiativeStatus.pending: _("waiting for review"),
        InitiativeStatus.approved: _("published"),
        InitiativeStatus.rejected: _("not accepted"),
        InitiativeStatus.changes_requested: _("changes requested"),
        InitiativeStatus.hidden: _("hidden"),
        InitiativeStatus.withdrawn: _("withdrawn"),
        InitiativeStatus.completed: _("completed"),
    }[status]


def shorten(text: str, limit: int) -> str:
    """Cuts plain text on a word boundary, within `limit` as Telegram counts (UTF-16 code
    units: an emoji outside the BMP counts twice); the caller escapes it afterwards."""
    if utf16_len(text) <= limit:
        return text
    end = used = 0
    for character in text:
        used += 2 if ord(character) > 0xFFFF else 1
        if used > limit - 1:
            break
        end += 1
    cut = text.rfind(" ", 0, end)
    return text[: cut if cut > end // 2 else end].rstrip() + "…"


def public_card(
    initiative: Initiative, locale: str, limit: int = TEXT_LIMIT, *, with_reference: bool = True
) -> str:
    """Title, where and what, who carries it, and its reference — unless the message that
    holds the card names it already (`with_reference=False`); user text escaped, the whole
    within `limit` (a photo's caption allows 1024 characters)."""
    head = [
        f"<b>{html.quote(initiative.title)}</b>",
        f"{theme_label(initiative.theme_code, locale)} · "
        f"{arrondissement_label(initiative.arrondissement)}",
    ]
    if initiative.organisation is not None:
        head.append(
            _("Carried by {name}").format(name=html.quote(badged(initiative.organisation)))
        )
    # Telegram counts what is shown, after entities are parsed: the raw length is what counts.
    room = limit - sum(utf16_len(line) + 1 for line in head) - 20
    description = html.quote(shorten(initiative.description, room))
    tail = ["", reference(initiative)] if with_reference else []
    return "\n".join([*head, "", description, *tail])
