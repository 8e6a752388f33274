"""The scheduler: every job each tick; a failing job stops neither the others nor the loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.app import jobs
from bot.jobs import JobContext
from bot.scheduler import run_jobs, schedule
from tests.conversation import Harness


def test_the_bot_schedules_survey_sending_reminders_the_summary_and_retention() -> None:
    assert [name for name, _job in jobs()] == [
        "surveys.send",
        "surveys.remind",
        "summary.daily",
        "challenges.close",
        "privacy.retention",
        "organisations.needs_digest",
        "backup.daily",
    ]


async def test_a_failing_job_does_not_stop_the_others(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    context = JobContext(harness.bot, harness.sessionmaker, harness.settings, harness.i18n)
    ran: list[datetime] = []

    async def broken(_context: JobContext, _now: datetime) -> None:
        raise RuntimeError("boom")

    async def fine(_context: JobContext, now: datetime) -> None:
        ran.append(now)

    moment = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    await run_jobs(context, moment, [("broken", broken), ("fine", fine)])
    assert ran == [moment]
    assert "scheduled job broken failed" in caplog.text


async def test_the_real_jobs_tick_on_a_quiet_database_until_stopped(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    context = JobContext(harness.bot, harness.sessionmaker, harness.settings, harness.i18n)
    stop = asyncio.Event()
    task = asyncio.create_task(schedule(context, jobs(), stop, every=0.01))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert task.done() and task.exception() is None
    assert "failed" not in caplog.text
