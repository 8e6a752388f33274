"""A Bot API request read as Telegram reads it: typed parameters, and the files sent along.

aiogram sends a query string, a JSON body or a multipart form; in a form every value is a
string, so the fields Telegram types are decoded here by name.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.standin.errors import bad

Params = dict[str, Any]
Files = dict[str, tuple[str, bytes]]

_JSON_FIELDS = frozenset(
    "reply_markup commands scope link_preview_options entities caption_entities "
    "reply_parameters allowed_updates menu_button".split()
)
_INT_FIELDS = frozenset(
    "chat_id message_id user_id offset limit timeout reply_to_message_id message_thread_id "
    "cache_time max_connections".split()
)
_BOOL_FIELDS = frozenset(
    "disable_notification protect_content allow_sending_without_reply show_alert "
    "drop_pending_updates disable_content_type_detection has_spoiler allow_paid_broadcast "
    "show_caption_above_media disable_web_page_preview".split()
)


def decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value  # already typed: a JSON request body
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad(f"can't parse {name} JSON object") from None
    if name in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value  # "@channelusername"
    if name in _BOOL_FIELDS:
        return value.lower() == "true"
    return value


async def read_request(request: web.Request) -> tuple[Params, Files]:
    if request.method == "GET":
        raw: dict[str, Any] = dict(request.query)
    elif request.content_type == "application/json":
        raw = await request.json()
    else:
        raw = dict(await request.post())
    parts: Files = {}
    for key, value in list(raw.items()):
        if isinstance(value, web.FileField):
            with value.file:
                parts[key] = (value.filename, value.file.read())
            del raw[key]
    files: Files = {}
    for key, value in raw.items():
        # aiogram sends a file as a part of its own, referenced by "attach://<part>".
        if isinstance(value, str) and value.startswith("attach://"):
            part = parts.pop(value.removeprefix("attach://"), None)
            if part is not None:
                files[key] = part
    files.update(parts)
    return {key: decode(key, value) for key, value in raw.items()}, files
