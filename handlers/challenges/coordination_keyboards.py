from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.challenges.coordination_callbacks import (
    EditFieldCb,
    FormAction,
    FormCb,
    FormField,
    ListCb,
    ManageAction,
    ManageCb,
    TranslateCb,
)
from handlers.challenges.keyboards import kind_label
from handlers.initiatives.cards import shorten
from handlers.profile.labels import LANGUAGE_NAMES, arrondissement_button, theme_label
from handlers.ui import in_rows, ticked
from storage.challenges import CONTRIBUTION_KINDS, challenge_text
from storage.models import Challenge, ChallengeStatus, Theme
from storage.users import ARRONDISSEMENTS

Rows = list[list[InlineKeyboardButton]]


def _form(text: str, action: FormAction, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=FormCb(action=action, value=value).pack())


def _manage(
    text: str, action: ManageAction, challenge_id: int, page: int = 0
) -> InlineKeyboardButton:
    data = ManageCb(action=action, challenge_id=challenge_id, page=page).pack()
    return InlineKeyboardButton(text=text, callback_data=data)


def theme_keyboard(themes: Sequence[Theme], locale: str) -> InlineKeyboardMarkup:
    buttons = [_form(theme_label(t, locale), FormAction.theme, t.code) for t in themes]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 2))


def arrondissements_keyboard(chosen: Iterable[int]) -> InlineKeyboardMarkup:
    picked = set(chosen)
    buttons = [
        _form(ticked(arrondissement_button(n), n in picked), FormAction.arrondissement, str(n))
        for n in ARRONDISSEMENTS
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[
            *in_rows(buttons, 4),
            [_form(_("Whole city"), FormAction.whole_city), _form(_("Done"), FormAction.done)],
        ]
    )


def skip_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_form(_("Skip"), FormAction.skip)]])


def kinds_keyboard(chosen: Iterable[str]) -> InlineKeyboardMarkup:
    picked = set(chosen)
    buttons = [
        _form(ticked(kind_label(code), code in picked), FormAction.kind, code)
        for code in CONTRIBUTION_KINDS
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[*in_rows(buttons, 2), [_form(_("Done"), FormAction.done)]]
    )


def preview_keyboard(*, new: bool, can_open: bool) -> InlineKeyboardMarkup:
    def edit(text: str, field: FormField) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=EditFieldCb(field=field).pack())

    rows = [
        [edit(_("Title"), FormField.title_), edit(_("Description"), FormField.description)],
        [edit(_("Theme"), FormField.theme), edit(_("Arrondissements"), FormField.arrondissements)],
        [edit(_("Dates"), FormField.dates), edit(_("Contributions"), FormField.kinds)],
        [_form(_("Save as draft") if new else _("Save the changes"), FormAction.save)],
    ]
    if can_open:
        rows.append([_form(_("Open now"), FormAction.open)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def list_keyboard(
    challenges: Sequence[Challenge], locale: str, page: int, pages: int
) -> InlineKeyboardMarkup:
    rows = [
        [
            _manage(
                shorten(challenge_text(challenge, locale)[0], 50), ManageAction.card, challenge.id
            )
        ]
        for challenge in challenges
    ]
    turn = []
    if page > 0:
        turn.append(InlineKeyboardButton(text="◀", callback_data=ListCb(page=page - 1).pack()))
    if page + 1 < pages:
        turn.append(InlineKeyboardButton(text="▶", callback_data=ListCb(page=page + 1).pack()))
    if turn:
        rows.append(turn)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def management_keyboard(challenge: Challenge) -> InlineKeyboardMarkup:
    number = challenge.id
    if challenge.status is ChallengeStatus.open:
        status = _manage(_("Close"), ManageAction.close, number)
    elif challenge.status is ChallengeStatus.closed:
        status = _manage(_("Reopen"), ManageAction.open, number)
    else:
        # TRANSLATORS: a button: open the challenge to everyone (a verb).
        status = _manage(_("Open"), ManageAction.open, number)
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_manage(_("Preview"), ManageAction.preview, number), status],
            [
                _manage(_("Participants"), ManageAction.participants, number),
                _manage(_("Export CSV"), ManageAction.export, number),
            ],
            [
                _manage(_("Post an update"), ManageAction.update, number),
                _manage(_("Poster"), ManageAction.poster, number),
            ],
            [
                _manage(_("Edit"), ManageAction.edit, number),
                _manage(_("Add a translation"), ManageAction.add_translation, number),
            ],
            [InlineKeyboardButton(text=_("← All challenges"), callback_data=ListCb().pack())],
        ]
    )


def confirm_open_keyboard(challenge_id: int) -> InlineKeyboardMarkup:
    """«Yes» in the middle row: neither where «Open» sat on the card (first row) nor where
    «Open now» sat on the form's preview (last row), so that a double tap cannot confirm."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_manage(_("Preview"), ManageAction.preview, challenge_id)],
            [
                _manage(
                    _("Yes, open it and send the alerts"),
                    ManageAction.open_confirmed,
                    challenge_id,
                )
            ],
            [_manage(_("No, not now"), ManageAction.card, challenge_id)],
        ]
    )


def confirm_close_keyboard(challenge_id: int) -> InlineKeyboardMarkup:
    """«Yes» in the second row, away from where «Close» sat on the card (the first)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_manage(_("No, keep it open"), ManageAction.card, challenge_id)],
            [_manage(_("Yes, close the challenge"), ManageAction.close_confirmed, challenge_id)],
        ]
    )


def languages_keyboard(challenge: Challenge) -> InlineKeyboardMarkup:
    """The bot's languages, those the challenge has ticked (choosing one replaces it)."""
    buttons = [
        InlineKeyboardButton(
            text=ticked(name, code in challenge.texts),
            callback_data=TranslateCb(challenge_id=challenge.id, locale=code).pack(),
        )
        for code, name in LANGUAGE_NAMES.items()
    ]
    back = back_to_card_keyboard(challenge.id).inline_keyboard
    return InlineKeyboardMarkup(inline_keyboard=[buttons, *back])


def back_to_card_keyboard(challenge_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_manage(_("← Back to the challenge"), ManageAction.card, challenge_id)]]
    )


def participants_keyboard(challenge_id: int, page: int, pages: int) -> InlineKeyboardMarkup:
    turn = []
    if page > 0:
        turn.append(_manage("◀", ManageAction.participants, challenge_id, page - 1))
    if page + 1 < pages:
        turn.append(_manage("▶", ManageAction.participants, challenge_id, page + 1))
    back = back_to_card_keyboard(challenge_id).inline_keyboard
    return InlineKeyboardMarkup(inline_keyboard=[turn, *back] if turn else back)
