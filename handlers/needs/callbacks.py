from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class NeedThemeCb(CallbackData, prefix="nth"):
    code: str


class NeedArrondissementCb(CallbackData, prefix="nar"):
    number: int


class NeedStep(enum.StrEnum):
    """Buttons that answer a step without a value of their own."""

    other_arrondissement = "a"
    keep_description = "d"
    skip_location = "l"


class NeedStepCb(CallbackData, prefix="nst"):
    step: NeedStep
