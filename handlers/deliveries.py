"""/failed in the coordinators' group: the messages that could not be delivered, and why."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.coordinators import Coordinators
from bot.i18n import format_when
from handlers.coordination import sent_by_coordinator
from handlers.flow import Flow
from storage.outbox import failed_messages

router = Flow("deliveries")


@router.message(Command("failed"))
async def failed(
    message: Message,
    bot: Bot,
    coordinators: Coordinators,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if not await sent_by_coordinator(message, bot, coordinators):
        return
    rows = await failed_messages(session, limit=20)
    if not rows:
        await message.reply(_("Every message has been delivered."))
        return
    lines = [_("<b>Messages that could not be delivered</b> (latest first):")]
    for row in rows:
        # Which chat and why; never the message's text.
        lines.append(
            _("• #{id}, to chat {chat}, {when}: {error}").format(
                id=row.id,
                chat=row.chat_id,
                when=format_when(row.created_at, settings.group_locale, settings.timezone),
                error=html.quote((row.last_error or "?")[:150]),
            )
        )
    await message.reply("\n".join(lines))
