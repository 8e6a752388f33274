from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.profile.callbacks import (
    AlertsChoiceCb,
    ArrondissementCb,
    ContactCb,
    LanguageCb,
    MessagesCb,
    NoticeCb,
    RoleCb,
    SettingsCb,
    SettingsField,
    ThemeCb,
    ThemesDoneCb,
)
from handlers.profile.labels import (
    LANGUAGE_NAMES,
    arrondissement_button,
    arrondissement_label,
    role_label,
    theme_label,
)
from handlers.ui import in_rows
from storage.models import Role, Theme
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE


def language_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=name, callback_data=LanguageCb(code=code).pack())
        for code, name in LANGUAGE_NAMES.items()
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


def notice_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("I have read it, continue"),
                    callback_data=NoticeCb(accept=True).pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("No, thank you"), callback_data=NoticeCb(accept=False).pack()
                )
            ],
        ]
    )


# Coordinators are named by the city (COORDINATOR_IDS), never self-declared.
CHOOSABLE_ROLES = (Role.citizen, Role.association, Role.company, Role.institution)


def role_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=role_label(role), callback_data=RoleCb(role=role).pack())
        for role in CHOOSABLE_ROLES
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 2))


def arrondissement_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=arrondissement_button(n), callback_data=ArrondissementCb(number=n).pack()
        )
        for n in ARRONDISSEMENTS
    ]
    outside = InlineKeyboardButton(
        text=arrondissement_label(OUTSIDE_MARSEILLE),
        callback_data=ArrondissementCb(number=OUTSIDE_MARSEILLE).pack(),
    )
    return InlineKeyboardMarkup(inline_keyboard=[*in_rows(buttons, 4), [outside]])


def themes_keyboard(
    themes: Iterable[Theme], chosen: Iterable[str], locale: str
) -> InlineKeyboardMarkup:
    picked = set(chosen)
    buttons = [
        InlineKeyboardButton(
            text=("✅ " if theme.code in picked else "") + theme_label(theme, locale),
            callback_data=ThemeCb(code=theme.code).pack(),
        )
        for theme in themes
    ]
    done = InlineKeyboardButton(text=_("Done"), callback_data=ThemesDoneCb().pack())
    return InlineKeyboardMarkup(inline_keyboard=[*in_rows(buttons, 2), [done]])


def contact_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, they may"), callback_data=ContactCb(share=True).pack()
                ),
                InlineKeyboardButton(text=_("No"), callback_data=ContactCb(share=False).pack()),
            ]
        ]
    )


def alerts_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, alert me"), callback_data=AlertsChoiceCb(on=True).pack()
                ),
                InlineKeyboardButton(
                    text=_("No, thanks"), callback_data=AlertsChoiceCb(on=False).pack()
                ),
            ]
        ]
    )


def stop_button() -> InlineKeyboardButton:
    """Under every message the person did not ask for: STOP in one tap."""
    return InlineKeyboardButton(
        text=_("Stop these messages"), callback_data=MessagesCb(on=False).pack()
    )


def resume_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Receive them again"), callback_data=MessagesCb(on=True).pack()
                )
            ]
        ]
    )


def settings_keyboard(sharing: bool, alerts: bool, stopped: bool = False) -> InlineKeyboardMarkup:
    def button(text: str, field: SettingsField) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=SettingsCb(field=field).pack())

    contact = _("Stop sharing my contact") if sharing else _("Share my contact")
    alerts_label = _("Stop challenge alerts") if alerts else _("Turn challenge alerts on")
    messages = InlineKeyboardButton(
        text=_("Receive alerts, surveys and news again")
        if stopped
        else _("Stop alerts, surveys and news"),
        callback_data=MessagesCb(on=stopped, settings=True).pack(),
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("Who I am"), SettingsField.role),
                button(_("Arrondissement"), SettingsField.arrondissement),
            ],
            [
                button(_("Themes"), SettingsField.themes),
                button(_("Language"), SettingsField.language),
            ],
            [button(contact, SettingsField.contact)],
            [button(alerts_label, SettingsField.alerts)],
            [messages],
            [button(_("Back to the menu"), SettingsField.menu)],
        ]
    )
