"""/healthz, /readyz and /metrics, for the people who run the bot.

- /healthz: the process answers (liveness): 200 whatever the database does, so that a
  supervisor restarts only a process that is stuck, not one waiting for PostgreSQL.
- /readyz: the database answers; Redis answers when REDIS_URL is set; the oldest outbox row
  the sender could take now has not waited more than READY_OUTBOX_LAG_S. 200, or 503 with a
  short JSON body naming what failed (`{"ok": false, "failed": {"outbox": "…"}}`).
- /metrics: Prometheus' text format (bot/metrics.py).

On the webhook's server (bot/webhook.py), and in polling mode on HEALTH_PORT (`serve_health`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import Metrics
from storage.models import utcnow
from storage.outbox import QuietHours
from storage.outbox_backlog import Backlog, backlog

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 3.0  # seconds a check may take before it counts as failed


class Late(Exception):
    """The database answers, but the outbox is behind."""


@dataclass
class Readiness:
    """What /readyz checks. `redis`: a client with `ping()`, when Redis is used."""

    sessionmaker: async_sessionmaker[AsyncSession]
    outbox_lag: float
    quiet: QuietHours = field(default_factory=QuietHours)
    redis: Any = None
    now: Callable[[], datetime] = utcnow
    timeout: float = CHECK_TIMEOUT

    async def failures(self) -> dict[str, str]:
        """The checks that failed, each with a short reason; empty when ready."""
        checks: dict[str, Callable[[], Awaitable[None]]] = {"database": self._database}
        if self.redis is not None:
            checks["redis"] = self._redis
        results = await asyncio.gather(*(self._timed(check) for check in checks.values()))
        failed: dict[str, str] = {}
        for name, result in zip(checks, results, strict=True):
            if isinstance(result, Late):
                failed["outbox"] = str(result)
            elif result is not None:
                failed[name] = result
        return failed

    async def _timed(self, check: Callable[[], Awaitable[None]]) -> str | Late | None:
        try:
            await asyncio.wait_for(check(), self.timeout)
        except Late as late:
            return late
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except Exception as error:  # the reason, not a traceback: its kind says enough
            return f"unreachable ({type(error).__name__})"
        return None

    async def _database(self) -> None:
        now = self.now()
        async with self.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            found = await backlog(session, now, self.quiet)
        lag = found.lag(now)
        if lag > self.outbox_lag:
            raise Late(f"the oldest due message has waited {lag:.0f}s")

    async def _redis(self) -> None:
        await self.redis.ping()

    async def backlog(self) -> Backlog:
        async with self.sessionmaker() as session:
            return await backlog(session, self.now(), self.quiet)


def add_routes(app: web.Application, readiness: Readiness, metrics: Metrics | None) -> None:
    """/healthz, /readyz and, with `metrics`, /metrics on `app`."""
    from aiohttp import web  # the server, loaded only where one serves (lean start)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(request: web.Request) -> web.Response:
        failed = await readiness.failures()
        if failed:
            log.warning("not ready: %s", ", ".join(f"{k}: {v}" for k, v in failed.items()))
            return web.json_response({"ok": False, "failed": failed}, status=503)
        return web.json_response({"ok": True})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if metrics is not None:

        async def scrape(request: web.Request) -> web.Response:
            try:
                metrics.read_backlog(await readiness.backlog(), readiness.now())
            except Exception as error:  # the counters are still worth having
                log.warning("metrics: the outbox could not be read (%s)", type(error).__name__)
            body, content_type = metrics.exposition()
            response = web.Response(body=body)
            response.headers["Content-Type"] = content_type
            return response

        app.router.add_get("/metrics", scrape)


async def serve_health(
    readiness: Readiness,
    metrics: Metrics | None,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
) -> None:
    """Polling mode's small HTTP server for the same three paths, until `stop`."""
    from aiohttp import web

    app = web.Application()
    add_routes(app, readiness, metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on %s:%s", host, port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
