"""How an initiative reads: on its public card, in the coordinators' group, in a summary."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _

from handlers.profile.labels import arrondissement_label, theme_label
from storage.initiatives import reference
from storage.models import Initiative, InitiativeStatus

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096


def status_label(status: InitiativeStatus) -> str:
    return {
        InitiativeStatus.pending: _("waiting for review"),
        InitiativeStatus.approved: _("published"),
        InitiativeStatus.rejected: _("not accepted"),
        InitiativeStatus.changes_requested: _("changes requested"),
        InitiativeStatus.hidden: _("hidden"),
        InitiativeStatus.withdrawn: _("withdrawn"),
    }[status]


def shorten(text: str, limit: int) -> str:
    """Cuts plain text on a word boundary; the caller escapes it afterwards."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"


def public_card(initiative: Initiative, locale: str, limit: int = TEXT_LIMIT) -> str:
    """Title, where and what, who carries it; user text escaped, the whole within `limit`
    (a photo's caption allows 1024 characters)."""
    head = [
        f"<b>{html.quote(initiative.title)}</b>",
        f"{theme_label(initiative.theme_code, locale)} · "
        f"{arrondissement_label(initiative.arrondissement)}",
    ]
    if initiative.organisation is not None:
        head.append(_("Carried by {name}").format(name=html.quote(initiative.organisation.name)))
    # Telegram counts what is shown, after entities are parsed: the raw length is what counts.
    room = limit - sum(len(line) + 1 for line in head) - 20
    description = html.quote(shorten(initiative.description, room))
    return "\n".join([*head, "", description, "", reference(initiative)])
