"""Webhook mode: an update is answered only once its effect is committed, once, and only when
it comes with the secret Telegram was given."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.webhook import SECRET_HEADER, webhook_app
from tests.conversation import Harness, texts

SECRET = "s3cr3t-token"


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[TestClient]:
    app = webhook_app(harness.dp, harness.bot, SECRET, "/telegram")
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_an_update_is_handled_before_it_is_answered(
    harness: Harness, client: TestClient
) -> None:
    person = harness.person(language_code="en")
    update = harness.standin.message_update(person.user, "/help")
    response = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    # By the time Telegram has its answer, the reply has been sent and committed.
    assert "La Collective" in texts(harness.standin.calls)[0]

    mark = len(harness.standin.calls)
    again = await client.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert again.status == 200 and harness.standin.calls[mark:] == []


async def test_a_request_without_the_secret_is_refused(
    harness: Harness, client: TestClient
) -> None:
    person = harness.person(language_code="en")
    update = harness.standin.message_update(person.user, "/help")
    for headers in ({}, {SECRET_HEADER: "guess"}):
        response = await client.post("/telegram", json=update, headers=headers)
        assert response.status == 401
    bad = await client.post("/telegram", data=b"not json", headers={SECRET_HEADER: SECRET})
    assert bad.status == 400
    assert harness.standin.calls == []


def test_a_webhook_needs_its_secret() -> None:
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings(_env_file=None, webhook_url="https://bot.example.org")


async def test_a_worker_registers_its_webhook_and_serves_until_stopped(harness: Harness) -> None:
    import asyncio
    import socket

    from aiohttp import ClientSession

    from bot.webhook import serve_webhook

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = asyncio.Event()
    worker = asyncio.create_task(
        serve_webhook(
            harness.dp,
            harness.bot,
            url="https://bot.example.org/",
            secret=SECRET,
            path="/telegram",
            host="127.0.0.1",
            port=port,
            stop=stop,
        )
    )
    registered = []
    for _ in range(200):
        registered = harness.standin.calls_of("setWebhook")
        if registered:
            break
        await asyncio.sleep(0.01)
    assert registered[0].params["url"] == "https://bot.example.org/telegram"
    assert registered[0].params["secret_token"] == SECRET
    person = harness.person(language_code="en")
    update = harness.standin.message_update(person.user, "/help")
    async with ClientSession() as http:
        for _ in range(100):
            try:
                async with http.post(
                    f"http://127.0.0.1:{port}/telegram",
                    json=update,
                    headers={SECRET_HEADER: SECRET},
                ) as response:
                    assert response.status == 200
                    break
            except OSError:
                await asyncio.sleep(0.02)
    assert "La Collective" in texts(harness.standin.calls)[-1]
    stop.set()
    await asyncio.wait_for(worker, 10)
