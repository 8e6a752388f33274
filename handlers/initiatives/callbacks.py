from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from storage.initiatives import Decision
from storage.models import ReportReason


class Field(enum.StrEnum):
    theme = "t"
    arrondissement = "a"
    # Named with a trailing _: a StrEnum member may not hide str's method of the same name.
    title_ = "ti"
    description = "d"
    photo = "p"
    location = "l"
    contact = "c"


class ProposeAction(enum.StrEnum):
    keep_arrondissement = "k"
    other_arrondissement = "o"
    continue_anyway = "go"
    skip = "s"
    send = "send"


class ProposeCb(CallbackData, prefix="pr"):
    action: ProposeAction


class EditFieldCb(CallbackData, prefix="pe"):
    field: Field


class SupportCb(CallbackData, prefix="su"):
    initiative_id: int


class ModerateCb(CallbackData, prefix="mo"):
    decision: Decision
    initiative_id: int


class ResubmitCb(CallbackData, prefix="rs"):
    initiative_id: int


class CardCb(CallbackData, prefix="ic"):
    initiative_id: int


class BrowseBy(enum.StrEnum):
    theme = "t"
    arrondissement = "a"
    all = "x"


class BrowseCb(CallbackData, prefix="br"):
    by: BrowseBy
    value: str = ""
    page: int = 0


class ReportCb(CallbackData, prefix="rp"):
    initiative_id: int
    reason: ReportReason | None = None


class HideCb(CallbackData, prefix="hd"):
    initiative_id: int
    hide: bool


class ContestCb(CallbackData, prefix="cs"):
    initiative_id: int


class RestoreCb(CallbackData, prefix="rt"):
    initiative_id: int
    restore: bool


class GatherAction(enum.StrEnum):
    support = "s"
    follow = "f"
    help = "h"
    news = "n"
    offers = "o"
    complete = "c"
    withdraw = "w"
    share = "sh"
    answers = "a"


class GatherCb(CallbackData, prefix="ig"):
    """A button of a published initiative's card, for the one reading it."""

    action: GatherAction
    initiative_id: int


class HelpKindCb(CallbackData, prefix="ihk"):
    initiative_id: int
    kind: str


class HelpAnswerCb(CallbackData, prefix="iha"):
    offer_id: int
    accept: bool
