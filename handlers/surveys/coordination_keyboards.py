from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.initiatives.cards import shorten
from handlers.profile.keyboards import CHOOSABLE_ROLES
from handlers.profile.labels import role_label
from handlers.surveys.coordination_callbacks import ListCb, ManageAction, ManageCb, RoleCb
from handlers.ui import ticked
from storage.models import Survey, SurveyStatus
from storage.surveys import survey_roles, survey_text

Rows = list[list[InlineKeyboardButton]]


def _manage(text: str, action: ManageAction, survey_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=ManageCb(action=action, survey_id=survey_id).pack()
    )


def _all_surveys() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("← All surveys"), callback_data=ListCb().pack())


def list_keyboard(
    surveys: Sequence[Survey], locale: str, page: int, pages: int
) -> InlineKeyboardMarkup:
    rows: Rows = [
        [
            _manage(
                f"#{survey.id} {shorten(survey_text(survey, locale)['title'], 50)}",
                ManageAction.card,
                survey.id,
            )
        ]
        for survey in surveys
    ]
    turn = []
    if page > 0:
        turn.append(InlineKeyboardButton(text="◀", callback_data=ListCb(page=page - 1).pack()))
    if page + 1 < pages:
        turn.append(InlineKeyboardButton(text="▶", callback_data=ListCb(page=page + 1).pack()))
    if turn:
        rows.append(turn)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_keyboard(survey: Survey, *, several_waves: bool) -> InlineKeyboardMarkup:
    """What can be done with the survey in its state."""
    number = survey.id
    rows: Rows = []
    if survey.status is SurveyStatus.draft:
        rows += [
            [_manage(_("Preview"), ManageAction.preview, number)],
            [
                _manage(_("Send now"), ManageAction.send, number),
                _manage(_("Send at…"), ManageAction.send_at, number),
            ],
            [_manage(_("Reminder after…"), ManageAction.reminder, number)],
            [_manage(_("Who it is for…"), ManageAction.roles, number)],
        ]
    else:
        rows.append(
            [
                _manage(_("Preview"), ManageAction.preview, number),
                _manage(_("Results"), ManageAction.results, number),
            ]
        )
        if survey.status is SurveyStatus.open:
            rows.append(
                [
                    _manage(_("Reminder after…"), ManageAction.reminder, number),
                    _manage(_("Close"), ManageAction.close, number),
                ]
            )
        rows.append(
            [
                _manage(_("Export CSV"), ManageAction.csv, number),
                _manage(_("Export JSON"), ManageAction.json, number),
            ]
        )
    if several_waves:
        rows.append([_manage(_("Compare waves"), ManageAction.waves, number)])
    rows.append([_all_surveys()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(action: ManageAction, survey_id: int) -> InlineKeyboardMarkup:
    """«Yes» for a step that cannot be undone (sending, closing), or back to the card."""
    yes = _("Yes, send it") if action is ManageAction.send_confirmed else _("Yes, close it")
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_manage(yes, action, survey_id)],
            [_manage(_("← Back to the survey"), ManageAction.card, survey_id)],
        ]
    )


def back_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_manage(_("← Back to the survey"), ManageAction.card, survey_id)]]
    )


def roles_keyboard(survey: Survey) -> InlineKeyboardMarkup:
    """A button per role, ticked when the draft goes to it; then back to the card."""
    chosen = set(survey_roles(survey))
    buttons = [
        InlineKeyboardButton(
            text=ticked(role_label(role), role in chosen),
            callback_data=RoleCb(survey_id=survey.id, role=role).pack(),
        )
        for role in CHOOSABLE_ROLES
    ]
    rows: Rows = [buttons[:2], buttons[2:]]
    rows.append([_manage(_("← Back to the survey"), ManageAction.card, survey.id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
