"""The daily backup: once a day after BACKUP_TIME (local time), when BACKUP_DIR is set, one
worker writes a backup there (`collective backup BACKUP_DIR --keep BACKUP_KEEP`).

The day is claimed first, in a transaction of its own (the `job_runs` row): a backup takes long
and must not hold a transaction open. A failed backup gives the day back, so that the next tick
tries again (and logs the failure again); a worker that dies in the middle leaves the day taken,
and the next backup is the next day's.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.jobs import JobContext
from storage.backup import backup
from storage.job_runs import claim_day, day_claimed, release_day
from storage.summary import due_day

log = logging.getLogger(__name__)

JOB = "backup.daily"


async def daily_backup(context: JobContext, now: datetime) -> None:
    """The scheduler's job: today's backup, once its time has come, if no worker took it."""
    settings = context.settings
    if not settings.backup_dir:
        return
    day = due_day(now, settings.timezone, settings.backup_time)
    if day is None:
        return
    # A cheap look first: after the backup time, every tick of the day finds it taken.
    async with context.sessionmaker() as session:
        if await day_claimed(session, JOB, day):
            return
    async with context.sessionmaker.begin() as session:
        if not await claim_day(session, JOB, day, now=now):
            return
    try:
        path = await backup(
            settings.database_url, settings.backup_dir, keep=settings.backup_keep, now=now
        )
    except Exception:
        async with context.sessionmaker.begin() as session:
            await release_day(session, JOB, day)
        raise
    log.info("daily backup written: %s", path)
