"""In the coordinators' group, a coordinator in a dialog (a rejection reason, changes asked, a
challenge's or a news' text, a survey's date…) who sends a command no handler takes — an answer
that starts with "/" — is told it was not taken as the answer, instead of silence; the dialog
keeps waiting. Last of the group's flows (handlers/__init__.py): every real command and every
dialog's /cancel come first."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.filters import Filter
from aiogram.types import Message

from handlers.coordination import command_not_taken
from handlers.filters import NotCommand
from handlers.flow import Flow

router = Flow("group-dialog-commands")


class InDialog(Filter):
    """The sender is answering one of their dialogs in this chat."""

    async def __call__(self, message: Message, raw_state: str | None = None, **_: Any) -> bool:
        return raw_state is not None


@router.message(~NotCommand(), InDialog())
async def command_in_a_dialog(message: Message, bot: Bot) -> None:
    command = (message.text or "").split(maxsplit=1)[0]
    _name, _at, addressee = command.partition("@")
    if addressee and addressee.casefold() != ((await bot.me()).username or "").casefold():
        return  # another bot's command, in a group where several bots read
    await message.reply(command_not_taken())
