"""The command menu Telegram shows, registered in each language at start-up."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import LOCALES

# Every command of the coordinators' group, the menu's and the ones reached from /stats.
COORDINATOR_COMMANDS = (
    "pending",
    "stats",
    "challenges",
    "new_challenge",
    "surveys",
    "export",
    "failed",
    "challenge_stats",
    "survey_results",
    "organisations",
    "gaps",
    "need",
    "partner",
)


def private_commands() -> list[BotCommand]:
    return [
        BotCommand(command="start", description=_("Join, or come back to the menu")),
        BotCommand(command="settings", description=_("Your profile and preferences")),
        BotCommand(command="language", description=_("Change the language")),
        BotCommand(command="help", description=_("What this bot is for")),
        BotCommand(command="privacy", description=_("How your data is used")),
        BotCommand(command="mydata", description=_("Everything we store about you")),
        BotCommand(command="forget", description=_("Erase your data")),
        BotCommand(command="stop", description=_("Stop alerts, invitations and news")),
        BotCommand(command="cancel", description=_("Leave what you are doing")),
    ]


def group_commands() -> list[BotCommand]:
    return [
        BotCommand(command="pending", description=_("Proposals waiting for a decision")),
        BotCommand(command="stats", description=_("Figures: today, week, month or dates")),
        BotCommand(command="challenges", description=_("Manage the challenges")),
        BotCommand(command="new_challenge", description=_("Create a challenge")),
        BotCommand(command="surveys", description=_("Manage the surveys")),
        BotCommand(command="export", description=_("Export the data as CSV files")),
        BotCommand(command="failed", description=_("Messages that could not be delivered")),
        BotCommand(command="organisations", description=_("Organisations to verify or merge")),
        BotCommand(command="gaps", description=_("Needs without answers, by place and theme")),
        BotCommand(command="need", description=_("Link a need to what answers it, or close it")),
        BotCommand(
            command="partner", description=_("List an initiative as a challenge's partner")
        ),
    ]


async def register_commands(bot: Bot, i18n: I18n, group_id: int | None, group_locale: str) -> None:
    """People's commands in each language; the coordinators' commands in their group only."""
    scope = BotCommandScopeAllPrivateChats()
    if group_id is not None:
        await register_group_commands(bot, i18n, group_id, group_locale)
    with i18n.context():
        for locale in LOCALES:
            with i18n.use_locale(locale):
                await bot.set_my_commands(private_commands(), scope=scope, language_code=locale)
        # For people whose Telegram language is none of ours.
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(private_commands(), scope=scope)


async def register_group_commands(bot: Bot, i18n: I18n, group_id: int, group_locale: str) -> None:
    with i18n.context(), i18n.use_locale(group_locale):
        await bot.set_my_commands(group_commands(), scope=BotCommandScopeChat(chat_id=group_id))
