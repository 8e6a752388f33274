"""Each step of reporting a need, asked the same way the first time, after /back and after a
wrong answer; and the review before it is sent, from which each field can be changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.draft import Draft
from handlers.needs import keyboards
from handlers.needs.states import NeedReport
from handlers.profile.labels import arrondissement_label, theme_label
from handlers.ui import show
from storage.models import Theme, User
from storage.needs import NEED_TEXT_MAX, NEED_TEXT_MIN, is_need_arrondissement
from storage.themes import list_themes

STEP_NUMBERS = {
    NeedReport.choosing_theme: 1,
    NeedReport.confirming_arrondissement: 2,
    NeedReport.choosing_arrondissement: 2,
    NeedReport.typing_description: 3,
    NeedReport.sharing_location: 4,
}
STEPS_TOTAL = 4


@dataclass
class NeedDraft(Draft, key="need"):
    """What the dialog keeps between two answers."""

    theme: str | None = None
    arrondissement: int | None = None
    text: str | None = None
    # The location step was answered: with a spot (latitude, longitude), or without one.
    located: bool = False
    latitude: float | None = None
    longitude: float | None = None
    # Came from the review to change one field: its answer goes back to the review.
    editing: bool = False

    # One field per step (handlers/draft.py): what /cancel would lose.
    answers: ClassVar[tuple[str, ...]] = ("theme", "arrondissement", "text", "latitude")


def home_arrondissement(user: User) -> int | None:
    """The profile's arrondissement, offered in one press when it is one of the city's."""
    return user.arrondissement if is_need_arrondissement(user.arrondissement) else None


def place_step(user: User, draft: NeedDraft) -> State:
    """The short question when the person's own arrondissement fits, the full list otherwise
    (and when changing it from the review)."""
    home = home_arrondissement(user)
    if home is not None and draft.arrondissement in (None, home) and not draft.editing:
        return NeedReport.confirming_arrondissement
    return NeedReport.choosing_arrondissement


def step_before(step: State, user: User, draft: NeedDraft) -> State | None:
    if draft.editing or step == NeedReport.reviewing:
        # Changing one field: back to the review; from the review, the last step.
        return NeedReport.reviewing if draft.editing else NeedReport.sharing_location
    if step in (NeedReport.confirming_arrondissement, NeedReport.choosing_arrondissement):
        if step == NeedReport.choosing_arrondissement and home_arrondissement(user) is not None:
            return NeedReport.confirming_arrondissement
        return NeedReport.choosing_theme
    if step == NeedReport.typing_description:
        return place_step(user, draft)
    if step == NeedReport.sharing_location:
        return NeedReport.typing_description
    return None


def first_missing(user: User, draft: NeedDraft) -> State | None:
    """The first step the draft does not answer yet; None when the need can be stored."""
    if draft.theme is None:
        return NeedReport.choosing_theme
    if draft.arrondissement is None:
        return place_step(user, draft)
    if draft.text is None:
        return NeedReport.typing_description
    if not draft.located:
        return NeedReport.sharing_location
    return None


def step_after(step: State, draft: NeedDraft) -> State:
    """The next question; the review once everything is answered or when changing a field."""
    if draft.editing or step == NeedReport.sharing_location:
        return NeedReport.reviewing
    if step in (NeedReport.confirming_arrondissement, NeedReport.choosing_arrondissement):
        return NeedReport.typing_description
    return NeedReport.sharing_location


def step_of(current: str | None) -> State | None:
    return next((s for s in NeedReport.__states__ if s.state == current), None)


async def ask(
    target: Message | CallbackQuery,
    step: State,
    *,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    draft: NeedDraft,
) -> None:
    """Puts the dialog on `step` and asks its question (or shows the review)."""
    if step == NeedReport.reviewing:
        draft.editing = False
    await state.set_state(step)
    await draft.save(state)
    if step == NeedReport.reviewing:
        text = await review_text(session, draft, user.locale)
        await show(target, text, keyboards.review_keyboard())
        return
    text, markup = await _question(step, session, user, draft)
    if draft.editing:
        # One field changed from the review: no step counter, and the way back is the review.
        head = _("Changing one field; the others stay as they are.")
        hint = _("/back: back to the review · /cancel: stop")
    else:
        head = _("Step {number} of {total}").format(number=STEP_NUMBERS[step], total=STEPS_TOTAL)
        hint = _("/back: previous step · /cancel: stop")
    await show(target, f"<i>{head}</i>\n\n{text}\n\n<i>{hint}</i>", markup)


async def review_text(session: AsyncSession, draft: NeedDraft, locale: str) -> str:
    """What the person entered, to check before it is sent."""
    theme = await session.get(Theme, draft.theme) if draft.theme is not None else None
    lines = [
        _("<b>Your need, before it is sent</b>"),
        "",
        _("Theme: {value}").format(value=html.quote(theme_label(theme, locale)) if theme else "—"),
        _("Where: {value}").format(
            value=html.quote(arrondissement_label(draft.arrondissement))
            if draft.arrondissement is not None
            else "—"
        ),
        f"<blockquote>{html.quote(draft.text or '')}</blockquote>",
        _("Location: {value}").format(
            value=_("attached, not published") if draft.latitude is not None else _("none")
        ),
        "",
        _("Send it as it is, or change a field first."),
    ]
    return "\n".join(lines)


async def chosen_so_far(session: AsyncSession, draft: NeedDraft, locale: str) -> str:
    """Theme and place already chosen, recalled above the later questions."""
    parts = []
    theme = await session.get(Theme, draft.theme) if draft.theme is not None else None
    if theme is not None:
        parts.append(html.quote(theme_label(theme, locale)))
    if draft.arrondissement is not None:
        parts.append(html.quote(arrondissement_label(draft.arrondissement)))
    return f"<b>{' · '.join(parts)}</b>\n\n" if parts else ""


async def _question(
    step: State, session: AsyncSession, user: User, draft: NeedDraft
) -> tuple[str, InlineKeyboardMarkup | None]:
    if step == NeedReport.choosing_theme:
        themes = await list_themes(session)
        return (
            _("Which theme is the need about?"),
            keyboards.theme_keyboard(themes, draft.theme, user.locale),
        )
    if step == NeedReport.confirming_arrondissement:
        home = home_arrondissement(user)
        assert home is not None
        return (
            _("Where is the need? In your arrondissement?"),
            keyboards.confirm_arrondissement_keyboard(home),
        )
    if step == NeedReport.choosing_arrondissement:
        return (
            _("In which arrondissement of Marseille is the need?"),
            keyboards.arrondissement_keyboard(draft.arrondissement),
        )
    recalled = await chosen_so_far(session, draft, user.locale)
    if step == NeedReport.typing_description:
        question = recalled + _(
            "Describe the need in a few words: what is missing, for whom ({low} to {high} "
            "characters)."
        ).format(low=NEED_TEXT_MIN, high=NEED_TEXT_MAX)
        warning = _(
            "Please write no names, and nothing about the health, religion or political "
            "opinions of yourself or anyone else."
        )
        question = f"{question}\n\n{warning}"
        if draft.text is None:
            return question, None
        kept = _("You wrote:") + f"\n<blockquote>{html.quote(draft.text)}</blockquote>\n"
        again = _("Send a new description, or keep this one.")
        return f"{question}\n\n{kept}{again}", keyboards.keep_description_keyboard()
    if step == NeedReport.sharing_location:
        question = recalled + _(
            "If you wish, show where the need is: attach a location (📎 → Location) and "
            "pick the spot on the map — not your home. It is not published: the public map "
            "only counts needs per arrondissement. Otherwise, press “Skip”."
        )
        has_location = draft.latitude is not None
        if has_location:
            question += "\n\n" + _(
                "A location is attached. Send another one, keep it, or remove it."
            )
        return question, keyboards.skip_location_keyboard(has_location)
    raise ValueError(step)
