"""A local stand-in for Telegram's Bot API, over real HTTP.

The real bot talks to it as to Telegram. It records every call, keeps the chats as people would
see them, refuses what Telegram refuses (with Telegram's descriptions and status codes), and on
demand injects faults or enforces Telegram's rate limits.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import math
import mimetypes
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.standin import updates
from bot.standin.html import TextError, format_text

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
_BUTTON_ACTIONS = (
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay".split()
)
_BUTTON_URL = re.compile(r"(https?://[\w-]+(\.[\w-]+)+(:\d+)?([/?#]\S*)?|tg://\S+)", re.I)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note".split()
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
}


@dataclass
class Call:
    """One API call as the stand-in answered it."""

    method: str
    params: Params
    files: Files = field(default_factory=dict)
    ok: bool = True
    result: Any = None
    error: str | None = None
    status: int = 200
    at: float = 0.0  # time.monotonic() of the answer, so that rates can be measured


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _Fault:
    method: str | None
    chat_id: int | None
    status: int
    description: str | None
    retry_after: int | None
    times: int
    delay: float


class _Window:
    """At most `limit` events in any `seconds`-long sliding window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds, self.times = limit, seconds, deque[float]()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return 0.0 if len(self.times) < self.limit else self.times[0] + self.seconds - now


def _per_second(rate: float) -> tuple[int, float]:
    return (int(rate), 1.0) if rate >= 1 else (1, 1 / rate)


@dataclass
class _Limits:
    global_window: _Window
    private: tuple[int, float]
    group: tuple[int, float]
    chats: dict[int, _Window] = field(default_factory=dict)

    def windows(self, chat_id: Any) -> list[_Window]:
        if not isinstance(chat_id, int):
            return [self.global_window]
        limit, seconds = self.private if chat_id > 0 else self.group
        return [self.global_window, self.chats.setdefault(chat_id, _Window(limit, seconds))]


@dataclass
class _File:
    file_id: str
    path: str
    name: str
    content: bytes
    kind: str  # "document" or "photo"

    def as_object(self) -> dict[str, Any]:
        unique = {"file_id": self.file_id, "file_unique_id": self.file_id[-12:]}
        if self.kind == "photo":
            return {**unique, "width": 320, "height": 320, "file_size": len(self.content)}
        mime = mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        return {
            **unique,
            "file_name": self.name,
            "mime_type": mime,
            "file_size": len(self.content),
        }


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value  # already typed: a JSON request body
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None
    if name in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value  # "@channelusername"
    if name in _BOOL_FIELDS:
        return value.lower() == "true"
    return value


def _check_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    actions = [action for action in _BUTTON_ACTIONS if action in button]
    if not str(button.get("text") or "").strip() or not actions:
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise _bad("can't parse inline keyboard button: exactly one action field must be used")
    data = button.get("callback_data")
    if "callback_data" in button and not 1 <= len(str(data).encode()) <= 64:
        raise _bad("BUTTON_DATA_INVALID")
    if "url" in button and not _BUTTON_URL.fullmatch(str(button["url"])):
        raise _bad("BUTTON_URL_INVALID")


def _inline_markup(params: Params) -> dict[str, Any] | None:
    """The inline keyboard to keep on the message, if any; refuses what Telegram refuses."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None  # reply keyboards and removals are not part of the Message
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
    buttons = [button for row in rows for button in row]
    if len(buttons) > 100:
        raise _bad("reply markup is too long")
    for button in buttons:
        _check_button(button)
    return {"inline_keyboard": rows} if buttons else None


def _formatted(
    text: Any, parse_mode: Any, entities: Any, *, caption: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    try:
        return format_text(
            text, parse_mode, entities, limit=1024 if caption else 4096, caption=caption
        )
    except TextError as error:
        raise ApiError(400, str(error)) from None


class StandIn:
    """Telegram's Bot API for one bot, on a local port. See the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_id: int | None = None,
        bot_username: str = "collective_test_bot",
        bot_first_name: str = "La Collective",
    ) -> None:
        self.token = token
        prefix = token.partition(":")[0]
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 1
        self.bot_username, self.bot_first_name = bot_username, bot_first_name
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._stopping = asyncio.Event()
        self._wakeup = asyncio.Event()
        self._handlers: dict[str, tuple[str, Callable[[Params, Files], Any]]] = {
            name.lower(): (name, getattr(self, f"_{name}"))
            for name in (
                "getMe getUpdates setWebhook deleteWebhook getWebhookInfo logOut close "
                "sendMessage editMessageText editMessageReplyMarkup editMessageCaption "
                "deleteMessage answerCallbackQuery sendDocument sendPhoto sendChatAction "
                "setMyCommands deleteMyCommands getMyCommands setChatMenuButton "
                "getChatMenuButton getChatMember getChat getFile"
            ).split()
        }
        self.reset()

    def reset(self) -> None:
        """Forgets everything that happened: calls, chats, messages, faults, limits, files."""
        self.calls: list[Call] = []
        self.violations = 0
        self._updates: list[dict[str, Any]] = []
        self._last_update_id = 0
        self._chats: dict[int, dict[str, Any]] = {}
        self._users_seen: set[int] = set()
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._message_ids: dict[int, int] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._limits: _Limits | None = None
        self._queries: set[str] = set()
        self._query_count = 0
        self._files: dict[str, _File] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._webhook = ""

    # -- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._serve_file)
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_port = self._runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        # Long polls and injected delays end now, rather than holding the shutdown.
        self._stopping.set()
        self._wakeup.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the stand-in is not started")
        return self._base_url

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # -- what happened

    def calls_of(self, method: str, include_failed: bool = False) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.ok or include_failed)]

    def clear_calls(self) -> None:
        self.calls.clear()

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages of that chat as they now read, from the bot and from people."""
        return copy.deepcopy(list(self._messages.get(chat_id, {}).values()))

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return copy.deepcopy(self._messages.get(chat_id, {}).get(message_id))

    # -- the world the bot sees

    def add_chat(self, chat: dict[str, Any], *, started: bool = True) -> None:
        """Makes a chat known. A private chat not `started` is a person seen only in groups:
        the bot may not write to them first."""
        if chat["type"] == "private":
            self._users_seen.add(chat["id"])
            if not started:
                return
        self._chats.setdefault(chat["id"], {}).update(chat)

    def set_chat_member(self, chat_id: int, user_id: int, status: str) -> None:
        if chat_id < 0 and chat_id not in self._chats:
            self.add_chat(updates.make_group(chat_id))
        self._members[(chat_id, user_id)] = status

    def block(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def store_file(
        self, content: bytes, filename: str = "file.bin", *, photo: bool = False
    ) -> dict[str, Any]:
        """Keeps a file as if a person had sent it; returns its Document (or PhotoSize)."""
        return self._keep_file(content, filename, "photo" if photo else "document").as_object()

    def inject(
        self,
        method: str | None = None,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` matching calls get this answer; status 0 only delays them."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(
            _Fault(method, chat_id, status, description, retry_after, times, delay)
        )

    def enforce_limits(
        self,
        global_per_second: float = 30,
        private_per_second: float = 1,
        group_per_minute: int = 20,
    ) -> None:
        self._limits = _Limits(
            _Window(*_per_second(global_per_second)),
            _per_second(private_per_second),
            (group_per_minute, 60.0),
        )

    def disable_limits(self) -> None:
        self._limits = None

    # -- updates

    def new_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def push_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def store_message(self, message: dict[str, Any]) -> None:
        chat_messages = self._messages.setdefault(message["chat"]["id"], {})
        chat_messages[message["message_id"]] = copy.deepcopy(message)

    def open_callback_query(self) -> str:
        self._query_count += 1
        query_id = str(4_000_000_000_000 + self._query_count)
        self._queries.add(query_id)
        return query_id

    def make_user(
        self, user_id: int, first_name: str = "Test", language_code: str | None = "fr"
    ) -> dict[str, Any]:
        return updates.make_user(user_id, first_name, language_code)

    def make_group(self, chat_id: int, title: str = "Coordinators") -> dict[str, Any]:
        return updates.make_group(chat_id, title)

    def message_update(
        self,
        user: dict[str, Any],
        text: str | None = None,
        *,
        chat: dict[str, Any] | None = None,
        **message_fields: Any,
    ) -> dict[str, Any]:
        return updates.message_update(self, user, text, chat=chat, **message_fields)

    def callback_update(
        self, user: dict[str, Any], message: dict[str, Any], data: str
    ) -> dict[str, Any]:
        return updates.callback_update(self, user, message, data)

    def my_chat_member_update(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        return updates.my_chat_member_update(self, user, status)

    # -- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        method, handler = self._handlers.get(name.lower(), (name, None))
        params: Params = {}
        files: Files = {}
        windows: list[_Window] = []
        try:
            params, files = await self._read(request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if handler is None:
                raise ApiError(404, "Not Found")
            await self._apply_fault(method, params)
            windows = self._check_limits(method, params)
            result = handler(params, files)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.status,
                "description": error.description,
            }
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            call = Call(method, params, files, False, None, error.description, error.status)
        else:
            now = time.monotonic()
            for window in windows:
                window.times.append(now)
            body = {"ok": True, "result": result}
            call = Call(method, params, files, True, copy.deepcopy(result))
        call.at = time.monotonic()
        self.calls.append(call)
        return web.json_response(body, status=call.status)

    async def _read(self, request: web.Request) -> tuple[Params, Files]:
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
        return {key: _decode(key, value) for key, value in raw.items()}, files

    async def _serve_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        found = [f for f in self._files.values() if f.path == path]
        if request.match_info["token"] != self.token or not found:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=found[0].content, content_type="application/octet-stream")

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _apply_fault(self, method: str, params: Params) -> None:
        for fault in self._faults:
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            if fault.delay > 0:
                await self._pause(fault.delay)
            if fault.status:
                if fault.description:
                    description = fault.description
                elif fault.status == 429:
                    description = f"Too Many Requests: retry after {fault.retry_after}"
                else:
                    description = _DESCRIPTIONS.get(fault.status) or _phrase(fault.status)
                raise ApiError(fault.status, description, fault.retry_after)
            return

    def _check_limits(self, method: str, params: Params) -> list[_Window]:
        """The windows this call counts in; 429 and a violation if one of them is full."""
        if self._limits is None or not method.startswith("send") or method == "sendChatAction":
            return []
        windows = self._limits.windows(params.get("chat_id"))
        now = time.monotonic()
        wait = max(window.wait(now) for window in windows)
        if wait > 0:
            self.violations += 1
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        return windows

    # -- helpers of the methods

    def _chat(self, params: Params, *, writing: bool = True) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            named = [c for c in self._chats.values() if f"@{c.get('username')}" == chat_id]
            chat_id = named[0]["id"] if named else chat_id
        if writing and chat_id in self._blocked:
            if isinstance(chat_id, int) and chat_id < 0:
                raise ApiError(403, "Forbidden: bot was kicked from the group chat")
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self._chats:
            return self._chats[chat_id]
        if writing and chat_id in self._users_seen:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise _bad("chat not found")

    def _reply_to(self, params: Params, chat_id: int) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        message = self._messages.get(chat_id, {}).get(message_id)
        lenient = reply.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply")
        )
        if message is None and not lenient:
            raise _bad("message to be replied not found")
        return {k: v for k, v in (message or {}).items() if k != "reply_to_message"} or None

    def _post(self, chat: dict[str, Any], params: Params, content: dict[str, Any]) -> Any:
        """A new message from the bot in that chat; its Message as Telegram returns it."""
        # Checked before a message id is taken: a refused message leaves no gap.
        reply, markup = self._reply_to(params, chat["id"]), _inline_markup(params)
        message = {
            "message_id": self.next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "reply_to_message": reply,
            "reply_markup": markup,
            **content,
        }
        message = {k: v for k, v in message.items() if v not in (None, [], "")}
        self.store_message(message)
        return copy.deepcopy(message)

    def _editable(self, params: Params) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat(params)
        message = self._messages.get(chat["id"], {}).get(params.get("message_id"))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return message

    def _edit(self, message: dict[str, Any], changes: dict[str, Any]) -> Any:
        if all((message.get(k) or None) == (v or None) for k, v in changes.items()):
            raise _bad(_NOT_MODIFIED)
        for key, value in changes.items():
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _keep_file(self, content: bytes, name: str, kind: str) -> _File:
        number = len(self._files) + 1
        file_id = f"{kind[:3].upper()}{self.bot_id}-{number:06d}-{secrets.token_hex(6)}"
        if kind == "photo":
            path = f"photos/file_{number}.jpg"
        else:
            suffix = f".{name.rsplit('.', 1)[1]}" if "." in name else ""
            path = f"documents/file_{number}{suffix}"
        self._files[file_id] = stored = _File(file_id, path, name, content, kind)
        return stored

    def _input_file(self, params: Params, files: Files, kind: str) -> _File:
        if kind in files:
            name, content = files[kind]
            if not content:
                raise _bad("file must be non-empty")
            return self._keep_file(content, name, kind)
        value = params.get(kind)
        if not value:
            raise _bad(f"there is no {kind} in the request")
        if str(value).startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        stored = self._files.get(str(value))
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad("type of file mismatch")
        return stored

    # -- the methods, as Telegram answers them

    def _getMe(self, params: Params, files: Files) -> Any:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False}

    async def _getUpdates(self, params: Params, files: Files) -> Any:
        if self._webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit = params.get("offset") or 0, params.get("limit") or 100
        # An offset confirms every update before it; a negative one keeps only the last ones.
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(params.get("timeout") or 0, 0)
        while not self._updates and not self._stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                break
        return copy.deepcopy(self._updates[: max(1, min(limit, 100))])

    def _setWebhook(self, params: Params, files: Files) -> Any:
        self._webhook = str(params.get("url") or "")
        return True

    def _deleteWebhook(self, params: Params, files: Files) -> Any:
        self._webhook = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _getWebhookInfo(self, params: Params, files: Files) -> Any:
        pending = len(self._updates)
        return {
            "url": self._webhook,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }

    def _logOut(self, params: Params, files: Files) -> Any:
        return True

    _close = _logOut

    def _sendMessage(self, params: Params, files: Files) -> Any:
        chat = self._chat(params)
        text, entities = _formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        return self._post(chat, params, {"text": text, "entities": entities})

    def _editMessageText(self, params: Params, files: Files) -> Any:
        message = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = _formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        changes = {"text": text, "entities": entities, "reply_markup": _inline_markup(params)}
        return self._edit(message, changes)

    def _editMessageReplyMarkup(self, params: Params, files: Files) -> Any:
        return self._edit(self._editable(params), {"reply_markup": _inline_markup(params)})

    def _editMessageCaption(self, params: Params, files: Files) -> Any:
        message = self._editable(params)
        if "text" in message:
            raise _bad("there is no caption in the message to edit")
        caption, entities = _formatted(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
            caption=True,
        )  # fmt: skip
        changes = {"caption": caption, "caption_entities": entities}
        return self._edit(message, {**changes, "reply_markup": _inline_markup(params)})

    def _deleteMessage(self, params: Params, files: Files) -> Any:
        chat = self._chat(params, writing=False)
        if self._messages.get(chat["id"], {}).pop(params.get("message_id"), None) is None:
            raise _bad("message to delete not found")
        return True

    def _answerCallbackQuery(self, params: Params, files: Files) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._queries.discard(query_id)
        return True

    def _send_file(self, params: Params, files: Files, kind: str) -> Any:
        chat = self._chat(params)
        caption, entities = _formatted(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
            caption=True,
        )  # fmt: skip
        media = self._input_file(params, files, kind).as_object()
        content = {kind: [media] if kind == "photo" else media}
        return self._post(
            chat, params, {**content, "caption": caption, "caption_entities": entities}
        )

    def _sendDocument(self, params: Params, files: Files) -> Any:
        return self._send_file(params, files, "document")

    def _sendPhoto(self, params: Params, files: Files) -> Any:
        return self._send_file(params, files, "photo")

    def _sendChatAction(self, params: Params, files: Files) -> Any:
        self._chat(params)
        if params.get("action") not in _ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _setMyCommands(self, params: Params, files: Files) -> Any:
        commands = params.get("commands") or []
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand: BotCommand must be an Object")
            if not _COMMAND.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self._commands[key] = [{k: c[k] for k in ("command", "description")} for c in commands]
        else:
            self._commands.pop(key, None)
        return True

    def _deleteMyCommands(self, params: Params, files: Files) -> Any:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _getMyCommands(self, params: Params, files: Files) -> Any:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _setChatMenuButton(self, params: Params, files: Files) -> Any:
        chat_id = self._chat(params, writing=False)["id"] if params.get("chat_id") else None
        self._menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    def _getChatMenuButton(self, params: Params, files: Files) -> Any:
        chat_id = self._chat(params, writing=False)["id"] if params.get("chat_id") else None
        default = self._menu_buttons.get(None, {"type": "default"})
        return copy.deepcopy(self._menu_buttons.get(chat_id, default))

    def _getChatMember(self, params: Params, files: Files) -> Any:
        chat = self._chat(params, writing=False)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad("user not found")
        known = self._chats.get(user_id, {})
        user = {"id": user_id, "is_bot": False, "first_name": known.get("first_name", "User")}
        if user_id == self.bot_id:
            user = self.bot_user
        status = self._members.get((chat["id"], user_id), "left")
        return updates.chat_member(user, status)

    def _getChat(self, params: Params, files: Files) -> Any:
        chat = self._chat(params, writing=False)
        gifts = (
            "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
        )
        accepted = dict.fromkeys(gifts.split(), False)
        extra = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": accepted}
        return {**chat, **extra}

    def _getFile(self, params: Params, files: Files) -> Any:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        return {**stored.as_object(), "file_path": stored.path}
