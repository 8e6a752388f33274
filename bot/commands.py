"""The command menu Telegram shows, registered in each language at start-up."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import LOCALES


def private_commands() -> list[BotCommand]:
    return [
        BotCommand(command="start", description=_("Join, or come back to the menu")),
        BotCommand(command="settings", description=_("Your profile and preferences")),
        BotCommand(command="language", description=_("Change the language")),
        BotCommand(command="help", description=_("What this bot is for")),
        BotCommand(command="privacy", description=_("How your data is used")),
        BotCommand(command="mydata", description=_("Everything we store about you")),
        BotCommand(command="forget", description=_("Erase your data")),
        BotCommand(command="cancel", description=_("Leave what you are doing")),
    ]


async def register_commands(bot: Bot, i18n: I18n) -> None:
    scope = BotCommandScopeAllPrivateChats()
    with i18n.context():
        for locale in LOCALES:
            with i18n.use_locale(locale):
                await bot.set_my_commands(private_commands(), scope=scope, language_code=locale)
        # For people whose Telegram language is none of ours.
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(private_commands(), scope=scope)
