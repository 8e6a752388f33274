"""How fast the bot handles people's updates end to end: dispatcher, middlewares, a SQLite
transaction per update, and the reply over HTTP to the local Bot API stand-in.

Each simulated person runs the whole onboarding (11 updates); people are interleaved the way
a real bot sees them. `--people N` (default 200).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.factory import create_bot, create_dispatcher
from bot.i18n import create_i18n
from bot.standin import StandIn
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade

TOKEN = "100000:BENCH"


async def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench updates")
    parser.add_argument("--people", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        settings = Settings(_env_file=None, database_url=url, flood_messages=1000)  # type: ignore[call-arg]
        async with StandIn(token=TOKEN) as standin:
            bot = create_bot(TOKEN, standin.base_url)
            dp = create_dispatcher(settings, create_sessionmaker(engine), create_i18n())
            users = [standin.make_user(10_000 + i, language_code="fr") for i in range(args.people)]
            steps = [
                ("text", "/start"),
                ("press", "lg:fr"),
                ("press", "nt:1"),
                ("press", "rl:citizen"),
                ("press", "ar:13"),
                ("press", "th:older_people"),
                ("press", "th:solidarity"),
                ("press", "td"),
                ("press", "ct:0"),
                ("press", "al:0"),
                ("text", "/settings"),
                ("text", "/mydata"),
            ]
            handled = 0
            started = time.perf_counter()
            for kind, value in steps:
                for user in users:
                    if kind == "text":
                        update = standin.message_update(user, value)
                    else:
                        last = [
                            m for m in standin.chat_messages(user["id"]) if m.get("reply_markup")
                        ][-1]
                        update = standin.callback_update(user, last, value)
                    await dp.feed_raw_update(bot, update)
                    handled += 1
            seconds = time.perf_counter() - started
            await bot.session.close()
        await engine.dispose()
    return {
        "people": args.people,
        "updates": handled,
        "seconds": round(seconds, 3),
        "updates_per_second": round(handled / seconds, 1),
        "ms_per_update": round(1000 * seconds / handled, 3),
        "api_calls": len(standin.calls),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
