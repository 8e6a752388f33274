"""The main menu: inline buttons that each flow answers."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from storage.models import User
from storage.privacy import has_current_notice


class MenuAction(enum.StrEnum):
    settings = "s"
    language = "l"
    privacy = "p"
    mydata = "d"
    help = "h"
    start = "o"
    report_need = "n"
    needs_map = "nm"
    propose = "i"
    browse = "b"
    my_proposals = "mp"
    challenges = "c"
    surveys = "sv"
    my_needs = "mn"
    organisation = "og"
    directory = "wa"


class MenuCb(CallbackData, prefix="m"):
    action: MenuAction


def _button(text: str, action: MenuAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=MenuCb(action=action).pack())


def menu_keyboard(user: User | None) -> InlineKeyboardMarkup:
    """What a person can do; someone who has not read the notice browses anonymously."""
    browse = [
        _button(_("Initiatives"), MenuAction.browse),
        _button(_("Needs map"), MenuAction.needs_map),
    ]
    challenges = [_button(_("Challenges"), MenuAction.challenges)]
    if user is None or not has_current_notice(user):
        rows = [
            [_button(_("Join La Collective"), MenuAction.start)],
            challenges,
            browse,
            [
                _button(_("Language"), MenuAction.language),
                _button(_("Privacy"), MenuAction.privacy),
            ],
            [_button(_("Help"), MenuAction.help)],
        ]
    else:
        rows = [
            [
                _button(_("Report a need"), MenuAction.report_need),
                _button(_("Propose an initiative"), MenuAction.propose),
            ],
            challenges,
            browse,
            [_button(_("Who acts near me?"), MenuAction.directory)],
            [_button(_("Surveys"), MenuAction.surveys)],
            [
                _button(_("My proposals"), MenuAction.my_proposals),
                _button(_("My needs"), MenuAction.my_needs),
            ],
            *(
                [[_button(_("My organisation"), MenuAction.organisation)]]
                if user.organisation is not None
                else []
            ),
            [_button(_("My profile and settings"), MenuAction.settings)],
            [
                _button(_("Language"), MenuAction.language),
                _button(_("My data"), MenuAction.mydata),
            ],
            [_button(_("Privacy"), MenuAction.privacy), _button(_("Help"), MenuAction.help)],
        ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def menu_text() -> str:
    return _("What would you like to do?")
