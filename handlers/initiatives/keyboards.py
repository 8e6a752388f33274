from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.initiatives.callbacks import (
    EditFieldCb,
    Field,
    GatherAction,
    GatherCb,
    HelpAnswerCb,
    HelpKindCb,
    ModerateCb,
    ProposeAction,
    ProposeCb,
    ResubmitCb,
    SupportCb,
)
from handlers.initiatives.cards import shorten
from handlers.profile.callbacks import ArrondissementCb, ThemeCb
from handlers.profile.labels import arrondissement_button, arrondissement_label, theme_label
from handlers.ui import in_rows, ticked
from storage.challenges import CONTRIBUTION_KINDS
from storage.initiative_support import Standing
from storage.initiatives import Decision
from storage.models import Initiative, Theme
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE


def _button(text: str, action: ProposeAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ProposeCb(action=action).pack())


def theme_choice_keyboard(
    themes: Sequence[Theme], locale: str, chosen: str | None = None
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=ticked(theme_label(theme, locale), theme.code == chosen),
            callback_data=ThemeCb(code=theme.code).pack(),
        )
        for theme in themes
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 2))


def home_place_keyboard(arrondissement: int) -> InlineKeyboardMarkup:
    """«Where does it take place?» answered by a place: the person's own arrondissement in one
    press, or somewhere else (the full list)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(arrondissement_label(arrondissement), ProposeAction.keep_arrondissement)],
            [_button(_("Somewhere else"), ProposeAction.other_arrondissement)],
        ]
    )


def place_keyboard(chosen: int | None = None) -> InlineKeyboardMarkup:
    """Marseille's sixteen arrondissements, then outside Marseille; the current one ticked."""

    def button(number: int, text: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=ticked(text, number == chosen),
            callback_data=ArrondissementCb(number=number).pack(),
        )

    rows = in_rows([button(n, arrondissement_button(n)) for n in ARRONDISSEMENTS], 4)
    rows.append([button(OUTSIDE_MARSEILLE, arrondissement_label(OUTSIDE_MARSEILLE))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def skip_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(_("Skip"), ProposeAction.skip)]])


def similar_keyboard(similar: Sequence[Initiative]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=_("Support “{title}”").format(title=shorten(initiative.title, 40)),
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
            [edit(_("Title"), Field.title_), edit(_("Description"), Field.description)],
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


def gather_rows(initiative_id: int, standing: Standing) -> list[list[InlineKeyboardButton]]:
    """What a card offers its reader: to its carriers, what carriers do; to anyone else,
    support, help and follow (each undone by pressing again)."""

    def button(text: str, action: GatherAction) -> InlineKeyboardButton:
        data = GatherCb(action=action, initiative_id=initiative_id).pack()
        return InlineKeyboardButton(text=text, callback_data=data)

    if standing.carrier:
        return [
            [
                button(_("Post news"), GatherAction.news),
                button(_("Offers of help"), GatherAction.offers),
            ],
            [
                button(_("Mark as completed"), GatherAction.complete),
                button(_("Withdraw"), GatherAction.withdraw),
            ],
            [
                button(_("Answers a need"), GatherAction.answers),
                button(_("Share"), GatherAction.share),
            ],
        ]
    support = _("✓ Supported (undo)") if standing.supporting else _("Support")
    follow = _("✓ Following (stop)") if standing.following else _("Follow")
    rows = [[button(support, GatherAction.support), button(follow, GatherAction.follow)]]
    if not standing.offered:
        rows.append([button(_("I want to help"), GatherAction.help)])
    rows.append([button(_("Share"), GatherAction.share)])
    return rows


def help_kinds_keyboard(initiative_id: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=_(label), callback_data=HelpKindCb(initiative_id=initiative_id, kind=code).pack()
        )
        for code, label in CONTRIBUTION_KINDS.items()
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 2))


def help_answer_keyboard(offer_id: int) -> InlineKeyboardMarkup:
    def button(text: str, accept: bool) -> InlineKeyboardButton:
        data = HelpAnswerCb(offer_id=offer_id, accept=accept).pack()
        return InlineKeyboardButton(text=text, callback_data=data)

    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("Accept"), True), button(_("Decline"), False)]]
    )
