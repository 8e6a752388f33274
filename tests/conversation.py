"""Conversations as a person has them: send this, press that, see these texts and buttons.

Updates reach the real dispatcher; every method the bot calls crosses real HTTP to the stand-in,
which records it and refuses what Telegram would refuse.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.factory import create_bot, create_dispatcher
from bot.fsm import DatabaseStorage
from bot.i18n import CatalogI18n
from bot.standin import Call, StandIn
from bot.standin.html import parse_html


def plain(text: str | None) -> str:
    """What a person reads of a text sent in HTML parse mode, as Telegram's parser makes it."""
    return parse_html(text or "")[0]


async def close_storage(dp: Dispatcher) -> None:
    await dp.storage.close()
    if not isinstance(dp.storage, DatabaseStorage):
        # redis-py closes its sockets without waiting; let the loop finish that before it ends.
        await asyncio.sleep(0.01)


async def close_bot(bot: Bot) -> None:
    """Closes the bot's HTTP session. aiogram's own `close()` then sleeps 250 ms so that TLS
    connections can send their closing alert (aiohttp's graceful shutdown); the stand-in speaks
    plain HTTP over the loopback, whose sockets close as soon as the loop turns once, so that
    sleep would only add a quarter of a second to every test."""
    assert bot.session.api.base.startswith("http://"), "a TLS session needs aiogram's close()"
    await (await bot.session.create_session()).close()  # type: ignore[attr-defined]
    await asyncio.sleep(0)  # the transports' own close runs on the next turn of the loop


# A sticker, for the steps that expect text: `person.send(None, sticker=STICKER)`.
STICKER = {
    "file_id": "CAAC",
    "file_unique_id": "s1",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    i18n: CatalogI18n
    standin: StandIn
    bot: Bot
    dp: Dispatcher
    clock: FakeClock = field(default_factory=FakeClock)
    # Updates whose handling failed (rolled back; a runner would not confirm them).
    failures: list[Exception] = field(default_factory=list)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        i18n: CatalogI18n,
        standin: StandIn,
        token: str,
    ) -> AsyncIterator[Harness]:
        clock = FakeClock()
        bot = create_bot(token, standin.base_url, timeout=10)
        dp = create_dispatcher(settings, sessionmaker, i18n, clock=clock)
        harness = None
        try:
            harness = cls(settings, sessionmaker, i18n, standin, bot, dp, clock)
            yield harness
        finally:
            await close_storage(harness.dp if harness else dp)
            await close_bot(bot)
        # A handler that raised fails the test, unless the test took the failure as expected.
        assert harness.failures == [], harness.failures

    def take_failures(self) -> list[Exception]:
        """The updates that failed so far, as a test that expects them reads them."""
        taken, self.failures = self.failures, []
        return taken

    async def restart(self, settings: Settings | None = None) -> Dispatcher:
        """A new dispatcher over the same database: what a restarted process would have, or
        another process with its own `settings`."""
        await close_storage(self.dp)
        settings = settings or self.settings
        self.dp = create_dispatcher(settings, self.sessionmaker, self.i18n, clock=self.clock)
        return self.dp

    def person(self, user_id: int = 1001, language_code: str | None = "fr") -> Person:
        return Person(self, self.standin.make_user(user_id, language_code=language_code))

    async def feed(self, update: dict[str, Any]) -> None:
        try:
            await self.dp.feed_raw_update(self.bot, update)
        except Exception as error:  # logged by the bot; the harness fails the test at its end
            self.failures.append(error)
        # Consecutive updates must not be taken for a flood by a fast test.
        self.clock.now += 1


class Person:
    def __init__(self, harness: Harness, user: dict[str, Any]) -> None:
        self.harness = harness
        self.user = user
        self.id: int = user["id"]

    @property
    def standin(self) -> StandIn:
        return self.harness.standin

    async def send(self, text: str | None = None, **fields: Any) -> list[Call]:
        mark = len(self.standin.calls)
        await self.harness.feed(self.standin.message_update(self.user, text, **fields))
        return self.standin.calls[mark:]

    async def press(self, label: str, message: dict[str, Any] | None = None) -> list[Call]:
        """Presses the button whose text contains `label` on the latest message with buttons."""
        message = message or self.keyboard_message()
        buttons = buttons_of(message)
        exact = [b for b in buttons if b["text"] == label]
        found = exact or [b for b in buttons if label in b["text"]]
        data = found[0]["callback_data"] if found else None
        assert data is not None, f"no button {label!r} in {button_texts(message)}"
        return await self.press_data(data, message)

    async def press_data(self, data: str, message: dict[str, Any] | None = None) -> list[Call]:
        mark = len(self.standin.calls)
        message = message or self.keyboard_message()
        await self.harness.feed(self.standin.callback_update(self.user, message, data))
        return self.standin.calls[mark:]

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.standin.chat_messages(self.id) if m.get("from", {}).get("is_bot")]

    def keyboard_message(self) -> dict[str, Any]:
        with_buttons = [m for m in self.bot_messages() if m.get("reply_markup")]
        assert with_buttons, "the bot has shown no buttons"
        return with_buttons[-1]

    @property
    def last(self) -> str:
        """The text of the bot's latest message, as read."""
        messages = self.bot_messages()
        assert messages, "the bot has said nothing"
        last = messages[-1]
        # The stand-in stores what a person sees: already parsed.
        return str(last.get("text") or last.get("caption") or "")

    def said(self, count: int) -> list[str]:
        """The texts of the bot's last `count` messages, oldest first."""
        return [str(m.get("text") or m.get("caption") or "") for m in self.bot_messages()[-count:]]

    def buttons(self) -> list[str]:
        return button_texts(self.keyboard_message())


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def button_texts(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons_of(message)]


def texts(
    calls: list[Call], methods: tuple[str, ...] = ("sendMessage", "editMessageText")
) -> list[str]:
    return [plain(c.params.get("text")) for c in calls if c.method in methods and c.ok]
