"""Update middlewares, in the order the dispatcher factory registers them:

1. transaction — one session per update, committed on success, rolled back on error; an update
   already processed is dropped here, its id stored in the same commit as its effect;
2. aiogram's FSM middleware — the per-person lock (events isolation), so that one person's
   updates are handled one at a time, and the dialog's state, read in the same transaction;
3. person — the stored person loaded, or created with only their Telegram id and language;
4. flood — one person sending dozens of messages a second is slowed down, politely.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import CallbackQuery, Chat, TelegramObject, Update
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import guess_locale
from storage.models import ProcessedUpdate
from storage.users import find_user, get_or_create_user

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# The update's session, so that the FSM storage writes in the same transaction as the handler.
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


class TransactionMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        async with self.sessionmaker() as session:
            token = current_session.set(session)
            try:
                session.add(ProcessedUpdate(update_id=event.update_id))
                try:
                    await session.flush()
                except IntegrityError:
                    await session.rollback()
                    return None
                data["session"] = session
                result = await handler(event, data)
                await session.commit()
                return result
            except BaseException:
                await session.rollback()
                raise
            finally:
                current_session.reset(token)


class PersonMiddleware(BaseMiddleware):
    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        session: AsyncSession = data["session"]
        sender: TelegramUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if sender is None or sender.is_bot:
            return await handler(event, data)
        if chat is None or chat.type == "private":
            locale = guess_locale(sender.language_code, self.default_locale)
            user = await get_or_create_user(session, sender.id, locale)
        else:
            user = await find_user(session, sender.id)
        data["user"] = user
        # A plain copy for the locale middleware: after a rollback (error events) the person's
        # row can no longer be read.
        data["person_locale"] = user.locale if user is not None else self.default_locale
        return await handler(event, data)


class FloodMiddleware(BaseMiddleware):
    """Past `limit` updates in `window` seconds, a person's updates are dropped until they
    slow down; they are told once per burst. Other people are not affected."""

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
        self.recent: dict[int, deque[float]] = {}
        self.warned: set[int] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        if sender is None:
            return await handler(event, data)
        now = self.clock()
        stamps = self.recent.setdefault(sender.id, deque())
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        if len(stamps) < self.limit:
            stamps.append(now)
            self.warned.discard(sender.id)
            if len(self.recent) > 10_000:
                self._forget_quiet(now)
            return await handler(event, data)
        if sender.id not in self.warned:
            self.warned.add(sender.id)
            await self._slow_down(event, data)
        return None

    async def _slow_down(self, event: TelegramObject, data: dict[str, Any]) -> None:
        bot: Bot = data["bot"]
        user = data.get("user")
        chat: Chat | None = data.get("event_chat")
        locale = user.locale if user is not None else self.i18n.default_locale
        with self.i18n.context(), self.i18n.use_locale(locale):
            text = _(
                "You are sending messages very quickly. Please wait a few seconds, then go on."
            )
        assert isinstance(event, Update)
        query: CallbackQuery | None = event.callback_query
        if query is not None:
            await bot.answer_callback_query(query.id, text=text[:200])
        elif chat is not None and chat.type == "private":
            await bot.send_message(chat.id, text)

    def _forget_quiet(self, now: float) -> None:
        for key in [k for k, v in self.recent.items() if not v or now - v[-1] > self.window]:
            del self.recent[key]
