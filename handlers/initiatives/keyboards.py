from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.initiatives.callbacks import (
    EditFieldCb,
    Field,
    ModerateCb,
    ProposeAction,
    ProposeCb,
    ResubmitCb,
    SupportCb,
)
from handlers.initiatives.cards import shorten
from handlers.profile.callbacks import ThemeCb
from handlers.profile.labels import arrondissement_label, theme_label
from handlers.ui import in_rows
from storage.initiatives import Decision
from storage.models import Initiative, Theme


def _button(text: str, action: ProposeAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ProposeCb(action=action).pack())


def theme_choice_keyboard(themes: Sequence[Theme], locale: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=theme_label(theme, locale), callback_data=ThemeCb(code=theme.code).pack()
        )
        for theme in themes
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 2))


def keep_arrondissement_keyboard(arrondissement: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    _("Yes: {place}").format(place=arrondissement_label(arrondissement)),
                    ProposeAction.keep_arrondissement,
                )
            ],
            [_button(_("Another one"), ProposeAction.other_arrondissement)],
        ]
    )


def skip_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(_("Skip"), ProposeAction.skip)]])


def similar_keyboard(similar: Sequence[Initiative]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=_("Support «{title}»").format(title=shorten(initiative.title, 40)),
                callback_data=SupportCb(initiative_id=initiative.id).pack(),
            )
        ]
        for initiative in similar
    ]
    rows.append([_button(_("Mine is different: continue"), ProposeAction.continue_anyway)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def review_keyboard() -> InlineKeyboardMarkup:
    def edit(text: str, field: Field) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=EditFieldCb(field=field).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [edit(_("Title"), Field.title), edit(_("Description"), Field.description)],
            [edit(_("Theme"), Field.theme), edit(_("Arrondissement"), Field.arrondissement)],
            [edit(_("Photo"), Field.photo), edit(_("Location"), Field.location)],
            [edit(_("Contact"), Field.contact)],
            [_button(_("Send my proposal"), ProposeAction.send)],
        ]
    )


def moderation_keyboard(initiative_id: int) -> InlineKeyboardMarkup:
    def button(text: str, decision: Decision) -> InlineKeyboardButton:
        data = ModerateCb(decision=decision, initiative_id=initiative_id).pack()
        return InlineKeyboardButton(text=text, callback_data=data)

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("Approve"), Decision.approve), button(_("Reject"), Decision.reject)],
            [button(_("Ask for changes"), Decision.request_changes)],
        ]
    )


def resubmit_keyboard(initiative_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Edit and send again"),
                    callback_data=ResubmitCb(initiative_id=initiative_id).pack(),
                )
            ]
        ]
    )
