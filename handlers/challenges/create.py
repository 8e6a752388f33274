"""A challenge written in the coordinators' group: title, description, theme, arrondissements,
start and end dates, kinds of contribution sought, then a preview to check, edit, save as a draft
or open. The same form, filled in, changes a challenge (Edit on its card). Per state: the valid
answer first, then a catch-all that explains and asks again; /back returns to the previous step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from handlers.challenges import manage
from handlers.challenges.coordination import ChallengeDraft
from handlers.challenges.coordination_callbacks import (
    EditFieldCb,
    FormAction,
    FormCb,
    ManageAction,
    ManageCb,
)
from handlers.challenges.coordination_states import ChallengeForm
from handlers.challenges.create_steps import (
    EDITED_STEP,
    answered,
    ask,
    current_step,
    existing_of,
    field_step,
    parse_date,
    step_before,
)
from handlers.challenges.keyboards import kind_label
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.profile.labels import arrondissement_button, arrondissement_label, theme_label
from handlers.texts import explain_rejection, stale_button
from handlers.typed_choice import typed_choice, typed_choices
from storage import challenges
from storage.challenges import (
    CONTRIBUTION_KINDS,
    DESCRIPTION_LIMITS,
    TITLE_LIMITS,
    InvalidChallenge,
)
from storage.models import ChallengeStatus, utcnow
from storage.summary import local_date
from storage.texts import TextRejected, clean_text
from storage.themes import known_theme_codes, list_themes
from storage.users import ARRONDISSEMENTS

# Messages in the group only; the form's buttons answer wherever pressed (see `stale`).
router = Flow("challenge-form")


# -- starting


@router.message(Command("new_challenge"))
async def new_challenge(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """Starts an empty form with the title."""
    await state.clear()
    await ask(
        message,
        ChallengeForm.typing_title,
        state=state,
        session=session,
        settings=settings,
        draft=ChallengeDraft(),
    )


@router.callback_query(ManageCb.filter(F.action == ManageAction.edit))
async def edit_challenge(
    query: CallbackQuery,
    callback_data: ManageCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Edit on a challenge's card: the form filled in with it, on its preview."""
    challenge = await challenges.get_challenge(session, callback_data.challenge_id)
    # The form's answers are typed in the group: elsewhere they would not be heard.
    in_group = query.message is not None and query.message.chat.id == coordinators_chat.id
    if challenge is None or not in_group:
        callback_answer.text = stale_button()
        return
    await state.clear()
    draft = ChallengeDraft.of(challenge, settings.group_locale)
    await ask(
        query,
        ChallengeForm.previewing,
        state=state,
        session=session,
        settings=settings,
        draft=draft,
    )


@router.message(Command("cancel"), StateFilter(ChallengeForm))
async def cancel(message: Message, state: FSMContext) -> None:
    draft = await ChallengeDraft.load(state)
    await state.clear()
    if draft.challenge_id is None:
        await message.reply(_("Cancelled: nothing was saved."))
    else:
        await message.reply(_("Cancelled: the challenge is unchanged."))


@router.message(Command("back"), StateFilter(ChallengeForm))
async def back(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """The previous question; what was answered stays in the draft."""
    step = await current_step(state)
    previous = step_before(step)
    draft = await ChallengeDraft.load(state)
    draft.editing = False
    if previous is None:
        await message.answer(_("This is the first step. Send /cancel to stop."))
        previous = step
    await ask(message, previous, state=state, session=session, settings=settings, draft=draft)


# -- the answers


@router.message(ChallengeForm.typing_title, NotCommand())
@router.message(ChallengeForm.typing_description, NotCommand())
async def text_typed(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """Keeps the title or the description once it passes the checks."""
    if message.text is None:
        await ask_again(message, state, session, settings)
        return
    step = await current_step(state)
    draft = await ChallengeDraft.load(state)
    low, high = TITLE_LIMITS if step == ChallengeForm.typing_title else DESCRIPTION_LIMITS
    try:
        text = clean_text(message.text, min_length=low, max_length=high)
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        await ask(message, step, state=state, session=session, settings=settings, draft=draft)
        return
    if step == ChallengeForm.typing_title:
        draft.title = text
    else:
        draft.description = text
    await answered(message, step, draft, state, session, settings)


@router.callback_query(ChallengeForm.choosing_theme, FormCb.filter(F.action == FormAction.theme))
async def theme_chosen(
    query: CallbackQuery,
    callback_data: FormCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if callback_data.value not in await known_theme_codes(session):
        callback_answer.text = stale_button()
        return
    draft = await ChallengeDraft.load(state)
    draft.theme_code = callback_data.value
    await answered(query, ChallengeForm.choosing_theme, draft, state, session, settings)


@router.callback_query(ChallengeForm.choosing_arrondissements, FormCb.filter())
async def arrondissements_chosen(
    query: CallbackQuery,
    callback_data: FormCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """A number ticks or unticks it; «Whole city» clears them and goes on; «Done» goes on
    with at least one."""
    step = ChallengeForm.choosing_arrondissements
    draft = await ChallengeDraft.load(state)
    action = callback_data.action
    if action == FormAction.whole_city:
        draft.arrondissements = []
        await answered(query, step, draft, state, session, settings)
    elif action == FormAction.done:
        if not draft.arrondissements:
            callback_answer.text = _("Tick at least one arrondissement, or press “Whole city”.")
            callback_answer.show_alert = True
            return
        await answered(query, step, draft, state, session, settings)
    elif action == FormAction.arrondissement and callback_data.value.isdigit():
        number = int(callback_data.value)
        if number not in ARRONDISSEMENTS:
            callback_answer.text = stale_button()
            return
        chosen = set(draft.arrondissements) ^ {number}
        draft.arrondissements = sorted(chosen)
        await ask(query, step, state=state, session=session, settings=settings, draft=draft)
    else:
        callback_answer.text = stale_button()


@router.message(ChallengeForm.typing_start, NotCommand())
@router.message(ChallengeForm.typing_end, NotCommand())
async def date_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Keeps a start date, or an end date to come that does not come before the start."""
    if message.text is None:
        await ask_again(message, state, session, settings)
        return
    step = await current_step(state)
    draft = await ChallengeDraft.load(state)
    typed = parse_date(message.text)
    problem = None
    if typed is None:
        problem = _(
            "This is not a date. Please type it as DD/MM/YYYY (day, month, year), or press “Skip”."
        )
    elif step == ChallengeForm.typing_end and draft.start is not None and typed < draft.start:
        problem = _(
            "The end cannot come before the start ({start}). Please type another date, or "
            "press “Skip”."
        ).format(start=draft.start.strftime("%d/%m/%Y"))
    elif step == ChallengeForm.typing_end and typed < local_date(wall_clock(), settings.timezone):
        problem = _("This date has passed. Please type a date to come, or press “Skip”.")
    if problem is not None:
        await message.answer(problem)
        await ask(message, step, state=state, session=session, settings=settings, draft=draft)
        return
    assert typed is not None
    if step == ChallengeForm.typing_start:
        draft.starts_on = typed.isoformat()
    else:
        draft.ends_on = typed.isoformat()
    await answered(message, step, draft, state, session, settings)


@router.callback_query(ChallengeForm.typing_start, FormCb.filter(F.action == FormAction.skip))
@router.callback_query(ChallengeForm.typing_end, FormCb.filter(F.action == FormAction.skip))
async def date_skipped(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """No date: skipping clears what the field had, so that «Skip» from the preview does."""
    step = await current_step(state)
    draft = await ChallengeDraft.load(state)
    if step == ChallengeForm.typing_start:
        draft.starts_on = None
    else:
        draft.ends_on = None
    await answered(query, step, draft, state, session, settings)


@router.callback_query(ChallengeForm.choosing_kinds, FormCb.filter())
async def kinds_chosen(
    query: CallbackQuery,
    callback_data: FormCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """A kind ticks or unticks it; «Done» goes on to the preview with at least one."""
    step = ChallengeForm.choosing_kinds
    draft = await ChallengeDraft.load(state)
    if callback_data.action == FormAction.done:
        if not draft.kinds:
            callback_answer.text = _("Tick at least one kind of contribution.")
            callback_answer.show_alert = True
            return
        await answered(query, step, draft, state, session, settings)
    elif callback_data.action == FormAction.kind and callback_data.value in CONTRIBUTION_KINDS:
        chosen = set(draft.kinds) ^ {callback_data.value}
        draft.kinds = [code for code in CONTRIBUTION_KINDS if code in chosen]
        await ask(query, step, state=state, session=session, settings=settings, draft=draft)
    else:
        callback_answer.text = stale_button()


@router.callback_query(ChallengeForm.previewing, EditFieldCb.filter())
async def edit_field(
    query: CallbackQuery,
    callback_data: EditFieldCb,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    draft = await ChallengeDraft.load(state)
    draft.editing = True
    step = EDITED_STEP[callback_data.field]
    await ask(query, step, state=state, session=session, settings=settings, draft=draft)


@router.callback_query(
    ChallengeForm.previewing, FormCb.filter(F.action.in_({FormAction.save, FormAction.open}))
)
async def save(
    query: CallbackQuery,
    callback_data: FormCb,
    callback_answer: CallbackAnswer,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Stores the challenge (a new one as a draft); «Open now» then asks to confirm the
    opening, which alerts the people it concerns. Ends on the challenge's management card."""
    draft = await ChallengeDraft.load(state)
    existing = await existing_of(session, draft)
    if draft.challenge_id is not None and existing is None:
        await state.clear()
        callback_answer.text = stale_button()
        return
    values = draft.stored_fields(existing, settings.group_locale)
    try:
        if existing is None:
            challenge = await challenges.create_challenge(
                session, **values, activities=[], author_telegram_id=query.from_user.id
            )
        else:
            challenge = await challenges.update_challenge(
                session, existing.id, query.from_user.id, **values
            )
    except InvalidChallenge as invalid:
        step = field_step(invalid.field)
        callback_answer.text = _("This field needs another answer.")
        draft.editing = True
        await ask(query, step, state=state, session=session, settings=settings, draft=draft)
        return
    await state.clear()
    callback_answer.text = _("Saved.")
    if callback_data.action == FormAction.open and challenge.status is not ChallengeStatus.open:
        # Saved; opening alerts people, so it is confirmed first, as from the card.
        await manage.ask_to_open(
            query, callback_answer, bot, session, settings, challenge, wall_clock()
        )
        return
    await manage.show_card(query, bot, session, settings, challenge)


@router.message(StateFilter(ChallengeForm), NotCommand())
async def ask_again(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """Anything else during the form: a text that names the step's buttons does what they do
    (a theme; arrondissements or kinds, several at once: «3, 13e», then «done»); otherwise
    say what is expected, then the same question again."""
    step = await current_step(state)
    draft = await ChallengeDraft.load(state)
    if message.text and await typed_answer(message, step, draft, state, session, settings):
        return
    if step in (ChallengeForm.typing_title, ChallengeForm.typing_description):
        await message.answer(_("Please type your answer as a text message."))
    elif step in (ChallengeForm.typing_start, ChallengeForm.typing_end):
        await message.answer(_("Please type the date as DD/MM/YYYY, or press “Skip”."))
    else:
        await message.answer(_("Please answer with one of the buttons below."))
    await ask(message, step, state=state, session=session, settings=settings, draft=draft)


async def typed_answer(
    message: Message,
    step: State,
    draft: ChallengeDraft,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> bool:
    """Does what the buttons a typed text names would do, in the order typed; False when it
    names none. At the preview, the buttons are to be pressed."""
    text, locale = message.text or "", settings.group_locale
    if step == ChallengeForm.choosing_theme:
        themes = [(theme_label(t, locale), t.code) for t in await list_themes(session)]
        if (code := typed_choice(text, themes)) is None:
            return False
        draft.theme_code = code
        await answered(message, step, draft, state, session, settings)
        return True
    if step == ChallengeForm.choosing_arrondissements:
        options = [(arrondissement_button(n), str(n)) for n in ARRONDISSEMENTS]
        options += [(arrondissement_label(n), str(n)) for n in ARRONDISSEMENTS]
        options += [(_("Whole city"), FormAction.whole_city), (_("Done"), FormAction.done)]
    elif step == ChallengeForm.choosing_kinds:
        options = [(kind_label(code), code) for code in CONTRIBUTION_KINDS]
        options.append((_("Done"), FormAction.done))
    else:
        return False
    named = typed_choices(text, options)
    if named is None:
        return False
    for value in named:
        if value == FormAction.whole_city:
            draft.arrondissements = []
            await answered(message, step, draft, state, session, settings)
            return True
        if value == FormAction.done:
            chosen = draft.arrondissements if step != ChallengeForm.choosing_kinds else draft.kinds
            if not chosen:
                await message.answer(
                    _("Tick at least one arrondissement, or press “Whole city”.")
                    if step != ChallengeForm.choosing_kinds
                    else _("Tick at least one kind of contribution.")
                )
                break
            await answered(message, step, draft, state, session, settings)
            return True
        if step == ChallengeForm.choosing_kinds:
            picked = set(draft.kinds) ^ {value}
            draft.kinds = [code for code in CONTRIBUTION_KINDS if code in picked]
        else:
            draft.arrondissements = sorted(set(draft.arrondissements) ^ {int(value)})
    await ask(message, step, state=state, session=session, settings=settings, draft=draft)
    return True


@router.callback_query(FormCb.filter())
@router.callback_query(EditFieldCb.filter())
async def stale(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A form's button pressed out of its step, from an old message or forged."""
    callback_answer.text = stale_button()
