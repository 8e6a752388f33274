"""The challenge form's questions, asked the same way every time, and its preview."""

from __future__ import annotations

import re
from datetime import date

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.challenges import coordination_keyboards as keyboards
from handlers.challenges.coordination import (
    ChallengeDraft,
    citizens_card,
    fit,
    no_activities_note,
)
from handlers.challenges.coordination_callbacks import FormField
from handlers.challenges.coordination_states import ChallengeForm
from handlers.ui import show
from storage import challenges
from storage.challenges import DESCRIPTION_LIMITS, TITLE_LIMITS
from storage.models import Challenge, ChallengeStatus
from storage.themes import list_themes

STEPS = [
    ChallengeForm.typing_title,
    ChallengeForm.typing_description,
    ChallengeForm.choosing_theme,
    ChallengeForm.choosing_arrondissements,
    ChallengeForm.typing_start,
    ChallengeForm.typing_end,
    ChallengeForm.choosing_kinds,
]
EDITED_STEP = {
    FormField.title_: ChallengeForm.typing_title,
    FormField.description: ChallengeForm.typing_description,
    FormField.theme: ChallengeForm.choosing_theme,
    FormField.arrondissements: ChallengeForm.choosing_arrondissements,
    FormField.dates: ChallengeForm.typing_start,
    FormField.kinds: ChallengeForm.choosing_kinds,
}


def field_step(field: str) -> State:
    """The step that asks again for a field storage refused (`texts.fr.title`, `ends_on`…)."""
    if field.endswith(".title") or field == "texts":
        return ChallengeForm.typing_title
    if field.endswith(".description"):
        return ChallengeForm.typing_description
    return {
        "theme_code": ChallengeForm.choosing_theme,
        "arrondissements": ChallengeForm.choosing_arrondissements,
        "starts_on": ChallengeForm.typing_start,
        "ends_on": ChallengeForm.typing_end,
        "contribution_kinds": ChallengeForm.choosing_kinds,
    }.get(field, ChallengeForm.previewing)


DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")


def parse_date(text: str) -> date | None:
    """DD/MM/YYYY (also with "." or "-"); None when it is not a date of the calendar."""
    match = DATE.match(text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def step_after(step: State) -> State:
    index = STEPS.index(step)
    return STEPS[index + 1] if index + 1 < len(STEPS) else ChallengeForm.previewing


def step_before(step: State) -> State | None:
    if step == ChallengeForm.previewing:
        return STEPS[-1]
    index = STEPS.index(step)
    return STEPS[index - 1] if index > 0 else None


async def current_step(state: FSMContext) -> State:
    current = await state.get_state()
    return next(s for s in ChallengeForm.__states__ if s.state == current)


async def ask(
    target: Message | CallbackQuery,
    step: State,
    *,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    draft: ChallengeDraft,
) -> None:
    """Puts the form on `step` and asks its question."""
    await state.set_state(step)
    await draft.save(state)
    hint = _("/back: previous step · /cancel: stop")
    markup: InlineKeyboardMarkup | None
    if step == ChallengeForm.previewing:
        text, markup = await _preview(session, settings, draft)
        await show(target, fit(f"{text}\n\n<i>{hint}</i>"), markup)
        return
    text, markup = await _question(step, session, settings, draft)
    counter = _("Step {number} of {total}").format(number=STEPS.index(step) + 1, total=len(STEPS))
    await show(target, f"<i>{counter}</i>\n\n{text}\n\n<i>{hint}</i>", markup)


async def _question(
    step: State, session: AsyncSession, settings: Settings, draft: ChallengeDraft
) -> tuple[str, InlineKeyboardMarkup | None]:
    if step == ChallengeForm.typing_title:
        return (
            _("What is the challenge's title? ({low} to {high} characters)").format(
                low=TITLE_LIMITS[0], high=TITLE_LIMITS[1]
            ),
            None,
        )
    if step == ChallengeForm.typing_description:
        return (
            _(
                "Describe the challenge for the people it calls on: what is at stake, for whom, "
                "what is expected ({low} to {high} characters)."
            ).format(low=DESCRIPTION_LIMITS[0], high=DESCRIPTION_LIMITS[1]),
            None,
        )
    if step == ChallengeForm.choosing_theme:
        themes = await list_themes(session)
        return (
            _("Which theme does the challenge concern?"),
            keyboards.theme_keyboard(themes, settings.group_locale),
        )
    if step == ChallengeForm.choosing_arrondissements:
        return (
            _(
                "Which arrondissements does it concern? Tick them, then press “Done”; or press "
                "“Whole city”."
            ),
            keyboards.arrondissements_keyboard(draft.arrondissements),
        )
    if step == ChallengeForm.typing_start:
        return (
            _("When does it start? Type the date as DD/MM/YYYY, or press “Skip”."),
            keyboards.skip_keyboard(),
        )
    if step == ChallengeForm.typing_end:
        return (
            _("When does it end? Type the date as DD/MM/YYYY, or press “Skip”."),
            keyboards.skip_keyboard(),
        )
    if step == ChallengeForm.choosing_kinds:
        return (
            _("Which kinds of contribution are sought? Tick them, then press “Done”."),
            keyboards.kinds_keyboard(draft.kinds),
        )
    raise ValueError(step)


async def _preview(
    session: AsyncSession, settings: Settings, draft: ChallengeDraft
) -> tuple[str, InlineKeyboardMarkup]:
    """The card as citizens will see it, and what coordinators can do with it."""
    existing = await existing_of(session, draft)
    locale = settings.group_locale
    shown = draft.as_challenge(existing, locale)
    people = 0
    if existing is not None:
        figures = await challenges.challenge_figures(session, existing.id)
        people = figures.participants + figures.assisted
    card = citizens_card(shown, locale, people, timezone=settings.timezone)
    lines = [_("<b>Preview</b>: citizens will see this card."), "", card]
    if not shown.activities:
        lines += ["", no_activities_note()]
    markup = keyboards.preview_keyboard(
        new=existing is None,
        can_open=existing is None or existing.status is not ChallengeStatus.open,
    )
    return "\n".join(lines), markup


async def existing_of(session: AsyncSession, draft: ChallengeDraft) -> Challenge | None:
    if draft.challenge_id is None:
        return None
    return await challenges.get_challenge(session, draft.challenge_id)


async def answered(
    target: Message | CallbackQuery,
    step: State,
    draft: ChallengeDraft,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """After an answer is kept: the preview when editing (the start date goes on to the end
    date, which depends on it), else the next step."""
    following = step_after(step)
    if draft.editing and step != ChallengeForm.typing_start:
        following = ChallengeForm.previewing
    await ask(target, following, state=state, session=session, settings=settings, draft=draft)
