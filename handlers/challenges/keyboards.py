"""The citizens' keyboards on challenges, and how a kind of contribution or an activity reads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.challenges.callbacks import (
    AllyListCb,
    AssistAgreedCb,
    AssistArrondissementCb,
    AssistCb,
    AssistWishCb,
    ChallengeCb,
    ChallengeListCb,
    ChallengeThemesCb,
    ImpactCb,
    JoinActivityCb,
    JoinCb,
    JoinKindCb,
    JoinStep,
    JoinStepCb,
    LeaveCb,
    Place,
    QuizActivityCb,
    QuizArrondissementCb,
    QuizCb,
    QuizPlaceCb,
    QuizStep,
    QuizStepCb,
    QuizTimeCb,
    ShareCb,
)
from handlers.initiatives.cards import shorten
from handlers.menu import MenuAction, MenuCb
from handlers.profile.labels import arrondissement_button, arrondissement_label, theme_label
from handlers.ui import in_rows, ticked
from storage.challenges import CONTRIBUTION_KINDS, activity_label, challenge_text, is_open
from storage.models import Challenge, Participation, Theme
from storage.texts import N_
from storage.users import ARRONDISSEMENTS

PREVIOUS, NEXT = "◀", "▶"
BUTTON_TEXT = 60


# What one might write for each kind of contribution, shown as an example when asked.
KIND_EXAMPLES = {
    "time": N_("For instance: “two afternoons a month, and I have a car”."),
    "skills": N_("For instance: “I am an accountant: I can help draw up a budget”."),
    "premises": N_("For instance: “a room for twenty people, free on Sunday afternoons”."),
    "equipment": N_("For instance: “ten folding chairs and a video projector”."),
    "funding": N_("For instance: “500 euros for the bus tickets of the outings”."),
    "communication": N_("For instance: “a post on our page, followed by 3,000 people”."),
    "other": N_("For instance: “a hand with the snacks on the day of the party”."),
}


def kind_label(code: str) -> str:
    return _(CONTRIBUTION_KINDS[code]) if code in CONTRIBUTION_KINDS else code


def kind_example(code: str | None) -> str | None:
    """An example of what one brings with this kind of contribution, in the reader's
    language; None for a kind without one."""
    example = KIND_EXAMPLES.get(code or "")
    return _(example) if example else None


def time_label(choice: str) -> str:
    return {"s": _("1–2 h a month"), "m": _("3–5 h a month"), "l": _("6 h or more a month")}[
        choice
    ]


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=shorten(text, BUTTON_TEXT), callback_data=data)


def menu_button(text: str, action: MenuAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=MenuCb(action=action).pack())


def card_button(challenge_id: int, text: str | None = None) -> InlineKeyboardButton:
    return _button(
        text or _("← Back to the challenge"), ChallengeCb(challenge_id=challenge_id).pack()
    )


def list_keyboard(
    challenges: Sequence[Challenge],
    locale: str,
    theme: str,
    page: int,
    pages: int,
    way_out: InlineKeyboardButton,
) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                challenge_text(challenge, locale)[0],
                ChallengeCb(challenge_id=challenge.id, theme=theme, page=page).pack(),
            )
        ]
        for challenge in challenges
    ]
    nav = []
    if page > 0:
        nav.append(_button(PREVIOUS, ChallengeListCb(theme=theme, page=page - 1).pack()))
    if page < pages - 1:
        nav.append(_button(NEXT, ChallengeListCb(theme=theme, page=page + 1).pack()))
    if nav:
        rows.append(nav)
    if theme:
        rows.append([_button(_("All themes"), ChallengeListCb().pack())])
    rows.append([_button(_("Filter by theme"), ChallengeThemesCb().pack())])
    rows.append([way_out])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def themes_keyboard(themes: Sequence[Theme], locale: str) -> InlineKeyboardMarkup:
    buttons = [
        _button(theme_label(theme, locale), ChallengeListCb(theme=theme.code).pack())
        for theme in themes
    ]
    rows = in_rows(buttons, 2)
    rows.append([_button(_("All themes"), ChallengeListCb().pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_keyboard(
    challenge: Challenge,
    back: ChallengeListCb,
    *,
    mine: Participation | None,
    assists: bool,
    impact: bool = False,
    timezone: str,
) -> InlineKeyboardMarkup:
    """What one can do from the card: a closed challenge offers nothing but the way back."""
    rows = []
    if is_open(challenge, timezone=timezone):
        if mine is None:
            rows.append([_button(_("Join"), JoinCb(challenge_id=challenge.id).pack())])
        else:
            rows.append(
                [
                    _button(_("Change what I bring"), JoinCb(challenge_id=challenge.id).pack()),
                    _button(_("Leave"), LeaveCb(challenge_id=challenge.id).pack()),
                ]
            )
            rows.append(
                [
                    _button(
                        _("Organisations taking part"),
                        AllyListCb(challenge_id=challenge.id).pack(),
                    )
                ]
            )
        if challenge.activities:
            rows.append(
                [_button(_("Find where I can help"), QuizCb(challenge_id=challenge.id).pack())]
            )
        if assists:
            rows.append(
                [
                    _button(
                        _("Register someone I accompany"),
                        AssistCb(challenge_id=challenge.id).pack(),
                    )
                ]
            )
        rows.append([_button(_("Share"), ShareCb(challenge_id=challenge.id).pack())])
    if impact:
        rows.append([_button(_("Impact over time"), ImpactCb(challenge_id=challenge.id).pack())])
    rows.append([_button(_("← Back to the list"), back.pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def leave_keyboard(challenge_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("Yes, leave"), LeaveCb(challenge_id=challenge_id, sure=True).pack())],
            [card_button(challenge_id, _("No, stay"))],
        ]
    )


# -- joining


def kinds_keyboard(kinds: Sequence[str], chosen: str | None) -> InlineKeyboardMarkup:
    buttons = [
        _button(ticked(kind_label(kind), kind == chosen), JoinKindCb(kind=kind).pack())
        for kind in kinds
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 2))


def activities_keyboard(
    activities: Sequence[dict[str, Any]], locale: str, chosen: str | None
) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                ticked(activity_label(activity, locale), activity["code"] == chosen),
                JoinActivityCb(code=activity["code"]).pack(),
            )
        ]
        for activity in activities
    ]
    rows.append([_button(_("None in particular"), JoinActivityCb().pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def text_keyboard(can_keep: bool) -> InlineKeyboardMarkup:
    rows = []
    if can_keep:
        rows.append([_button(_("Keep what I wrote"), JoinStepCb(step=JoinStep.keep_text).pack())])
    rows.append([_button(_("Skip"), JoinStepCb(step=JoinStep.skip_text).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def joined_keyboard(challenge_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [card_button(challenge_id)],
            [menu_button(_("Back to the menu"), MenuAction.start)],
        ]
    )


# -- finding where to help


def place_keyboard() -> InlineKeyboardMarkup:
    def button(text: str, place: Place) -> InlineKeyboardButton:
        return _button(text, QuizPlaceCb(place=place).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("On site"), Place.on_site), button(_("Remotely"), Place.remote)],
            [button(_("Either"), Place.both)],
        ]
    )


def keep_arrondissement_keyboard(number: int) -> InlineKeyboardMarkup:
    place = arrondissement_label(number)
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    _("Yes: {place}").format(place=place),
                    QuizStepCb(step=QuizStep.keep_arrondissement).pack(),
                )
            ],
            [_button(_("Another one"), QuizStepCb(step=QuizStep.other_arrondissement).pack())],
        ]
    )


def quiz_arrondissement_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        _button(arrondissement_button(n), QuizArrondissementCb(number=n).pack())
        for n in ARRONDISSEMENTS
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 4))


def time_keyboard(choices: Collection[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(time_label(choice), QuizTimeCb(choice=choice).pack())] for choice in choices
        ]
    )


def wanted_keyboard(
    activities: Sequence[dict[str, Any]], locale: str, wanted: Collection[str]
) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                ticked(activity_label(activity, locale), activity["code"] in wanted),
                QuizActivityCb(code=activity["code"]).pack(),
            )
        ]
        for activity in activities
    ]
    rows.append([_button(_("Done"), QuizActivityCb().pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def matches_keyboard(
    challenge_id: int, matches: Sequence[dict[str, Any]], locale: str
) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                _("Join for this: {activity}").format(activity=activity_label(activity, locale)),
                JoinCb(challenge_id=challenge_id, activity=activity["code"]).pack(),
            )
        ]
        for activity in matches
    ]
    if not matches:
        rows.append([_button(_("Join"), JoinCb(challenge_id=challenge_id).pack())])
    rows.append([_button(_("Start again"), QuizCb(challenge_id=challenge_id).pack())])
    rows.append([card_button(challenge_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# -- registering someone one accompanies


def assist_arrondissement_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        _button(arrondissement_button(n), AssistArrondissementCb(number=n).pack())
        for n in ARRONDISSEMENTS
    ]
    return InlineKeyboardMarkup(inline_keyboard=in_rows(buttons, 4))


def wishes_keyboard(activities: Sequence[dict[str, Any]], locale: str) -> InlineKeyboardMarkup:
    rows = [
        [_button(activity_label(activity, locale), AssistWishCb(code=activity["code"]).pack())]
        for activity in activities
    ]
    rows.append([_button(_("Nothing in particular"), AssistWishCb().pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def agreement_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    _("This person agreed to be registered"), AssistAgreedCb(agreed=True).pack()
                )
            ],
            [_button(_("They have not agreed"), AssistAgreedCb(agreed=False).pack())],
        ]
    )


def registered_keyboard(challenge_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("Register another person"), AssistCb(challenge_id=challenge_id).pack())],
            [card_button(challenge_id)],
        ]
    )
