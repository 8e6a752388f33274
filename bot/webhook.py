"""Webhook mode, for several workers behind one URL: an update is answered 200 only once its
effect is committed and its replies sent (aiogram's own handler answers first and handles
after; Telegram waits up to 60 s, and re-sends what was not answered — the processed-updates
table keeps it once). An update whose transaction failed is answered 500, so that Telegram
sends it again: the dispatcher's error handler lets the failure through for that.

The same server answers /healthz, /readyz and /metrics (bot/health.py) when given a
`Readiness`: a load balancer in front of the workers checks each one there."""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.health import Readiness, add_routes
from bot.metrics import Metrics, handling

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(
    dp: Dispatcher, bot: Bot, secret: str, path: str, readiness: Readiness | None = None
) -> web.Application:
    metrics: Metrics | None = dp.get("metrics")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given, secret):
            return web.Response(status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except (ValueError, ValidationError):
            return web.Response(status=400)
        try:
            with handling(metrics, update.update_id):
                await dp.feed_update(bot, update)
        except Exception:
            # Rolled back: a 500 makes Telegram send the update again later.
            log.exception(
                "update %s failed", update.update_id, extra={"update_id": update.update_id}
            )
            return web.Response(status=500)
        return web.json_response({})

    app = web.Application()
    app.router.add_post(path, receive)
    if readiness is not None:
        add_routes(app, readiness, metrics)
    return app


async def serve_webhook(
    dp: Dispatcher,
    bot: Bot,
    *,
    url: str,
    secret: str,
    path: str,
    host: str,
    port: int,
    stop: asyncio.Event,
    readiness: Readiness | None = None,
) -> None:
    """Registers the webhook, then serves until `stop`; requests in hand finish first."""
    await bot.set_webhook(
        url.rstrip("/") + path,
        secret_token=secret,
        allowed_updates=dp.resolve_used_update_types(),
        drop_pending_updates=False,
    )
    # No access log: a line per update and per scrape, and aiogram logs each update already.
    runner = web.AppRunner(
        webhook_app(dp, bot, secret, path, readiness), shutdown_timeout=30, access_log=None
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("webhook listening on %s:%s%s", host, port, path)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
