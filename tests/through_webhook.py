"""A Harness whose conversations reach the bot as Telegram's webhook sends them: each update
POSTed, with the secret, to the worker's aiohttp app (bot/webhook.py), which also answers
/healthz, /readyz and /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.health import Readiness
from bot.metrics import Metrics
from bot.webhook import SECRET_HEADER, webhook_app
from tests.conversation import Harness

SECRET = "webhook-secret"


@asynccontextmanager
async def webhook_worker(
    harness: Harness, readiness: Readiness | None = None
) -> AsyncIterator[tuple[TestClient, Metrics]]:
    """The harness's dispatcher behind its webhook app, with metrics of its own; from here on
    `person.send` and `person.press` go through it. Yields the HTTP client and the metrics."""
    metrics = Metrics()
    harness.dp["metrics"] = metrics
    metrics.count_429s(harness.bot)
    ready = readiness or Readiness(harness.sessionmaker, outbox_lag=300)
    app = webhook_app(harness.dp, harness.bot, SECRET, "/telegram", ready)
    async with TestClient(TestServer(app)) as client:

        async def feed(update: dict[str, Any]) -> None:
            response = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
            if response.status != 200:
                harness.failures.append(RuntimeError(f"webhook answered {response.status}"))
            harness.clock.now += 1  # consecutive updates are not a flood

        harness.feed = feed  # type: ignore[method-assign]
        yield client, metrics


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus' text format read back: (name, labels) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found
