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
