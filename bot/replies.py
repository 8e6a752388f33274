"""What the bot says while handling an update waits for the update's commit.

A handler's calls to Telegram are queued instead of sent, and go out in order once the
update's effect (its outbox rows included) is committed: no transaction, on any engine, stays
open while Telegram answers, and nothing is said for an effect that was rolled back.

Queued are the calls that speak — send, edit, delete, answer a button — whose answer no
handler reads: they return at once a stand-in result (True, or a `Pending` that refuses to be
read). Every other call (getChatMember, getMe, getFile…) goes out at once, since its answer is
needed to go on; the few of them on the update path are cached (coordinators for a minute, the
bot itself for the process). A step that must see how a call went (edit, and send anew when
the message is too old to edit) is queued whole with `later`.

Long polling hands each committed update's replies to the person's chain (`Speaking`) rather
than waiting for them: the person's next update is handled while they go out, its own replies
after them. An update whose `later` step reads answers (a message id to remember) still waits
for it; what must happen before the person's next update (`Replies.first`) is done at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

Action = Callable[[], Awaitable[Any]]

# Calls that speak and whose answer handlers never read.
QUEUED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendLocation",
        "sendChatAction",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
        "deleteMessage",
        "deleteMessages",
        "answerCallbackQuery",
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
        "pinChatMessage",
        "unpinChatMessage",
    }
)
# A 429 while speaking: waited for, once, when Telegram asks for a short pause.
RETRY_AFTER_MAX = 5.0


class Pending:
    """What a queued call returns: its answer does not exist yet."""

    def __init__(self, method: str) -> None:
        self._method = method

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            f"{self._method} is sent after the update's commit: its answer cannot be read "
            f"inside the update (use bot.replies.later for a step that needs it)"
        )


class Replies:
    """One update's queue: `first`, what must be done once the update is committed before
    anything else and before the person's next update (bot/redis_dialogs.py's journal
    forgotten), then `actions`, what the bot says."""

    def __init__(self) -> None:
        self.first: list[Action] = []
        self.actions: list[Action] = []
        self.awaited = False  # a `later` step that reads answers: its update waits for it

    async def send(self, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> int:
        """Sends what was queued, in order; returns how many failed. A call that fails is
        logged and the next one goes on: the effect is committed whatever Telegram says.

        Under a runner's `Speaking` (bot/polling.py) the replies are handed to the person's
        chain instead, behind their earlier updates' replies, and the update ends at once —
        unless a `later` step reads answers (a message id to remember): then it waits for it."""
        unread = answers_unread.set(True)
        try:
            failed = await _run(self.first, sleep)
            speak = speaker.get()
            if speak is None:
                failed += await _run(self.actions, sleep)
            elif self.actions:
                spoken = speak(self.actions)
                if self.awaited:
                    failed += await asyncio.shield(spoken)
        finally:
            answers_unread.reset(unread)
        self.first = []
        self.actions = []
        return failed


async def _run(actions: list[Action], sleep: Callable[[float], Awaitable[Any]]) -> int:
    failed = 0
    for action in actions:
        try:
            try:
                await action()
            except TelegramRetryAfter as error:
                if error.retry_after > RETRY_AFTER_MAX:
                    raise
                await sleep(error.retry_after)
                await action()
            except (TelegramNetworkError, TelegramServerError):
                await action()  # once: Telegram's hiccups are short
        except TelegramAPIError as error:
            failed += 1
            log.warning("a reply could not be sent: %s", error)
        except Exception:
            failed += 1
            log.exception("a reply could not be sent")
    return failed


class Speaking:
    """Each person's replies, sent in order after their updates' commits, one chain per
    person: their next update may be handled (and committed) while the replies of the one
    before still go out, its own replies going out after them. Bounded by the updates in
    hand; a chain is forgotten when done."""

    def __init__(self, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.sleep = sleep
        self.chains: dict[Hashable, asyncio.Task[int]] = {}

    @contextmanager
    def of(self, person: Hashable) -> Iterator[None]:
        """Around the handling of one of `person`'s updates."""
        token = speaker.set(partial(self._speak, person))
        try:
            yield
        finally:
            speaker.reset(token)

    def _speak(self, person: Hashable, actions: list[Action]) -> asyncio.Task[int]:
        before = self.chains.get(person)
        task = asyncio.create_task(self._after(before, list(actions)))
        self.chains[person] = task
        task.add_done_callback(partial(self._forget, person))
        return task

    async def _after(self, before: asyncio.Task[int] | None, actions: list[Action]) -> int:
        if before is not None:
            await asyncio.wait({before})
        token = answers_unread.set(True)
        try:
            return await _run(actions, self.sleep)
        finally:
            answers_unread.reset(token)

    def _forget(self, person: Hashable, task: asyncio.Task[int]) -> None:
        if self.chains.get(person) is task:
            del self.chains[person]

    async def drain(self) -> None:
        """Until every reply handed over is sent."""
        while self.chains:
            await asyncio.wait(list(self.chains.values()))

    def abandon(self) -> None:
        """The replies not sent yet are lost, as in a crash."""
        for task in self.chains.values():
            task.cancel()


# The update's queue while its transaction is open; None elsewhere (calls go out at once).
current_replies: ContextVar[Replies | None] = ContextVar("current_replies", default=None)
# True while queued replies go out: nobody reads their answers (bot/factory.py's session
# then does not turn the echoed message, keyboard and all, into aiogram objects).
answers_unread: ContextVar[bool] = ContextVar("answers_unread", default=False)
# Where an update's replies go once it is committed, under a runner's Speaking; None: sent at once.
speaker: ContextVar[Callable[[list[Action]], asyncio.Task[int]] | None] = ContextVar(
    "speaker", default=None
)


async def later(action: Action, *, reads_answers: bool = True) -> None:
    """Runs `action` once the update is committed, in order with the queued replies (at once
    outside an update). Its calls to Telegram go out at once, and it sees how they went: an
    error raises as usual; their answers are turned into aiogram objects only when it
    `reads_answers` (a card's message id) — an edit that only needs to know whether it worked
    spares the parsing of the echoed message, keyboard and all."""
    replies = current_replies.get()
    if replies is None:
        await action()
    elif reads_answers:
        replies.awaited = True
        replies.actions.append(lambda: _reading(action))
    else:
        replies.actions.append(action)


async def _reading(action: Action) -> Any:
    # A step queued whole reads what its calls answer (a card's message id, say).
    token = answers_unread.set(False)
    try:
        return await action()
    finally:
        answers_unread.reset(token)


class QueueReplies(BaseRequestMiddleware):
    """The bot session's request middleware that queues speaking calls inside an update."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        replies = current_replies.get()
        name = method.__api_method__
        if replies is None or name not in QUEUED:
            return await make_request(bot, method)
        replies.actions.append(lambda: make_request(bot, method))
        return True if method.__returning__ is bool else Pending(name)
