"""How /mydata reads in the chat: the profile, the consents with their dates, and how many of
each kind of contribution the file holds (the file itself has every detail)."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.i18n import format_when, ngettext
from handlers.profile.card import settings_text
from storage import my_data
from storage.models import User


def kind_line(kind: str, n: int) -> str:
    """«• 2 needs reported»: each kind with its plural, as the catalogs have it."""
    forms = {
        my_data.NEEDS: lambda: ngettext("{count} need reported", "{count} needs reported", n),
        my_data.INITIATIVES: lambda: ngettext(
            "{count} initiative proposed", "{count} initiatives proposed", n
        ),
        my_data.CHALLENGES: lambda: ngettext(
            "{count} challenge joined", "{count} challenges joined", n
        ),
        my_data.REGISTERED: lambda: ngettext(
            "{count} person you registered", "{count} people you registered", n
        ),
        my_data.INTRODUCTIONS: lambda: ngettext(
            "{count} introduction", "{count} introductions", n
        ),
        my_data.REPORTS: lambda: ngettext(
            "{count} initiative you reported", "{count} initiatives you reported", n
        ),
        my_data.SURVEYS: lambda: ngettext(
            "{count} survey answered", "{count} surveys answered", n
        ),
        my_data.ALERTS: lambda: ngettext(
            "{count} challenge alert received", "{count} challenge alerts received", n
        ),
        my_data.INVITATIONS: lambda: ngettext(
            "{count} survey invitation received", "{count} survey invitations received", n
        ),
        my_data.GATHERED: lambda: ngettext(
            "{count} support, follow or offer of help to an initiative",
            "{count} supports, follows or offers of help to initiatives",
            n,
        ),
        my_data.REQUESTS: lambda: ngettext(
            "{count} request to an organisation", "{count} requests to organisations", n
        ),
        my_data.DIALOGS: lambda: ngettext(
            "{count} dialog in progress", "{count} dialogs in progress", n
        ),
    }
    return "• " + forms[kind]().format(count=n)


def consent_lines(user: User, settings: Settings) -> list[str]:
    def when(moment: Any) -> str:
        return format_when(moment, user.locale, settings.timezone)

    lines = []
    if user.notice_accepted_at is not None:
        lines.append(
            _("Privacy notice (version {version}) read on {when}").format(
                version=user.notice_version, when=when(user.notice_accepted_at)
            )
        )
    if user.contact_consent_at is not None:
        lines.append(
            _("Sharing your contact agreed on {when}").format(when=when(user.contact_consent_at))
        )
    if user.alerts_consent_at is not None:
        lines.append(
            _("Challenge alerts agreed on {when}").format(when=when(user.alerts_consent_at))
        )
    if user.stopped_at is not None:
        lines.append(
            _("Every message you did not ask for stopped on {when}").format(
                when=when(user.stopped_at)
            )
        )
    return lines


def summary_text(user: User, data: dict[str, Any], settings: Settings) -> str:
    """Only the Telegram id and the language before the notice when nothing else is kept;
    otherwise the profile, the consents and the counts."""
    counts = my_data.counts(data)
    head = _("<b>Everything we store about you</b>")
    if user.notice_accepted_at is None and not any(counts.values()):
        only = _(
            "We only store your Telegram id ({id}) and your language. Nothing else is kept "
            "about you."
        ).format(id=user.telegram_id)
        return f"{head}\n\n{only}"
    parts = [head, settings_text(user).rsplit("\n\n", 1)[0]]
    consents = consent_lines(user, settings)
    if consents:
        parts.append("\n".join([_("<b>Your consents</b>"), *consents]))
    contributed = [kind_line(kind, count) for kind, count in counts.items() if count]
    parts.append(
        "\n".join(
            [_("<b>What you contributed and received</b>"), *(contributed or [_("Nothing yet.")])]
        )
    )
    return "\n\n".join(parts)
