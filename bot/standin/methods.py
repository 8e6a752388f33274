"""The Bot API methods that concern the bot rather than a message: its updates and webhook, its
commands and menu button, and what it may look up (itself, chats, members, files).

Together with messages.py, every method the stand-in serves.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from bot.standin import updates
from bot.standin.errors import ApiError, bad
from bot.standin.messages import Messages
from bot.standin.params import Files, Params
from bot.standin.rules import bot_commands


class Methods(Messages):
    """A part of StandIn, which holds this state; its router finds the methods by name."""

    _updates: list[dict[str, Any]]
    _stopping: asyncio.Event
    _wakeup: asyncio.Event
    _webhook: str
    _members: dict[tuple[int, int], str]
    _commands: dict[tuple[str, str], list[dict[str, Any]]]
    _menu_buttons: dict[int | None, dict[str, Any]]

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

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _setMyCommands(self, params: Params, files: Files) -> Any:
        commands = bot_commands(params.get("commands"))
        key = self._commands_key(params)
        if commands:
            self._commands[key] = commands
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
            raise bad("user not found")
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
            raise bad("invalid file_id")
        return {**stored.as_object(), "file_path": stored.path}
