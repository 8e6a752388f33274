"""Reporting a need: theme, arrondissement, description, optional location, then a review of
what was entered (review.py) — send it, change a field (and come back to the review), or cancel.
Per state: the valid answer first, then a catch-all that takes a typed text naming a button as
that button, or explains and asks the same question again."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.menu import MenuAction, MenuCb
from handlers.needs import review
from handlers.needs.callbacks import (
    NeedArrondissementCb,
    NeedStep,
    NeedStepCb,
    NeedThemeCb,
)
from handlers.needs.states import NeedReport
from handlers.needs.steps import (
    NeedDraft,
    ask,
    first_missing,
    place_step,
    step_after,
    step_before,
    step_of,
)
from handlers.needs.typed import (
    ANOTHER,
    named_arrondissement,
    named_location_button,
    named_review_button,
    named_theme,
    names_keep_description,
)
from handlers.profile.onboarding import resume
from handlers.profile.steps import next_onboarding_step
from handlers.texts import explain_rejection, stale_button
from storage.models import User
from storage.needs import clean_need_text, is_need_arrondissement
from storage.texts import TextRejected
from storage.themes import known_theme_codes

router = Flow("needs-report")


@router.callback_query(MenuCb.filter(F.action == MenuAction.report_need))
async def start_report(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User, settings: Settings
) -> None:
    """Asks the theme; someone who has not finished onboarding is taken back to it first."""
    if next_onboarding_step(user) is not None:
        await resume(query, state, session, user, settings)
        return
    await ask(
        query,
        NeedReport.choosing_theme,
        state=state,
        session=session,
        user=user,
        draft=NeedDraft(),
    )


async def resume_report(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Asks again the question the person stopped at (for /start after a pause)."""
    draft = await NeedDraft.load(state)
    step = step_of(await state.get_state()) or first_missing(user, draft)
    await ask(
        target,
        step or NeedReport.reviewing,
        state=state,
        session=session,
        user=user,
        draft=draft,
    )


@router.message(StateFilter(NeedReport), Command("back"))
async def back(message: Message, state: FSMContext, session: AsyncSession, user: User) -> None:
    """Asks the previous question again; everything entered stays in the draft."""
    step = step_of(await state.get_state())
    draft = await NeedDraft.load(state)
    assert step is not None
    previous = step_before(step, user, draft)
    if previous is None:
        await message.answer(_("This is the first step. Send /cancel to stop."))
        previous = step
    await ask(message, previous, state=state, session=session, user=user, draft=draft)


@router.callback_query(NeedReport.choosing_theme, NeedThemeCb.filter())
async def theme_chosen(
    query: CallbackQuery,
    callback_data: NeedThemeCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Stores the theme in the draft, then asks where."""
    if callback_data.code not in await known_theme_codes(session):
        callback_answer.text = stale_button()
        return
    await keep_theme(query, callback_data.code, state, session, user)


async def keep_theme(
    target: Message | CallbackQuery,
    code: str,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    draft = await NeedDraft.load(state)
    draft.theme = code
    following = NeedReport.reviewing if draft.editing else place_step(user, draft)
    await ask(target, following, state=state, session=session, user=user, draft=draft)


@router.callback_query(
    StateFilter(NeedReport.confirming_arrondissement, NeedReport.choosing_arrondissement),
    NeedArrondissementCb.filter(),
)
async def arrondissement_chosen(
    query: CallbackQuery,
    callback_data: NeedArrondissementCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Stores the arrondissement in the draft, then asks for the description."""
    if not is_need_arrondissement(callback_data.number):
        callback_answer.text = stale_button()
        return
    await keep_arrondissement(query, callback_data.number, state, session, user)


async def keep_arrondissement(
    target: Message | CallbackQuery,
    number: int,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    draft = await NeedDraft.load(state)
    draft.arrondissement = number
    following = step_after(NeedReport.choosing_arrondissement, draft)
    await ask(target, following, state=state, session=session, user=user, draft=draft)


@router.callback_query(
    NeedReport.confirming_arrondissement,
    NeedStepCb.filter(F.step == NeedStep.other_arrondissement),
)
async def other_arrondissement(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """Stores nothing: shows the list of arrondissements instead of the person's own."""
    draft = await NeedDraft.load(state)
    await ask(
        query,
        NeedReport.choosing_arrondissement,
        state=state,
        session=session,
        user=user,
        draft=draft,
    )


@router.message(NeedReport.typing_description, NotCommand())
async def description_typed(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """Stores the description in the draft, then asks for a location (or shows the review)."""
    draft = await NeedDraft.load(state)
    if (
        message.text is not None
        and draft.text is not None
        and names_keep_description(message.text)
    ):
        # «Keep this description», typed rather than pressed.
        following = step_after(NeedReport.typing_description, draft)
        await ask(message, following, state=state, session=session, user=user, draft=draft)
        return
    if message.text is None:
        await message.answer(_("Please type the description as a text message."))
    else:
        try:
            draft.text = clean_need_text(message.text)
        except TextRejected as rejected:
            await message.answer(explain_rejection(rejected))
        else:
            following = step_after(NeedReport.typing_description, draft)
            await ask(message, following, state=state, session=session, user=user, draft=draft)
            return
    await ask(
        message,
        NeedReport.typing_description,
        state=state,
        session=session,
        user=user,
        draft=draft,
    )


@router.callback_query(
    NeedReport.typing_description, NeedStepCb.filter(F.step == NeedStep.keep_description)
)
async def description_kept(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    draft = await NeedDraft.load(state)
    if draft.text is None:
        callback_answer.text = stale_button()
        return
    following = step_after(NeedReport.typing_description, draft)
    await ask(query, following, state=state, session=session, user=user, draft=draft)


@router.message(NeedReport.sharing_location, NotCommand())
async def location_sent(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """Keeps the location in the draft, then shows the review."""
    draft = await NeedDraft.load(state)
    typed = named_location_button(message.text, draft) if message.text else None
    if typed is not None:
        await location_answered(message, typed, state, session, user)
        return
    if message.location is None:
        await message.answer(
            _("Please attach a location (📎 → Location), or press “Skip” to go without.")
        )
        await ask(
            message,
            NeedReport.sharing_location,
            state=state,
            session=session,
            user=user,
            draft=draft,
        )
        return
    draft.located = True
    draft.latitude, draft.longitude = message.location.latitude, message.location.longitude
    await ask(message, NeedReport.reviewing, state=state, session=session, user=user, draft=draft)


@router.callback_query(
    NeedReport.sharing_location,
    NeedStepCb.filter(F.step.in_({NeedStep.skip_location, NeedStep.keep_location})),
)
async def location_skipped_or_kept(
    query: CallbackQuery,
    callback_data: NeedStepCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """«Skip» (or «Remove the location»): no location; «Keep this location»: as it was. Then
    the review."""
    if not await location_answered(query, callback_data.step, state, session, user):
        callback_answer.text = stale_button()


async def location_answered(
    target: Message | CallbackQuery,
    step: NeedStep,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> bool:
    """False for «Keep this location» without one (an old button)."""
    draft = await NeedDraft.load(state)
    if step is NeedStep.keep_location:
        if draft.latitude is None:
            return False
    else:
        draft.latitude = draft.longitude = None
    draft.located = True
    await ask(target, NeedReport.reviewing, state=state, session=session, user=user, draft=draft)
    return True


@router.message(StateFilter(NeedReport), NotCommand())
async def ask_again(
    message: Message, state: FSMContext, session: AsyncSession, user: User, settings: Settings
) -> None:
    """While buttons are expected: a text that names one does what it does ("13e",
    "logement", "envoyer"); anything else is told so, and the same question asked again; the
    draft is kept."""
    step = step_of(await state.get_state())
    assert step is not None
    if message.text and await typed_answer(message, step, state, session, user, settings):
        return
    await message.answer(_("Please answer with one of the buttons below."))
    draft = await NeedDraft.load(state)
    await ask(message, step, state=state, session=session, user=user, draft=draft)


async def typed_answer(
    message: Message,
    step: State,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> bool:
    """Does what the button a typed text names would do; False when it names none."""
    text = message.text or ""
    if step == NeedReport.choosing_theme:
        code = await named_theme(session, user, text)
        if code is not None:
            await keep_theme(message, code, state, session, user)
        return code is not None
    if step in (NeedReport.confirming_arrondissement, NeedReport.choosing_arrondissement):
        number = named_arrondissement(step, user, text)
        if number == ANOTHER:
            draft = await NeedDraft.load(state)
            await ask(
                message,
                NeedReport.choosing_arrondissement,
                state=state,
                session=session,
                user=user,
                draft=draft,
            )
        elif number is not None:
            await keep_arrondissement(message, number, state, session, user)
        return number is not None
    if step == NeedReport.reviewing:
        action = named_review_button(text)
        return action is not None and await review.review_action(
            message, action, state, session, user, settings
        )
    return False
