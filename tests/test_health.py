"""/healthz and /readyz, as a load balancer or a supervisor asks them: on the webhook's server,
and in polling mode on HEALTH_PORT; /readyz names what is not ready (the database, Redis, an
outbox that has fallen behind) in a 503."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from bot.app import open_app, serve
from bot.config import Settings
from bot.health import Readiness
from bot.standin import StandIn
from bot.webhook import webhook_app
from storage.db import create_engine, create_sessionmaker
from storage.outbox import ALERT, QuietHours, TextMessage, enqueue
from tests.conftest import TOKEN
from tests.conversation import Harness

# Noon and eleven at night in Paris, in December (UTC+1).
NOON = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def readiness(harness: Harness, now: datetime = NOON, **options: object) -> Readiness:
    return Readiness(
        harness.sessionmaker,
        outbox_lag=300,
        quiet=QuietHours("Europe/Paris"),
        now=lambda: now,
        **options,  # type: ignore[arg-type]
    )


async def client_for(harness: Harness, ready: Readiness) -> TestClient:
    app = webhook_app(harness.dp, harness.bot, "secret", "/telegram", ready)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def closing() -> AsyncIterator[list[TestClient]]:
    clients: list[TestClient] = []
    yield clients
    for client in clients:
        await client.close()


async def ask(client: TestClient, path: str) -> tuple[int, dict[str, object]]:
    response = await client.get(path)
    return response.status, await response.json()


async def write_row(harness: Harness, due: datetime, kind: str | None = None) -> None:
    async with harness.sessionmaker.begin() as session:
        await enqueue(
            session, TextMessage(chat_id=1001, text="Bonjour", kind=kind, not_before=due)
        )


async def test_a_worker_with_its_database_and_outbox_up_to_date_is_live_and_ready(
    harness: Harness, closing: list[TestClient]
) -> None:
    await write_row(harness, NOON - timedelta(seconds=60))  # due a minute ago: within the limit
    client = await client_for(harness, readiness(harness))
    closing.append(client)
    assert await ask(client, "/healthz") == (200, {"ok": True})
    assert await ask(client, "/readyz") == (200, {"ok": True})


async def test_an_outbox_fallen_behind_makes_the_worker_not_ready_but_still_live(
    harness: Harness, closing: list[TestClient]
) -> None:
    await write_row(harness, NOON - timedelta(seconds=301))
    client = await client_for(harness, readiness(harness))
    closing.append(client)
    status, body = await ask(client, "/readyz")
    assert status == 503
    assert body["ok"] is False and list(body["failed"]) == ["outbox"]  # type: ignore[call-overload]
    assert "301s" in body["failed"]["outbox"]  # type: ignore[index]
    assert await ask(client, "/healthz") == (200, {"ok": True})


async def test_an_alert_held_for_the_night_is_not_a_late_outbox(
    harness: Harness, closing: list[TestClient]
) -> None:
    # Written at eight in the evening, due then, and held since nine by the quiet hours.
    await write_row(harness, NIGHT - timedelta(hours=2), kind=ALERT)
    night = await client_for(harness, readiness(harness, NIGHT))
    closing.append(night)
    assert await ask(night, "/readyz") == (200, {"ok": True})
    # Still there the next day at noon, it is late.
    day = await client_for(harness, readiness(harness, NOON + timedelta(days=1)))
    closing.append(day)
    assert (await ask(day, "/readyz"))[0] == 503


async def test_a_database_that_does_not_answer_is_named(
    harness: Harness, closing: list[TestClient]
) -> None:
    # Nothing listens on that port.
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    try:
        ready = Readiness(create_sessionmaker(engine), outbox_lag=300, now=lambda: NOON)
        client = await client_for(harness, ready)
        closing.append(client)
        status, body = await ask(client, "/readyz")
    finally:
        await engine.dispose()
    assert status == 503
    assert body["failed"] == {"database": "unreachable (ConnectionRefusedError)"}


async def test_redis_is_checked_when_it_is_used(
    harness: Harness, closing: list[TestClient]
) -> None:
    from redis.asyncio import Redis

    down = Redis(host="127.0.0.1", port=free_port())
    try:
        client = await client_for(harness, readiness(harness, redis=down))
        closing.append(client)
        status, body = await ask(client, "/readyz")
    finally:
        await down.aclose()
    assert status == 503 and list(body["failed"]) == ["redis"]  # type: ignore[call-overload]

    url = os.environ.get("TEST_REDIS_URL")
    if url is None:
        return  # Redis up is checked where there is one (CI)
    up = Redis.from_url(url)
    try:
        client = await client_for(harness, readiness(harness, redis=up))
        closing.append(client)
        assert await ask(client, "/readyz") == (200, {"ok": True})
    finally:
        await up.aclose()


async def test_in_polling_mode_health_port_serves_the_three_paths(
    tmp_path: Path, standin: StandIn
) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_base=standin.base_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'collective.db'}",
        health_port=port,
    )
    async with open_app(settings, TOKEN) as app, ClientSession() as http:
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop))
        answers: dict[str, int] = {}
        deadline = asyncio.get_running_loop().time() + 120  # a slow, shared machine
        while True:
            try:
                for path in ("/healthz", "/readyz", "/metrics"):
                    async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                        answers[path] = response.status
                break
            except OSError:
                assert not running.done(), running
                assert asyncio.get_running_loop().time() < deadline, "HEALTH_PORT never answered"
                await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, 30)
    assert answers == {"/healthz": 200, "/readyz": 200, "/metrics": 200}


def test_health_port_is_off_unless_set(no_env: None) -> None:
    from bot.config import load_settings

    assert load_settings(_env_file=None).health_port is None
    assert load_settings(_env_file=None, health_port="9100").health_port == 9100
