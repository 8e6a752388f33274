"""One person flooding the bot while everyone else uses it normally.

Telegram is the stand-in in a process of its own (bench/world.py), answering every call after
`--latency-ms`. Others play the realistic mix (bench/mix.py) at a steady `--rate`, open loop,
through the bot's own long polling, as in `python -m bench updates`; the bot runs with its
real flood limit (the settings' defaults). Two runs on fresh databases:

1. others alone: their latency from arrival at Telegram to effect committed and replies sent
   (`others_p50_ms`, `others_p99_ms`);
2. the same others, with one person sending `--flood-rate` updates a second meanwhile
   (messages and button presses, alternately): the others' latency again
   (`others_p50_ms_flood`, `others_p99_ms_flood`), the flooder's updates (`flooder_updates`),
   how many were handled (`flooder_handled`: answered as anyone's would be) and how many
   dropped (`flooder_dropped`), and how many times they were told to slow down
   (`flooder_told`, in their language: `flooder_told_text`).

The 99th percentiles are also given leaving out the first 2 seconds (`…_after_2s`): as a
flood starts, the flooder's first `flood_messages` updates are let through and handled one
after the other, each after the previous one's replies, as anyone's quick messages are, and
the polling batch they came in waits for them; past them, their updates are dropped as they
arrive and hold nobody.

3. `--wave` new accounts (default 5,000) each sending /start at once: the rows the database
   gained, by table (`wave_rows_added`), the outbox's (`wave_outbox_rows`), the bot's
   messages to the coordinators' group (`wave_group_messages`).

The target: the others' latency unchanged within noise, the flooder told once; the wave adds
a person (id and language only), their place in onboarding and the update's id per /start,
nothing to the outbox, nothing for the coordinators. `--quick` is a
smoke run of a few seconds. The JSON object is the last line printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.mix import SLUG, Script, people, rehearse, steps
from bench.updates import (
    GROUP,
    TOKEN,
    Crowd,
    Databases,
    Watch,
    World,
    current_update,
    running_bot,
)

FIRST_PERSON = 20_000_000
FLOODER = 19_999_999
WAVE_FIRST = 30_000_000
# The flood's first seconds: the flooder's first `flood_messages` updates are handled one after
# the other, each after the previous one's replies, and the batch they came in waits for them.
BURST_SECONDS = 2.0
SLOW_DOWN = "You are sending messages very quickly. Please wait a few seconds, then go on."


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench floods")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rate", type=float, default=30.0, help="others' updates/s")
    parser.add_argument("--flood-rate", type=float, default=200.0, help="the flooder's, /s")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--wave", type=int, default=5000, help="new accounts sending /start")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rate, args.flood_rate, args.wave = 3.0, 20.0, 100.0, 200
    return args


def flood(script: Script, factory: Any, count: int) -> list[dict[str, Any]]:
    """The flooder's updates: a text, then a button of the mix (the menu's and later ones:
    not those choosing a language, so that they are told in theirs), again and again."""
    from bot.standin.updates import make_user

    user = make_user(FLOODER, language_code="fr")
    menu = steps(SLUG).index(("press", "Report a need"))  # the same index in the script
    presses = [i for i, step in enumerate(script.steps) if step.kind == "press" and i >= menu]
    updates = []
    for index in range(count):
        if index % 2:
            updates.append(script.update(factory, FLOODER, presses[index // 2 % len(presses)]))
        else:
            updates.append(factory.message_update(user, f"hello {index}"))
    return updates


def merge(others: list[dict[str, Any]], flooder: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Both streams, each at its own even pace, in one list played at their summed rate. The
    update ids are given again in that order, as Telegram numbers updates as they arrive (the
    updates are changed in place)."""
    merged: list[tuple[float, dict[str, Any]]] = []
    merged += [(i / len(others), u) for i, u in enumerate(others)]
    merged += [((j + 0.5) / len(flooder), u) for j, u in enumerate(flooder)]
    ordered = [u for _t, u in sorted(merged, key=lambda pair: pair[0])]
    ids = sorted(u["update_id"] for u in ordered)
    for update, update_id in zip(ordered, ids, strict=True):
        update["update_id"] = update_id
    return ordered


async def play(
    url: str,
    world: World,
    updates: list[dict[str, Any]],
    others: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    rate: float,
    redis_url: str | None,
) -> tuple[Watch, dict[int, list[str]]]:
    """The updates arriving at `rate` a second, through the bot's polling, until the `others`
    among them are done and Telegram has none left. Returns the watch and, per update, the
    texts the bot sent or answered."""
    from bot.config import Settings
    from bot.delivery import deliver
    from bot.polling import poll

    await world.control("forget")
    await world.know(messages)
    said: dict[int, list[str]] = {}
    # Its real flood limit (the settings' default), not the one the backlog benchmark raises.
    real_limit = Settings.model_fields["flood_messages"].default
    async with running_bot(url, world, redis_url, flood_messages=real_limit) as (bot, dp):
        watch = Watch()
        watch.attach(dp, bot)

        async def record(make_request: Any, bot: Any, method: Any) -> Any:
            update_id = current_update.get()
            chat_id = getattr(method, "chat_id", None)
            if chat_id is not None:
                SPOKEN_TO[chat_id] = SPOKEN_TO.get(chat_id, 0) + 1
            if update_id is not None:
                text = getattr(method, "text", None) or ""
                said.setdefault(update_id, []).append(text)
            return await make_request(bot, method)

        bot.session.middleware(record)
        stop = asyncio.Event()
        await world.control("steady", {"updates": updates, "rate": rate})
        polling = asyncio.create_task(poll(dp, bot, stop))
        sending = asyncio.create_task(deliver(bot, dp["sessionmaker"], dp["settings"], stop))
        # Every update of the others done (the flooder's dropped ones are never handled),
        # and none left at Telegram; the polling loop finishes what it holds as it stops.
        async with asyncio.timeout(600):
            while not (
                all(u["update_id"] in watch.done for u in others)
                and (await world.control("stats"))["pending"] == 0
            ):
                watch.changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await watch.changed.wait()
        stop.set()
        await asyncio.gather(polling, sending)
    return watch, said


async def latencies(
    world: World, watch: Watch, updates: list[dict[str, Any]], skip: float = 0
) -> list[float]:
    """From arrival to done, in ms, sorted; `skip`: leaving out those arriving in the first
    `skip` seconds."""
    arrivals = (await world.control("stats"))["arrivals"]
    first = min(arrivals[str(u["update_id"])] for u in updates)
    return sorted(
        1000 * (watch.done[u["update_id"]] - arrivals[str(u["update_id"])])
        for u in updates
        if arrivals[str(u["update_id"])] >= first + skip
    )


SPOKEN_TO: dict[int, int] = {}  # chat id -> the bot's calls to it, outbox included


async def table_rows(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.models import Base

    engine = create_engine(url)
    async with engine.connect() as connection:
        rows = {
            t.name: int(await connection.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }
    await engine.dispose()
    return rows


async def wave(
    world: World, databases: Databases, factory: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """`--wave` new accounts each sending /start, all at once: what the database gained, per
    table; the outbox's rows; the bot's messages to the coordinators' group."""
    from bot.standin.updates import make_user

    url = await databases.fresh()
    before = await table_rows(url)
    languages = ("fr", "ar", "en", None)
    updates = [
        factory.message_update(make_user(WAVE_FIRST + i, language_code=languages[i % 4]), "/start")
        for i in range(args.wave)
    ]
    SPOKEN_TO.clear()
    started = time.monotonic()
    await play(url, world, updates, updates, [], 10_000.0, args.redis_url)
    seconds = time.monotonic() - started
    after = await table_rows(url)
    grown = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    return {
        "wave_starts": len(updates),
        "wave_seconds": round(seconds, 1),
        "wave_rows_added": grown,
        "wave_outbox_rows": after["outbox"] - before["outbox"],
        "wave_group_messages": SPOKEN_TO.get(GROUP, 0),
        "wave_people_answered": sum(
            1 for u in updates if SPOKEN_TO.get(u["message"]["chat"]["id"])
        ),
    }


def percentile(waits: list[float], share: float) -> float | None:
    if not waits:
        return None
    return round(waits[min(len(waits) - 1, int(share * len(waits)))], 1)


async def run(argv: list[str]) -> dict[str, Any]:
    args = parse(argv)
    started = time.monotonic()
    from bot.i18n import create_i18n
    from bot.standin import StandIn
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade

    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("fr"):
        told_text = i18n.gettext(SLOW_DOWN)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        rehearsal = f"sqlite+aiosqlite:///{folder / 'rehearsal.db'}"
        await upgrade(rehearsal)
        script = await rehearse(rehearsal, TOKEN)
        databases = Databases(folder, args.database_url, args.redis_url)
        await databases.prepare()
        factory = StandIn(token=TOKEN)  # only hands out update and message ids
        total = int(args.rate * args.seconds)
        # Each person well within the limit: one step a second at most.
        count = max(-(-total // len(script)), int(args.rate) + 1)
        report: dict[str, Any] = {
            "database": "postgresql" if args.database_url else "sqlite",
            "redis": bool(args.redis_url),
            "latency_ms": args.latency_ms,
            "others_rate": args.rate,
            "flood_rate": args.flood_rate,
            "seconds": args.seconds,
        }

        async def crowd_in(first: int) -> tuple[str, Crowd]:
            url = await databases.fresh()
            crowd = Crowd.of(script, factory, first, count, total)
            engine = create_engine(url)
            await people(create_sessionmaker(engine), 1, [*crowd.ids, FLOODER])
            await engine.dispose()
            return url, crowd

        async with World.started() as world:
            await world.latency(args.latency_ms / 1000)
            # 1. Others alone.
            url, crowd = await crowd_in(FIRST_PERSON)
            watch, _said = await play(
                url,
                world,
                crowd.updates,
                crowd.updates,
                crowd.messages(),
                args.rate,
                args.redis_url,
            )
            waits = await latencies(world, watch, crowd.updates)
            report["others_updates"] = len(waits)
            report["others_p50_ms"] = round(statistics.median(waits), 1)
            report["others_p99_ms"] = percentile(waits, 0.99)
            steady = await latencies(world, watch, crowd.updates, BURST_SECONDS)
            report["others_p99_ms_after_2s"] = percentile(steady, 0.99)

            # 2. The same, with the flooder.
            url, crowd = await crowd_in(FIRST_PERSON + 1_000_000)
            flooder = flood(script, factory, int(args.flood_rate * args.seconds))
            watch, said = await play(
                url,
                world,
                merge(crowd.updates, flooder),
                crowd.updates,
                crowd.messages() + script.messages(FLOODER),
                args.rate + args.flood_rate,
                args.redis_url,
            )
            waits = await latencies(world, watch, crowd.updates)
            report["others_p50_ms_flood"] = round(statistics.median(waits), 1)
            report["others_p99_ms_flood"] = percentile(waits, 0.99)
            steady = await latencies(world, watch, crowd.updates, BURST_SECONDS)
            report["others_p99_ms_flood_after_2s"] = percentile(steady, 0.99)
            report["others_told"] = sum(
                said.get(u["update_id"], []).count(told_text) for u in crowd.updates
            )
            told = handled = 0
            for update in flooder:
                texts = said.get(update["update_id"], [])
                told += texts.count(told_text)
                handled += any(text != told_text for text in texts)
            report["flooder_updates"] = len(flooder)
            report["flooder_handled"] = handled
            report["flooder_dropped"] = len(flooder) - handled
            report["flooder_told"] = told
            report["flooder_told_text"] = told_text

            # 3. A wave of /start from new accounts.
            report.update(await wave(world, databases, factory, args))
        report["run_seconds"] = round(time.monotonic() - started, 1)
    return report
