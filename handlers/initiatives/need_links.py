"""Needs answered by initiatives and challenges: a carrier says their initiative answers a need
(coordinators confirm or refuse it from a card in their group); coordinators link a need
themselves, or close it, with /need. Each time a need becomes answered, its author is told."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from handlers.draft import Draft
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.initiatives.callbacks import GatherAction, GatherCb
from handlers.initiatives.notices import quote
from handlers.menu import menu_keyboard
from handlers.needs.mine import tell_author
from handlers.ui import show
from storage import initiative_support as gather
from storage import need_answers
from storage.initiatives import reference
from storage.models import Challenge, User
from storage.needs import need_reference
from storage.outbox import TextMessage, enqueue

router = Flow("initiatives-need-links")
decisions = Flow("initiatives-need-links-decisions")


class LinkingNeed(StatesGroup):
    typing_reference = State()


@dataclass
class LinkDraft(Draft, key="need_link"):
    initiative_id: int = 0  # none: no initiative answers, as for a stale one


class NeedLinkCb(CallbackData, prefix="nlc"):
    need_id: int
    accept: bool


def usage() -> str:
    return _(
        "To link a need to what answers it: <code>/need N-12 I-7</code> (an initiative) or "
        "<code>/need N-12 C-3</code> (a challenge). To close it: <code>/need N-12 close</code>."
    )


@router.callback_query(GatherCb.filter(F.action == GatherAction.answers))
async def answers_pressed(
    query: CallbackQuery,
    callback_data: GatherCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """A carrier says their initiative answers a need: asks which one."""
    try:
        initiative = await gather.carried(session, callback_data.initiative_id, user)
    except gather.SupportError:
        callback_answer.text = _("Only the people who carry this initiative can do this.")
        callback_answer.show_alert = True
        return
    await state.set_state(LinkingNeed.typing_reference)
    await LinkDraft(initiative.id).save(state)
    await show(
        query,
        _(
            "Which need does “{title}” answer? Type its reference, as the needs map shows it "
            "(for example N-12)."
        ).format(title=quote(initiative.title)),
    )


@router.message(LinkingNeed.typing_reference, NotCommand())
async def need_typed(
    message: Message,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Records the link, waiting for confirmation, and puts it before the coordinators."""
    need_id = need_answers.parse_need(message.text)
    if need_id is None:
        await message.answer(_("Please type a need's reference, for example N-12."))
        return
    draft = await LinkDraft.load(state)
    await state.clear()
    try:
        need, initiative = await need_answers.propose_link(
            session, need_id, draft.initiative_id, user
        )
    except (need_answers.NeedError, gather.SupportError):
        await message.answer(
            _("No open need has this reference."), reply_markup=menu_keyboard(user)
        )
        return
    if coordinators_chat.id is not None:
        with i18n.use_locale(settings.group_locale):
            text = _(
                "The people who carry “{title}” ({reference}) say it answers the need "
                "{need}:\n“{text}”"
            ).format(
                title=quote(initiative.title),
                reference=reference(initiative),
                need=need_reference(need),
                text=quote(need.text, 300),
            )
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Confirm"),
                            callback_data=NeedLinkCb(need_id=need.id, accept=True).pack(),
                        ),
                        InlineKeyboardButton(
                            text=_("Refuse"),
                            callback_data=NeedLinkCb(need_id=need.id, accept=False).pack(),
                        ),
                    ]
                ]
            ).model_dump(exclude_none=True)
        await enqueue(
            session,
            TextMessage(chat_id=coordinators_chat.id, text=text, reply_markup=markup),
        )
    await message.answer(
        _("Thank you! The coordinators will confirm that “{title}” answers {need}.").format(
            title=quote(initiative.title), need=need_reference(need)
        ),
        reply_markup=menu_keyboard(user),
    )


@decisions.callback_query(NeedLinkCb.filter())
async def link_decided(
    query: CallbackQuery,
    callback_data: NeedLinkCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
) -> None:
    """A coordinator confirms (the need's author is told) or refuses a carrier's link."""
    try:
        need, initiative = await need_answers.confirm_link(
            session, callback_data.need_id, callback_data.accept
        )
    except need_answers.NeedError:
        callback_answer.text = _("This has already been decided.")
        callback_answer.show_alert = True
        return
    if callback_data.accept:
        await tell_author(session, i18n, need, initiative)
        done = _("✅ {need} is answered by {reference}.")
    else:
        done = _("❌ {need} is not linked to {reference}.")
    line = done.format(need=need_reference(need), reference=reference(initiative))
    message = query.message
    if isinstance(message, Message) and message.text is not None:
        # The card keeps what it said (which need, which initiative, who asked); its buttons
        # go, and the decision is added below.
        await show(query, f"{message.html_text}\n\n{line}")
    else:
        await show(query, line)


@decisions.message(Command("need"))
async def need_command(
    message: Message, command: CommandObject, i18n: I18n, session: AsyncSession
) -> None:
    """`/need N-12 I-7`, `/need N-12 C-3`: linked, its author told; `/need N-12 close`."""
    parts = (command.args or "").split()
    need_id = need_answers.parse_need(parts[0]) if len(parts) == 2 else None
    if need_id is None:
        await message.answer(usage())
        return
    try:
        if parts[1].lower() in ("close", "closed", "fermer", "clore"):
            need = await need_answers.close_need(session, need_id)
            await message.answer(_("{need} is closed.").format(need=need_reference(need)))
            return
        target = need_answers.parse_target(parts[1])
        if target is None:
            await message.answer(usage())
            return
        need, linked = await need_answers.link(session, need_id, *target)
    except need_answers.NeedError:
        await message.answer(_("No open need, published initiative or open challenge matches."))
        return
    await tell_author(session, i18n, need, linked)
    await message.answer(
        _("{need} is linked; its author is told.").format(need=need_reference(need))
    )


@decisions.message(Command("partner"))
async def partner_command(message: Message, command: CommandObject, session: AsyncSession) -> None:
    """`/partner C-3 I-7` (or the challenge's link instead of C-3): the initiative is listed on
    the challenge's card as a partner; `/partner C-3 I-7 remove` takes it off."""
    parts = (command.args or "").split()
    named = need_answers.parse_target(parts[0]) if len(parts) in (2, 3) else None
    initiative = need_answers.parse_target(parts[1]) if named else None
    removing = len(parts) == 3 and parts[2].lower() in ("remove", "retirer")
    challenge = (
        await need_answers.target_of(session, *named) if named and named[0] != "I" else None
    )
    if (
        named is None
        or initiative is None
        or initiative[0] != "I"
        or (len(parts) == 3 and not removing)
    ):
        await message.answer(
            _(
                "To list an initiative as a partner of a challenge: "
                "<code>/partner C-3 I-7</code>; to take it off: "
                "<code>/partner C-3 I-7 remove</code>."
            )
        )
        return
    if not isinstance(challenge, Challenge):
        await message.answer(_("No published initiative or visible challenge matches."))
        return
    initiative_id = int(initiative[1])
    names = {"challenge": f"C-{challenge.id}", "initiative": f"I-{initiative_id}"}
    if removing:
        await gather.remove_partner(session, challenge.id, initiative_id)
        await message.answer(
            _("{initiative} is no longer a partner of {challenge}.").format(**names)
        )
        return
    try:
        await gather.add_partner(session, challenge.id, initiative_id)
    except gather.SupportError:
        await message.answer(_("No published initiative or visible challenge matches."))
        return
    await message.answer(
        _("{initiative} is now listed as a partner on the card of {challenge}.").format(**names)
    )
