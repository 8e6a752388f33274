"""With REDIS_URL, dialogs and per-person locks live in Redis and still survive a restart."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.i18n import CatalogI18n
from bot.standin import StandIn
from storage.db import create_sessionmaker
from tests.conftest import TOKEN
from tests.conversation import Harness

REDIS = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set")


@pytest.fixture
async def redis_harness(
    settings: Settings, engine: AsyncEngine, i18n: CatalogI18n, standin: StandIn
) -> AsyncIterator[Harness]:
    assert REDIS
    client = Redis.from_url(REDIS)
    await client.flushdb()
    await client.aclose()
    with_redis = settings.model_copy(update={"redis_url": REDIS})
    sessionmaker = create_sessionmaker(engine)
    async with Harness.open(with_redis, sessionmaker, i18n, standin, TOKEN) as harness:
        yield harness


async def test_a_dialog_in_redis_survives_a_restart(redis_harness: Harness) -> None:
    person = redis_harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("I have read it, continue")
    await person.press("Association")
    await redis_harness.restart()
    await person.send("/start")
    said = person.said(2)
    assert "Welcome back!" in said[0] and "What is the name of your organisation?" in said[1]
    client = Redis.from_url(REDIS or "")
    keys = await client.keys("fsm:*")
    await client.aclose()
    assert keys, "the dialog is stored in Redis"
