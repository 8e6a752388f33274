"""/failed in the coordinators' group: the messages that could not be delivered, and why; and
the updates the bot set aside after failing to handle them."""

from __future__ import annotations

from aiogram import html
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import format_when
from handlers.bidi import isolate
from handlers.flow import Flow
from storage.outbox import failed_messages
from storage.updates import set_aside_updates

router = Flow("deliveries")


@router.message(Command("failed"))
async def failed(message: Message, session: AsyncSession, settings: Settings) -> None:
    await message.reply(await failed_text(session, settings))


async def failed_text(session: AsyncSession, settings: Settings) -> str:
    rows = await failed_messages(session, limit=20)
    if not rows:
        lines = [_("Every message has been delivered.")]
    else:
        lines = [_("<b>Messages that could not be delivered</b> (latest first):")]
    for row in rows:
        # Which chat and why; never the message's text.
        lines.append(
            _("• #{id}, to chat {chat}, {when}: {error}").format(
                id=row.id,
                chat=row.chat_id,
                when=format_when(row.created_at, settings.group_locale, settings.timezone),
                error=isolate(html.quote((row.last_error or "?")[:150]), settings.group_locale),
            )
        )
    # Updates the bot gave up on (bot/polling.py): what people did that had no effect.
    aside = await set_aside_updates(session, limit=10)
    if aside:
        lines += [
            "",
            _(
                "<b>What people did that could not be handled</b> (set aside after several "
                "tries, latest first):"
            ),
        ]
    for update in aside:
        lines.append(
            _("• #{id}, {when}: {error}").format(
                id=update.update_id,
                when=format_when(
                    update.failed_at or update.processed_at,
                    settings.group_locale,
                    settings.timezone,
                ),
                error=isolate(html.quote((update.error or "?")[:150]), settings.group_locale),
            )
        )
    return "\n".join(lines)
