"""/metrics, scraped as Prometheus does after the bot has worked: the updates of a conversation
(and one that failed), the outbox's sends and what became of them, Telegram's 429s, the
unsolicited messages the quiet hours hold, and the scheduled jobs' runs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.health import Readiness
from bot.jobs import JobContext
from bot.metrics import Metrics
from bot.scheduler import run_jobs
from bot.standin import make_user, private_chat
from storage.outbox import ALERT, QuietHours, TextMessage, enqueue
from tests.conversation import Harness
from tests.delivery_setup import FAST, delivering, wait_for
from tests.faults import failing_commits
from tests.through_webhook import samples, webhook_worker

NOON = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # in Paris, by day


async def scrape(client: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")  # type: ignore[attr-defined]
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(await response.text())


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def test_a_conversation_and_a_failed_update_are_counted_and_timed(
    harness: Harness, engine: AsyncEngine
) -> None:
    async with webhook_worker(harness) as (client, _metrics):
        person = harness.person(language_code="en")
        await person.send("/start")
        await person.press("English")
        await person.press("I have read it, continue")
        with failing_commits(engine):
            await person.send("/help")
        assert len(harness.take_failures()) == 1  # answered 500: Telegram sends it again
        found = await scrape(client)

    assert value(found, "collective_updates_handled_total") == 3
    assert value(found, "collective_updates_failed_total") == 1
    assert value(found, "collective_update_handling_seconds_count") == 4
    assert value(found, "collective_update_handling_seconds_sum") > 0


async def test_the_outbox_sends_429s_and_the_quiet_hours_are_counted(harness: Harness) -> None:
    standin = harness.standin
    for chat in (2001, 2002, 2003, 2004):
        standin.add_chat(private_chat(make_user(chat)))
    standin.inject("sendMessage", status=429, retry_after=30, chat_id=2001)
    standin.inject("sendMessage", status=500, chat_id=2002)
    standin.inject("sendMessage", status=400, description="Bad Request: nope", chat_id=2003)
    quiet = QuietHours("Europe/Paris")
    morning = quiet.end_after(quiet.start_after(NOON))
    async with harness.sessionmaker.begin() as session:
        for chat in (2001, 2002, 2003, 2004):
            await enqueue(session, TextMessage(chat_id=chat, text=f"Bonjour {chat}"))
        # An alert written in the evening, put off to the next morning.
        await enqueue(
            session, TextMessage(chat_id=2005, text="Défi", kind=ALERT, not_before=morning)
        )
    readiness = Readiness(harness.sessionmaker, outbox_lag=300, quiet=quiet, now=lambda: NOON)
    async with webhook_worker(harness, readiness) as (client, metrics):
        settings = harness.settings.model_copy(update=FAST)
        async with delivering(harness.bot, harness.sessionmaker, settings, metrics=metrics):
            # 2001 waits out its 429, 2005 the morning; the others are settled.
            await wait_for(
                harness.sessionmaker,
                lambda rows: (
                    [r.status.value for r in rows]
                    == ["pending", "sent", "failed", "sent", "pending"]
                ),
                within=60,
            )
        found = await scrape(client)

    assert value(found, "collective_telegram_429_total") == 1
    assert value(found, "collective_outbox_messages_total", outcome="sent") == 2
    assert value(found, "collective_outbox_messages_total", outcome="retried") == 1
    assert value(found, "collective_outbox_messages_total", outcome="failed") == 1
    assert value(found, "collective_outbox_messages_total", outcome="dropped") == 0
    assert value(found, "collective_outbox_waiting") == 2
    assert value(found, "collective_outbox_held_for_quiet_hours") == 1
    assert value(found, "collective_outbox_oldest_due_seconds") == 0


async def test_scheduled_jobs_run_and_failed_are_counted_by_job(harness: Harness) -> None:
    metrics = Metrics()

    async def fine(context: JobContext, now: datetime) -> None:
        return None

    async def broken(context: JobContext, now: datetime) -> None:
        raise RuntimeError("a bug")

    context = JobContext(harness.bot, harness.sessionmaker, harness.settings, harness.i18n)
    jobs = [("fine", fine), ("broken", broken)]
    await run_jobs(context, NOON, jobs, metrics)
    await run_jobs(context, NOON, jobs, metrics)
    found = samples(metrics.exposition()[0].decode())

    assert value(found, "collective_jobs_run_total", job="fine") == 2
    assert value(found, "collective_jobs_failed_total", job="broken") == 2
    assert ("collective_jobs_run_total", (("job", "broken"),)) not in found


def test_each_app_counts_in_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.updates_handled.inc()
    assert samples(first.exposition()[0].decode())[("collective_updates_handled_total", ())] == 1
    assert samples(second.exposition()[0].decode())[("collective_updates_handled_total", ())] == 0
