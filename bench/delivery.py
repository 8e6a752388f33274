"""How close the outbox sender comes to Telegram's limits without crossing them.

A batch is enqueued (by default 600 messages to 300 private chats, two each, and 6 to the
coordinators' group), then the real delivery loop sends it to the local Bot API stand-in, which
enforces Telegram's limits and answers 429 to any message beyond them (a violation).

`permitted_rate` is the fastest the limits allow for this batch: messages / the shortest time
they can take (the overall rate, or a chat's own pace, whichever binds). `ratio` is the
achieved rate over it. Options: `--chats`, `--per-chat`, `--group`, `--rate`, `--private`
(per second), `--group-rate` (per minute), `--postgres URL`.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bot.config import Settings
from bot.delivery import deliver
from bot.factory import create_bot
from bot.standin import StandIn, make_group, make_user, private_chat
from storage.db import create_engine, create_sessionmaker, is_sqlite
from storage.migrate import upgrade
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import TextMessage, enqueue

TOKEN = "100000:BENCH"
GROUP = -1001000000001


def shortest_seconds(counts: dict[int, int], args: argparse.Namespace) -> float:
    """A lower bound of the time the batch takes within the limits."""
    total = sum(counts.values())
    bound = total / args.rate
    for chat_id, count in counts.items():
        if chat_id > 0:
            bound = max(bound, (count - 1) / args.private)
        elif count > args.group_rate:
            # A sliding minute: the first `group_rate` at once, then that many per minute.
            bound = max(bound, 60 * ((count - 1) // args.group_rate))
    return bound


async def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench delivery")
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--per-chat", type=int, default=2)
    parser.add_argument("--group", type=int, default=6)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--private", type=float, default=1)
    parser.add_argument("--group-rate", type=float, default=20)
    parser.add_argument("--postgres", help="a PostgreSQL URL (its outbox is emptied)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        if not is_sqlite(url):
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE outbox RESTART IDENTITY"))
        sessionmaker = create_sessionmaker(engine)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            delivery_rate=args.rate,
            delivery_private_per_second=args.private,
            delivery_group_per_minute=args.group_rate,
        )
        async with StandIn(token=TOKEN) as standin:
            standin.add_chat(make_group(GROUP))
            counts: dict[int, int] = {}
            async with sessionmaker.begin() as session:
                for round_ in range(args.per_chat):
                    for index in range(args.chats):
                        chat_id = 10_000 + index
                        standin.add_chat(private_chat(make_user(chat_id)))
                        text_ = f"Message {round_} to {chat_id}"
                        await enqueue(session, TextMessage(chat_id=chat_id, text=text_))
                        counts[chat_id] = counts.get(chat_id, 0) + 1
                    if round_ == 0:
                        for number in range(args.group):
                            text_ = f"Message {number} to the group"
                            await enqueue(session, TextMessage(chat_id=GROUP, text=text_))
                if args.group:
                    counts[GROUP] = args.group
            total = sum(counts.values())
            standin.enforce_limits(args.rate, args.private, int(args.group_rate))
            bot = create_bot(TOKEN, standin.base_url)
            stop = asyncio.Event()
            started = time.perf_counter()
            task = asyncio.create_task(deliver(bot, sessionmaker, settings, stop))
            while True:
                await asyncio.sleep(0.05)
                async with sessionmaker() as session:
                    pending = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == OutboxStatus.pending)
                    )
                if not pending or time.perf_counter() - started > 600:
                    break
            seconds = time.perf_counter() - started
            stop.set()
            await task
            await bot.session.close()
            async with sessionmaker() as session:
                statuses = Counter(
                    (await session.scalars(select(OutboxMessage.status))).all()
                )  # fmt: skip
            delivered = Counter(
                str(call.params.get("text")) for call in standin.calls_of("sendMessage")
            )
            violations = standin.violations
        await engine.dispose()
    permitted = total / shortest_seconds(counts, args)
    achieved = statuses[OutboxStatus.sent] / seconds
    return {
        "messages": total,
        "chats": len(counts),
        "sent": statuses[OutboxStatus.sent],
        "lost": total - statuses[OutboxStatus.sent],
        "duplicates": sum(count - 1 for count in delivered.values()),
        "violations": violations,
        "seconds": round(seconds, 3),
        "achieved_rate": round(achieved, 2),
        "permitted_rate": round(permitted, 2),
        "ratio": round(achieved / permitted, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
