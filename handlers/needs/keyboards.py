from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.menu import MenuAction, MenuCb
from handlers.needs.callbacks import (
    NeedArrondissementCb,
    NeedField,
    NeedFieldCb,
    NeedStep,
    NeedStepCb,
    NeedThemeCb,
)
from handlers.profile.labels import arrondissement_button, arrondissement_label, theme_label
from handlers.ui import in_rows, ticked
from storage.models import Theme
from storage.users import ARRONDISSEMENTS


def _step_button(text: str, step: NeedStep) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=NeedStepCb(step=step).pack())


def theme_keyboard(
    themes: Iterable[Theme], chosen: str | None, locale: str
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=ticked(theme_label(theme, locale), theme.code == chosen),
            callback_data=NeedThemeCb(code=theme.code).pack(),
        )
        for theme in themes
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 2))


def confirm_arrondissement_keyboard(number: int) -> InlineKeyboardMarkup:
    """The person's own arrondissement in one press, or the full list."""
    yes = InlineKeyboardButton(
        text=_("Yes: {place}").format(place=arrondissement_label(number)),
        callback_data=NeedArrondissementCb(number=number).pack(),
    )
    other = _step_button(_("Another one"), NeedStep.other_arrondissement)
    return InlineKeyboardMarkup(inline_keyboard=[[yes], [other]])


def arrondissement_keyboard(chosen: int | None) -> InlineKeyboardMarkup:
    """Marseille's sixteen arrondissements: a need is always somewhere in the city."""
    buttons = [
        InlineKeyboardButton(
            text=ticked(arrondissement_button(n), n == chosen),
            callback_data=NeedArrondissementCb(number=n).pack(),
        )
        for n in ARRONDISSEMENTS
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 4))


def keep_description_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_step_button(_("Keep this description"), NeedStep.keep_description)]]
    )


def skip_location_keyboard(has_location: bool = False) -> InlineKeyboardMarkup:
    """«Skip»; with a location already attached (changing it from the review), keep it or
    go without."""
    if not has_location:
        return InlineKeyboardMarkup(
            inline_keyboard=[[_step_button(_("Skip"), NeedStep.skip_location)]]
        )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_step_button(_("Keep this location"), NeedStep.keep_location)],
            [_step_button(_("Remove the location"), NeedStep.skip_location)],
        ]
    )


def review_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_step_button(_("Send"), NeedStep.send)],
            [_step_button(_("Edit a field"), NeedStep.edit)],
            [_step_button(_("Cancel"), NeedStep.cancel)],
        ]
    )


def fields_keyboard() -> InlineKeyboardMarkup:
    def field(text: str, which: NeedField) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=NeedFieldCb(field=which).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                field(_("Theme"), NeedField.theme),
                field(_("Arrondissement"), NeedField.arrondissement),
            ],
            [
                field(_("Description"), NeedField.description),
                field(_("Location"), NeedField.location),
            ],
            [_step_button(_("← Back to the review"), NeedStep.review)],
        ]
    )


def cancel_keyboard() -> InlineKeyboardMarkup:
    """«Yes» on the first row: away from «Cancel» (the review's last), so that a double tap
    on «Cancel» does not throw the need away."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_step_button(_("Yes, discard this need"), NeedStep.cancel_sure)],
            [_step_button(_("No, back to the review"), NeedStep.review)],
        ]
    )


def reported_keyboard() -> InlineKeyboardMarkup:
    def menu(text: str, action: MenuAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=MenuCb(action=action).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [menu(_("See the needs map"), MenuAction.needs_map)],
            # «start» shows the menu to someone already onboarded.
            [menu(_("Back to the menu"), MenuAction.start)],
        ]
    )
