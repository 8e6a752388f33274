"""The privacy notice. Its facts are in PRIVACY.md; bump storage.privacy.NOTICE_VERSION
whenever these texts change."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.i18n import ngettext
from handlers.bidi import isolate_here
from storage.privacy import NOTICE_VERSION


def months(count: int) -> str:
    return ngettext("{count} month", "{count} months", count).format(count=count)


def days(count: int) -> str:
    return ngettext("{count} day", "{count} days", count).format(count=count)


def notice_text(settings: Settings) -> str:
    parts = [
        _("<b>How La Collective uses your data</b> (notice version {version})").format(
            version=NOTICE_VERSION
        ),
        _(
            "<b>Who:</b> the City of Marseille runs this service as part of its public-interest "
            "mission. Data protection officer: {contact}."
        ).format(contact=isolate_here(html.quote(settings.dpo_contact))),
        _(
            "<b>What and why:</b>\n"
            "• your Telegram id and language, to talk with you;\n"
            "• who you are (citizen or organisation), your arrondissement and your themes, to "
            "show you what concerns you and to map the city's needs;\n"
            "• what you report, propose, join or answer, to run La Collective's actions and "
            "measure their results."
        ),
        _(
            "<b>Who sees it:</b> the city's coordinators. Other participants only see what you "
            "choose to share. Published figures never show a group of fewer than 5 people, "
            "and free-text survey answers are read only by coordinators, unless a question "
            "tells you before you answer that its answers will be published."
        ),
        _(
            "<b>How long:</b> until you erase it, and at most {inactive} after your last visit. "
            "We write to you {warning} before, and again {final} before; any message to the bot "
            "keeps your account. Free-text survey answers are deleted {free_text} after the "
            "survey closes; only anonymous totals are kept. The messages the bot sends keep "
            "their content for {messages}, then only the fact that they were sent."
        ).format(
            inactive=months(settings.inactive_months),
            warning=days(settings.inactivity_warning_days),
            final=days(settings.inactivity_final_warning_days),
            free_text=months(settings.free_text_retention_months),
            messages=days(settings.outbox_content_days),
        ),
        _(
            "<b>Your rights:</b> see your data (/mydata), correct it (/settings), erase it or "
            "object (/forget), or ask for its use to be limited by writing to the data protection "
            "officer. You can also complain to the CNIL (cnil.fr)."
        ),
        _("This service is for people aged 15 and over."),
    ]
    return "\n\n".join(parts)
