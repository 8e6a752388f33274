"""Prometheus metrics, in a registry of the app's own (tests run several apps in one process):
updates handled and failed and how long they took, the outbox (waiting, read at each scrape;
sent, failed, retried, dropped), Telegram's 429s, unsolicited messages held for the quiet
hours, scheduled jobs run and failed. Served at /metrics (bot/health.py).

Counters only count: they are incremented where the thing happens (bot/polling.py,
bot/webhook.py, bot/delivery.py, bot/scheduler.py), and a part given no `Metrics` counts
nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.logs import handling_update

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter

    from storage.outbox_backlog import Backlog

PREFIX = "collective"
# Most updates take tens of milliseconds; a slow database shows in the seconds.
HANDLING_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # Loaded with the first Metrics: a process that serves no /metrics does without it.
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.updates_handled = Counter(
            f"{PREFIX}_updates_handled", "Updates whose effect was committed", registry=r
        )
        self.updates_failed = Counter(
            f"{PREFIX}_updates_failed",
            "Attempts at an update that failed and were rolled back",
            registry=r,
        )
        self.handling_seconds = Histogram(
            f"{PREFIX}_update_handling_seconds",
            "Time to handle an update, commit and replies included",
            buckets=HANDLING_BUCKETS,
            registry=r,
        )
        self.outbox_waiting = Gauge(
            f"{PREFIX}_outbox_waiting", "Outbox rows pending, due or not", registry=r
        )
        self.outbox_lag = Gauge(
            f"{PREFIX}_outbox_oldest_due_seconds",
            "How long the oldest row the sender could take now has waited",
            registry=r,
        )
        self.quiet_held = Gauge(
            f"{PREFIX}_outbox_held_for_quiet_hours",
            "Unsolicited rows (alerts, invitations, reminders, news) deferred by the quiet hours",
            registry=r,
        )
        self.outbox = Counter(
            f"{PREFIX}_outbox_messages",
            "Outbox sends by outcome: sent, retried, failed, dropped (person unreachable)",
            ["outcome"],
            registry=r,
        )
        for outcome in ("sent", "retried", "failed", "dropped"):
            self.outbox.labels(outcome)
        self.retry_after = Counter(
            f"{PREFIX}_telegram_429", "Telegram's flood-control answers (429)", registry=r
        )
        self.jobs_run = Counter(
            f"{PREFIX}_jobs_run", "Scheduled job runs that ended well", ["job"], registry=r
        )
        self.jobs_failed = Counter(
            f"{PREFIX}_jobs_failed", "Scheduled job runs that raised", ["job"], registry=r
        )

    def read_backlog(self, found: Backlog, now: datetime) -> None:
        self.outbox_waiting.set(found.waiting)
        self.outbox_lag.set(found.lag(now))
        self.quiet_held.set(found.held_for_morning)

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus' text format, and its content type."""
        from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def count_429s(self, bot: Bot) -> None:
        """Every call the bot makes is watched for a 429, whoever makes it."""
        bot.session.middleware(_RetryAfterCounter(self.retry_after))


class _RetryAfterCounter(BaseRequestMiddleware):
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            self.counter.inc()
            raise


@contextmanager
def handling(metrics: Metrics | None, update_id: int) -> Iterator[None]:
    """One attempt at an update: its id on every log line written meanwhile; counted (handled,
    or failed when it raises) and timed."""
    started = time.perf_counter()
    with handling_update(update_id):
        try:
            yield
        except Exception:
            if metrics is not None:
                metrics.updates_failed.inc()
            raise
        finally:
            if metrics is not None:
                metrics.handling_seconds.observe(time.perf_counter() - started)
    if metrics is not None:
        metrics.updates_handled.inc()


def job_outcome(metrics: Metrics | None, name: str, failed: bool) -> None:
    if metrics is not None:
        (metrics.jobs_failed if failed else metrics.jobs_run).labels(name).inc()


def outbox_outcome(metrics: Metrics | None, outcome: Any) -> None:
    """`outcome`: "sent", "retried", "failed", "dropped", or None (nothing to count)."""
    if metrics is not None and outcome is not None:
        metrics.outbox.labels(outcome).inc()
