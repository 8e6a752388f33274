"""Coordinators decide on proposals from the group: Approve at once; Reject or Ask for changes
with a reason typed in the group. The card then says who decided and when."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import ngettext
from bot.replies import later
from handlers.draft import Draft
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.initiatives import notices
from handlers.initiatives.callbacks import ModerateCb
from handlers.initiatives.keyboards import moderation_keyboard
from handlers.initiatives.states import Moderation
from handlers.texts import explain_rejection, mention, stale_button
from storage import initiatives
from storage.initiatives import AlreadyDecided, Decision
from storage.models import Initiative, InitiativeStatus, User
from storage.outbox import CAPTION_LIMIT, cut_caption, remember_shown, utf16_len
from storage.privacy import initiative_subject
from storage.texts import TextRejected

# Coordinators only, by their router's gate (handlers/coordination.py). Buttons answer wherever
# they are pressed (a forged one is refused); commands and typed reasons only in the group.
log = logging.getLogger(__name__)

router = Flow("moderation")


def actor_name(query_or_message: CallbackQuery | Message) -> str:
    person = query_or_message.from_user
    return person.full_name if person else "?"


@dataclass
class ReasonDraft(Draft, key="moderation"):
    """A rejection or a request for changes, waiting for its reason; and the card it was
    pressed on, to close it then (Telegram cannot be asked for a message later: what the card
    says is kept)."""

    initiative_id: int = 0  # none: stale
    decision: str = Decision.reject.value
    card_chat_id: int = 0
    card_message_id: int = 0
    card_html: str = ""
    card_is_photo: bool = False


@router.callback_query(ModerateCb.filter())
async def decision_pressed(
    query: CallbackQuery,
    callback_data: ModerateCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Approve decides at once; Reject and Ask for changes first ask the reason."""
    initiative = await initiatives.get_initiative(session, callback_data.initiative_id)
    if initiative is None:
        callback_answer.text = _("This proposal no longer exists.")
        return
    if initiative.status is InitiativeStatus.withdrawn:
        await withdrawn(query, callback_answer)
        return
    if initiative.status is not InitiativeStatus.pending:
        await already_decided(query, callback_answer, initiative, settings)
        return
    if callback_data.decision is Decision.approve:
        await decide(
            query, callback_answer, i18n, session, settings, initiative.id, Decision.approve, None
        )
        return
    if not isinstance(query.message, Message):
        return
    await state.set_state(Moderation.typing_reason)
    await ReasonDraft(
        initiative_id=initiative.id,
        decision=callback_data.decision.value,
        card_chat_id=query.message.chat.id,
        card_message_id=query.message.message_id,
        card_html=query.message.html_text,
        card_is_photo=bool(query.message.photo),
    ).save(state)
    ask = (
        _("{name}, please send the reason for the rejection of {reference} in one message.")
        if callback_data.decision is Decision.reject
        else _("{name}, please send in one message the changes you ask for {reference}.")
    )
    # Named by a mention, with a reply asked of them only: their answer reaches the bot as a
    # reply even where it reads only replies (not an administrator of the group).
    name = mention(query.from_user.id, notices.quote(actor_name(query)))
    await query.message.answer(
        ask.format(name=name, reference=initiatives.reference(initiative))
        + "\n"
        + _("/cancel to give up."),
        reply_markup=ForceReply(selective=True),
    )


@router.message(Moderation.typing_reason, NotCommand())
async def reason_typed(
    message: Message,
    bot: Bot,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if message.text is None:
        await message.reply(_("Please type the reason as a text message."))
        return
    draft = await ReasonDraft.load(state)
    try:
        reason = initiatives.clean_reason(message.text)
    except TextRejected as rejected:
        await message.reply(explain_rejection(rejected))
        return
    await state.clear()
    try:
        initiative = await initiatives.decide(
            session,
            draft.initiative_id,
            Decision(draft.decision),
            actor_id=message.from_user.id if message.from_user else 0,
            actor_name=actor_name(message),
            reason=reason,
        )
    except LookupError:
        await message.reply(stale_button())
        return
    except AlreadyDecided as decided:
        if decided.initiative.status is InitiativeStatus.withdrawn:
            await message.reply(withdrawn_text())
            return
        await message.reply(
            _("Someone decided first: {line}").format(
                line=notices.decided_line(decided.initiative, settings.group_locale, settings)
            )
        )
        return
    await close_card(
        bot,
        draft.card_chat_id,
        draft.card_message_id,
        draft.card_html,
        draft.card_is_photo,
        initiative,
        settings,
    )
    await tell_author(session, i18n, initiative)
    await message.reply(_("Done: the author has been told."))


async def decide(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    initiative_id: int,
    decision: Decision,
    reason: str | None,
) -> None:
    try:
        initiative = await initiatives.decide(
            session,
            initiative_id,
            decision,
            actor_id=query.from_user.id,
            actor_name=actor_name(query),
            reason=reason,
        )
    except AlreadyDecided as decided:
        if decided.initiative.status is InitiativeStatus.withdrawn:
            await withdrawn(query, callback_answer)
        else:
            await already_decided(query, callback_answer, decided.initiative, settings)
        return
    if isinstance(query.message, Message):
        await close_pressed_card(query, query.message, initiative, settings)
    await tell_author(session, i18n, initiative)
    callback_answer.text = _("Done: the author has been told.")


def withdrawn_text() -> str:
    return _(
        "This proposal was withdrawn: its author erased their data. There is nothing left to "
        "decide, and the author cannot be told."
    )


async def withdrawn(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A card pressed after its author erased their data (an older copy, or one not yet
    rewritten): said so, and its buttons go."""
    callback_answer.text = withdrawn_text()
    callback_answer.show_alert = True
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest as error:
            log.info("withdrawn card not closed: %s", error.message)


async def already_decided(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    initiative: Initiative,
    settings: Settings,
) -> None:
    callback_answer.text = _("Already decided: {line}").format(
        line=notices.decided_line(initiative, settings.group_locale, settings, 100)
    )[:200]
    callback_answer.show_alert = True
    # An older copy of the card (another /pending): it now says the decision too.
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        try:
            await close_pressed_card(query, message, initiative, settings)
        except TelegramBadRequest as error:
            log.info("card of I-%s not closed: %s", initiative.id, error.message)


async def close_pressed_card(
    query: CallbackQuery, message: Message, initiative: Initiative, settings: Settings
) -> None:
    await close_card(
        query.bot,  # type: ignore[arg-type]
        message.chat.id,
        message.message_id,
        message.html_text,
        bool(message.photo),
        initiative,
        settings,
    )


async def close_card(
    bot: Bot,
    chat_id: int,
    message_id: int,
    card_html: str,
    is_photo: bool,
    initiative: Initiative,
    settings: Settings,
) -> None:
    """Adds who decided and when to the card and removes its buttons."""
    line = notices.decided_line(initiative, settings.group_locale, settings, 150)
    if is_photo:
        # A caption holds 1024 characters: the card gives way to the decision's line.
        card, _cut = cut_caption(card_html, CAPTION_LIMIT - utf16_len(line) - 2)
        await bot.edit_message_caption(
            chat_id=chat_id, message_id=message_id, caption=f"{card}\n\n{line}"
        )
    else:
        await bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=f"{card_html}\n\n{line}"
        )


async def tell_author(session: AsyncSession, i18n: I18n, initiative: Initiative) -> None:
    author = await session.get(User, initiative.proposer_id)
    if author is not None:
        await notices.decision_to_author(session, i18n, initiative, author)


@router.message(Command("pending"))
async def pending(
    message: Message,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await list_pending(message, session, sessionmaker, settings)


async def list_pending(
    message: Message,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """What waits for a decision, oldest first, each with its buttons, in the chat of `message`
    (a /pending, or the summary whose button asked), the «nothing» replying to it."""
    waiting, total = await initiatives.pending(session)
    if not waiting:
        await message.reply(_("Nothing is waiting for a decision."))
        return
    await message.answer(
        ngettext(
            "{count} proposal is waiting, oldest first:",
            "{count} proposals are waiting, oldest first:",
            total,
        ).format(count=total)
    )
    for initiative in waiting:
        author = await session.get(User, initiative.proposer_id)
        assert author is not None
        text = notices.moderation_text(initiative, author, settings.group_locale, 4096)
        markup = moderation_keyboard(initiative.id)
        await later(partial(show_pending, message, text, markup, initiative.id, sessionmaker))
    if total > len(waiting):
        await message.answer(
            _("…and {count} more: decide on these first, then send /pending again.").format(
                count=total - len(waiting)
            )
        )


async def show_pending(
    message: Message,
    text: str,
    markup: InlineKeyboardMarkup,
    initiative_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Sends one waiting proposal's card, then remembers where it was shown (without its text),
    so that it is rewritten like the posted cards if its author erases their data."""
    card = await message.answer(text, reply_markup=markup)
    async with sessionmaker.begin() as session:
        await remember_shown(
            session,
            chat_id=card.chat.id,
            message_id=card.message_id,
            subject=initiative_subject(initiative_id),
        )


@router.message(Command("cancel"), Moderation.typing_reason)
async def cancel_reason(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.reply(_("Cancelled: the proposal is still waiting."))
