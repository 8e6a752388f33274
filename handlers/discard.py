"""/cancel in the middle of a long draft: asked before it is thrown away.

A dialog whose draft has more than one step answered (`Draft.answers`, handlers/draft.py) is
not left at once: «Discard this draft?», yes or no. No goes on where the person was (the
dialog's resume point); yes leaves it as /cancel always does. Any other /cancel is
handlers/common.py's, which this flow comes before.
"""

from __future__ import annotations

from aiogram.filters import Command, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.draft import fingerprint, unsaved_steps
from handlers.flow import Flow, ResumePoints
from handlers.menu import menu_keyboard, menu_text
from handlers.texts import stale_button
from handlers.ui import show
from storage.models import User

router = Flow("discard")


class DiscardCb(CallbackData, prefix="dd"):
    # The dialog as it was when the question was asked (`fingerprint`): an old «Yes» does not
    # discard a later dialog, nor one that has gone on since.
    seen: str
    discard: bool


class LongDraft(Filter):
    """In a dialog whose draft has more than one step answered."""

    async def __call__(self, message: Message, state: FSMContext) -> bool:
        return await state.get_state() is not None and await unsaved_steps(state) > 1


def discard_keyboard(seen: str) -> InlineKeyboardMarkup:
    def button(text: str, discard: bool) -> InlineKeyboardButton:
        data = DiscardCb(seen=seen, discard=discard).pack()
        return InlineKeyboardButton(text=text, callback_data=data)

    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("Yes, discard it"), True), button(_("No, go on"), False)]]
    )


@router.message(Command("cancel"), LongDraft())
async def ask_first(message: Message, state: FSMContext) -> None:
    """Asks before throwing away what the person has written; the dialog stays as it is."""
    await message.answer(
        _("Discard this draft? What you have entered so far will be lost."),
        reply_markup=discard_keyboard(await fingerprint(state)),
    )


@router.callback_query(DiscardCb.filter())
async def decided(
    query: CallbackQuery,
    callback_data: DiscardCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """Yes: the dialog ends, as /cancel ends one. No: its question again."""
    current = await state.get_state()
    if current is None or (
        callback_data.discard and callback_data.seen != await fingerprint(state)
    ):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    if callback_data.discard:
        await state.clear()
        await show(
            query,
            _("Cancelled. You can start again whenever you wish.") + "\n\n" + menu_text(),
            menu_keyboard(user),
        )
        return
    resume = resume_points.dialogs.get(current.split(":")[0])
    if resume is None:
        await show(query, _("Your draft is kept: answer the last question to go on."))
        return
    await resume(query, state, session, user, settings)
