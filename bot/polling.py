"""Long polling that confirms an update only after its effect is committed.

aiogram's own polling confirms a batch while its handlers may still run, and cancels them on
shutdown; here each update is handled to the end before the next getUpdates confirms it, and a
stop request lets the update in hand finish.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.utils.backoff import Backoff, BackoffConfig

log = logging.getLogger(__name__)
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)


async def poll(dp: Dispatcher, bot: Bot, stop: asyncio.Event, long_poll: int = 30) -> None:
    allowed = dp.resolve_used_update_types()
    request = GetUpdates(timeout=long_poll, allowed_updates=allowed)
    backoff = Backoff(config=BACKOFF)
    while not stop.is_set():
        fetch = asyncio.ensure_future(bot(request, request_timeout=long_poll + 10))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            # Nothing is in hand while waiting for updates: safe to abandon.
            fetch.cancel()
            break
        try:
            updates = fetch.result()
        except TelegramRetryAfter as error:
            await asyncio.sleep(error.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError, TelegramConflictError) as error:
            # A conflict: another process polls with this token (a deploy overlapping): wait.
            log.warning("getUpdates failed (%s); retrying in %.1fs", error, backoff.next_delay)
            await backoff.asleep()
            continue
        backoff.reset()
        for update in updates:
            try:
                await dp.feed_update(bot, update)
            except Exception:
                # Rolled back and logged; the update is still confirmed, so that one bad update
                # cannot block everyone behind it.
                log.exception("update %s failed", update.update_id)
            request.offset = update.update_id + 1
            if stop.is_set():
                break
    if request.offset is not None:
        # Confirm what was handled, so that a restart does not see it again (and if this fails,
        # the processed-updates table still keeps a second delivery from having an effect).
        try:
            await bot(GetUpdates(offset=request.offset, timeout=0, limit=1))
        except (TelegramNetworkError, TelegramServerError) as error:
            log.warning("could not confirm the last updates: %s", error)
