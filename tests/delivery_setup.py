"""The outbox delivered in tests: by the real sender over the stand-in (`deliver_all`, with the
timings shortened by FAST), or at once without its pacing (`deliver`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery import deliver as run_delivery
from bot.delivery import telegram_method
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import Lease
from tests.conversation import Harness

FAST = {
    "delivery_rate": 200,
    "delivery_private_per_second": 50,
    "delivery_group_per_minute": 3000,
    "delivery_max_attempts": 3,
    "delivery_backoff_seconds": 0.05,
    "delivery_backoff_max_seconds": 0.2,
    "delivery_lease_seconds": 30,
    "delivery_poll_seconds": 0.02,
}

Rows = list[OutboxMessage]
Maker = async_sessionmaker[AsyncSession]


async def all_rows(sessionmaker: Maker) -> Rows:
    async with sessionmaker() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def settled(rows: Rows) -> bool:
    return all(row.status is not OutboxStatus.pending for row in rows)


async def wait_for(
    sessionmaker: Maker, condition: Callable[[Rows], bool] = settled, within: float = 5
) -> Rows:
    """The rows once `condition` holds (by default, none is pending), checked every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        rows = await all_rows(sessionmaker)
        if condition(rows):
            return rows
        assert loop.time() < deadline, [(r.id, r.status, r.attempts, r.last_error) for r in rows]
        await asyncio.sleep(0.02)


@asynccontextmanager
async def delivering(
    bot: Bot, sessionmaker: Maker, settings: Settings, **options: Any
) -> AsyncIterator[asyncio.Task[None]]:
    """The real sender, running until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_delivery(bot, sessionmaker, settings, stop, **options))
    try:
        yield task
    finally:
        stop.set()
        if not task.done():
            await task


async def deliver_all(bot: Bot, sessionmaker: Maker, settings: Settings) -> Rows:
    async with delivering(bot, sessionmaker, settings):
        return await wait_for(sessionmaker)


async def deliver(harness: Harness) -> list[dict[str, Any]]:
    """Sends what waits in the outbox as the delivery loop does (without its pacing); returns
    the messages as their chats show them."""
    delivered = []
    async with harness.sessionmaker.begin() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.pending)
            .order_by(OutboxMessage.id)
        )
        for row in rows:
            lease = Lease(
                row.id, row.chat_id, row.user_id, row.method, row.payload, None, 1, None,
                row.not_before,
            )  # fmt: skip
            sent = await harness.bot(telegram_method(lease))
            row.status = OutboxStatus.sent
            message = harness.standin.message(row.chat_id, sent.message_id)
            assert message is not None
            delivered.append(message)
    return delivered
