"""Resident memory, each figure in a fresh process (run by bench/updates.py):

- `idle URL WORLD`: the bot started as `collective run` starts it (migrations, command menus,
  the sender and the jobs, long polling), nothing handled yet;
- `bare`: a process that imports aiogram and builds a bare bot and dispatcher;
- `growth URL WORLD POPULATION PEOPLE [REDIS]`: with POPULATION people in the database, the
  bot started, then one update from each of PEOPLE distinct people.

Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from typing import Any

TOKEN = "100000:BENCH"


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


async def bare() -> dict[str, Any]:
    from aiogram import Bot, Dispatcher

    Bot(TOKEN)
    Dispatcher()
    return {"rss_mb": rss_mb()}


async def population(url: str, count: int) -> None:
    """Onboarded citizens, as many as asked, written straight into the database."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from storage.db import create_engine
    from storage.models import Role, User
    from storage.privacy import NOTICE_VERSION

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    engine = create_engine(url)
    async with engine.begin() as connection:
        for start in range(0, count, 5000):
            await connection.execute(
                insert(User),
                [
                    {
                        "telegram_id": 20_000_000 + n,
                        "locale": "fr",
                        "role": Role.citizen,
                        "arrondissement": 1 + n % 16,
                        "notice_version": NOTICE_VERSION,
                        "notice_accepted_at": now,
                        "onboarded_at": now,
                        "created_at": now,
                        "last_seen_at": now,
                    }
                    for n in range(start, min(count, start + 5000))
                ],
            )
    await engine.dispose()


def come_back(n: int, telegram_id: int) -> dict[str, Any]:
    """/start from someone already registered (built here: the stand-in's update factory
    would keep every message in this process)."""
    person = {"id": telegram_id, "is_bot": False, "first_name": "Test", "language_code": "fr"}
    return {
        "update_id": 900_000_000 + n,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": telegram_id, "type": "private", "first_name": "Test"},
            "from": person,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def started(url: str, world: str, redis_url: str | None, work: Any) -> dict[str, Any]:
    """Runs the bot as `collective run` does, calls `work(app)` once it listens, then stops."""
    from bot.app import open_app, serve
    from bot.config import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_base=world,
        database_url=url,
        redis_url=redis_url,
        flood_messages=1000,
    )
    async with open_app(settings, TOKEN) as app:
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop))
        await asyncio.sleep(2)  # the menus registered, the first jobs run, polling idle
        try:
            return dict(await work(app))
        finally:
            stop.set()
            await running


async def idle(url: str, world: str) -> dict[str, Any]:
    async def measure(app: Any) -> dict[str, Any]:
        return {"rss_mb": rss_mb()}

    return await started(url, world, None, measure)


async def growth(
    url: str, world: str, count: int, people: int, redis_url: str | None
) -> dict[str, Any]:
    from aiohttp import ClientSession

    await population(url, count)

    async def measure(app: Any) -> dict[str, Any]:
        idle_mb = rss_mb()
        done = 0
        finished = asyncio.Event()
        original = app.dp.feed_update

        async def feed_update(bot: Any, update: Any, **kwargs: Any) -> Any:
            nonlocal done
            try:
                return await original(bot, update, **kwargs)
            finally:
                done += 1
                if done == people:
                    finished.set()

        app.dp.feed_update = feed_update
        started = time.monotonic()
        async with ClientSession() as http:
            for start in range(0, people, 2000):
                updates = [
                    come_back(n, 20_000_000 + n * (count // people))
                    for n in range(start, min(people, start + 2000))
                ]
                async with http.post(f"{world}/control/push", json={"updates": updates}) as r:
                    await r.read()
        await asyncio.wait_for(finished.wait(), 600)
        seconds = time.monotonic() - started
        return {
            "idle_mb": idle_mb,
            "after_mb": rss_mb(),
            "updates_per_s": round(people / seconds, 1),
        }

    return await started(url, world, redis_url, measure)


async def main(argv: list[str]) -> dict[str, Any]:
    kind = argv[0]
    if kind == "bare":
        return await bare()
    if kind == "idle":
        return await idle(argv[1], argv[2])
    if kind == "growth":
        return await growth(argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5] or None)
    raise SystemExit(f"unknown: {kind}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))))
