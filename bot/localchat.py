"""`collective chat`: the real bot — same dispatcher, storage and catalogs — in a terminal,
through the local Bot API stand-in: no token, no network.

You are a person in a private chat with the bot and, to try the coordinators' side, also a
coordinator in a local coordinators' group: /group types there, /private comes back."""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.app import open_app, serve
from bot.config import Settings
from bot.standin import StandIn, private_chat
from storage.models import ProcessedUpdate

TOKEN = "100000:LOCAL-CHAT"
CHAT_DATABASE = "sqlite+aiosqlite:///data/chat.db"
HELP = (
    "(type a message or a /command; a number presses that button; /group types in the "
    "coordinators' group, /private in your chat with the bot; /quit leaves)"
)
# The local coordinators' group, where you are a coordinator and the bot an administrator.
GROUP_ID = -1000000000001
GROUP: dict[str, Any] = {"id": GROUP_ID, "type": "supergroup", "title": "Coordinateurs (local)"}


def readable(text: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or ""))


class Terminal:
    """Shows what the bot sends, numbering the buttons of its latest keyboard."""

    def __init__(self, standin: StandIn, chat_id: int, write: Callable[[str], None]) -> None:
        self.standin = standin
        # Where each chat's messages are shown from.
        self.prefixes = {chat_id: "bot>", GROUP_ID: "group>"}
        self.write = write
        self.seen = 0
        self.keyboard: tuple[dict[str, Any], list[dict[str, Any]]] | None = None

    def show_new(self) -> None:
        calls = self.standin.calls[self.seen :]
        self.seen += len(calls)
        for call in calls:
            if not call.ok or call.params.get("chat_id") not in self.prefixes:
                if call.method == "answerCallbackQuery" and call.ok and call.params.get("text"):
                    self.write(f"  [{call.params['text']}]")
                continue
            if call.method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
                self._message(call)
            elif call.method in ("sendDocument", "sendPhoto"):
                self._file(call)

    def _message(self, call: Any) -> None:
        chat_id = call.params["chat_id"]
        message = self.standin.message(chat_id, call.result["message_id"])
        if message is None:
            return
        if call.method != "editMessageReplyMarkup":
            prefix = self.prefixes[chat_id]
            text = readable(message.get("text")).replace("\n", "\n" + " " * (len(prefix) + 1))
            self.write(f"\n{prefix} {text}")
        buttons = [
            b
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        ]
        if buttons:
            self.keyboard = (message, buttons)
            for number, button in enumerate(buttons, 1):
                self.write(f"     [{number}] {button['text']}")

    def _file(self, call: Any) -> None:
        folder = Path("data") / "chat-files"
        folder.mkdir(parents=True, exist_ok=True)
        prefix = self.prefixes[call.params["chat_id"]]
        caption = readable(call.params.get("caption"))
        if not call.files:
            # Sent again by its file_id: the file was saved when it was first sent.
            self.write(f"\n{prefix} [{call.method.removeprefix('send').lower()}] {caption}")
        for name, content in call.files.values():
            path = folder / name
            path.write_bytes(content)
            self.write(f"\n{prefix} [file saved: {path}] {caption}")

    def button(self, number: int) -> tuple[dict[str, Any], str] | None:
        if self.keyboard is None or not 1 <= number <= len(self.keyboard[1]):
            return None
        message, buttons = self.keyboard
        return message, buttons[number - 1].get("callback_data", "")


async def chat(
    settings: Settings,
    language_code: str = "fr",
    read: Callable[[], Awaitable[str | None]] | None = None,
    write: Callable[[str], None] = print,
) -> None:
    if settings.database_url == Settings.model_fields["database_url"].default:
        # Trying the bot does not touch the real database.
        settings = settings.model_copy(update={"database_url": CHAT_DATABASE})
    read = read or _read_line
    async with StandIn(token=TOKEN, bot_username="collective_local_bot") as standin:
        user = standin.make_user(1, first_name="Vous", language_code=language_code)
        settings = settings.model_copy(
            update={
                "telegram_api_base": standin.base_url,
                "coordinator_chat_id": GROUP_ID,
                "coordinator_ids": frozenset({user["id"]}),
                # What goes through the outbox shows up without waiting for the next line.
                "delivery_poll_seconds": 0.05,
            }
        )
        # You started the bot in an earlier session: it may write to you first.
        standin.add_chat(private_chat(user))
        standin.add_chat(GROUP)
        standin.set_chat_member(GROUP_ID, standin.bot_id, "administrator")
        standin.set_chat_member(GROUP_ID, user["id"], "member")
        terminal = Terminal(standin, user["id"], write)
        typing_in: dict[str, Any] | None = None  # None: the private chat
        async with open_app(settings, TOKEN) as app:
            async with app.dp["sessionmaker"]() as session:
                handled = await session.scalar(select(func.max(ProcessedUpdate.update_id)))
            standin.continue_updates_after(handled or 0)
            stop = asyncio.Event()
            polling = asyncio.create_task(serve(app, stop))
            write(f"La Collective — local chat {HELP}")
            while (line := await read()) is not None:
                line = line.strip()
                if line == "/quit":
                    break
                if line in ("/group", "/private"):
                    typing_in = GROUP if line == "/group" else None
                    write(f"  ({'coordinators group' if typing_in else 'private chat'})")
                    continue
                if line.isdigit() and (pressed := terminal.button(int(line))) is not None:
                    standin.push_update(standin.callback_update(user, pressed[0], pressed[1]))
                elif line.isdigit() and terminal.keyboard is not None:
                    write(f"  (no button {line} on the last message)")
                    continue
                elif line:
                    standin.push_update(standin.message_update(user, line, chat=typing_in))
                else:
                    continue
                await _settle(standin)
                terminal.show_new()
            stop.set()
            await polling


async def _settle(standin: StandIn, quiet: float = 0.15, limit: float = 10.0) -> None:
    """Waits until the bot has handled what was typed (the bot confirms an update only once
    handled) and has then stopped calling the API for a moment (the outbox's messages)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    last = -1
    while loop.time() < deadline:
        await asyncio.sleep(quiet)
        if standin.pending_updates == 0 and len(standin.calls) == last:
            return
        last = len(standin.calls)


async def _read_line() -> str | None:
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None
