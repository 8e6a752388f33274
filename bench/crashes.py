"""Whether a crash loses or doubles anything: the bot killed with SIGKILL, again and again.

The bot runs as `collective run` in a process of its own, long polling the stand-in, which runs
in another (`python -m bench.crashes world TOKEN`, as bench/world.py does for the update
benchmark). Many people play the update benchmark's mix (bench/mix.py) — each pressing their
next button once the bot has confirmed their previous update, as a person waits for the
answer — while the outbox is busy: a challenge imported with `collective challenges import`
and opened, alerting its audience, and a survey imported with `collective surveys import` and
scheduled, sent by the scheduler to the same people. Halfway through the kills the daily
summary's time comes (SUMMARY_TIME is set to that moment for the processes started from then
on). The bot is killed with SIGKILL at random moments (`--kills`, 20 by default) spread over
the stream — one at a random point of each share of it, then up to `--gap` seconds later — and
restarted each time, then left to finish and stopped with SIGTERM.

Then what was sent and acknowledged is checked:

- `acknowledged`: updates whose offset the bot confirmed; `lost`: acknowledged updates not
  marked handled, or set aside, and effects of the mix missing (each person onboarded, one
  need, one proposal, one participation, one completed survey response);
- `doubled_effects`: those effects found more than once, and outbox messages Telegram received
  more often than they were written, other than `resent_in_flight` — a message sent again
  because it was leased, not yet marked sent, when the bot was killed (once per such kill);
- `undelivered`: outbox rows not sent at the end, or marked sent but never received;
- `dialogs_resumed` / `dialogs_broken`: people whose dialog was mid-way at a kill, whose next
  update after the restart was answered (or not) with what that step answers in a rehearsal
  (`dialogs_unchecked`: answered, but the answer went with the next kill);
- `summary_posted`: how many times the daily summary reached the coordinators' group.

The bot's time zone is Paris when it is day there, else one where it is: alerts and
invitations are not held for the night. `--database-url` (PostgreSQL: emptied first) and
`--redis-url` (flushed first) run it on a server. The JSON object is the last line printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, ClientTimeout, web

from bench.world import World as Telegram

TOKEN = "100000:BENCH"
FIRST_PERSON = 10_000_000
FIRST_AUDIENCE = 30_000_000
GROUP = -1_001_234_567
REPO = Path(__file__).resolve().parents[1]
SPEAKING = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)
log = logging.getLogger("bench.crashes")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench crashes")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--people", type=int, default=40, help="people playing the mix")
    parser.add_argument("--steps", type=int, default=0, help="the mix's first N steps (0: all)")
    parser.add_argument("--audience", type=int, default=120, help="people alerted and surveyed")
    parser.add_argument(
        "--gap", type=float, default=0.5, help="most seconds between a kill's moment and it"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lease-seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="for the final run")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--keep", default=None, help="a folder to keep the logs and database in")
    return parser.parse_args(argv)


# -- Telegram, in its own process


def _compact(index: int, call: Any) -> list[Any]:
    params = call.params
    text = params.get("text") if "text" in params else params.get("caption")
    result = call.result if isinstance(call.result, dict) else {}
    return [
        index,
        call.method,
        params.get("chat_id"),
        text if isinstance(text, str) else None,
        call.ok,
        params.get("message_id") or result.get("message_id"),
    ]


class World(Telegram):
    """The update benchmark's Telegram, which also plays the people: each person's next update
    arrives once the bot confirmed the previous one; and says what it saw: the offset
    confirmed, the calls."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.queues: dict[str, list[dict[str, Any]]] = {}
        self.waiting_for: dict[str, int] = {}  # person: the update id they wait on
        self.confirmed = 0
        self.pushed: list[int] = []
        self.owners: dict[int, tuple[str, int]] = {}  # update id: person, step
        self.steps: dict[str, int] = {}

    def _advance(self) -> None:
        for person, queue in self.queues.items():
            if not queue:
                continue
            last = self.waiting_for.get(person)
            if last is None or last < self.confirmed:
                # Numbered as they arrive, as Telegram numbers them.
                update = {**queue.pop(0), "update_id": self.new_update_id()}
                self.owners[update["update_id"]] = (person, self.steps.get(person, 0))
                self.steps[person] = self.steps.get(person, 0) + 1
                self.learn(update)
                self.waiting_for[person] = update["update_id"]
                self.pushed.append(update["update_id"])
                self._updates.append(update)

    async def _getUpdates(self, params: Any, files: Any) -> Any:
        offset = params.get("offset") or 0
        if offset > self.confirmed:
            self.confirmed = offset
            self._advance()
        return await super()._getUpdates(params, files)

    async def control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ("chats", "plan", "state", "calls"):
            return await super().control(request)
        body = await request.json() if request.can_read_body else {}
        if action == "chats":
            for chat_id in body["ids"]:
                self.add_chat({"id": chat_id, "type": "private", "first_name": "Person"})
            for message in body.get("messages", []):
                self.add_chat(message["chat"])
                self.store_message(message)
            return web.json_response({"ok": True})
        if action == "plan":
            self.queues = body["queues"]
            self._advance()
            self._wakeup.set()
            self._wakeup = asyncio.Event()
            return web.json_response({"ok": True})
        if action == "state":
            counts = Counter(call.method for call in self.calls)
            return web.json_response(
                {
                    "confirmed": self.confirmed,
                    "pushed": len(self.pushed),
                    "queued": sum(len(q) for q in self.queues.values()),
                    "last_pushed": max(self.pushed, default=0),
                    "acknowledged": sum(1 for u in self.pushed if u < self.confirmed),
                    "calls": len(self.calls),
                    "deleteWebhook": counts["deleteWebhook"],
                }
            )
        start = int(body.get("since", len(self.calls)))
        found = [_compact(i, c) for i, c in enumerate(self.calls[start:], start)]
        owners = [[u, int(person), step] for u, (person, step) in self.owners.items()]
        return web.json_response({"calls": found, "owners": owners})


async def world_main(token: str) -> None:
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    world = World(token)
    await world.start()
    print(world.base_url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await world.stop()


class WorldProcess:
    def __init__(self, process: asyncio.subprocess.Process, url: str) -> None:
        self.process, self.url = process, url
        self.http = ClientSession(timeout=ClientTimeout(total=300))

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls) -> AsyncIterator[WorldProcess]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.crashes",
            "world",
            TOKEN,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO,
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


# -- what one person's steps answer, rehearsed


@dataclass
class Reference:
    """For each step of the mix: the first thing the bot says in answer (its method and
    text, digits left out), and whether the person is inside a dialog after it."""

    replies: list[tuple[str, str] | None] = field(default_factory=list)
    in_dialog: list[bool] = field(default_factory=list)


def signature(method: str, text: str | None) -> tuple[str, str]:
    return method, re.sub(r"\d+", "#", text or "")[:60]


async def rehearse_answers(script: Any, folder: Path) -> Reference:
    """One person plays the script against the bot in this process, on a fresh database."""
    from sqlalchemy import select

    from bench.mix import people, seed
    from bot.config import Settings
    from bot.factory import create_bot, create_dispatcher
    from bot.i18n import create_i18n
    from bot.standin import StandIn
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade
    from storage.models import FsmRecord

    url = f"sqlite+aiosqlite:///{folder / 'answers.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    _slug, survey_id = await seed(sessionmaker)
    person = FIRST_PERSON - 1
    await people(sessionmaker, survey_id, [person])
    settings = Settings(_env_file=None, database_url=url, flood_messages=1000)  # type: ignore[call-arg]
    reference = Reference()
    async with StandIn(token=TOKEN) as standin:
        standin._message_ids[person] = 2_000_000
        for message in script.messages(person):
            standin.add_chat(message["chat"])
            standin.store_message(message)
        bot = create_bot(TOKEN, standin.base_url)
        dp = create_dispatcher(settings, sessionmaker, create_i18n())
        for index in range(len(script)):
            update = script.update(standin, person, index)
            if "callback_query" in update:
                standin._queries.add(update["callback_query"]["id"])
            before = len(standin.calls)
            await dp.feed_raw_update(bot, update)
            said = [
                c
                for c in standin.calls[before:]
                if c.method in SPEAKING and c.params.get("chat_id") == person
            ]
            first = said[0] if said else None
            text = None
            if first is not None:
                text = first.params.get("text", first.params.get("caption"))
            reference.replies.append(signature(first.method, text) if first else None)
            async with sessionmaker() as session:
                states = await session.scalars(
                    select(FsmRecord.state).where(FsmRecord.user_id == person)
                )
                reference.in_dialog.append(any(state for state in states))
        await dp.storage.close()
        await bot.session.close()
    await engine.dispose()
    return reference


# -- the database, seeded


def daytime_zone(now: datetime) -> str:
    """Paris when it is day there, else a zone where it is early afternoon: the alerts and
    invitations must not wait for the end of the quiet hours."""
    paris = now.astimezone(ZoneInfo("Europe/Paris")).time()
    if paris.hour >= 9 and paris.hour < 19:
        return "Europe/Paris"
    offset = max(-12, min(14, 13 - now.hour))
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def prepare(url: str, redis_url: str | None, server: bool) -> None:
    from storage.db import create_engine
    from storage.migrate import upgrade

    if server:
        from sqlalchemy import text

        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    if redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        await client.flushdb()
        await client.aclose()
    await upgrade(url)


async def cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=env["BENCH_FOLDER"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"collective {' '.join(args)}: {err.decode()[-2000:]}")
    return out.decode()


async def populate(
    url: str, env: dict[str, str], mix_ids: list[int], audience: int, timezone: str
) -> tuple[int, int]:
    """The mix's challenge and survey, its people; the audience; a challenge imported and
    opened (its alerts in the outbox) and a survey imported and scheduled for now, as
    coordinators do. Returns the alerting challenge's and the scheduled survey's ids."""
    from sqlalchemy import insert, select

    from bench.mix import people, seed
    from bot.config import Settings
    from bot.i18n import create_i18n
    from handlers.challenges.coordination_notices import alert
    from storage.challenges import open_challenge
    from storage.db import create_engine, create_sessionmaker
    from storage.models import Challenge, Survey, User, UserTheme
    from storage.privacy import NOTICE_VERSION
    from storage.survey_sending import schedule

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    _slug, survey_id = await seed(sessionmaker)
    await people(sessionmaker, survey_id, mix_ids)
    now = datetime.now(UTC)
    earlier = now - timedelta(days=60)
    async with sessionmaker.begin() as session:
        rows = [
            {
                "telegram_id": FIRST_AUDIENCE + n,
                "locale": ("fr", "en", "ar")[n % 3],
                "role": "citizen",
                "arrondissement": n % 16 + 1,
                "notice_version": NOTICE_VERSION,
                "notice_accepted_at": earlier,
                "alerts_consent_at": earlier,
                "onboarded_at": earlier,
                "active": True,
                "created_at": earlier,
                "updated_at": earlier,
                "last_seen_at": earlier,
            }
            for n in range(audience)
        ]
        if rows:
            ids = list(await session.scalars(insert(User).returning(User.id), rows))
            await session.execute(
                insert(UserTheme), [{"user_id": i, "theme_code": "older_people"} for i in ids]
            )
    await cli(env, "challenges", "import", str(REPO / "examples" / "isolation-challenge.yaml"))
    await cli(env, "surveys", "import", str(REPO / "examples" / "isolation-survey.yaml"))
    settings = Settings(_env_file=None, database_url=url, timezone=timezone)  # type: ignore[call-arg]
    i18n = create_i18n()
    async with sessionmaker.begin() as session:
        challenge_id = await session.scalar(select(func_max(Challenge.id)))
        survey = await session.scalar(select(func_max(Survey.id)))
        assert challenge_id is not None and survey is not None
        challenge = await open_challenge(session, challenge_id, 42, now, timezone=timezone)
        with i18n.context():
            await alert(session, i18n, settings, challenge, now)
        await schedule(session, survey, now, 42)
    await engine.dispose()
    return challenge_id, survey


def func_max(column: Any) -> Any:
    from sqlalchemy import func

    return func.max(column)


# -- the bot, killed and restarted


@dataclass
class Snapshot:
    """Just after a kill: what the database says was handled, and what was leased."""

    mark: int  # the stand-in's calls so far
    processed: set[int]
    in_flight: set[int]
    owners: dict[int, tuple[int, int]]  # update id: person, step

    def done(self) -> Counter[int]:
        """How many of their updates each person has had handled."""
        return Counter(self.owners[u][0] for u in self.processed if u in self.owners)


class Bot:
    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0

    async def start(self, summary_time: str) -> None:
        self.runs += 1
        env = {**self.env, "SUMMARY_TIME": summary_time}
        with (self.folder / f"bot{self.runs}.log").open("wb") as logs:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=env,
                cwd=self.folder,
                stdout=logs,
                stderr=logs,
            )

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            log_file = self.folder / f"bot{self.runs}.log"
            raise RuntimeError(f"the bot ended by itself ({self.process.returncode}): {log_file}")
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self, seconds: float = 120) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(seconds):
                return await self.process.wait()
        except TimeoutError:
            await self.kill()
            return -9

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


async def wait_until(check: Any, seconds: float, every: float = 0.2, what: str = "") -> None:
    """Until `check()` is true, looking every `every` seconds, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {seconds:.0f}s for {what}")
        await asyncio.sleep(every)


async def snapshot(url: str, world: WorldProcess) -> Snapshot:
    from sqlalchemy import select

    from storage.db import create_engine
    from storage.models import OutboxMessage, OutboxStatus, ProcessedUpdate

    mark = (await world.control("state"))["calls"]
    answer = await world.control("calls", {"since": mark})
    owners = {u: (person, step) for u, person, step in answer["owners"]}
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with engine.connect() as connection:
        processed = set(
            await connection.scalars(
                select(ProcessedUpdate.update_id).where(ProcessedUpdate.failed_at.is_(None))
            )
        )
        leased = set(
            await connection.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == OutboxStatus.pending,
                    OutboxMessage.attempts > 0,
                    OutboxMessage.not_before > now,
                )
            )
        )
    await engine.dispose()
    return Snapshot(mark, processed, leased, owners)


async def finished(url: str, world: WorldProcess, survey_id: int, day: Any) -> bool:
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.models import OutboxMessage, OutboxStatus, SummaryRun, Survey, SurveyStatus

    state = await world.control("state")
    if state["queued"] or state["confirmed"] <= state["last_pushed"]:
        return False
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.pending)
            )
            status = await connection.scalar(select(Survey.status).where(Survey.id == survey_id))
            summary = await connection.scalar(
                select(func.count()).select_from(SummaryRun).where(SummaryRun.day == day)
            )
    finally:
        await engine.dispose()
    return not waiting and status is SurveyStatus.open and bool(summary)


# -- the checks


@dataclass
class Findings:
    lost: int = 0
    doubled: int = 0
    resent_in_flight: int = 0
    undelivered: int = 0
    resumed: int = 0
    broken: int = 0
    unchecked: int = 0
    summary_posted: int = 0
    details: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.details) < 30:
            self.details.append(text)


async def check_effects(
    url: str, mix_ids: list[int], acknowledged: set[int], steps: int, full: int, found: Findings
) -> None:
    """Acknowledged updates marked handled, without error; the mix's effects once each."""
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.models import (
        Initiative,
        Need,
        Participation,
        ProcessedUpdate,
        SurveyResponse,
        User,
    )

    engine = create_engine(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(ProcessedUpdate))).all()
        handled = {row.update_id for row in rows if row.failed_at is None}
        aside = {row.update_id: row.error for row in rows if row.failed_at is not None}
        for update_id in sorted(acknowledged - handled):
            found.lost += 1
            found.note(f"update {update_id} acknowledged, not handled ({aside.get(update_id)})")
        if steps < full:
            await engine.dispose()
            return  # a part of the mix: its effects are not all there to count
        people = User.telegram_id.in_(mix_ids)
        by_person = {
            "onboarded": select(User.telegram_id, func.count())
            .where(people, User.onboarded_at.is_not(None))
            .group_by(User.telegram_id),
            "needs": select(User.telegram_id, func.count())
            .join(Need, Need.reporter_id == User.id)
            .where(people)
            .group_by(User.telegram_id),
            "proposals": select(User.telegram_id, func.count())
            .join(Initiative, Initiative.proposer_id == User.id)
            .where(people)
            .group_by(User.telegram_id),
            "participations": select(User.telegram_id, func.count())
            .join(Participation, Participation.user_id == User.id)
            .where(people)
            .group_by(User.telegram_id),
            "responses": select(User.telegram_id, func.count())
            .join(SurveyResponse, SurveyResponse.user_id == User.id)
            .where(people, SurveyResponse.completed_at.is_not(None))
            .group_by(User.telegram_id),
        }
        for kind, query in by_person.items():
            counts = {row[0]: row[1] for row in await connection.execute(query)}
            for person in mix_ids:
                count = counts.get(person, 0)
                if count == 0:
                    found.lost += 1
                    found.note(f"person {person}: no {kind}")
                elif count > 1:
                    found.doubled += count - 1
                    found.note(f"person {person}: {count} {kind}")
    await engine.dispose()


async def check_outbox(
    url: str, calls: list[list[Any]], in_flight: Counter[int], found: Findings, day: Any
) -> int:
    """Each outbox row sent, and received by Telegram once, plus once for each kill it was
    leased at. Rows and calls are matched by chat, method and text. Returns the rows."""
    from sqlalchemy import select

    from storage.db import create_engine
    from storage.models import OutboxMessage, OutboxStatus, SummaryRun

    engine = create_engine(url)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.chat_id,
                    OutboxMessage.method,
                    OutboxMessage.payload,
                    OutboxMessage.status,
                    OutboxMessage.last_error,
                )
            )
        ).all()
        summary_quiet = await connection.scalar(
            select(SummaryRun.quiet).where(SummaryRun.day == day)
        )
    await engine.dispose()
    received: Counter[tuple[Any, ...]] = Counter()
    for _index, method, chat_id, text, ok, _message_id in calls:
        if ok and method in SPEAKING:
            received[(chat_id, method, text)] += 1
    written: dict[tuple[Any, ...], list[int]] = {}
    summary_key = None
    for row in rows:
        text = row.payload.get("text", row.payload.get("caption"))
        key = (row.chat_id, row.method, text)
        written.setdefault(key, []).append(row.id)
        if row.status is not OutboxStatus.sent:
            found.undelivered += 1
            found.note(f"outbox {row.id}: {row.status.value} ({row.last_error})")
        if row.chat_id == GROUP and row.method == "sendMessage" and text and "📊" in text:
            summary_key = key
    for key, ids in written.items():
        got = received.get(key, 0)
        if got < len(ids):
            missing = len(ids) - got
            sent_rows = [i for i in ids]
            found.undelivered += missing
            found.note(f"outbox {sent_rows[:3]}: received {got} of {len(ids)}")
        elif got > len(ids):
            extra = got - len(ids)
            leased = sum(in_flight[i] for i in ids)
            found.resent_in_flight += min(extra, leased)
            if extra > leased:
                found.doubled += extra - leased
                found.note(f"outbox {ids[:3]}: received {got} times, in flight at {leased} kills")
    if summary_key is not None:
        found.summary_posted = received.get(summary_key, 0)
    elif summary_quiet:
        found.note("the daily summary was quiet")
    return len(rows)


def check_dialogs(
    cases: list[tuple[int, int, int, int | None]],
    calls: list[list[Any]],
    reference: Reference,
    found: Findings,
) -> None:
    """Each case: a person, the step they were at, the kill's mark, the next kill's (or None):
    their first words after the mark, before the next kill, are that step's."""
    said: dict[int, list[list[Any]]] = {}
    for call in calls:
        if call[1] in SPEAKING and call[4]:
            said.setdefault(call[2], []).append(call)
    for person, step, mark, until in cases:
        first = next((c for c in said.get(person, []) if c[0] >= mark), None)
        if first is None or (until is not None and first[0] >= until):
            found.unchecked += 1  # answered, but the answer went with the next kill
            continue
        expected = reference.replies[step]
        if expected is not None and signature(first[1], first[3]) == expected:
            found.resumed += 1
        else:
            found.broken += 1
            found.note(
                f"person {person} at step {step}: said {signature(first[1], first[3])}, "
                f"expected {expected}"
            )


# -- the run


async def run(argv: list[str]) -> dict[str, Any]:
    args = parse(argv)
    started = time.monotonic()
    rng = random.Random(args.seed)
    from bench.mix import Script, rehearse, steps
    from bench.updates import Crowd
    from bot.standin import StandIn
    from storage.migrate import upgrade
    from storage.summary import local_date

    with tempfile.TemporaryDirectory() as name:
        folder = Path(args.keep or name)
        for stale in ("rehearsal.db", "answers.db", "crashes.db"):
            (folder / stale).unlink(missing_ok=True)
        rehearsal = f"sqlite+aiosqlite:///{folder / 'rehearsal.db'}"
        await upgrade(rehearsal)
        script: Script = await rehearse(rehearsal, TOKEN)
        if args.steps:
            script = Script(script.steps[: args.steps])
        reference = await rehearse_answers(script, folder)
        url = args.database_url or f"sqlite+aiosqlite:///{folder / 'crashes.db'}"
        await prepare(url, args.redis_url, bool(args.database_url))
        now = datetime.now(UTC)
        timezone = daytime_zone(now)
        env = {
            key: value
            for key, value in os.environ.items()
            if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
        }
        env.update(
            {
                "PYTHONPATH": str(REPO),
                "BENCH_FOLDER": str(folder),
                "DATABASE_URL": url,
                "TIMEZONE": timezone,
                "COORDINATOR_CHAT_ID": str(GROUP),
                "FLOOD_MESSAGES": "1000",
                "DELIVERY_LEASE_SECONDS": str(args.lease_seconds),
                "DELIVERY_GROUP_PER_MINUTE": "600",
            }
        )
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        factory = StandIn(token=TOKEN)  # hands out update ids
        crowd = Crowd(script, list(range(FIRST_PERSON, FIRST_PERSON + args.people)))
        queues: dict[str, list[dict[str, Any]]] = {}
        for person in crowd.ids:
            factory._message_ids[person] = 2_000_000
            queues[str(person)] = [script.update(factory, person, i) for i in range(len(script))]
        _challenge, survey_id = await populate(url, env, crowd.ids, args.audience, timezone)
        group = {"id": GROUP, "type": "supergroup", "title": "Coordinators"}
        found = Findings()
        kills = 0
        in_flight: Counter[int] = Counter()  # outbox row: kills it was leased at
        cases: list[tuple[int, int, int, int | None]] = []
        open_cases: dict[int, tuple[int, int]] = {}  # person: step, mark
        summary_day = None
        async with WorldProcess.started() as world:
            await world.control(
                "chats",
                {
                    "ids": crowd.ids + [FIRST_AUDIENCE + n for n in range(args.audience)],
                    "messages": [
                        {
                            "message_id": 1,
                            "date": 1_700_000_000,
                            "chat": group,
                            "text": "the coordinators' group",
                        }
                    ],
                },
            )
            await world.control("messages", {"messages": crowd.messages()})
            env["TELEGRAM_API_BASE"] = world.url
            env["BOT_TOKEN"] = TOKEN
            bot = Bot(env, folder)
            summary_time = "23:59:59"
            switch = (args.kills + 1) // 2

            def close_cases(shot: Snapshot, mark: int | None) -> None:
                done = shot.done()
                for person, (step, since) in list(open_cases.items()):
                    if done[person] > step:
                        cases.append((person, step, since, mark))
                        del open_cases[person]

            await world.control("plan", {"queues": queues})
            # The kills spread over the stream, one at a random point of each share of it.
            total = len(crowd.ids) * len(script)
            share = total / (args.kills + 1)
            moments = [int(share * (k + rng.random())) for k in range(args.kills)]
            for kill in range(args.kills + 1):
                if kill == switch:
                    moment = datetime.now(UTC).astimezone(ZoneInfo(timezone))
                    summary_time = moment.strftime("%H:%M:%S")
                    summary_day = local_date(datetime.now(UTC), timezone)
                before = (await world.control("state"))["deleteWebhook"]
                await bot.start(summary_time)

                async def ready(before: int = before) -> bool:
                    if not bot.alive:
                        raise RuntimeError(f"the bot stopped: see {folder}/bot{bot.runs}.log")
                    state = await world.control("state")
                    return bool(state["deleteWebhook"] > before)

                await wait_until(ready, 300, what="the bot to start polling")
                if kill == args.kills:
                    break

                # Its moment: a random point of its share of the stream, then a random instant.
                async def due(kill: int = kill) -> bool:
                    state = await world.control("state")
                    return bool(state["acknowledged"] >= moments[kill] or not bot.alive)

                await wait_until(due, 600, every=0.05, what="the stream to reach the next kill")
                await asyncio.sleep(rng.uniform(0, args.gap))
                await bot.kill()
                kills += 1
                await asyncio.sleep(0.2)  # what the dead process had on the wire arrives
                shot = await snapshot(url, world)
                in_flight.update(shot.in_flight)
                close_cases(shot, shot.mark)
                done = shot.done()
                for person in crowd.ids:
                    step = done[person]
                    if 0 < step < len(script) and reference.in_dialog[step - 1]:
                        # Still at that step after an earlier kill: checked after this one.
                        open_cases[person] = (step, shot.mark)
            day = summary_day or local_date(datetime.now(UTC), timezone)
            await wait_until(
                lambda: finished(url, world, survey_id, day),
                args.timeout,
                every=0.5,
                what="every update, the outbox, the survey and the summary",
            )
            code = await bot.stop()
            if code != 0:
                found.note(f"the last bot exited with {code}")
            shot = await snapshot(url, world)
            close_cases(shot, None)
            answer = await world.control("calls", {"since": 0})
            calls, pushed = answer["calls"], [u for u, _person, _step in answer["owners"]]
            if args.keep:
                (folder / "calls.json").write_text(json.dumps(answer))
            state = await world.control("state")
        acknowledged = {u for u in pushed if u < state["confirmed"]}
        whole = len([step for step in steps("x") if step[0] != "invite"])
        await check_effects(url, crowd.ids, acknowledged, len(script), whole, found)
        rows = await check_outbox(url, calls, in_flight, found, day)
        check_dialogs(cases, calls, reference, found)
        report: dict[str, Any] = {
            "database": "postgresql" if args.database_url else "sqlite",
            "redis": bool(args.redis_url),
            "people": args.people,
            "audience": args.audience,
            "outbox_rows": rows,
            "summary_posted": found.summary_posted,
            "dialogs_unchecked": found.unchecked,
            "seconds": round(time.monotonic() - started, 1),
            "details": found.details,
            "kills": kills,
            "updates": len(pushed),
            "acknowledged": len(acknowledged),
            "lost": found.lost,
            "doubled_effects": found.doubled,
            "resent_in_flight": found.resent_in_flight,
            "undelivered": found.undelivered,
            "dialogs_resumed": found.resumed,
            "dialogs_broken": found.broken,
        }
    if os.environ.get("BENCH_VERBOSE"):
        print(json.dumps(report, indent=1), file=sys.stderr)
    return report


if __name__ == "__main__" and sys.argv[1:2] == ["world"]:
    asyncio.run(world_main(sys.argv[2]))
