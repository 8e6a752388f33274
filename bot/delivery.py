"""The outbox sender: claims due rows, sends them within Telegram's limits, records each outcome.

Each claim and each outcome is a short transaction of its own; the HTTP call to Telegram happens
outside any transaction. The rules (leases, order per chat, pace per chat, retries, 403) live in
`storage/outbox.py`; here are the Telegram-specific parts: the exceptions aiogram raises, and the
overall rate, which one process keeps for itself (DELIVERY_RATE is per process).

Logs name rows and chats, never a message's text.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods import (
    EditMessageMedia,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, InputMediaPhoto, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from bot.metrics import Metrics, outbox_outcome
from storage import outbox
from storage.models import OutboxStatus, utcnow
from storage.outbox import ChatLimit, DeliveryPolicy, Lease, QuietHours, is_unsolicited

log = logging.getLogger(__name__)

Clock = Callable[[], float]
T = TypeVar("T")


def policy_from(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        private=ChatLimit.per(settings.delivery_private_per_second, timedelta(seconds=1)),
        group=ChatLimit.per(settings.delivery_group_per_minute, timedelta(minutes=1)),
        max_attempts=settings.delivery_max_attempts,
        backoff=timedelta(seconds=settings.delivery_backoff_seconds),
        backoff_max=timedelta(seconds=settings.delivery_backoff_max_seconds),
        quiet=QuietHours(settings.timezone),
    )


class RateGate:
    """The overall rate: sends start evenly spaced at `rate` per second, and never more than
    the rate within any sliding second, counting the sends not yet answered. Telegram counts
    a message when it answers; a window kept here by the time its answer arrived is never
    fuller than Telegram's.

    After a 429 the rate is halved, then climbs back with each message sent.
    """

    def __init__(self, rate: float, clock: Clock = time.monotonic) -> None:
        self.rate = self.current = rate
        self.clock = clock
        self.size, self.seconds = (int(rate), 1.0) if rate >= 1 else (1, 1 / rate)
        self.answers: deque[float] = deque()
        self.unanswered = 0
        self.next_start = -math.inf

    def delay(self) -> float | None:
        """Seconds before the next send may start; None until an answer comes."""
        now = self.clock()
        while self.answers and self.answers[0] <= now - self.seconds:
            self.answers.popleft()
        size = max(1, min(self.size, int(self.current * self.seconds)))
        wait = max(self.next_start - now, 0.0)
        over = len(self.answers) + self.unanswered - size + 1
        if over > 0:
            if over > len(self.answers):
                return None
            wait = max(wait, self.answers[over - 1] + self.seconds - now)
        return wait

    def started(self) -> None:
        self.unanswered += 1
        interval, now = 1 / self.current, self.clock()
        # A send a little late keeps the schedule (lateness would add up otherwise); after a
        # pause, the schedule starts again from now.
        base = self.next_start if self.next_start > now - interval else now
        self.next_start = base + interval

    def answered(self) -> None:
        self.unanswered -= 1
        self.answers.append(self.clock())

    def slow_down(self) -> None:
        self.current = max(self.rate / 16, self.current / 2)

    def recover(self) -> None:
        self.current = min(self.rate, self.current + self.rate / 50)


def telegram_method(lease: Lease) -> TelegramMethod[Any]:
    """The row's Bot API call; a rendered photo travels as an upload."""
    if lease.method == outbox.SEND_MESSAGE:
        return SendMessage(chat_id=lease.chat_id, **lease.payload)
    if lease.method == outbox.SEND_PHOTO:
        params = dict(lease.payload)
        if isinstance(lease.picture, bytes):
            params["photo"] = BufferedInputFile(lease.picture, filename="photo.png")
        elif lease.picture is not None:
            params["photo"] = lease.picture
        return SendPhoto(chat_id=lease.chat_id, **params)
    if lease.method == outbox.EDIT_TEXT:
        return EditMessageText(chat_id=lease.chat_id, **lease.payload)
    if lease.method == outbox.EDIT_MEDIA and lease.picture is not None:
        params = dict(lease.payload)
        picture = lease.picture
        media = InputMediaPhoto(
            media=BufferedInputFile(picture, filename="photo.png")
            if isinstance(picture, bytes)
            else picture,
            caption=params.pop("caption", None),
            parse_mode=params.pop("parse_mode", None),
        )
        return EditMessageMedia(chat_id=lease.chat_id, media=media, **params)
    raise ValueError(f"no way to send {lease.method}")


class Delivery:
    """One sender. Several may run at once, in one process or in several, on one database."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        coordinators_chat: CoordinatorsChat | None = None,
        wake: asyncio.Event | None = None,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        self.bot, self.sessionmaker, self.settings = bot, sessionmaker, settings
        self.metrics = metrics
        # The dispatcher's, in the app: a move the sender learns of, the handlers follow too.
        self.coordinators_chat = coordinators_chat or CoordinatorsChat(
            settings.coordinator_chat_id
        )
        self.sleep = sleep
        self.policy = policy_from(settings)
        self.gate = RateGate(settings.delivery_rate, clock)
        self.poll = settings.delivery_poll_seconds
        # About half a second of sends per claim: claimed rows do not wait long in memory.
        self.batch = max(1, math.ceil(settings.delivery_rate / 2))
        self.wake, self.now = wake, now
        self._changed = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()
        self._writing: set[asyncio.Future[Any]] = set()
        if self.policy.lease.total_seconds() <= bot.session.timeout:
            log.warning(
                "the delivery lease is not longer than a request: a slow send may be sent twice"
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Sends until `stop` is set; then gives back what it claimed but did not send, and lets
        the sends in flight finish. Cancelled, it leaves its claims leased, as a crash would."""
        relays = [asyncio.create_task(self._relay(stop, once=True))]
        if self.wake is not None:
            relays.append(asyncio.create_task(self._relay(self.wake)))
        claimed: deque[Lease] = deque()
        try:
            while not stop.is_set():
                self._changed.clear()
                if not claimed:
                    leases, wait = await self._claim()
                    if not leases:
                        await self._pause(wait)
                        continue
                    claimed.extend(leases)
                delay = self.gate.delay()
                if delay is None or delay > 0:
                    await self._pause(self.poll if delay is None else delay)
                    continue
                if await self._held_for_the_night(claimed):
                    continue
                self._start(claimed.popleft())
            if claimed:
                await self._record(outbox.release, list(claimed), self.now())
            await asyncio.gather(*self._sending)
        except BaseException:
            for task in self._sending:
                task.cancel()
            raise
        finally:
            for relay in relays:
                relay.cancel()

    async def _held_for_the_night(self, claimed: deque[Lease]) -> bool:
        """Claimed before the quiet hours began, waited for the rate, and now it is night:
        the unsolicited rows are given back, to be claimed in the morning."""
        now = self.now()
        if not any(is_unsolicited(lease.kind) for lease in claimed):
            return False
        if not self.policy.quiet.contains(now):
            return False
        held = [lease for lease in claimed if is_unsolicited(lease.kind)]
        kept = [lease for lease in claimed if not is_unsolicited(lease.kind)]
        claimed.clear()
        claimed.extend(kept)
        await self._record(outbox.release, held, now)
        return True

    async def _relay(self, event: asyncio.Event, once: bool = False) -> None:
        while True:
            await event.wait()
            self._changed.set()
            if once:
                return
            event.clear()

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            pass

    async def _claim(self) -> tuple[list[Lease], float]:
        """Due rows, or none and how long to wait before looking again."""
        now = self.now()

        async def claim(session: AsyncSession) -> tuple[list[Lease], datetime | None]:
            leases = await outbox.claim_due(session, now=now, limit=self.batch, policy=self.policy)
            return leases, None if leases else await outbox.next_due(session, now)

        try:
            leases, upcoming = await self._transaction(claim)
        except Exception:
            log.exception("could not claim outbox rows")
            return [], max(self.poll, 1.0)
        if upcoming is None:
            return leases, self.poll
        return leases, min(self.poll, max((upcoming - now).total_seconds(), 0.001))

    def _start(self, lease: Lease) -> None:
        self.gate.started()
        task = asyncio.create_task(self._send(lease))
        self._sending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._changed.set()

    async def _send(self, lease: Lease) -> None:
        try:
            try:
                sent = await self.bot(telegram_method(lease))
            finally:
                self.gate.answered()
        except TelegramRetryAfter as error:
            self.gate.slow_down()
            log.warning(
                "outbox %s: flood control, chat %s waits %ss",
                lease.id,
                lease.chat_id,
                error.retry_after,
            )
            until = self.now() + timedelta(seconds=error.retry_after)
            await self._record(outbox.postpone, lease, until=until, error=error.message)
        except TelegramMigrateToChat as error:
            log.warning(
                "outbox %s: chat %s became supergroup %s; its messages follow it",
                lease.id,
                lease.chat_id,
                error.migrate_to_chat_id,
            )
            await self._record(outbox.retarget, lease, error.migrate_to_chat_id, self.now())
            self.coordinators_chat.follow(lease.chat_id, error.migrate_to_chat_id)
        except TelegramForbiddenError as error:
            log.warning("outbox %s: chat %s: %s", lease.id, lease.chat_id, error.message)
            await self._counted(
                outbox.forbidden,
                lease,
                description=error.message,
                now=self.now(),
                policy=self.policy,
            )
        except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as error:
            log.warning("outbox %s: refused: %s", lease.id, error.message)
            if isinstance(lease.picture, str) and "file" in error.message.lower():
                # A file_id Telegram no longer takes (another bot token, say): upload again.
                await self._record(outbox.upload_again, lease, self.now())
                self._count("retried")
            else:
                await self._record(outbox.mark_failed, lease, error.message, self.now())
                self._count("failed")
        except TelegramAPIError as error:
            # Network errors and timeouts, 5xx, and what a retry may cure (401, 409).
            log.warning("outbox %s: %s (attempt %s)", lease.id, error.message, lease.attempts)
            await self._counted(
                outbox.retry_or_fail,
                lease,
                error=error.message,
                now=self.now(),
                policy=self.policy,
            )
        except Exception as error:
            # A row that cannot be turned into a call, or an answer that cannot be read: the
            # error's text could quote the message, so only its kind is kept.
            log.error("outbox %s: %s", lease.id, type(error).__name__)
            await self._record(outbox.mark_failed, lease, type(error).__name__, self.now())
            self._count("failed")
        else:
            self.gate.recover()
            message_id = sent.message_id if isinstance(sent, Message) else 0
            photo = sent.photo if isinstance(sent, Message) else None
            await self._record_sent(lease, message_id, photo[-1].file_id if photo else None)
            self._count("sent")

    def _count(self, outcome: str | None) -> None:
        outbox_outcome(self.metrics, outcome)

    async def _counted(
        self, action: Callable[..., Awaitable[OutboxStatus]], *args: Any, **kw: Any
    ) -> None:
        """`_record`, counting what became of the row: tried again, failed, or dropped."""
        status = await self._record(action, *args, **kw)
        self._count(_OUTCOMES.get(status))

    async def _transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in one short transaction, carried to its end even if this task is cancelled:
        a transaction cut short could keep SQLite's write lock from everyone else."""

        async def run() -> T:
            async with self.sessionmaker.begin() as session:
                return await work(session)

        task = asyncio.ensure_future(run())
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)
        return await asyncio.shield(task)

    async def _record_sent(
        self, lease: Lease, message_id: int, photo_file_id: str | None, attempts: int = 5
    ) -> None:
        """Telegram has the message: if the database cannot say so right now (locked, a
        short outage), keep trying — a row left leased would be sent again when its lease
        ends, and only a crash may cause that (DESIGN.md)."""
        for attempt in range(attempts):
            try:
                await self._transaction(
                    lambda session: outbox.mark_sent(
                        session,
                        lease,
                        message_id=message_id,
                        now=self.now(),
                        policy=self.policy,
                        photo_file_id=photo_file_id,
                    )
                )
                return
            except Exception:
                log.warning("outbox %s: could not mark it sent (try %d)", lease.id, attempt + 1)
                await self.sleep(min(0.5 * 2**attempt, 5.0))
        log.error("outbox %s: sent, but could not be marked so", lease.id)

    async def _record(self, action: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
        try:
            return await self._transaction(lambda session: action(session, *args, **kw))
        except Exception:
            # The row stays leased and is tried again when the lease ends.
            log.exception("could not record an outbox outcome (%s)", action.__name__)
            return None


_OUTCOMES = {
    OutboxStatus.pending: "retried",
    OutboxStatus.failed: "failed",
    OutboxStatus.dropped: "dropped",
}


async def deliver(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event,
    *,
    coordinators_chat: CoordinatorsChat | None = None,
    wake: asyncio.Event | None = None,
    clock: Clock = time.monotonic,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    metrics: Metrics | None = None,
) -> None:
    """Delivers the outbox until `stop` is set. `wake`, set after a commit that enqueued
    messages, spares the wait for the next look at the table. `clock` paces the sends, `now`
    dates the rows (due, leased, retried), `sleep` waits before recording a send again;
    `metrics` counts what became of each send."""
    delivery = Delivery(
        bot,
        sessionmaker,
        settings,
        coordinators_chat=coordinators_chat,
        wake=wake,
        clock=clock,
        now=now,
        sleep=sleep,
        metrics=metrics,
    )
    await delivery.run(stop)
