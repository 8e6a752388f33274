"""`collective chat`: the real bot — same dispatcher, storage and catalogs — in a terminal,
through the local Bot API stand-in: no token, no network.

You are a person in a private chat with the bot and, to try the coordinators' side, also a
coordinator in a local coordinators' group: /group types there, /private comes back. A button is
pressed by typing its number after "#" (#2): a number alone is a message, as a question asking
for a number expects, and #2 presses a button in the chat you are typing in, never the other."""

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
from bot.config import Settings, database_name
from bot.standin import StandIn, private_chat
from storage.models import ProcessedUpdate, User

TOKEN = "100000:LOCAL-CHAT"
LOCAL_USER_ID = 1
HELP = (
    "(type a message or a /command; to press a button shown as [#2], type #2 — a number "
    "alone is sent as a message; /group types in the coordinators' group, /private in your "
    "chat with the bot; /quit leaves)"
)
# The local coordinators' group, where you are a coordinator and the bot an administrator.
GROUP_ID = -1000000000001
GROUP: dict[str, Any] = {"id": GROUP_ID, "type": "supergroup", "title": "Coordinateurs (local)"}
# "#3", "# 3", "#٣": a button pressed. Any digits Python reads as a number, Arabic-Indic too.
PRESS = re.compile(r"#\s*(\d+)")


class ChatRefused(Exception):
    """The chat would not start; str() says why and what to do, in one line."""


def readable(text: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or ""))


class Terminal:
    """Shows what the bot sends, numbering the buttons of each message; remembers, per chat,
    the latest message that has buttons, so that #N presses one of its buttons there only."""

    def __init__(self, standin: StandIn, chat_id: int, write: Callable[[str], None]) -> None:
        self.standin = standin
        # Where each chat's messages are shown from.
        self.prefixes = {chat_id: "bot>", GROUP_ID: "group>"}
        self.write = write
        self.seen = 0
        self.keyboards: dict[int, int] = {}  # chat id: id of its latest message with buttons

    def show_new(self) -> None:
        calls = self.standin.calls[self.seen :]
        self.seen += len(calls)
        for call in calls:
            if not call.ok or call.params.get("chat_id") not in self.prefixes:
                if call.method == "answerCallbackQuery" and call.ok and call.params.get("text"):
                    self.write(f"  [{call.params['text']}]")
                continue
            if call.method in (
                "sendMessage",
                "editMessageText",
                "editMessageCaption",
                "editMessageReplyMarkup",
            ):
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
            said = message.get("text", message.get("caption"))
            text = readable(said).replace("\n", "\n" + " " * (len(prefix) + 1))
            self.write(f"\n{prefix} {text}")
        self._buttons(chat_id, message)

    def _buttons(self, chat_id: int, message: dict[str, Any]) -> None:
        buttons = buttons_of(message)
        if buttons:
            self.keyboards[chat_id] = message["message_id"]
            for number, button in enumerate(buttons, 1):
                self.write(f"     [#{number}] {button['text']}")
        elif self.keyboards.get(chat_id) == message["message_id"]:
            del self.keyboards[chat_id]  # its buttons were taken away

    def _file(self, call: Any) -> None:
        folder = Path("data") / "chat-files"
        folder.mkdir(parents=True, exist_ok=True)
        chat_id = call.params["chat_id"]
        prefix = self.prefixes[chat_id]
        caption = readable(call.params.get("caption"))
        if not call.files:
            # Sent again by its file_id: the file was saved when it was first sent.
            self.write(f"\n{prefix} [{call.method.removeprefix('send').lower()}] {caption}")
        for name, content in call.files.values():
            path = folder / name
            path.write_bytes(content)
            self.write(f"\n{prefix} [file saved: {path}] {caption}")
        message = self.standin.message(chat_id, call.result["message_id"])
        if message is not None:
            self._buttons(chat_id, message)

    def button(self, chat_id: int, number: int) -> tuple[dict[str, Any], dict[str, Any]] | str:
        """The message and button that #number presses in that chat, or why there is none."""
        message_id = self.keyboards.get(chat_id)
        message = self.standin.message(chat_id, message_id) if message_id else None
        buttons = buttons_of(message) if message else []
        if not buttons:
            return "no message with buttons in this chat yet"
        if not 1 <= number <= len(buttons):
            return f"no button #{number}: the latest buttons here go from #1 to #{len(buttons)}"
        assert message is not None
        return message, buttons[number - 1]


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def chat(
    settings: Settings,
    language_code: str = "fr",
    read: Callable[[], Awaitable[str | None]] | None = None,
    write: Callable[[str], None] = print,
    *,
    chosen: bool = False,
) -> None:
    """The chat over the database of `settings`, the same as every other command's.

    Unless the database was `chosen` for the chat (--database), it must hold nobody but the
    chat's own person: the chat delivers the outbox and runs the daily jobs as the bot would,
    so over a real bot's database their messages would go nowhere (ChatRefused)."""
    read = read or _read_line
    where = database_name(settings.database_url)
    async with StandIn(token=TOKEN, bot_username="collective_local_bot") as standin:
        user = standin.make_user(LOCAL_USER_ID, first_name="Vous", language_code=language_code)
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
                others = await session.scalar(
                    select(func.count())
                    .select_from(User)
                    .where(User.telegram_id.is_not(None), User.telegram_id != LOCAL_USER_ID)
                )
            if others and not chosen:
                people = f"{others} person" if others == 1 else f"{others} people"
                raise ChatRefused(
                    f"{where} holds the data of a bot on Telegram ({people}): the local chat "
                    "would take the messages waiting for them and run their daily jobs. Try "
                    "the bot in a database of its own: collective chat --database data/chat.db"
                )
            standin.continue_updates_after(handled or 0)
            stop = asyncio.Event()
            polling = asyncio.create_task(serve(app, stop))
            write(f"La Collective — local chat, database {where} {HELP}")
            while (line := await read()) is not None:
                line = line.strip()
                chat_id = typing_in["id"] if typing_in else user["id"]
                if line == "/quit":
                    break
                if line in ("/group", "/private"):
                    typing_in = GROUP if line == "/group" else None
                    write(f"  ({'coordinators group' if typing_in else 'private chat'})")
                    continue
                if pressing := PRESS.fullmatch(line):
                    found = terminal.button(chat_id, int(pressing[1]))
                    if isinstance(found, str):
                        write(f"  ({found})")
                        continue
                    message, button = found
                    if "callback_data" not in button:
                        write(f"  (a link, opened outside the chat: {button.get('url', '')})")
                        continue
                    write(f"  (pressed: {button['text']})")
                    data = button["callback_data"]
                    standin.push_update(standin.callback_update(user, message, data))
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
