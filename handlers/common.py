"""/help and /cancel from anywhere, and what answers everything no flow expects."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import COORDINATOR_COMMANDS
from bot.config import Settings
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.menu import MenuAction, MenuCb, menu_keyboard, menu_text
from handlers.texts import stale_button
from handlers.ui import show
from storage.models import User
from storage.outbox import drop_pending
from storage.users import mark_unreachable

router = Flow("common")
# The coordinators' commands said in a private chat: for coordinators only
# (handlers/flow.py: coordinators_only), anyone else refused as in the group.
coordinators_commands = Flow("coordinators-commands")
fallback = Flow("fallback")


def help_text(settings: Settings) -> str:
    return "\n\n".join(
        [
            _(
                "<b>La Collective</b> is the City of Marseille's participation space: citizens, "
                "associations, companies and institutions map the city's needs, propose "
                "initiatives, join the city's challenges together and evaluate what they achieve."
            ),
            _(
                "Here you can:\n"
                "/start — join, or come back to the menu\n"
                "/settings — who you are, your arrondissement, your themes\n"
                "/language — change the language\n"
                "/privacy — how your data is used\n"
                "/mydata — everything we store about you\n"
                "/forget — erase your data\n"
                "/cancel — leave what you are doing"
            ),
            _(
                "Challenge alerts, survey invitations and news never reach you between 21:00 "
                "and 08:00. Send STOP (or /stop) at any time and they stop; /settings brings "
                "them back."
            ),
            _(
                "You can also take part without Telegram: on the city's website ({url}) and at "
                "the public meetings in your town hall."
            ).format(url=settings.programme_url),
        ]
    )


@router.message(Command("help"))
@router.callback_query(MenuCb.filter(F.action == MenuAction.help))
async def help_(event: Message | CallbackQuery, settings: Settings, user: User) -> None:
    if isinstance(event, CallbackQuery):
        await show(event, help_text(settings), menu_keyboard(user))
    else:
        await event.answer(help_text(settings), reply_markup=menu_keyboard(user))


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, user: User) -> None:
    """Leaves any dialog; what the dialog had already stored stays stored."""
    if await state.get_state() is None:
        await message.answer(_("There is nothing to cancel."), reply_markup=menu_keyboard(user))
        return
    await state.clear()
    await message.answer(
        _("Cancelled. You can start again whenever you wish.") + "\n\n" + menu_text(),
        reply_markup=menu_keyboard(user),
    )


@coordinators_commands.message(Command(*COORDINATOR_COMMANDS))
async def coordinators_command(message: Message) -> None:
    """The coordinators' commands work in their group only."""
    await message.answer(_("This command works in the coordinators' group."))


@router.my_chat_member()
async def membership_changed(
    event: ChatMemberUpdated, user: User | None, session: AsyncSession
) -> None:
    """Someone who blocks the bot gets nothing more until they come back: what was waiting
    for them is dropped now, rather than tried and refused."""
    if user is not None and event.chat.type == "private":
        if event.new_chat_member.status == "kicked":
            mark_unreachable(user)
            await drop_pending(session, user.id, "blocked the bot")


@fallback.message(~NotCommand())
async def unknown_command(message: Message) -> None:
    await message.answer(_("I do not know this command. Send /help to see what I can do."))


@fallback.message()
async def not_understood(message: Message, user: User) -> None:
    await message.answer(
        _("I did not understand. Please use the buttons, or send /help."),
        reply_markup=menu_keyboard(user),
    )


@fallback.callback_query()
async def stale(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """An old, foreign or forged button: nothing changes, and the person is told."""
    callback_answer.text = stale_button()
    callback_answer.show_alert = True
