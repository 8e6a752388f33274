"""Update middlewares, in the order the dispatcher factory registers them:

1. turn — the person's lock (events isolation): one person's updates are handled one at a
   time, from the first read to the last reply sent;
2. transaction — one session per update, committed on success, rolled back on error; an update
   already processed is dropped here, its id stored in the same commit as its effect; what the
   handler says is queued meanwhile and sent once the commit is done (bot/replies.py);
3. person — the stored person loaded (with their dialog's state, in the same statement), or
   created with only their Telegram id and language;
4. aiogram's FSM middleware — the dialog's state, already read by 3.

Before them all, flood: one person sending dozens of messages a second is slowed down,
politely; an update dropped for it costs no lock, transaction nor database read, so that
the flood slows nobody else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.types import CallbackQuery, Chat, TelegramObject, Update
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.fsm import DatabaseStorage, current_session
from bot.i18n import guess_locale
from bot.replies import Replies, current_replies
from storage.dialogs import remember
from storage.updates import mark_processed
from storage.users import find_user, find_user_and_dialog, get_or_create_user

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger(__name__)
# The flood limit's verdicts on an update (FloodMiddleware.verdict).
HANDLE, DROP, TELL = "handle", "drop", "tell"

__all__ = [
    "FloodMiddleware",
    "PersonMiddleware",
    "TransactionMiddleware",
    "TurnMiddleware",
    "current_session",
]


class TurnMiddleware(BaseMiddleware):
    """Holds the person's lock around the whole update, commit and replies included, so that
    their next update reads what this one committed and speaks after it."""

    def __init__(self, fsm: FSMContextMiddleware, isolation: BaseEventIsolation) -> None:
        self.fsm = fsm
        self.isolation = isolation

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = self.fsm.resolve_event_context(data["bot"], data)
        if context is None:
            return await handler(event, data)
        async with self.isolation.lock(context.key):
            return await handler(event, data)


@event.listens_for(Session, "loaded_as_persistent")
def _keep(session: Session, instance: object) -> None:
    """An update's session keeps what it read until it ends: SQLAlchemy's identity map holds
    objects weakly, and an object read, dropped and asked for again by its key (a survey, a
    response, by several helpers of one handler) was read again from the database."""
    kept: list[object] | None = session.info.get(_KEPT)
    if kept is not None:
        kept.append(instance)


_KEPT = "kept"


class TransactionMiddleware(BaseMiddleware):
    """On SQLite, transactions take turns for the writer in the loop (storage/sqlite.py).
    A runner may pass `committed` (an asyncio.Event), set once the effect is committed (or
    the update found already handled), before the replies go out."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        replies = Replies()
        async with self.sessionmaker() as session:
            session.info[_KEPT] = []
            session_token = current_session.set(session)
            replies_token = current_replies.set(replies)
            try:
                if not await mark_processed(session, event.update_id):
                    await session.rollback()
                    _committed(data)
                    return None
                data["session"] = session
                result = await handler(event, data)
                await session.commit()
                _committed(data)
            except BaseException:
                # Whatever was said is dropped with the rest.
                await session.rollback()
                raise
            finally:
                current_replies.reset(replies_token)
                current_session.reset(session_token)
        # Committed, the database free: now the bot speaks, in the order it meant to.
        await replies.send()
        return result


def _committed(data: dict[str, Any]) -> None:
    committed: asyncio.Event | None = data.get("committed")
    if committed is not None:
        committed.set()


class PersonMiddleware(BaseMiddleware):
    def __init__(
        self,
        default_locale: str,
        fsm: FSMContextMiddleware | None = None,
    ) -> None:
        self.default_locale = default_locale
        self.fsm = fsm
        storage = fsm.storage if fsm is not None else None
        self.dialogs = storage if isinstance(storage, DatabaseStorage) else None

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        session: AsyncSession = data["session"]
        sender: TelegramUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if sender is None or sender.is_bot:
            return await handler(event, data)
        found = await self._find(session, sender.id, data)
        if chat is None or chat.type == "private":
            locale = guess_locale(sender.language_code, self.default_locale)
            user = await get_or_create_user(session, sender.id, locale, found=found)
        else:
            user = found
        data["user"] = user
        # A plain copy for the locale middleware: after a rollback (error events) the person's
        # row can no longer be read.
        data["person_locale"] = user.locale if user is not None else self.default_locale
        return await handler(event, data)

    async def _find(self, session: AsyncSession, telegram_id: int, data: dict[str, Any]) -> Any:
        """The person, and with them their dialog's state when it lives in the database."""
        if self.dialogs is None or self.fsm is None:
            return await find_user(session, telegram_id)
        context = self.fsm.resolve_event_context(data["bot"], data)
        if context is None:
            return await find_user(session, telegram_id)
        key = self.dialogs.key_builder.build(context.key)
        user, dialog = await find_user_and_dialog(session, telegram_id, key)
        if user is not None:
            remember(session, key, dialog)
        return user


class FloodMiddleware(BaseMiddleware):
    """Each person may send `limit` updates at once, and then `limit` per `window` seconds;
    past that their updates are dropped until they slow down, and they are told once per
    burst: a burst ends when they have been quiet long enough to have their whole allowance
    back. Other people are not affected. Only people who sent something within the last
    `window` are remembered.

    Registered first, before the person's lock and the transaction: a dropped update is
    neither read from nor written to the database (it is not marked processed: it never
    had an effect). Telling the person reads their language, once per burst. The polling
    loop asks for the verdict as a batch arrives, so that a flooder's dropped updates do not
    queue behind their handled ones (bot/polling.py)."""

    def __init__(
        self,
        i18n: I18n,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.i18n = i18n
        self.limit = limit
        self.window = window
        self.clock = clock
        # Per person: (allowance left, when it was counted, told to slow down in this burst).
        self.buckets: dict[int, tuple[float, float, bool]] = {}
        self.swept = clock()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        if sender is None:
            return await handler(event, data)
        # The polling loop decides as a batch arrives (bot/polling.py), and says so.
        verdict = data.get("flood_verdict") or self.verdict(sender.id)
        if verdict == HANDLE:
            return await handler(event, data)
        if verdict == TELL:
            await self._slow_down(event, data, sender)
        return None

    def verdict(self, sender_id: int) -> str:
        """What becomes of the person's update arriving now: HANDLE, DROP, or TELL (dropped,
        and the person told: the first dropped of a burst)."""
        now = self.clock()
        if now - self.swept > self.window:
            self._forget_quiet(now)
        allowance, then, warned = self.buckets.get(sender_id, (float(self.limit), now, False))
        allowance = min(float(self.limit), allowance + (now - then) * self.limit / self.window)
        if allowance >= self.limit:
            warned = False  # quiet long enough: whatever comes next is a new burst
        if allowance >= 1:
            self.buckets[sender_id] = (allowance - 1, now, warned)
            return HANDLE
        self.buckets[sender_id] = (allowance, now, True)
        return DROP if warned else TELL

    async def _slow_down(
        self, event: TelegramObject, data: dict[str, Any], sender: TelegramUser
    ) -> None:
        bot: Bot = data["bot"]
        chat: Chat | None = data.get("event_chat")
        locale = await self._locale(data, sender)
        with self.i18n.context(), self.i18n.use_locale(locale):
            text = _(
                "You are sending messages very quickly. Please wait a few seconds, then go on."
            )
        assert isinstance(event, Update)
        query: CallbackQuery | None = event.callback_query
        try:
            if query is not None:
                await bot.answer_callback_query(query.id, text=text[:200])
            elif chat is not None and chat.type == "private":
                await bot.send_message(chat.id, text)
        except (TelegramAPIError, TelegramNetworkError) as error:
            # Telling them is best effort; the update stays dropped.
            log.warning("could not tell %s to slow down: %s", sender.id, error)

    async def _locale(self, data: dict[str, Any], sender: TelegramUser) -> str:
        """The person's language as stored, else as Telegram gives it."""
        user = data.get("user")
        if user is not None:
            return str(user.locale)
        sessionmaker: async_sessionmaker[AsyncSession] | None = data.get("sessionmaker")
        if sessionmaker is not None:
            async with sessionmaker() as session:
                found = await find_user(session, sender.id)
            if found is not None:
                return str(found.locale)
        return guess_locale(sender.language_code, self.i18n.default_locale)

    def _forget_quiet(self, now: float) -> None:
        """A person quiet for a whole window has their full allowance back: nothing to keep."""
        self.swept = now
        for key in [k for k, (_a, then, _w) in self.buckets.items() if now - then >= self.window]:
            del self.buckets[key]
