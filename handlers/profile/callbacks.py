from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from storage.models import Role


class LanguageCb(CallbackData, prefix="lg"):
    code: str


class NoticeCb(CallbackData, prefix="nt"):
    accept: bool


class RoleCb(CallbackData, prefix="rl"):
    role: Role


class ArrondissementCb(CallbackData, prefix="ar"):
    number: int


class ThemeCb(CallbackData, prefix="th"):
    code: str


class ThemesDoneCb(CallbackData, prefix="td"):
    pass


class ContactCb(CallbackData, prefix="ct"):
    share: bool


class AlertsChoiceCb(CallbackData, prefix="al"):
    on: bool


class MessagesCb(CallbackData, prefix="ms"):
    """STOP (`on` false) or receiving unsolicited messages again; from /settings, the card is
    shown again."""

    on: bool
    settings: bool = False


class SettingsField(enum.StrEnum):
    role = "r"
    arrondissement = "a"
    themes = "t"
    contact = "c"
    alerts = "al"
    language = "l"
    menu = "m"


class SettingsCb(CallbackData, prefix="st"):
    field: SettingsField
