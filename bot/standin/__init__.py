"""A local stand-in for Telegram's Bot API: the real bot over real HTTP, without Telegram."""

from bot.standin.html import TextError, format_text, parse_html, utf16_len
from bot.standin.server import Call, StandIn
from bot.standin.updates import (
    callback_update,
    chat_member,
    command_entities,
    make_group,
    make_user,
    message_update,
    my_chat_member_update,
    private_chat,
)

__all__ = [
    "Call",
    "StandIn",
    "TextError",
    "callback_update",
    "chat_member",
    "command_entities",
    "format_text",
    "make_group",
    "make_user",
    "message_update",
    "my_chat_member_update",
    "parse_html",
    "private_chat",
    "utf16_len",
]
