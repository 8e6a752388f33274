"""What Telegram refuses in a request that is otherwise well-formed: inline keyboards, bot
commands, chat actions, and text that does not parse or is too long."""

from __future__ import annotations

import re
from typing import Any

from bot.standin.errors import ApiError, bad
from bot.standin.html import TextError, format_text
from bot.standin.params import Params

_BUTTON_ACTIONS = (
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay".split()
)
_BUTTON_URL = re.compile(r"(https?://[\w-]+(\.[\w-]+)+(:\d+)?([/?#]\S*)?|tg://\S+)", re.I)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note".split()
)


def _check_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    actions = [action for action in _BUTTON_ACTIONS if action in button]
    if not str(button.get("text") or "").strip() or not actions:
        raise bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad("can't parse inline keyboard button: exactly one action field must be used")
    data = button.get("callback_data")
    if "callback_data" in button and not 1 <= len(str(data).encode()) <= 64:
        raise bad("BUTTON_DATA_INVALID")
    if "url" in button and not _BUTTON_URL.fullmatch(str(button["url"])):
        raise bad("BUTTON_URL_INVALID")


def inline_markup(params: Params) -> dict[str, Any] | None:
    """The inline keyboard to keep on the message, if any; refuses what Telegram refuses."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None  # reply keyboards and removals are not part of the Message
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
    buttons = [button for row in rows for button in row]
    if len(buttons) > 100:
        raise bad("reply markup is too long")
    for button in buttons:
        _check_button(button)
    return {"inline_keyboard": rows} if buttons else None


def bot_commands(value: Any) -> list[dict[str, Any]]:
    """The commands of setMyCommands as Telegram keeps them; refuses what Telegram refuses."""
    commands = value or []
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict):
            raise bad("can't parse BotCommand: BotCommand must be an Object")
        if not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise bad("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{k: c[k] for k in ("command", "description")} for c in commands]


def formatted(
    text: Any, parse_mode: Any, entities: Any, *, caption: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    try:
        return format_text(
            text, parse_mode, entities, limit=1024 if caption else 4096, caption=caption
        )
    except TextError as error:
        raise ApiError(400, str(error)) from None
