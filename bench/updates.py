"""Whether the bot keeps up with a whole city at Telegram's real latency.

Telegram is the local stand-in in a process of its own (bench/world.py), answering every call
after `--latency-ms` (default 50; a real round trip is 50–150 ms). The updates are a realistic
mix (bench/mix.py: onboarding, the menu, a need, a proposal, joining a challenge, a survey
answered, /mydata), rehearsed once, then played by many people, everyone's first step, then
everyone's second, and so on — as when an alert reaches everyone at once. Reported side by side:

- a backlog drained by the bot's own long polling (`updates_per_s`), the same through the
  webhook app with 50 concurrent clients, and through a bare aiogram dispatcher run by
  aiogram's `start_polling` whose handlers make the same calls without storage (`ratio`:
  polling over bare);
- the effects checked in the database: each person onboarded, their need, proposal,
  participation and survey response written once (`failures`: missing or doubled);
- latency under a steady load, open loop (`p50_ms`, `p99_ms`): from each update's arrival at
  Telegram to its effect committed and its replies sent;
- CPU per update with no latency; resident memory idle, next to a bare aiogram process, and
  its growth after updates from `--growth` distinct people among `--population`.

`--database-url` (PostgreSQL, emptied first) and `--redis-url` run it on a server; `--quick`
is a smoke run of a few seconds; `--only cpu` measures only the CPU per update (the figure a
loaded machine changes least, and the one to profile: `py-spy record -- python -m bench
updates --only cpu`). The JSON object is the last line printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from bench.mix import Script, people, rehearse, seed

TOKEN = "100000:BENCH"
FIRST_PERSON = 10_000_000
GROUP = -1_001_234_567
GROUP_MESSAGE = {
    "message_id": 1,
    "date": 1_700_000_000,
    "chat": {"id": GROUP, "type": "supergroup", "title": "Coordinators"},
    "text": "the coordinators' group",
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench updates")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--people", type=int, default=60, help="people in the backlog")
    parser.add_argument("--rate", type=float, default=100.0, help="steady load, updates/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="steady load's length")
    parser.add_argument("--population", type=int, default=100_000)
    parser.add_argument("--growth", type=int, default=20_000, help="distinct people, memory")
    parser.add_argument("--clients", type=int, default=50, help="webhook clients")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument(
        "--only", choices=["cpu"], default=None, help="only CPU per update, no latency"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.people, args.seconds, args.rate = 4, 1.0, 40.0
        args.population, args.growth = 300, 100
    return args


# -- Telegram, in its own process


class World:
    """The stand-in's process, driven over HTTP."""

    def __init__(self, process: asyncio.subprocess.Process, url: str) -> None:
        self.process, self.url = process, url
        self.http = ClientSession()

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls) -> AsyncIterator[World]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.world",
            TOKEN,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None and process.stdin is not None
        url = (await process.stdout.readline()).decode().strip()
        world = cls(process, url)
        try:
            yield world
        finally:
            await world.http.close()
            process.stdin.close()
            await process.wait()

    async def control(self, action: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.post(f"{self.url}/control/{action}", json=body or {}) as response:
            return await response.json()

    async def latency(self, seconds: float) -> None:
        await self.control("latency", {"seconds": seconds})

    async def know(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 2000):
            await self.control("messages", {"messages": messages[start : start + 2000]})

    async def push(self, updates: list[dict[str, Any]]) -> None:
        for start in range(0, len(updates), 2000):
            await self.control("push", {"updates": updates[start : start + 2000]})


# -- the mix, for many people


@dataclass
class Crowd:
    """People and their updates, everyone's first step, then everyone's second…"""

    script: Script
    ids: list[int]
    updates: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, script: Script, factory: Any, first: int, count: int, limit: int = 0) -> Crowd:
        crowd = cls(script, list(range(first, first + count)))
        for person in crowd.ids:
            factory._message_ids[person] = 2_000_000  # clear of the bot's own message ids
        for index in range(len(script)):
            for person in crowd.ids:
                crowd.updates.append(script.update(factory, person, index))
        if limit:
            crowd.updates = crowd.updates[:limit]
        return crowd

    def messages(self) -> list[dict[str, Any]]:
        return [m for person in self.ids for m in self.script.messages(person)]


# -- the bot under test


current_update: ContextVar[int | None] = ContextVar("current_update", default=None)


class Watch:
    """When each update was done (committed, replies sent), and the calls each one made."""

    def __init__(self) -> None:
        self.done: dict[int, float] = {}
        self.calls: dict[int, list[str]] = {}
        self.changed = asyncio.Event()

    def attach(self, dp: Any, bot: Any) -> None:
        original = dp.feed_update

        async def feed_update(bot: Any, update: Any, **kwargs: Any) -> Any:
            token = current_update.set(update.update_id)
            try:
                return await original(bot, update, **kwargs)
            finally:
                current_update.reset(token)
                self.done[update.update_id] = time.monotonic()
                self.changed.set()

        dp.feed_update = feed_update

        async def count(make_request: Any, bot: Any, method: Any) -> Any:
            update_id = current_update.get()
            if update_id is not None:
                self.calls.setdefault(update_id, []).append(method.__api_method__)
            try:
                return await make_request(bot, method)
            finally:
                # A reply sent after its update returned (bot/polling.py hands them over):
                # the update is done once its last reply is.
                if update_id in self.done:
                    self.done[update_id] = time.monotonic()

        bot.session.middleware(count)

    async def until(self, count: int) -> None:
        """Waits until `count` updates are done (ten minutes at most)."""
        async with asyncio.timeout(600):
            while len(self.done) < count:
                self.changed.clear()
                await self.changed.wait()


class Databases:
    """A fresh database for each run: a copy of a migrated, seeded SQLite file, or the
    PostgreSQL database emptied and seeded again."""

    def __init__(self, folder: Path, url: str | None, redis_url: str | None) -> None:
        self.folder, self.server_url, self.redis_url = folder, url, redis_url
        self.template = folder / "template.db"
        self.count = 0

    async def prepare(self) -> None:
        from storage.db import create_engine, create_sessionmaker
        from storage.migrate import upgrade

        if self.server_url:
            # Emptied to the last table, then migrated: the benchmark's database only.
            from sqlalchemy import text

            engine = create_engine(self.server_url)
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
            await engine.dispose()
            await upgrade(self.server_url)
            return
        url = f"sqlite+aiosqlite:///{self.template}"
        await upgrade(url)
        engine = create_engine(url)
        await seed(create_sessionmaker(engine))
        await engine.dispose()

    async def fresh(self) -> str:
        from sqlalchemy import text

        from storage.db import create_engine, create_sessionmaker
        from storage.models import Base

        if self.redis_url:
            from redis.asyncio import Redis

            client = Redis.from_url(self.redis_url)
            await client.flushdb()
            await client.aclose()
        if not self.server_url:
            self.count += 1
            path = self.folder / f"run{self.count}.db"
            shutil.copy(self.template, path)
            return f"sqlite+aiosqlite:///{path}"
        engine = create_engine(self.server_url)
        tables = [t.name for t in Base.metadata.sorted_tables if t.name != "themes"]
        async with engine.begin() as connection:
            await connection.execute(
                text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            )
        await seed(create_sessionmaker(engine))
        await engine.dispose()
        return self.server_url


@contextlib.asynccontextmanager
async def running_bot(
    url: str, world: World, redis_url: str | None, **settings: Any
) -> AsyncIterator[Any]:
    """The bot as `collective run` builds it (engine, catalogs, bot, dispatcher); `settings`
    change the defaults below."""
    from bot.config import Settings
    from bot.factory import create_bot, create_dispatcher
    from bot.i18n import create_i18n
    from storage.db import create_engine, create_sessionmaker

    chosen = {
        # Proposals go to the coordinators' group as moderation cards, through the outbox.
        "coordinator_chat_id": GROUP,
        # The backlog is handled faster than people type: not a flood.
        "flood_messages": 1000,
        **settings,
    }
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        redis_url=redis_url,
        **chosen,
    )
    engine = create_engine(url)
    bot = create_bot(TOKEN, world.url)
    dp = create_dispatcher(config, create_sessionmaker(engine), create_i18n())
    await world.know([GROUP_MESSAGE])
    try:
        yield bot, dp
    finally:
        await dp.storage.close()
        await bot.session.close()
        await engine.dispose()


async def effects(url: str, crowd: Crowd, steps_done: int, run: str) -> int:
    """Updates whose effect is missing or doubled: each person is onboarded, and has one
    need, one proposal, one participation, one completed survey response; every update is
    marked handled once."""
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.models import (
        Initiative,
        Need,
        OutboxMessage,
        Participation,
        ProcessedUpdate,
        SurveyResponse,
        User,
    )

    engine = create_engine(url)
    people = User.telegram_id.in_(crowd.ids)
    counts = {
        "onboarded": select(func.count())
        .select_from(User)
        .where(people, User.onboarded_at.is_not(None)),
        "needs": select(func.count())
        .select_from(Need)
        .join(User, Need.reporter_id == User.id)
        .where(people),
        "proposals": select(func.count())
        .select_from(Initiative)
        .join(User, Initiative.proposer_id == User.id)
        .where(people),
        "participations": select(func.count())
        .select_from(Participation)
        .join(User, Participation.user_id == User.id)
        .where(people),
        "responses": select(func.count())
        .select_from(SurveyResponse)
        .join(User, SurveyResponse.user_id == User.id)
        .where(people, SurveyResponse.completed_at.is_not(None)),
    }
    missing = 0
    async with engine.connect() as connection:
        for kind, query in counts.items():
            wrong = abs(len(crowd.ids) - (await connection.scalar(query) or 0))
            if wrong:
                WRONG.append(f"{run}: {kind} {wrong}")
            missing += wrong
        marked = await connection.scalar(select(func.count()).select_from(ProcessedUpdate))
        if marked != steps_done:
            WRONG.append(f"{run}: marked {marked} of {steps_done}")
        sent = await connection.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_not(None))
        )
    await engine.dispose()
    SENT.append(sent or 0)
    return missing + abs(steps_done - (marked or 0))


SENT: list[int] = []  # outbox rows sent during each run, for the report
WRONG: list[str] = []  # what was missing or doubled, for the report


# -- the runs


async def drain_by_polling(
    url: str, world: World, crowd: Crowd, redis_url: str | None, *, steady: float = 0
) -> tuple[float, Watch, float]:
    """The crowd's updates through the bot's own polling loop: all at once (a backlog), or
    arriving at `steady` updates/s. Returns the seconds, the watch, the CPU seconds."""
    from bot.delivery import deliver
    from bot.polling import poll

    await world.control("forget")
    await world.know(crowd.messages())
    async with running_bot(url, world, redis_url) as (bot, dp):
        watch = Watch()
        watch.attach(dp, bot)
        stop = asyncio.Event()
        cpu = time.process_time()
        started = time.monotonic()
        if steady:
            await world.control("steady", {"updates": crowd.updates, "rate": steady})
        else:
            await world.push(crowd.updates)
        polling = asyncio.create_task(poll(dp, bot, stop))
        # The outbox's sender shares the database meanwhile, as in `collective run`.
        sending = asyncio.create_task(deliver(bot, dp["sessionmaker"], dp["settings"], stop))
        await watch.until(len(crowd.updates))
        stop.set()
        await asyncio.gather(polling, sending)  # the last replies included
        seconds = max(watch.done.values()) - started
        cpu = time.process_time() - cpu
    return seconds, watch, cpu


async def drain_by_webhook(
    url: str, world: World, crowd: Crowd, redis_url: str | None, clients: int
) -> tuple[float, dict[str, int]]:
    from aiohttp import web

    from bot.webhook import webhook_app

    await world.control("forget")
    await world.know(crowd.messages())
    async with running_bot(url, world, redis_url) as (bot, dp):
        runner = web.AppRunner(webhook_app(dp, bot, "bench-secret", "/telegram"))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        answer = await world.control(
            "webhook",
            {
                "url": f"http://127.0.0.1:{port}/telegram",
                "secret": "bench-secret",
                "updates": crowd.updates,
                "clients": clients,
            },
        )
        await runner.cleanup()
    return float(answer["seconds"]), answer["statuses"]


async def drain_bare(world: World, crowd: Crowd, plan: list[list[str]]) -> float:
    """The same updates through a bare aiogram dispatcher, run by aiogram's own polling, whose
    handlers make the calls the bot made for each update, without storage."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, Message, Update

    await world.control("forget")
    await world.know(crowd.messages())
    pairs = zip(crowd.updates, plan, strict=True)
    calls = {update["update_id"]: methods for update, methods in pairs}
    done: list[float] = []
    finished = asyncio.Event()
    session = AiohttpSession(api=TelegramAPIServer.from_base(world.url))
    bot = Bot(TOKEN, session=session)
    dp = Dispatcher()

    async def speak(update: Update, chat_id: int, query: CallbackQuery | None) -> None:
        for method in calls.get(update.update_id, []):
            if method == "answerCallbackQuery" and query is not None:
                await query.answer()
            else:
                await bot.send_message(chat_id, "ok")
        done.append(time.monotonic())
        if len(done) == len(crowd.updates):
            finished.set()

    @dp.message()
    async def on_message(message: Message, event_update: Update) -> None:
        await speak(event_update, message.chat.id, None)

    @dp.callback_query()
    async def on_press(query: CallbackQuery, event_update: Update) -> None:
        assert query.message is not None
        await speak(event_update, query.message.chat.id, query)

    started = time.monotonic()
    await world.push(crowd.updates)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    await asyncio.wait_for(finished.wait(), 600)
    seconds = max(done) - started
    await dp.stop_polling()
    await polling
    return seconds


async def in_a_process(*args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.memory", *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def crowd_in(
    databases: Databases, script: Script, factory: Any, first: int, count: int
) -> tuple[str, Crowd]:
    """A fresh database, with `count` people who once wrote, and their updates."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from storage.db import create_engine, create_sessionmaker

    url = await databases.fresh()
    crowd = Crowd.of(script, factory, first, count)
    engine = create_engine(url)
    sessionmaker: async_sessionmaker[Any] = create_sessionmaker(engine)
    await people(sessionmaker, 1, crowd.ids)
    await engine.dispose()
    return url, crowd


async def cpu_per_update(
    world: World,
    script: Script,
    factory: Any,
    databases: Databases,
    args: argparse.Namespace,
    report: dict[str, Any],
    first: int,
) -> int:
    """The backlog with no latency: the bot's CPU time per update. Returns the failures."""
    await world.latency(0)
    url, crowd = await crowd_in(databases, script, factory, first, args.people)
    _seconds, _watch, cpu = await drain_by_polling(url, world, crowd, args.redis_url)
    report["cpu_ms_per_update"] = round(1000 * cpu / len(crowd.updates), 2)
    return await effects(url, crowd, len(crowd.updates), "cpu")


async def cpu_only(
    world: World,
    script: Script,
    factory: Any,
    databases: Databases,
    args: argparse.Namespace,
    report: dict[str, Any],
) -> dict[str, Any]:
    report["updates"] = len(script) * args.people
    report["failures"] = await cpu_per_update(
        world, script, factory, databases, args, report, FIRST_PERSON
    )
    report["failures_by_kind"] = WRONG[:]
    return report


async def run(argv: list[str]) -> dict[str, Any]:
    args = parse(argv)
    latency = args.latency_ms / 1000
    started = time.monotonic()
    from bot.standin import StandIn
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        rehearsal = f"sqlite+aiosqlite:///{folder / 'rehearsal.db'}"
        await upgrade(rehearsal)
        script = await rehearse(rehearsal, TOKEN)
        databases = Databases(folder, args.database_url, args.redis_url)
        await databases.prepare()
        factory = StandIn(token=TOKEN)  # only hands out update and message ids
        report: dict[str, Any] = {
            "database": "postgresql" if args.database_url else "sqlite",
            "redis": bool(args.redis_url),
            "latency_ms": args.latency_ms,
            "people": args.people,
            "steps_per_person": len(script),
        }
        failures = 0
        async with World.started() as world:
            if args.only == "cpu":
                return await cpu_only(world, script, factory, databases, args, report)
            await world.latency(latency)

            async def backlog(first: int) -> tuple[str, Crowd]:
                url = await databases.fresh()
                crowd = Crowd.of(script, factory, first, args.people)
                from sqlalchemy.ext.asyncio import async_sessionmaker

                from storage.db import create_engine, create_sessionmaker

                engine = create_engine(url)
                sessionmaker: async_sessionmaker[Any] = create_sessionmaker(engine)
                await people(sessionmaker, 1, crowd.ids)
                await engine.dispose()
                return url, crowd

            # 1. The backlog through the bot's polling.
            url, crowd = await backlog(FIRST_PERSON)
            seconds, watch, _cpu = await drain_by_polling(url, world, crowd, args.redis_url)
            count = len(crowd.updates)
            report["updates"] = count
            report["updates_per_s"] = round(count / seconds, 1)
            failures += await effects(url, crowd, count, "polling")
            plan = [watch.calls.get(u["update_id"], []) for u in crowd.updates]
            report["calls_per_update"] = round(sum(map(len, plan)) / count, 2)
            stats = await world.control("stats")
            report["failed_calls"] = stats["failed_calls"]
            report["failed_call_kinds"] = stats["failures"][:5]

            # 2. The same through the webhook, 50 clients.
            url, crowd = await backlog(FIRST_PERSON + 1_000_000)
            seconds, statuses = await drain_by_webhook(
                url, world, crowd, args.redis_url, args.clients
            )
            report["webhook_updates_per_s"] = round(count / seconds, 1)
            report["webhook_statuses"] = statuses
            failures += await effects(url, crowd, count, "webhook")

            # 3. A bare aiogram dispatcher, the same calls, no storage.
            crowd = Crowd.of(script, factory, FIRST_PERSON + 2_000_000, args.people)
            seconds = await drain_bare(world, crowd, plan)
            report["bare_updates_per_s"] = round(count / seconds, 1)
            report["ratio"] = round(report["updates_per_s"] / report["bare_updates_per_s"], 2)

            # 4. A steady load, open loop: latency from arrival to effect and replies.
            total = int(args.rate * args.seconds)
            steady_people = -(-total // len(script))
            url = await databases.fresh()
            crowd = Crowd.of(script, factory, FIRST_PERSON + 3_000_000, steady_people, total)
            from storage.db import create_engine, create_sessionmaker

            engine = create_engine(url)
            await people(create_sessionmaker(engine), 1, crowd.ids)
            await engine.dispose()
            _seconds, watch, _cpu = await drain_by_polling(
                url, world, crowd, args.redis_url, steady=args.rate
            )
            arrivals = (await world.control("stats"))["arrivals"]
            waits = sorted(
                1000 * (watch.done[u["update_id"]] - arrivals[str(u["update_id"])])
                for u in crowd.updates
            )
            report["steady_updates"] = len(waits)
            report["p50_ms"] = round(statistics.median(waits), 1)
            report["p99_ms"] = round(waits[min(len(waits) - 1, int(0.99 * len(waits)))], 1)

            # 5. CPU per update: the backlog again, with no latency.
            failures += await cpu_per_update(
                world, script, factory, databases, args, report, FIRST_PERSON + 4_000_000
            )
            report["failures"] = failures
            report["outbox_sent_during_runs"] = SENT[:]
            report["failures_by_kind"] = WRONG[:]

            # 6. Memory, each in a fresh process.
            url = await databases.fresh()
            idle = await in_a_process("idle", url, world.url)
            bare = await in_a_process("bare")
            url = await databases.fresh()
            grown = await in_a_process(
                "growth",
                url,
                world.url,
                str(args.population),
                str(args.growth),
                args.redis_url or "",
            )
            report["idle_rss_mb"] = idle["rss_mb"]
            report["bare_idle_rss_mb"] = bare["rss_mb"]
            report["growth_rss_mb"] = round(grown["after_mb"] - grown["idle_mb"], 1)
            report["growth_updates_per_s"] = grown["updates_per_s"]
        report["run_seconds"] = round(time.monotonic() - started, 1)
    if os.environ.get("BENCH_VERBOSE"):
        print(json.dumps(report, indent=1), file=sys.stderr)
    return report
