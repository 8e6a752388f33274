"""Long polling that confirms updates only after each one's effect is committed.

aiogram's own polling confirms a batch while its handlers may still run, and cancels them on
shutdown. Here updates are handled concurrently, one chain of tasks per person across batches
(their updates in order), and a pipeline: the next getUpdates goes out while the updates in
hand are still handled, and confirms the longest prefix of them that is committed. Once an
update is committed its replies are handed to the person's reply chain (bot/replies.py's
Speaking): their next update is handled meanwhile, its replies going out after them. An update
that fails is tried again, a few times, then set aside (marked handled with its error, shown
to the coordinators by /failed): one bad update cannot block everyone behind it. A stop request
(SIGTERM) lets what is in hand finish and its replies go out, then confirms it.

The flood limit (bot/middlewares.py) is applied as a batch arrives: a flooder's updates past
it are dropped there (the person told once, aside), rather than queued behind their handled
ones, whose replies the batch would otherwise wait for — and everyone with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import handling
from bot.middlewares import DROP, HANDLE, FloodMiddleware
from bot.replies import Speaking
from storage.updates import describe, set_aside

log = logging.getLogger(__name__)
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)
ATTEMPTS = 3  # an update that fails this many times in a row is set aside
RETRY_DELAY = 0.5  # seconds before the second attempt; doubled for each next one
# The next getUpdates goes out once no more than this many updates in hand wait for their
# commit: it then brings mostly new ones (Telegram gives the unconfirmed ones again, 100 at
# most) while those few finish.
AHEAD = 32
LIMIT = 100  # updates in a getUpdates answer at most (Telegram's default and maximum)
REFETCH = 1.0  # seconds: how often to ask again while the updates in hand are stuck


@dataclass
class Outcome:
    """What became of a batch: the updates set aside, and those neither handled nor set aside
    (the database unreachable), which must come again."""

    set_aside: list[int] = field(default_factory=list)
    unfinished: list[int] = field(default_factory=list)


def person_of(update: Update) -> int | str:
    """Whose update it is: its sender, else its chat; else it stands alone."""
    event = update.event
    sender = getattr(event, "from_user", None)
    if sender is not None:
        return int(sender.id)
    chat = getattr(event, "chat", None)
    if chat is None:
        message = getattr(event, "message", None)
        chat = getattr(message, "chat", None)
    if chat is not None:
        return int(chat.id)
    return f"update:{update.update_id}"


def by_person(updates: Iterable[Update]) -> dict[int | str, list[Update]]:
    """The batch cut into one queue per person, each in the order Telegram gave."""
    queues: dict[int | str, list[Update]] = {}
    for update in updates:
        queues.setdefault(person_of(update), []).append(update)
    return queues


class Handling:
    """Handles updates: people concurrently, each person's updates in order, a failed update
    tried again. An update is settled once committed (or given up): it may then be confirmed
    while its replies still go out — a crash then loses them whenever it is confirmed, since
    the update, committed, would not be handled again. A person's next update waits for the
    commit of the one before, not for its replies (sent in order by `speaking`), unless a
    `later` step of it reads answers; `drain` waits for everyone's replies."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        *,
        attempts: int = ATTEMPTS,
        retry_delay: float = RETRY_DELAY,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.dp = dp
        self.bot = bot
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.sleep = sleep
        self.sessionmaker: async_sessionmaker[AsyncSession] = dp["sessionmaker"]
        self.set_aside_count = 0  # since the start, for the log and the benchmark
        # Each person's updates in hand, replies included; forgotten when done.
        self.people: dict[int | str, asyncio.Task[None]] = {}
        flood = [m for m in dp.update.outer_middleware if isinstance(m, FloodMiddleware)]
        self.flood = flood[0] if flood else None
        self.admitted: set[int] = set()  # update ids the flood limit let through
        self.telling: set[asyncio.Task[None]] = set()  # flooders told to slow down
        # Each person's replies, sent after their updates' commits while their next ones go on.
        self.speaking = Speaking()
        self.progress = asyncio.Event()  # set whenever an update in hand is settled

    async def batch(self, updates: list[Update]) -> Outcome:
        """Handles a batch; returns once each of its updates is committed (or given up)."""
        outcome = Outcome()
        settled = self.start(updates, outcome)
        await asyncio.gather(*(event.wait() for event in settled.values()))
        return outcome

    def start(self, updates: list[Update], outcome: Outcome) -> dict[int, asyncio.Event]:
        """Takes updates in hand, each person's behind their earlier ones; returns the event
        set once each update admitted by the flood limit is committed (or given up)."""
        settled: dict[int, asyncio.Event] = {}
        for person, queue in by_person(self._admit(updates)).items():
            events = [asyncio.Event() for _ in queue]
            settled.update(zip((u.update_id for u in queue), events, strict=True))
            before = self.people.get(person)
            task = asyncio.create_task(self._queue(queue, events, outcome, before))
            self.people[person] = task
            task.add_done_callback(partial(self._forget, person))
        return settled

    def _admit(self, updates: list[Update]) -> list[Update]:
        """The updates the flood limit lets through; the others are dropped here, the first
        of a burst fed on its own, aside, for the person to be told."""
        if self.flood is None:
            return updates
        kept = []
        for update in updates:
            sender = getattr(update.event, "from_user", None)
            if sender is None:
                kept.append(update)
                continue
            verdict = self.flood.verdict(sender.id)
            if verdict == HANDLE:
                self.admitted.add(update.update_id)
                kept.append(update)
            elif verdict != DROP:
                task = asyncio.create_task(self._tell(update, verdict))
                self.telling.add(task)
                task.add_done_callback(self.telling.discard)
        return kept

    async def _tell(self, update: Update, verdict: str) -> None:
        try:
            await self.dp.feed_update(self.bot, update, flood_verdict=verdict)
        except Exception:  # telling them is best effort; the update is dropped anyway
            log.warning("update %s: could not tell its sender to slow down", update.update_id)

    def _forget(self, person: int | str, task: asyncio.Task[None]) -> None:
        if self.people.get(person) is task:
            del self.people[person]

    async def drain(self) -> None:
        """Until every update in hand is handled and its replies sent."""
        while self.people or self.telling or self.speaking.chains:
            busy = [*self.people.values(), *self.telling]
            if busy:
                await asyncio.wait(busy)
            await self.speaking.drain()

    def abandon(self) -> None:
        """Everything in hand stops here, as in a crash."""
        for task in [*self.people.values(), *self.telling]:
            task.cancel()
        self.speaking.abandon()

    async def _queue(
        self,
        queue: list[Update],
        events: list[asyncio.Event],
        outcome: Outcome,
        before: asyncio.Task[None] | None,
    ) -> None:
        try:
            if before is not None:
                await asyncio.wait({before})  # the person's earlier updates, replies included
            for update, committed in zip(queue, events, strict=True):
                await self.update(update, outcome, committed)
                committed.set()
                self.progress.set()
        finally:
            for event in events:
                event.set()
            self.progress.set()

    async def update(
        self, update: Update, outcome: Outcome, committed: asyncio.Event | None = None
    ) -> None:
        # Let through as the batch arrived: not counted again.
        verdict = HANDLE if update.update_id in self.admitted else None
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                with (
                    handling(self.dp.get("metrics"), update.update_id),
                    self.speaking.of(person_of(update)),
                ):
                    await self.dp.feed_update(
                        self.bot,
                        update,
                        tell_failure=last,
                        committed=committed,
                        flood_verdict=verdict,
                    )
                self.admitted.discard(update.update_id)
                return
            except Exception as error:
                if not last:
                    log.warning(
                        "update %s failed (attempt %s of %s); trying again",
                        update.update_id,
                        attempt,
                        self.attempts,
                    )
                    await self.sleep(self.retry_delay * 2 ** (attempt - 1))
                    continue
                self.admitted.discard(update.update_id)
                await self._set_aside(update, error, outcome)

    async def _set_aside(self, update: Update, error: Exception, outcome: Outcome) -> None:
        try:
            async with self.sessionmaker.begin() as session:
                await set_aside(session, update.update_id, describe(error))
        except Exception:
            # Not even that could be written: the update must come again.
            log.exception("update %s could not be set aside", update.update_id)
            outcome.unfinished.append(update.update_id)
            return
        self.set_aside_count += 1
        outcome.set_aside.append(update.update_id)
        log.error(
            "update %s set aside after %s attempts (%s so far): %s",
            update.update_id,
            self.attempts,
            self.set_aside_count,
            describe(error),
        )


async def poll(
    dp: Dispatcher,
    bot: Bot,
    stop: asyncio.Event,
    long_poll: int = 30,
    *,
    handling: Handling | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ahead: int = AHEAD,
    refetch: float = REFETCH,
) -> None:
    """Fetches updates until `stop` is set; `sleep` waits out Telegram's retry_after and the
    backoff after a failure (a test passes its own, to move time by hand).

    A pipeline: during a backlog (getUpdates answering full), the next getUpdates goes out
    while the updates in hand are handled, once no more than `ahead` of them wait for their
    commit; otherwise once they are all settled (or after `refetch` seconds with none
    settled). It confirms the longest prefix of the updates in hand that is committed (or set
    aside). Telegram gives again what is not confirmed: an update already in hand is not taken
    again, unless it must come again (the database unreachable). In hand: at most Telegram's
    100 unconfirmed updates."""
    handling = handling or Handling(dp, bot)
    allowed = dp.resolve_used_update_types()
    request = GetUpdates(timeout=long_poll, allowed_updates=allowed)
    backoff = Backoff(config=BACKOFF)
    outcome = Outcome()
    # The updates in hand not confirmed yet, in Telegram's order, each with its event (set once
    # committed, set aside, or given up: then in outcome.unfinished).
    hand: dict[int, asyncio.Event] = {}
    backlog = False  # the last getUpdates was full of new updates: more are waiting
    overdue = False  # waited `refetch` seconds with nothing settled: ask again
    try:
        while not stop.is_set():
            request.offset = _confirmable(hand, outcome, request.offset)
            pending = sum(not event.is_set() for event in hand.values())
            if pending and (len(hand) > ahead or not backlog) and not overdue:
                # Enough in hand (the next getUpdates would give them again, and answer at
                # once): until one more is settled since the last getUpdates went out — or,
                # should they be stuck (a slow call), `refetch` seconds, for the updates come
                # since.
                if not handling.progress.is_set():
                    await _first(handling.progress.wait(), stop.wait(), at_most=refetch)
                overdue = not handling.progress.is_set()
                handling.progress.clear()
                continue
            overdue = False
            handling.progress.clear()
            if outcome.unfinished:
                # The database is unreachable: what is not handled comes again (the next
                # getUpdates confirms only what came before it), after a pause.
                log.warning("updates %s wait for the database", sorted(outcome.unfinished))
                await sleep(next(backoff))
            fetch = asyncio.ensure_future(bot(request, request_timeout=long_poll + 10))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                # What is in hand is still in hand: nothing taken with this fetch to abandon.
                fetch.cancel()
                break
            try:
                updates = fetch.result()
            except TelegramRetryAfter as error:
                await sleep(error.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError, TelegramConflictError) as error:
                # A conflict: another process polls with this token (a deploy overlapping): wait.
                log.warning("getUpdates failed (%s); retrying in %.1fs", error, backoff.next_delay)
                await sleep(next(backoff))
                continue
            backoff.reset()
            new = [
                u for u in updates if u.update_id not in hand or u.update_id in outcome.unfinished
            ]
            # A full answer with new updates: more wait (a backlog), fetched ahead. Otherwise
            # the next getUpdates waits for those in hand to be settled, then waits for more.
            backlog = len(updates) >= LIMIT and bool(new)
            if not new:
                continue
            again = set(outcome.unfinished)
            outcome.unfinished[:] = [i for i in outcome.unfinished if i not in again]
            # Taken in hand even when asked to stop meanwhile: `stop` is looked at between
            # getUpdates only. An update the flood limit dropped is settled at once.
            settled = handling.start(new, outcome)
            for update in new:
                hand[update.update_id] = settled.get(update.update_id, SETTLED)
    except asyncio.CancelledError:
        handling.abandon()
        raise
    # What is in hand finishes, and the last replies go out, before the process ends.
    await handling.drain()
    request.offset = _confirmable(hand, outcome, request.offset)
    if request.offset is not None:
        # Confirm what was handled, so that a restart does not see it again (and if this fails,
        # the processed-updates table still keeps a second delivery from having an effect).
        await _confirm(bot, request.offset)


SETTLED = asyncio.Event()
SETTLED.set()


def _confirmable(
    hand: dict[int, asyncio.Event], outcome: Outcome, offset: int | None
) -> int | None:
    """The offset that confirms the longest settled prefix of the updates in hand (forgotten
    then), stopping before an update that must come again."""
    while hand:
        update_id, event = next(iter(hand.items()))
        if not event.is_set() or update_id in outcome.unfinished:
            return update_id
        del hand[update_id]
        offset = update_id + 1
    return offset


async def _first(*waits: Awaitable[Any], at_most: float) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _confirm(bot: Bot, offset: int) -> None:
    try:
        await bot(GetUpdates(offset=offset, timeout=0, limit=1))
    except (TelegramNetworkError, TelegramServerError) as error:
        log.warning("could not confirm the updates before %s: %s", offset, error)
