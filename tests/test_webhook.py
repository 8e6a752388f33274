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
