"""The person's profile as /settings shows it."""

from __future__ import annotations

from aiogram import html
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from handlers.profile.keyboards import settings_keyboard
from handlers.profile.labels import LANGUAGE_NAMES, arrondissement_label, role_label, theme_label
from handlers.texts import join_list
from handlers.ui import show
from storage.models import User
from storage.organisations import badged


def settings_text(user: User) -> str:
    none = _("not set")
    who = role_label(user.role) if user.role else none
    if user.organisation is not None:
        who = f"{who} — {html.quote(badged(user.organisation))}"
    place = arrondissement_label(user.arrondissement) if user.arrondissement is not None else none
    themes = (
        join_list((theme_label(code, user.locale) for code in user.themes), user.locale) or none
    )
    sharing = _("yes, coordinators may contact you") if user.contact_consent_at else _("no")
    lines = [
        _("<b>Your profile</b>"),
        "",
        _("Who you are: {value}").format(value=who),
        _("Where: {value}").format(value=place),
        _("Themes: {value}").format(value=themes),
        _("Language: {value}").format(value=LANGUAGE_NAMES.get(user.locale, user.locale)),
        _("Contact sharing: {value}").format(value=sharing),
        _("Challenge alerts: {value}").format(
            value=_("on") if user.alerts_consent_at else _("off")
        ),
    ]
    if user.stopped_at is not None:
        lines.append(_("Alerts, surveys and news: stopped (you said STOP)"))
    lines += [
        "",
        _("What would you like to change?"),
    ]
    return "\n".join(lines)


async def show_settings(target: Message | CallbackQuery, user: User, settings: Settings) -> None:
    await show(
        target,
        settings_text(user),
        settings_keyboard(
            sharing=user.contact_consent_at is not None,
            alerts=user.alerts_consent_at is not None,
            stopped=user.stopped_at is not None,
        ),
    )
