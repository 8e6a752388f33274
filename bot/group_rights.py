"""Whether the bot can read what coordinators type in their group.

Bots are in privacy mode by default: in a group they receive only commands, replies to their
own messages and service messages — not the reason of a refusal or a challenge's texts typed
in a dialog. An administrator bot receives everything (no right is needed), as does a bot
whose privacy mode is off (@BotFather, /setprivacy). Checked at start: when neither holds,
the operator reads it in the log and the coordinators in their group.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from storage.models import utcnow
from storage.outbox import TextMessage, enqueue, said_lately

log = logging.getLogger(__name__)

READING_STATUSES = {"administrator", "creator"}
RIGHTS = "rights"  # the outbox kind of the notice
NOTICE_EVERY = timedelta(days=1)


async def reads_the_group(bot: Bot, group_id: int) -> bool:
    me = await bot.me()
    if me.can_read_all_group_messages:
        return True
    member = await bot.get_chat_member(group_id, me.id)
    return str(getattr(member.status, "value", member.status)) in READING_STATUSES


async def check_group_rights(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    i18n: I18n,
    group: int | None,
) -> bool:
    """True when the bot reads every message of the coordinators' group `group` (or has
    none)."""
    if group is None:
        return True
    try:
        if await reads_the_group(bot, group):
            return True
    except TelegramAPIError as error:
        log.warning("could not check the bot's place in group %s: %s", group, error.message)
        return False
    log.warning(
        "the bot is not an administrator of the coordinators' group %s: it reads only "
        "commands and replies there; make it an administrator (no right is needed) or turn "
        "its privacy mode off with @BotFather (/setprivacy)",
        group,
    )
    with i18n.context(), i18n.use_locale(settings.group_locale):
        text = _(
            "To read the answers you type in this group (the reason for a refusal, a "
            "challenge's texts, a date…), the bot must be one of its administrators. Please make "
            "it an administrator: it needs no particular right."
        )
    async with sessionmaker.begin() as session:
        # Once a day at most, however many workers start or restart.
        if not await said_lately(session, group, RIGHTS, utcnow() - NOTICE_EVERY):
            await enqueue(session, TextMessage(chat_id=group, text=text, kind=RIGHTS))
    return False
