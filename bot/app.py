"""The running bot: everything built from the settings, in order, and torn down in reverse."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backup_job import daily_backup
from bot.commands import register_commands
from bot.config import Settings
from bot.delivery import deliver
from bot.factory import create_bot, create_dispatcher
from bot.group_moves import CoordinatorsChat
from bot.group_rights import check_group_rights
from bot.health import Readiness, serve_health
from bot.i18n import CatalogI18n, create_i18n
from bot.jobs import Job, JobContext
from bot.metrics import Metrics
from bot.polling import poll
from bot.scheduler import schedule
from handlers import jobs as flows_jobs
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.outbox import QuietHours

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    i18n: CatalogI18n
    bot: Bot
    dp: Dispatcher
    metrics: Metrics | None


def jobs() -> list[tuple[str, Job]]:
    """Every scheduled job of the bot, in the order they run: the flows', then the backup."""
    return [*flows_jobs(), ("backup.daily", daily_backup)]


@asynccontextmanager
async def open_app(settings: Settings, token: str) -> AsyncIterator[App]:
    """Migrates the database, then builds the engine, catalogs, bot and dispatcher."""
    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    i18n = create_i18n(settings.default_locale)
    bot = create_bot(token, settings.telegram_api_base)
    dp = create_dispatcher(settings, create_sessionmaker(engine), i18n)
    # The process's own counters, found by the update runners (bot/polling.py, bot/webhook.py);
    # only where /metrics is served (the webhook's server, or HEALTH_PORT): nobody reads them
    # elsewhere, and the library stays unloaded.
    metrics = Metrics() if settings.webhook_url or settings.health_port else None
    dp["metrics"] = metrics
    if metrics is not None:
        metrics.count_429s(bot)
    try:
        yield App(settings, engine, i18n, bot, dp, metrics)
    finally:
        await dp.storage.close()
        await dp["person_locks"].close()
        await bot.session.close()
        await engine.dispose()


async def serve(app: App, stop: asyncio.Event) -> None:
    """Registers the command menu, then receives updates (long polling, or a webhook when
    WEBHOOK_URL is set), delivers the outbox and runs the scheduled jobs until `stop` is set;
    the update, the sends and the jobs in hand finish first."""
    settings = app.settings
    sessionmaker = app.dp["sessionmaker"]
    # One for the handlers, the sender and the jobs: a move one of them learns of, all follow.
    chat: CoordinatorsChat = app.dp["coordinators_chat"]
    async with sessionmaker() as session:
        await chat.catch_up(session)
    await register_commands(app.bot, app.i18n, chat.id, settings.group_locale)
    # Kept by aiogram for the process: the handlers that need it do not wait for Telegram.
    me = await app.bot.me()
    await check_group_rights(app.bot, sessionmaker, settings, app.i18n, chat.id)
    log.info("@%s is listening", me.username)
    delivery = asyncio.create_task(
        deliver(
            app.bot, sessionmaker, app.settings, stop, coordinators_chat=chat, metrics=app.metrics
        )
    )
    context = JobContext(
        app.bot, sessionmaker, app.settings, app.i18n, app.dp.storage, coordinators_chat=chat
    )
    scheduled = asyncio.create_task(schedule(context, jobs(), stop, metrics=app.metrics))
    readiness = Readiness(
        sessionmaker,
        settings.ready_outbox_lag_s,
        QuietHours(settings.timezone),
        redis=getattr(app.dp.storage, "redis", None) if settings.redis_url else None,
    )
    health = None
    if settings.health_port and not settings.webhook_url:
        health = asyncio.create_task(
            serve_health(
                readiness,
                app.metrics,
                host=settings.health_host,
                port=settings.health_port,
                stop=stop,
            )
        )
    try:
        if settings.webhook_url and settings.webhook_secret:
            from bot.webhook import serve_webhook  # aiohttp's server, for webhook mode only

            await serve_webhook(
                app.dp,
                app.bot,
                url=settings.webhook_url,
                secret=settings.webhook_secret.get_secret_value(),
                path=settings.webhook_path,
                host=settings.webhook_host,
                port=settings.webhook_port,
                stop=stop,
                readiness=readiness,
            )
        else:
            await app.bot.delete_webhook(drop_pending_updates=False)
            await poll(app.dp, app.bot, stop)
    finally:
        stop.set()  # polling ended, whatever the reason: the rest ends with it
        await asyncio.gather(delivery, scheduled, *([health] if health else []))


async def run(settings: Settings, token: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_app(settings, token) as app:
        await serve(app, stop)
