"""Propose an initiative: theme, where, title, look-alikes, description, photo, location, then
a summary to check and edit before sending (whether coordinators may contact the person is
their profile's answer, shown there and changed from there). Per state: the valid answer
first, then a catch-all that takes a button typed rather than pressed, or explains and asks
again; /back returns to the previous step — or, while one answer is changed from the summary,
to the summary."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.initiatives import keyboards, notices
from handlers.initiatives.callbacks import (
    EditFieldCb,
    Field,
    ProposeAction,
    ProposeCb,
    ResubmitCb,
    SupportCb,
)
from handlers.initiatives.draft import ProposalDraft
from handlers.initiatives.questions import (
    ask,
    home_arrondissement,
    step_after,
    step_before,
    typed_options,
)
from handlers.initiatives.states import Propose
from handlers.menu import MenuAction, MenuCb, menu_keyboard
from handlers.profile.callbacks import ArrondissementCb, ContactCb, ThemeCb
from handlers.profile.onboarding import resume
from handlers.texts import explain_rejection, stale_button
from handlers.typed_choice import typed_choice
from handlers.ui import show
from storage import initiative_support, initiatives
from storage.initiatives import NotAllowed
from storage.models import InitiativeStatus, User
from storage.privacy import has_current_notice, set_contact_consent
from storage.texts import TextRejected
from storage.themes import known_theme_codes
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE, is_onboarded

router = Flow("propose")

EDITED_STEP = {
    Field.theme: Propose.choosing_theme,
    Field.arrondissement: Propose.choosing_arrondissement,
    Field.title_: Propose.typing_title,
    Field.description: Propose.typing_description,
    Field.photo: Propose.sending_photo,
    Field.location: Propose.sending_location,
    Field.contact: Propose.choosing_contact,
}


@router.callback_query(MenuCb.filter(F.action == MenuAction.propose))
async def start_proposal(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User, settings: Settings
) -> None:
    """Proposing needs the notice and a profile; the form starts with the theme."""
    if not has_current_notice(user) or not is_onboarded(user):
        await resume(query, state, session, user, settings)
        return
    await state.clear()
    draft = ProposalDraft()
    await ask(query, Propose.choosing_theme, state=state, session=session, user=user, draft=draft)


async def answered(
    target: Message | CallbackQuery,
    step: State,
    draft: ProposalDraft,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """After an answer is kept in the draft: the summary when editing, else the next step —
    with, after the title, the published initiatives that look like this one."""
    if draft.editing:
        await ask(target, Propose.reviewing, state=state, session=session, user=user, draft=draft)
        return
    if step == Propose.typing_title and draft.theme_code and draft.arrondissement is not None:
        look_alikes = await initiatives.similar(
            session, draft.theme_code, draft.arrondissement, draft.title or ""
        )
        if look_alikes:
            await state.set_state(Propose.reviewing_similar)
            await draft.save(state)
            await show(
                target,
                notices.look_alikes_text(look_alikes),
                keyboards.similar_keyboard(look_alikes),
            )
            return
    await ask(target, step_after(step), state=state, session=session, user=user, draft=draft)


@router.callback_query(Propose.choosing_theme, ThemeCb.filter())
async def theme_chosen(
    query: CallbackQuery | Message,
    callback_data: ThemeCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    if callback_data.code not in await known_theme_codes(session):
        callback_answer.text = stale_button()
        return
    draft = await ProposalDraft.load(state)
    draft.theme_code = callback_data.code
    await answered(query, Propose.choosing_theme, draft, state, session, user)


@router.callback_query(Propose.choosing_arrondissement, ProposeCb.filter())
async def own_arrondissement_or_another(
    query: CallbackQuery | Message,
    callback_data: ProposeCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Their own arrondissement in one tap, or the full choice."""
    draft = await ProposalDraft.load(state)
    if callback_data.action == ProposeAction.other_arrondissement:
        await ask(
            query,
            Propose.choosing_arrondissement,
            state=state,
            session=session,
            user=user,
            draft=draft,
            every_place=True,
        )
        return
    home = home_arrondissement(user)
    if callback_data.action != ProposeAction.keep_arrondissement or home is None:
        callback_answer.text = stale_button()
        return
    draft.arrondissement = home
    await answered(query, Propose.choosing_arrondissement, draft, state, session, user)


@router.callback_query(Propose.choosing_arrondissement, ArrondissementCb.filter())
async def arrondissement_chosen(
    query: CallbackQuery | Message,
    callback_data: ArrondissementCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    if callback_data.number not in (*ARRONDISSEMENTS, OUTSIDE_MARSEILLE):
        callback_answer.text = stale_button()
        return
    draft = await ProposalDraft.load(state)
    draft.arrondissement = callback_data.number
    await answered(query, Propose.choosing_arrondissement, draft, state, session, user)


@router.message(Propose.typing_title, NotCommand())
@router.message(Propose.typing_description, NotCommand())
async def text_typed(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """Keeps the title or the description once it passes the checks."""
    step = await current_step(state)
    draft = await ProposalDraft.load(state)
    if message.text is None:
        await ask_again(message, state, session, user)
        return
    try:
        if step == Propose.typing_title:
            draft.title = initiatives.clean_title(message.text)
        else:
            draft.description = initiatives.clean_description(message.text)
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        return
    await answered(message, step, draft, state, session, user)


@router.callback_query(Propose.reviewing_similar, SupportCb.filter())
async def support_instead(
    query: CallbackQuery | Message,
    callback_data: SupportCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """The person backs an existing initiative instead of duplicating it: its author and the
    coordinators are told, so that they can be put in touch."""
    initiative = await initiatives.get_initiative(session, callback_data.initiative_id)
    if initiative is None or initiative.status is not InitiativeStatus.approved:
        callback_answer.text = stale_button()
        return
    try:
        await initiative_support.support(session, initiative.id, user)
    except initiative_support.OwnInitiative:
        pass  # Their own look-alike: nothing to count, the proposal simply stops.
    await notices.support_offered(session, i18n, settings, coordinators_chat, initiative, user)
    await state.clear()
    await show(
        query,
        _(
            "Thank you! We have told the people behind “{title}” that you would like to support "
            "them; the city's coordinators will put you in touch."
        ).format(title=notices.quote(initiative.title)),
        menu_keyboard(user),
    )


@router.callback_query(Propose.reviewing_similar, ProposeCb.filter())
async def different_after_all(
    query: CallbackQuery | Message,
    callback_data: ProposeCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    if callback_data.action != ProposeAction.continue_anyway:
        callback_answer.text = stale_button()
        return
    draft = await ProposalDraft.load(state)
    await ask(
        query,
        step_after(Propose.typing_title),
        state=state,
        session=session,
        user=user,
        draft=draft,
    )


@router.message(Propose.sending_photo, NotCommand())
async def photo_sent(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    if not message.photo:
        if await typed_skip(message, state, session, user):
            return
        await message.answer(_("Please send a photo, or press “Skip”."))
        await ask_again(message, state, session, user, explained=True)
        return
    draft = await ProposalDraft.load(state)
    # The largest size Telegram made of it.
    draft.photo_file_id = message.photo[-1].file_id
    await answered(message, Propose.sending_photo, draft, state, session, user)


@router.message(Propose.sending_location, NotCommand())
async def location_sent(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    if message.location is None:
        if await typed_skip(message, state, session, user):
            return
        await message.answer(_("Please attach a location (📎 → Location), or press “Skip”."))
        await ask_again(message, state, session, user, explained=True)
        return
    draft = await ProposalDraft.load(state)
    draft.latitude = message.location.latitude
    draft.longitude = message.location.longitude
    await answered(message, Propose.sending_location, draft, state, session, user)


@router.callback_query(Propose.sending_photo, ProposeCb.filter(F.action == ProposeAction.skip))
@router.callback_query(Propose.sending_location, ProposeCb.filter(F.action == ProposeAction.skip))
async def skipped(
    query: CallbackQuery | Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """Skipping removes what the field had, so that «Skip» from the summary clears it."""
    step = await current_step(state)
    draft = await ProposalDraft.load(state)
    if step == Propose.sending_photo:
        draft.photo_file_id = None
    else:
        draft.latitude = draft.longitude = None
    await answered(query, step, draft, state, session, user)


@router.callback_query(Propose.choosing_contact, ContactCb.filter())
async def contact_chosen(
    query: CallbackQuery | Message,
    callback_data: ContactCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Changes the person's one answer about being contacted (their profile's: the rule is
    storage/privacy.py's), then back to the summary."""
    set_contact_consent(user, callback_data.share)
    draft = await ProposalDraft.load(state)
    await ask(query, Propose.reviewing, state=state, session=session, user=user, draft=draft)


@router.callback_query(Propose.reviewing, EditFieldCb.filter())
async def edit_field(
    query: CallbackQuery | Message,
    callback_data: EditFieldCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    draft = await ProposalDraft.load(state)
    draft.editing = True
    await ask(
        query,
        EDITED_STEP[callback_data.field],
        state=state,
        session=session,
        user=user,
        draft=draft,
    )


@router.callback_query(Propose.reviewing, ProposeCb.filter(F.action == ProposeAction.send))
async def send_proposal(
    query: CallbackQuery | Message,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Stores the proposal, puts its card in the coordinators' group (outbox, same
    transaction), and gives the person its reference."""
    draft = await ProposalDraft.load(state)
    try:
        initiative = await initiatives.submit(
            session, user, draft.proposal(), resubmitting=draft.resubmitting
        )
    except (NotAllowed, ValueError, TextRejected):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    await notices.moderation_card(session, i18n, settings, coordinators_chat, initiative, user)
    await state.clear()
    await show(
        query,
        _(
            "Thank you! Your proposal has been sent to the city's coordinators. Its reference "
            "is {reference}. You will be told of their decision here."
        ).format(reference=initiatives.reference(initiative)),
        menu_keyboard(user),
    )


@router.callback_query(ResubmitCb.filter())
async def revise(
    query: CallbackQuery,
    callback_data: ResubmitCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """From the «changes requested» notification: the summary of the proposal, to edit —
    below the notification, which keeps saying what the coordinators asked."""
    initiative = await initiatives.get_initiative(session, callback_data.initiative_id)
    if (
        initiative is None
        or initiative.proposer_id != user.id
        or initiative.status is not InitiativeStatus.changes_requested
    ):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    await state.clear()
    draft = ProposalDraft.revising(initiative)
    below = query.message if isinstance(query.message, Message) else query
    await ask(below, Propose.reviewing, state=state, session=session, user=user, draft=draft)


@router.message(Command("back"), StateFilter(Propose))
async def back(message: Message, state: FSMContext, session: AsyncSession, user: User) -> None:
    """The previous question; what was answered stays in the draft. While one answer is
    changed from the summary: back to the summary, that answer unchanged."""
    step = await current_step(state)
    draft = await ProposalDraft.load(state)
    if draft.editing and step != Propose.reviewing:
        await ask(message, Propose.reviewing, state=state, session=session, user=user, draft=draft)
        return
    previous = step_before(step)
    draft.editing = False
    if previous is None:
        await message.answer(_("This is the first step. Send /cancel to stop."))
        previous = step
    await ask(message, previous, state=state, session=session, user=user, draft=draft)


async def typed_skip(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> bool:
    """«Skip» typed rather than pressed, at the photo or the location: skipped."""
    skip = ProposeCb(action=ProposeAction.skip).pack()
    if typed_choice(message.text or "", [(_("Skip"), skip)]) is None:
        return False
    await skipped(message, state, session, user)
    return True


@router.message(StateFilter(Propose), NotCommand())
async def not_expected(
    message: Message,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """A text that names one of the step's buttons (handlers/typed_choice.py): as if it were
    pressed. Anything else: said, and asked again."""
    step = await current_step(state)
    draft = await ProposalDraft.load(state)
    options = await typed_options(step, session, user, draft)
    data = typed_choice(message.text or "", options) if message.text else None
    if data is None:
        await ask_again(message, state, session, user)
        return
    answer = CallbackAnswer(answered=False, disabled=True)
    if step == Propose.choosing_theme:
        await theme_chosen(message, ThemeCb.unpack(data), answer, state, session, user)
    elif step == Propose.choosing_arrondissement and data.startswith(f"{ProposeCb.__prefix__}:"):
        cb = ProposeCb.unpack(data)
        await own_arrondissement_or_another(message, cb, answer, state, session, user)
    elif step == Propose.choosing_arrondissement:
        cb_place = ArrondissementCb.unpack(data)
        await arrondissement_chosen(message, cb_place, answer, state, session, user)
    elif step == Propose.choosing_contact:
        await contact_chosen(message, ContactCb.unpack(data), state, session, user)
    elif step == Propose.reviewing and data.startswith(f"{EditFieldCb.__prefix__}:"):
        await edit_field(message, EditFieldCb.unpack(data), state, session, user)
    elif step == Propose.reviewing:
        await send_proposal(
            message, answer, i18n, state, session, user, settings, coordinators_chat
        )
    elif step == Propose.reviewing_similar and data.startswith(f"{SupportCb.__prefix__}:"):
        await support_instead(
            message,
            SupportCb.unpack(data),
            answer,
            i18n,
            state,
            session,
            user,
            settings,
            coordinators_chat,
        )
    elif step == Propose.reviewing_similar:
        cb = ProposeCb.unpack(data)
        await different_after_all(message, cb, answer, state, session, user)
    if answer.text:
        await message.answer(answer.text)


async def ask_again(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    explained: bool = False,
) -> None:
    """Anything else during the form: say what is expected, then the same question again."""
    step = await current_step(state)
    draft = await ProposalDraft.load(state)
    if not explained:
        if step in (Propose.typing_title, Propose.typing_description):
            await message.answer(_("Please type your answer as a text message."))
        else:
            await message.answer(_("Please answer with one of the buttons below."))
    if step == Propose.reviewing_similar:
        await answered(message, Propose.typing_title, draft, state, session, user)
        return
    await ask(message, step, state=state, session=session, user=user, draft=draft)


async def current_step(state: FSMContext) -> State:
    current = await state.get_state()
    return next(s for s in Propose.__states__ if s.state == current)


async def resume_proposal(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """After /start or a restart: the question the person was answering."""
    step = await current_step(state)
    draft = await ProposalDraft.load(state)
    if step == Propose.reviewing_similar:
        step = Propose.typing_title
    await ask(target, step, state=state, session=session, user=user, draft=draft)
