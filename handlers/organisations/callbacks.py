"""Buttons about organisations (prefixes "o…"), each packed well under 64 bytes."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class OrgAction(enum.StrEnum):
    show = "s"
    invite = "i"
    leave = "l"
    leave_sure = "L"
    verify = "v"
    digest = "d"


class OrgCb(CallbackData, prefix="om"):
    """A member's screen of their organisation."""

    action: OrgAction


class JoinCb(CallbackData, prefix="oj"):
    """Join the organisation of an invitation link."""

    code: str


class AnswerCb(CallbackData, prefix="oa"):
    """A member answers a request (to join, to be put in touch)."""

    request_id: int
    accept: bool


class VerifyCb(CallbackData, prefix="ov"):
    """Coordinators verify or refuse an organisation."""

    organisation_id: int
    verify: bool


class MergeCb(CallbackData, prefix="ox"):
    """Coordinators merge look-alike organisations into the oldest, or keep them apart."""

    organisation_id: int
    merge: bool


class DirStep(enum.StrEnum):
    themes = "t"
    places = "p"
    list = "l"


class DirCb(CallbackData, prefix="od"):
    """The directory: a theme («*»: any), then an arrondissement (-1: any), then a page."""

    step: DirStep
    theme: str = "*"
    arr: int = -1
    page: int = 0


class EntryCb(CallbackData, prefix="oe"):
    """An organisation of the directory, with the page to go back to."""

    organisation_id: int
    theme: str = "*"
    arr: int = -1
    page: int = 0


class AskKind(enum.StrEnum):
    contact = "c"
    # Named with a trailing _: a StrEnum member may not hide str's method of the same name.
    join_ = "j"


class AskCb(CallbackData, prefix="oq"):
    """Ask an organisation's members to be put in touch, or to join it (`sure`: confirmed)."""

    organisation_id: int
    kind: AskKind
    sure: bool = False
