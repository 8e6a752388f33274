"""A local stand-in for Telegram's Bot API, over real HTTP.

The real bot talks to it as to Telegram. It records every call, keeps the chats as people would
see them, refuses what Telegram refuses (with Telegram's descriptions and status codes), and on
demand injects faults or enforces Telegram's rate limits.

This module is the server and the world tests set up; the methods are in methods.py and
messages.py, and what Telegram refuses in rules.py.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.standin import updates
from bot.standin.errors import ApiError, Fault
from bot.standin.files import FileStore
from bot.standin.limits import Limits, Window, per_second
from bot.standin.methods import Methods
from bot.standin.params import Files, Params, read_request


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


class StandIn(Methods):
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
                "editMessageMedia deleteMessage answerCallbackQuery sendDocument sendPhoto "
                "sendChatAction "
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
        self._moved: dict[int, int] = {}
        self._faults: list[Fault] = []
        self._limits: Limits | None = None
        self._queries: set[str] = set()
        self._query_count = 0
        self._files = FileStore()
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

    def move_chat(
        self, group_id: int, supergroup_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The group becomes a supergroup: its members are there, its old id refuses to be
        written to and names the new one. Returns the two chats."""
        group = self._chats.get(group_id) or updates.make_group(group_id)
        supergroup = {**group, "id": supergroup_id, "type": "supergroup"}
        self.add_chat(supergroup)
        for (chat_id, user_id), status in list(self._members.items()):
            if chat_id == group_id:
                self._members[(supergroup_id, user_id)] = status
        self._moved[group_id] = supergroup_id
        return group, supergroup

    def block(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def store_file(
        self, content: bytes, filename: str = "file.bin", *, photo: bool = False
    ) -> dict[str, Any]:
        """Keeps a file as if a person had sent it; returns its Document (or PhotoSize)."""
        kind = "photo" if photo else "document"
        return self._files.keep(self.bot_id, content, filename, kind).as_object()

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
        self._faults.append(Fault(method, chat_id, status, description, retry_after, times, delay))

    def enforce_limits(
        self,
        global_per_second: float = 30,
        private_per_second: float = 1,
        group_per_minute: int = 20,
    ) -> None:
        self._limits = Limits(
            Window(*per_second(global_per_second)),
            per_second(private_per_second),
            (group_per_minute, 60.0),
        )

    def disable_limits(self) -> None:
        self._limits = None

    # -- updates

    def continue_updates_after(self, update_id: int) -> None:
        """Update ids go on from there, as a bot's do at Telegram: a bot restarted over the
        same database must not take new updates for ones it has already handled."""
        self._last_update_id = max(self._last_update_id, update_id)

    def new_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    @property
    def pending_updates(self) -> int:
        """Updates the bot has not confirmed yet (a bot confirms them once handled)."""
        return len(self._updates)

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

    def group_upgrade_updates(
        self, user: dict[str, Any], group_id: int, supergroup_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return updates.group_upgrade_updates(self, user, group_id, supergroup_id)

    # -- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        method, handler = self._handlers.get(name.lower(), (name, None))
        params: Params = {}
        files: Files = {}
        windows: list[Window] = []
        try:
            params, files = await read_request(request)
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
            if parameters := error.parameters():
                body["parameters"] = parameters
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

    async def _serve_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        found = self._files.at_path(path)
        if request.match_info["token"] != self.token or found is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=found.content, content_type="application/octet-stream")

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _apply_fault(self, method: str, params: Params) -> None:
        for fault in self._faults:
            if not fault.matches(method, params.get("chat_id")):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            if fault.delay > 0:
                await self._pause(fault.delay)
            if fault.status:
                raise fault.error()
            return

    def _check_limits(self, method: str, params: Params) -> list[Window]:
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
