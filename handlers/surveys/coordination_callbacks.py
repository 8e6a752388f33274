"""Coordinators' buttons on surveys. Prefixes start with "sc" so that they never meet the
respondents' ("sv")."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from storage.models import Role


class ManageAction(enum.StrEnum):
    card = "c"
    preview = "p"
    send = "s"  # asks to confirm
    send_confirmed = "S"
    send_at = "t"
    reminder = "r"
    close = "x"  # asks to confirm
    close_confirmed = "X"
    results = "re"
    csv = "cv"
    json = "js"
    waves = "w"
    roles = "ro"  # who a draft goes to: the roles' picker


class ManageCb(CallbackData, prefix="scm"):
    action: ManageAction
    survey_id: int


class ListCb(CallbackData, prefix="scl"):
    page: int = 0


class RoleCb(CallbackData, prefix="scr"):
    """Ticks or unticks a role a draft goes to."""

    survey_id: int
    role: Role
