"""Factories for the bot and the dispatcher: nothing is created at import time."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.methods import Response, TelegramMethod
from aiogram.types import ErrorEvent
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.coordinators import Coordinators
from bot.fsm import DatabaseStorage, PersonLocks
from bot.group_moves import CoordinatorsChat
from bot.i18n import CatalogI18n, UserLocaleMiddleware
from bot.middlewares import (
    FloodMiddleware,
    PersonMiddleware,
    TransactionMiddleware,
    TurnMiddleware,
)
from bot.replies import QueueReplies, answers_unread
from bot.routing import index_routes
from handlers import build_router, resume_points

log = logging.getLogger(__name__)


class Session(AiohttpSession):
    """aiogram's session, keeping each answer's type (`Response[Message]`…) once built:
    pydantic caches them weakly, and rebuilt them hundreds of times per thousand calls."""

    answer_types: ClassVar[dict[Any, Any]] = {}
    unread: ClassVar[Response[Any]] = Response[Any](ok=True)

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        if answers_unread.get() and 200 <= status_code < 300:
            # A reply sent after the commit: its answer is not read (bot/replies.py), only
            # whether Telegram took it.
            with contextlib.suppress(ValueError):
                if self.json_loads(content).get("ok") is True:
                    return self.unread
        returning = method.__returning__
        if returning not in self.answer_types:
            self.answer_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def create_bot(token: str, api_base: str, timeout: float = 60) -> Bot:
    session = Session(api=TelegramAPIServer.from_base(api_base), timeout=timeout)
    # Inside an update, what the bot says waits for the commit (bot/replies.py).
    session.middleware(QueueReplies())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_fsm(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    """The database by default; Redis (storage and cross-worker locks) when REDIS_URL is set."""
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from redis.asyncio import BlockingConnectionPool, Redis

        from bot.redis_dialogs import JournaledRedisStorage, RenewedLocks

        # A batch of updates handled at once may want more connections than the pool's 100:
        # they wait for one rather than fail (redis-py's default pool raises).
        pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=100)
        # Written to Redis with the update's effect (bot/redis_dialogs.py).
        storage = JournaledRedisStorage(
            Redis(connection_pool=pool), key_builder=DefaultKeyBuilder(with_destiny=True)
        )
        return storage, RenewedLocks(storage.redis, storage.key_builder)
    return DatabaseStorage(sessionmaker), PersonLocks()


def create_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
    clock: Callable[[], float] = time.monotonic,
) -> Dispatcher:
    storage, isolation = create_fsm(settings, sessionmaker)
    # aiogram's FSM middleware is registered below, inside the transaction, rather than first;
    # the person's lock is taken outside it (TurnMiddleware), so aiogram's own takes none.
    dp = Dispatcher(storage=storage, events_isolation=DisabledEventIsolation(), disable_fsm=True)
    dp["settings"] = settings
    dp["sessionmaker"] = sessionmaker
    # The coordinators' group's id as it is now (bot/group_moves.py): the settings stay as read.
    dp["coordinators_chat"] = chat = CoordinatorsChat(settings.coordinator_chat_id)
    dp["coordinators"] = Coordinators(settings, chat)
    dp["person_locks"] = isolation
    # Where a dialog goes back to, from the flows' flows.py (handlers/flow.py).
    dp["resume_points"] = resume_points()

    # Update level, after aiogram's own (errors, user context), in this order: the flood
    # limit (a dropped update costs nothing more), the person's turn, the transaction, the
    # person (and their dialog's state, read with them), the dialog. See bot/middlewares.py.
    dp.update.outer_middleware(
        FloodMiddleware(i18n, settings.flood_messages, settings.flood_seconds, clock)
    )
    dp.update.outer_middleware(TurnMiddleware(dp.fsm, isolation))
    dp.update.outer_middleware(TransactionMiddleware(sessionmaker))
    dp.update.outer_middleware(PersonMiddleware(settings.default_locale, dp.fsm))
    if journal := getattr(storage, "journal", None):
        # Dialogs in Redis: read through it, written as the handler ends, before the commit.
        dp.update.outer_middleware(journal())
    dp.update.outer_middleware(dp.fsm)
    # Event level: the locale (aiogram's i18n middleware never attaches to `update`), then
    # every callback query answered, even when a handler forgets.
    UserLocaleMiddleware(i18n, settings.group_locale).setup(dp)
    dp.callback_query.middleware(CallbackAnswerMiddleware())

    dp.include_router(build_router())
    dp.errors.register(_on_error)
    run_checks_inline(dp)
    settle()
    return dp


_settled = False


# Collections of the youngest generation every 10,000 allocations (Python's default: 700),
# of the older ones every 20 of the younger: an update allocates thousands of short-lived
# objects, and the default thresholds ran some 0.4 ms of collections per update in `bench
# updates`, 0.1 ms with these. Garbage in cycles waits a little longer: a few MB at most.
GC_THRESHOLDS = (10_000, 20, 20)


def settle() -> None:
    """What the process has built by its first dispatcher lives as long as it does: aiogram's
    types and their validators, SQLAlchemy's mappers, the routers, the catalogs — some 300,000
    objects, which every full pass of the garbage collector walked again (a fifth of an
    update's CPU time in `bench updates`). They are set aside from its generations, once per
    process (gc.freeze); what is made afterwards is collected as usual, less often."""
    global _settled
    if not _settled:
        _settled = True
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


def run_checks_inline(router: Router) -> None:
    """Cheaper filters, same answers. aiogram runs a sync filter (a bare State, F.data == …)
    in a thread, each check some 120 µs and two switches (DESIGN.md): they are pure and quick,
    so they run in the loop. And a button's press is tried against every callback-data filter
    in turn, each unpacking the data into a pydantic model (or failing to, with an exception):
    its prefix is looked at first. Before that, each router is given a gate that lets in only
    what one of its handlers could take (bot/routing.py)."""
    index_routes(router)
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in (observer._handler, *observer.handlers):
                for check in handler.filters or ():
                    if isinstance(check.callback, CallbackQueryFilter):
                        check.callback = _prefix_first(check.callback)
                    elif not check.awaitable:
                        check.callback = _in_the_loop(check.callback)
                        check.awaitable = True


def _in_the_loop(check: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return run


def _prefix_first(check: CallbackQueryFilter) -> Callable[..., Awaitable[Any]]:
    prefix = check.callback_data.__prefix__
    start = prefix + check.callback_data.__separator__

    async def run(query: Any, *args: Any, **kwargs: Any) -> Any:
        data = getattr(query, "data", None)
        if not data or (data != prefix and not data.startswith(start)):
            return False
        return await check(query, *args, **kwargs)

    return run


async def _on_error(event: ErrorEvent, **data: Any) -> None:
    """The change was rolled back, and nothing it would have said was sent. The person is told
    rather than left waiting (by the polling loop, at the last attempt only), and the failure
    goes on up: the update must not be confirmed as handled (bot/polling.py, bot/webhook.py).
    aiogram would swallow it if this returned anything."""
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    chat = data.get("event_chat")
    bot: Bot | None = data.get("bot")
    tell = data.get("tell_failure", True)
    if tell and bot is not None and chat is not None and chat.type == "private":
        # The locale middleware runs for error events too: the person's language is set.
        text = _("Sorry, something went wrong on our side. Please try again in a moment.")
        try:
            await bot.send_message(chat.id, text)
        except Exception:  # the error is already logged; telling the person is best effort
            log.warning("could not tell chat %s about the error", chat.id)
    raise event.exception
