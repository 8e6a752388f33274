from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class NeedThemeCb(CallbackData, prefix="nth"):
    code: str


class NeedArrondissementCb(CallbackData, prefix="nar"):
    number: int


class NeedStep(enum.StrEnum):
    """Buttons that answer a step without a value of their own, and the review's."""

    other_arrondissement = "a"
    keep_description = "d"
    skip_location = "l"
    keep_location = "k"
    # The review: send, choose a field to change, back to it, cancel (asks), cancelled.
    send = "s"
    edit = "e"
    review = "r"
    cancel = "c"
    cancel_sure = "C"


class NeedStepCb(CallbackData, prefix="nst"):
    step: NeedStep


class NeedField(enum.StrEnum):
    theme = "t"
    arrondissement = "a"
    description = "d"
    location = "l"


class NeedFieldCb(CallbackData, prefix="nfd"):
    """A field to change, from the review."""

    field: NeedField
