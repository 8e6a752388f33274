"""Coordinators' buttons. Prefixes start with "cc" so that they never meet the citizens' ones."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class FormAction(enum.StrEnum):
    theme = "t"
    arrondissement = "a"
    whole_city = "w"
    kind = "k"
    done = "d"
    skip = "s"
    save = "sv"
    open = "o"


class FormCb(CallbackData, prefix="ccf"):
    """An answer in the challenge form; `value` is a theme code, an arrondissement or a kind."""

    action: FormAction
    value: str = ""


class FormField(enum.StrEnum):
    # Named with a trailing _: a StrEnum member may not hide str's method of the same name.
    title_ = "ti"
    description = "de"
    theme = "th"
    arrondissements = "ar"
    dates = "da"
    kinds = "ki"


class EditFieldCb(CallbackData, prefix="cce"):
    field: FormField


class ManageAction(enum.StrEnum):
    card = "c"
    preview = "p"
    open = "o"  # asks to confirm, saying how many people will be alerted
    open_confirmed = "O"
    close = "x"  # asks to confirm
    close_confirmed = "X"
    participants = "pa"
    export = "e"
    update = "u"
    poster = "po"
    edit = "ed"
    add_translation = "tr"  # asks which language to add


class ManageCb(CallbackData, prefix="ccm"):
    action: ManageAction
    challenge_id: int
    page: int = 0


class ListCb(CallbackData, prefix="ccl"):
    page: int = 0


class TranslateCb(CallbackData, prefix="cct"):
    """The language of a challenge's texts to type (added, or replaced when it has them)."""

    challenge_id: int
    locale: str
