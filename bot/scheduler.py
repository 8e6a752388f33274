"""Scheduled work (surveys to send, reminders, the daily summary…), checked every few seconds.
The jobs are the flows' (each package's `flows.py`) and the backup's, handed over by the app
(bot/app.py); what a job is, is bot/jobs.py.

Each job claims its work in the database in the same transaction as the outbox rows it writes
(a unique row or a status change), so it runs once per due moment even with restarts and
several workers — APScheduler cannot share its job store between processes (DESIGN.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.jobs import Job, JobContext
from bot.metrics import Metrics, job_outcome
from storage.models import utcnow

log = logging.getLogger(__name__)


async def run_jobs(
    context: JobContext,
    now: datetime,
    selected: Sequence[tuple[str, Job]],
    metrics: Metrics | None = None,
) -> None:
    for name, job in selected:
        try:
            with context.i18n.context():
                await job(context, now)
        except Exception:
            # One failing job must not stop the others nor the loop: it is tried again next tick.
            log.exception("scheduled job %s failed", name)
            job_outcome(metrics, name, failed=True)
        else:
            job_outcome(metrics, name, failed=False)


async def schedule(
    context: JobContext,
    jobs: Sequence[tuple[str, Job]],
    stop: asyncio.Event,
    *,
    every: float = 15.0,
    clock: Callable[[], datetime] = utcnow,
    metrics: Metrics | None = None,
) -> None:
    """Runs `jobs` every `every` seconds until `stop` is set; a tick in progress finishes."""
    while not stop.is_set():
        await run_jobs(context, clock(), jobs, metrics)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
