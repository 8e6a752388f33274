"""The coordinators' daily summary and /stats, on a fixed clock: posted once a day at the right
local time (across the changes of time), by one worker of several, after a restart or a
down-time; every figure checked against counts made here from the generated rows."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_timedelta
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import jobs
from bot.i18n import CatalogI18n
from bot.jobs import JobContext
from handlers.summary import jobs as summary_jobs
from handlers.summary.jobs import daily_summary
from handlers.summary.stats import PeriodError, parse_period
from handlers.summary.texts import period_text
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    AuditEntry,
    Challenge,
    ChallengeAlert,
    ChallengeStatus,
    Initiative,
    InitiativeReport,
    InitiativeStatus,
    Introduction,
    IntroductionStatus,
    Need,
    OutboxMessage,
    OutboxPicture,
    OutboxStatus,
    Participation,
    ReportReason,
    Role,
    SummaryRun,
    Survey,
    SurveyResponse,
    SurveyStatus,
    User,
)
from storage.outbox import Message, PhotoMessage, enqueue
from storage.summary import (
    activity,
    claim_summary,
    daily_figures,
    day_window,
    due_day,
    period_figures,
    period_window,
)
from storage.themes import SEEDED_THEMES
from tests.conversation import Harness, button_texts, plain, texts
from tests.delivery_setup import FAST, deliver_all
from tests.initiatives_setup import GROUP_ID, group_person
from tests.texts import t, tn

# Races and once-only work: on PostgreSQL too.
pytestmark = pytest.mark.postgres

PARIS = ZoneInfo("Europe/Paris")
SIX = time(18, 0)
THEMES = sorted(SEEDED_THEMES)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def paris(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


# -- generated activity, and the same counts made here


@dataclass
class World:
    """Every row generated, as plain values, to count without the code under test."""

    people: list[tuple[str, datetime]] = field(default_factory=list)
    needs: list[tuple[str, int, datetime]] = field(default_factory=list)
    proposals: list[tuple[int, str, datetime, str, datetime | None]] = field(default_factory=list)
    decisions: list[tuple[str, datetime]] = field(default_factory=list)
    reports: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)
    joins: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)
    introductions: list[tuple[datetime, bool, datetime | None]] = field(default_factory=list)
    responses: list[tuple[int, datetime | None]] = field(default_factory=list)
    alerts: list[datetime] = field(default_factory=list)
    outbox: list[tuple[str, datetime, datetime | None]] = field(default_factory=list)


def between(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def expected(world: World, start: datetime, end: datetime) -> dict[str, Any]:
    def tally(keys: list[Any]) -> dict[Any, int]:
        found: dict[Any, int] = {}
        for key in keys:
            found[key] = found.get(key, 0) + 1
        return found

    return {
        "people_by_role": tally([r for r, at in world.people if between(at, start, end)]),
        "needs_by_theme": tally([th for th, _a, at in world.needs if between(at, start, end)]),
        "needs_by_arrondissement": tally(
            [a for _th, a, at in world.needs if between(at, start, end)]
        ),
        "proposals_received": sum(between(p[2], start, end) for p in world.proposals),
        "decisions": tally([d for d, at in world.decisions if between(at, start, end)]),
        "reports": sum(between(at, start, end) for _i, at, _h in world.reports),
        "joined": tally([c for c, at, _l in world.joins if between(at, start, end)]),
        "left": tally([c for c, _j, left in world.joins if between(left, start, end)]),
        "introductions_asked": sum(between(at, start, end) for at, _a, _w in world.introductions),
        "introductions_made": sum(
            accepted and between(answered, start, end)
            for _at, accepted, answered in world.introductions
        ),
        "responses": tally([s for s, done in world.responses if between(done, start, end)]),
        "alerts": sum(between(at, start, end) for at in world.alerts),
        "delivered": sum(
            status == "sent" and between(sent, start, end) for status, _c, sent in world.outbox
        ),
        "failed": sum(
            status == "failed" and between(failed, start, end)
            for status, _c, failed in world.outbox
        ),
    }


def measured(found: Any) -> dict[str, Any]:
    return {
        "people_by_role": found.people_by_role,
        "needs_by_theme": found.needs_by_theme,
        "needs_by_arrondissement": found.needs_by_arrondissement,
        "proposals_received": found.proposals_received,
        "decisions": found.decisions,
        "reports": found.reports,
        "joined": {item.id: item.count for item in found.challenges if item.count},
        "left": {item.id: item.other for item in found.challenges if item.other},
        "introductions_asked": found.introductions_asked,
        "introductions_made": found.introductions_made,
        "responses": {item.id: item.count for item in found.surveys},
        "alerts": found.alerts,
        "delivered": found.delivered,
        "failed": found.failed,
    }


def waiting_at(world: World, at: datetime) -> tuple[int, datetime | None, int]:
    waiting = [
        submitted
        for _id, status, submitted, _s, decided in world.proposals
        if submitted < at and (status == "pending" or (decided is not None and decided >= at))
    ]
    reported = {
        initiative
        for initiative, made, handled in world.reports
        if made < at and (handled is None or handled >= at)
    }
    return len(waiting), min(waiting, default=None), len(reported)


async def generate(
    sessionmaker: async_sessionmaker[AsyncSession],
    start: datetime,
    end: datetime,
    seed: int = 6,
    boundaries: tuple[datetime, ...] = (),
) -> World:
    """Random activity between `start` and `end`, plus a need and a person exactly at each
    of `boundaries` (a window's start counts, its end does not)."""
    rng = random.Random(seed)
    world = World()
    span = (end - start).total_seconds()

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(int(span)))

    def later(than: datetime) -> datetime | None:
        found = than + timedelta(hours=rng.uniform(0.5, 40))
        return found if found < end else None

    async with sessionmaker.begin() as session:
        users = []
        for number in range(80):
            role = rng.choice(list(Role))
            onboarded = boundaries[number] if number < len(boundaries) else moment()
            user = User(
                telegram_id=5000 + number,
                locale="fr",
                role=role,
                arrondissement=rng.randint(1, 16),
                onboarded_at=onboarded,
                created_at=onboarded,
            )
            users.append(user)
            world.people.append((role.value, onboarded))
        # Someone who never finished joining counts nowhere.
        session.add(User(telegram_id=4999, locale="fr", created_at=start))
        session.add_all(users)
        await session.flush()
        for number in range(60):
            theme, place = rng.choice(THEMES), rng.randint(1, 16)
            created = boundaries[number] if number < len(boundaries) else moment()
            session.add(
                Need(
                    reporter_id=users[number].id,
                    theme_code=theme,
                    arrondissement=place,
                    text="Une voisine âgée est très seule.",
                    created_at=created,
                )
            )
            world.needs.append((theme, place, created))
        initiatives = []
        for number in range(30):
            submitted = moment()
            status = rng.choice(["pending", "approved", "rejected", "changes_requested"])
            decided = None if status == "pending" else later(submitted)
            if decided is None:
                status = "pending"
            initiative = Initiative(
                proposer_id=users[number].id,
                title=f"Proposal {number}",
                description="Weekly visits to older people living alone.",
                theme_code=rng.choice(THEMES),
                arrondissement=rng.randint(1, 16),
                status=InitiativeStatus(status),
                submitted_at=submitted,
                created_at=submitted,
                decided_at=decided,
            )
            session.add(initiative)
            await session.flush()
            initiatives.append(initiative)
            world.proposals.append((initiative.id, status, submitted, status, decided))
            if decided is not None:
                action = {"approved": "approve", "rejected": "reject"}.get(status, "changes")
                session.add(
                    AuditEntry(
                        actor_telegram_id=42,
                        action=f"initiative.{action}",
                        object_type="initiative",
                        object_id=initiative.id,
                        created_at=decided,
                    )
                )
                world.decisions.append((action, decided))
        # Other coordinators' actions are no decisions on proposals.
        session.add(
            AuditEntry(
                actor_telegram_id=42,
                action="initiative.keep",
                object_type="initiative",
                object_id=1,
                created_at=moment(),
            )
        )
        published = [i for i in initiatives if i.status is InitiativeStatus.approved]
        for number in range(12):
            target = rng.choice(published)
            made = max(moment(), target.decided_at or start)
            handled = later(made) if rng.random() < 0.5 else None
            session.add(
                InitiativeReport(
                    initiative_id=target.id,
                    reporter_id=users[40 + number].id,
                    reason=ReportReason.spam,
                    created_at=made,
                    handled_at=handled,
                )
            )
            world.reports.append((target.id, made, handled))
        challenges = [
            Challenge(
                slug=f"c{number}",
                texts={"fr": {"title": f"Défi {number}", "description": "…"}},
                theme_code="older_people",
                status=ChallengeStatus.open,
            )
            for number in range(3)
        ]
        session.add_all(challenges)
        await session.flush()
        for number, user in enumerate(users[:60]):
            challenge = challenges[number % 3]
            joined = moment()
            left = later(joined) if rng.random() < 0.3 else None
            session.add(
                Participation(
                    challenge_id=challenge.id,
                    user_id=user.id,
                    kind="time",
                    joined_at=joined,
                    left_at=left,
                )
            )
            world.joins.append((challenge.id, joined, left))
        for number in range(15):
            asked = moment()
            answered = later(asked) if rng.random() < 0.7 else None
            accepted = answered is not None and rng.random() < 0.6
            session.add(
                Introduction(
                    challenge_id=challenges[0].id,
                    requester_id=users[number].id,
                    target_id=users[number + 20].id,
                    status=IntroductionStatus.accepted
                    if accepted
                    else (IntroductionStatus.declined if answered else IntroductionStatus.asked),
                    created_at=asked,
                    answered_at=answered,
                )
            )
            world.introductions.append((asked, accepted, answered))
        surveys = [
            Survey(series="isolement", wave=n + 1, texts={"fr": {"title": f"Enquête {n}"}})
            for n in range(2)
        ]
        for survey in surveys:
            survey.status = SurveyStatus.open
        session.add_all(surveys)
        await session.flush()
        for number, user in enumerate(users[:50]):
            survey = surveys[number % 2]
            started = moment()
            done = later(started) if rng.random() < 0.8 else None
            session.add(
                SurveyResponse(
                    survey_id=survey.id, user_id=user.id, started_at=started, completed_at=done
                )
            )
            world.responses.append((survey.id, done))
        for user in users[:25]:
            at = moment()
            session.add(
                ChallengeAlert(challenge_id=challenges[1].id, user_id=user.id, created_at=at)
            )
            world.alerts.append(at)
        for _ in range(40):
            created = moment()
            status = rng.choice(["sent", "sent", "failed", "pending", "dropped"])
            # Sent, or failed for good, some time after it was written (maybe a day later).
            settled = later(created) if status in ("sent", "failed") else None
            if settled is None and status in ("sent", "failed"):
                status = "pending"
            session.add(
                OutboxMessage(
                    chat_id=5000,
                    method="sendMessage",
                    payload={"text": "…"},
                    status=OutboxStatus(status),
                    created_at=created,
                    not_before=created,
                    sent_at=settled if status == "sent" else None,
                    failed_at=settled if status == "failed" else None,
                )
            )
            world.outbox.append((status, created, settled))
    return world


# -- windows and the time of the summary


def test_summary_days_follow_the_local_time_across_both_changes() -> None:
    spring = day_window(date(2026, 3, 29), "Europe/Paris", SIX)
    assert (spring.start, spring.end) == (utc(2026, 3, 28, 17), utc(2026, 3, 29, 16))
    autumn = day_window(date(2026, 10, 25), "Europe/Paris", SIX)
    assert (autumn.start, autumn.end) == (utc(2026, 10, 24, 16), utc(2026, 10, 25, 17))
    calendar = day_window(date(2026, 3, 29), "Europe/Paris")
    assert (calendar.start, calendar.end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    week = period_window(date(2026, 10, 19), date(2026, 10, 25), "Europe/Paris")
    assert (week.start, week.end, week.days) == (utc(2026, 10, 18, 22), utc(2026, 10, 25, 23), 7)
    before = week.shifted(-7)
    assert (before.start, before.end) == (utc(2026, 10, 11, 22), utc(2026, 10, 18, 22))


@pytest.mark.parametrize(
    ("before", "at"),
    [
        # Winter time, the day before the spring change: 18:00 is 17:00 UTC.
        (utc(2026, 3, 28, 16, 59, 59), utc(2026, 3, 28, 17)),
        # Summer time from that night: 18:00 is 16:00 UTC.
        (utc(2026, 3, 29, 15, 59, 59), utc(2026, 3, 29, 16)),
        (utc(2026, 10, 24, 15, 59, 59), utc(2026, 10, 24, 16)),
        # Winter time again after the autumn change.
        (utc(2026, 10, 25, 16, 59, 59), utc(2026, 10, 25, 17)),
    ],
)
def test_due_at_18_local_time(before: datetime, at: datetime) -> None:
    assert due_day(before, "Europe/Paris", SIX) is None
    assert due_day(at, "Europe/Paris", SIX) == at.astimezone(PARIS).date()


def test_the_job_is_scheduled() -> None:
    assert ("summary.daily", daily_summary) in list(jobs())


# -- every figure against the generated rows


async def test_every_figure_matches_independent_counts(engine: AsyncEngine) -> None:
    sessionmaker = create_sessionmaker(engine)
    # The summary day of 29 March 2026 (spring change) lasts 23 hours.
    start, end = utc(2026, 3, 28, 17), utc(2026, 3, 29, 16)
    world = await generate(
        sessionmaker,
        utc(2026, 3, 25),
        utc(2026, 4, 1),
        boundaries=(start, end, start - timedelta(microseconds=1)),
    )
    now = utc(2026, 4, 2)
    async with sessionmaker() as session:
        figures = await daily_figures(
            session, date(2026, 3, 29), "Europe/Paris", cutoff=SIX, now=now
        )
        days = await activity(session, date(2026, 3, 29), "Europe/Paris", cutoff=SIX, now=now)
        week = await period_figures(
            session, date(2026, 3, 23), date(2026, 3, 29), "Europe/Paris", now=now
        )
        today = await period_figures(
            session, date(2026, 3, 30), date(2026, 3, 30), "Europe/Paris", now=utc(2026, 3, 30, 9)
        )

    assert measured(figures.counts) == expected(world, start, end)
    assert measured(figures.previous) == expected(world, utc(2026, 3, 27, 17), start)
    count, oldest, reported = waiting_at(world, end)
    assert (figures.waiting.proposals, figures.waiting.oldest, figures.waiting.reported) == (
        count,
        oldest,
        reported,
    )
    assert [p.submitted_at for p in figures.waiting.first] == sorted(
        s for _i, st, s, _x, d in world.proposals if s < end and (st == "pending" or d >= end)
    )[:10]
    # The boundaries: the start counts, the end and just before the start do not.
    assert figures.counts.people == sum(between(at, start, end) for _r, at in world.people)

    # The dashboard: 14 summary days, each from 18:00 the day before to 18:00.
    assert [d.day for d in days] == [date(2026, 3, 16) + timedelta(days=n) for n in range(14)]
    for day in days:
        first = datetime.combine(day.day - timedelta(days=1), SIX, PARIS).astimezone(UTC)
        last = datetime.combine(day.day, SIX, PARIS).astimezone(UTC)
        counted = expected(world, first, last)
        assert day.people == sum(counted["people_by_role"].values())
        assert day.needs == sum(counted["needs_by_theme"].values())
        assert day.proposals == counted["proposals_received"]
        assert day.joined == sum(counted["joined"].values())
        assert day.responses == sum(counted["responses"].values())

    # A week of calendar days, against the seven before.
    assert measured(week.counts) == expected(world, utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    assert measured(week.previous) == expected(world, utc(2026, 3, 15, 23), utc(2026, 3, 22, 23))
    # Today so far (9:00 UTC, 11:00 in Paris), against yesterday at the same hour.
    assert measured(today.counts) == expected(world, utc(2026, 3, 29, 22), utc(2026, 3, 30, 9))
    assert measured(today.previous) == expected(world, utc(2026, 3, 28, 23), utc(2026, 3, 29, 9))
    assert today.waiting.at == utc(2026, 3, 30, 9)


def test_stats_periods() -> None:
    today = date(2026, 11, 15)
    assert parse_period(None, today) == (today, today)
    assert parse_period("week", today) == (date(2026, 11, 9), today)
    assert parse_period("mois", today) == (date(2026, 10, 17), today)
    assert parse_period("01/11/2026 15/11/2026", today) == (date(2026, 11, 1), today)
    assert parse_period("2026-11-03", today) == (date(2026, 11, 3), date(2026, 11, 3))
    # Swapped dates are put in order; the future is cut at today.
    assert parse_period("15/11/2026 01/11/2026", today) == (date(2026, 11, 1), today)
    assert parse_period("10/11/2026 30/11/2026", today) == (date(2026, 11, 10), today)
    # Without a year: the latest such day up to today.
    assert parse_period("01/11 05/11", today) == (date(2026, 11, 1), date(2026, 11, 5))
    assert parse_period("01/12 05/12", today) == (date(2025, 12, 1), date(2025, 12, 5))
    assert parse_period("15.11", today) == (today, today)
    for wrong in (
        "yesterday",
        "31/02/2026",
        "31/02",
        "01/11/2026 02/11/2026 03/11/2026",
        "01/12/2026",
    ):
        with pytest.raises(PeriodError):
            parse_period(wrong, today)
    with pytest.raises(PeriodError):
        parse_period("01/01/2024 15/11/2026", today)


# -- once a day


def context(
    harness: Harness, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> JobContext:
    return JobContext(
        harness.bot, sessionmaker or harness.sessionmaker, harness.settings, harness.i18n
    )


async def rows(harness: Harness) -> list[OutboxMessage]:
    async with harness.sessionmaker() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def runs(harness: Harness) -> list[SummaryRun]:
    async with harness.sessionmaker() as session:
        return list(await session.scalars(select(SummaryRun).order_by(SummaryRun.day)))


async def some_activity(harness: Harness, day: date) -> None:
    """A person who joined and a proposal waiting, in `day`'s summary window."""
    at = datetime.combine(day, time(10), PARIS).astimezone(UTC)
    async with harness.sessionmaker.begin() as session:
        user = User(
            telegram_id=9000, locale="fr", role=Role.citizen, onboarded_at=at, created_at=at
        )
        session.add(user)
        await session.flush()
        session.add(
            Initiative(
                proposer_id=user.id,
                title="Café des voisins",
                description="A café where neighbours meet every Friday afternoon.",
                theme_code="older_people",
                arrondissement=3,
                status=InitiativeStatus.pending,
                submitted_at=at,
            )
        )


async def test_posted_at_18_local_time_on_both_sides_of_both_changes(harness: Harness) -> None:
    days = (date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 24), date(2026, 10, 25))
    for day in days:
        await some_activity_once(harness, day)
    # 17:59:59 in Paris each day: nothing; 18:00: the summary, then nothing more that day.
    for before, at in (
        (utc(2026, 3, 28, 16, 59, 59), utc(2026, 3, 28, 17)),  # winter time
        (utc(2026, 3, 29, 15, 59, 59), utc(2026, 3, 29, 16)),  # summer time from that night
        (utc(2026, 10, 24, 15, 59, 59), utc(2026, 10, 24, 16)),  # summer time
        (utc(2026, 10, 25, 16, 59, 59), utc(2026, 10, 25, 17)),  # winter time again
    ):
        count = len(await rows(harness))
        await daily_summary(context(harness), before)
        assert len(await rows(harness)) == count, before
        await daily_summary(context(harness), at)
        await daily_summary(context(harness), at + timedelta(hours=1))
        assert len(await rows(harness)) == count + 2, at  # the text, then the picture
    assert [(r.day, r.posted_at, r.late, r.quiet) for r in await runs(harness)] == [
        (date(2026, 3, 28), utc(2026, 3, 28, 17), False, False),
        (date(2026, 3, 29), utc(2026, 3, 29, 16), False, False),
        (date(2026, 10, 24), utc(2026, 10, 24, 16), False, False),
        (date(2026, 10, 25), utc(2026, 10, 25, 17), False, False),
    ]


async def some_activity_once(harness: Harness, day: date) -> None:
    async with harness.sessionmaker() as session:
        taken = await session.scalar(select(func.count()).select_from(User)) or 0
    at = datetime.combine(day, time(10), PARIS).astimezone(UTC)
    async with harness.sessionmaker.begin() as session:
        session.add(
            User(
                telegram_id=9000 + taken,
                locale="fr",
                role=Role.association,
                onboarded_at=at,
                created_at=at,
            )
        )


async def test_a_restart_at_the_posting_minute_posts_once(harness: Harness) -> None:
    await some_activity(harness, date(2026, 11, 15))
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0, 0))
    # The restarted process ticks again within the same minute, and later that evening.
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0, 20))
    await daily_summary(context(harness), paris(2026, 11, 15, 23, 59))
    assert [r.method for r in await rows(harness)] == ["sendMessage", "sendPhoto"]
    assert len(await runs(harness)) == 1


async def test_a_crash_while_writing_leaves_the_day_to_the_next_tick(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await some_activity(harness, date(2026, 11, 15))

    async def crash(session: AsyncSession, *messages: Message) -> list[OutboxMessage]:
        # The text is written; the picture never is.
        if any(isinstance(message, PhotoMessage) for message in messages):
            raise RuntimeError("killed mid-summary")
        return await enqueue(session, *messages)

    with monkeypatch.context() as patch:
        patch.setattr(summary_jobs, "enqueue", crash)
        with pytest.raises(RuntimeError):
            await daily_summary(context(harness), paris(2026, 11, 15, 18, 0))
    # Neither the claim nor the text was committed.
    assert await runs(harness) == [] and await rows(harness) == []
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0, 15))
    assert [r.method for r in await rows(harness)] == ["sendMessage", "sendPhoto"]
    assert len(await runs(harness)) == 1


async def test_two_workers_post_once(harness: Harness, database_url: str) -> None:
    await some_activity(harness, date(2026, 11, 15))
    # Each worker a process of its own: its own engine, its own connections.
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        contexts = [context(harness, create_sessionmaker(engine)) for engine in engines]
        moment = paris(2026, 11, 15, 18, 0, 3)
        await asyncio.gather(*(daily_summary(c, moment) for c in contexts))
        await asyncio.gather(*(daily_summary(c, moment + timedelta(seconds=15)) for c in contexts))
    finally:
        for engine in engines:
            await engine.dispose()
    assert [r.method for r in await rows(harness)] == ["sendMessage", "sendPhoto"]
    assert len(await runs(harness)) == 1


async def test_the_claim_is_taken_once(engine: AsyncEngine) -> None:
    day = date(2026, 11, 15)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        assert await claim_summary(session, day)
    async with sessionmaker.begin() as session:
        assert not await claim_summary(session, day)
        assert await claim_summary(session, day + timedelta(days=1))


async def test_a_bot_down_at_the_time_posts_late_the_same_day(harness: Harness) -> None:
    await some_activity(harness, date(2026, 11, 15))
    # Down from 17:30 to 21:15.
    await daily_summary(context(harness), paris(2026, 11, 15, 17, 30))
    assert await rows(harness) == []
    await daily_summary(context(harness), paris(2026, 11, 15, 21, 15))
    text = plain((await rows(harness))[0].payload["text"])
    assert t("fr", "⏰ Posted late: the bot was not running at {time}.", time="18:00") in text
    [run] = await runs(harness)
    assert run.late and run.posted_at == paris(2026, 11, 15, 21, 15)


async def test_a_day_missed_entirely_is_not_posted_the_day_after(harness: Harness) -> None:
    await some_activity(harness, date(2026, 11, 15))
    # Down from the 15th at noon to the 16th at 8:00: the 15th's summary is gone…
    await daily_summary(context(harness), paris(2026, 11, 16, 8, 0))
    assert await runs(harness) == []
    # …and the 16th's, on time, covers from the 15th at 18:00.
    await daily_summary(context(harness), paris(2026, 11, 16, 18, 0))
    [run] = await runs(harness)
    assert run.day == date(2026, 11, 16) and not run.late


async def test_a_quiet_day_gets_no_message(harness: Harness) -> None:
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0))
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 1))
    assert await rows(harness) == []
    [run] = await runs(harness)
    assert run.quiet and run.day == date(2026, 11, 15)


async def test_the_day_after_a_summary_is_quiet_if_nothing_else_happened(
    harness: Harness,
) -> None:
    async with harness.sessionmaker.begin() as session:
        person = User(telegram_id=7000, locale="fr", role=Role.citizen)
        session.add(person)
        await session.flush()
        session.add(
            Need(
                reporter_id=person.id,
                theme_code="solidarity",
                arrondissement=3,
                text="Une voisine âgée est très seule.",
                created_at=paris(2026, 11, 15, 8),
            )
        )
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0))
    posted = await rows(harness)
    assert posted
    # The summary itself is delivered a few seconds later: in the next day's window.
    async with harness.sessionmaker.begin() as session:
        await session.execute(
            update(OutboxMessage).values(
                status=OutboxStatus.sent, sent_at=paris(2026, 11, 15, 18, 0, 5)
            )
        )

    await daily_summary(context(harness), paris(2026, 11, 16, 18, 0))

    assert len(await rows(harness)) == len(posted)
    assert [(run.day, run.quiet) for run in await runs(harness)] == [
        (date(2026, 11, 15), False),
        (date(2026, 11, 16), True),
    ]


# -- what the summary says


async def busy_day(harness: Harness) -> None:
    """The 15th of November: 12 proposals waiting (the oldest since the 10th), one reported
    initiative, two failed deliveries, needs in 12 arrondissements; the day before, fewer."""
    async with harness.sessionmaker.begin() as session:
        people = [
            User(
                telegram_id=7000 + n,
                locale="fr",
                role=Role.citizen if n % 3 else Role.association,
                onboarded_at=paris(2026, 11, 15 if n < 9 else 14, 12),
            )
            for n in range(14)
        ]
        session.add_all(people)
        await session.flush()
        for n in range(12):
            session.add(
                Initiative(
                    proposer_id=people[n].id,
                    title=f"Proposal <{n}>",
                    description="Weekly visits to older people living alone.",
                    theme_code="older_people",
                    arrondissement=3,
                    status=InitiativeStatus.pending,
                    submitted_at=paris(2026, 11, 10 + n // 3, 9, n),
                )
            )
        published = Initiative(
            proposer_id=people[0].id,
            title="Jardin partagé",
            description="A shared garden for the neighbourhood, open to all.",
            theme_code="ecology",
            arrondissement=5,
            status=InitiativeStatus.approved,
            submitted_at=paris(2026, 11, 1, 9),
            decided_at=paris(2026, 11, 2, 9),
        )
        session.add(published)
        await session.flush()
        session.add(
            InitiativeReport(
                initiative_id=published.id,
                reporter_id=people[1].id,
                reason=ReportReason.off_topic,
                created_at=paris(2026, 11, 15, 11),
            )
        )
        for n in range(12):
            session.add(
                Need(
                    reporter_id=people[n].id,
                    theme_code=THEMES[n],
                    arrondissement=n + 1,
                    text="Une voisine âgée est très seule.",
                    created_at=paris(2026, 11, 15, 8),
                )
            )
        for n in range(2):
            session.add(
                OutboxMessage(
                    chat_id=7000 + n,
                    method="sendMessage",
                    payload={"text": "…"},
                    status=OutboxStatus.failed,
                    last_error="Bad Request: chat not found",
                    created_at=paris(2026, 11, 15, 9),
                    failed_at=paris(2026, 11, 15, 9, 5),
                )
            )


async def test_what_the_summary_says_and_its_buttons(harness: Harness) -> None:
    await busy_day(harness)
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0))
    message, picture = [r for r in await rows(harness) if r.chat_id == GROUP_ID]
    assert message.chat_id == picture.chat_id == GROUP_ID
    text = plain(message.payload["text"])
    # What needs a decision comes first.
    assert text.index(plain(t("fr", "<b>To decide</b>"))) < text.index(
        plain(t("fr", "<b>Figures</b>"))
    )
    waiting = tn(
        "fr",
        "⏳ {count} proposal is waiting for a decision, for {age}.",
        "⏳ {count} proposals are waiting for a decision, the oldest for {age}.",
        12,
        count=12,
        age="5\u00a0jours",
    )
    assert waiting in text
    # The first ten, the oldest first, escaped; then how many more.
    assert "I-1 Proposal <0>" in text and "I-10 Proposal <9>" in text
    assert "Proposal <10>" not in text
    assert t("fr", "…and {count} more", count=2) in text
    assert (
        tn(
            "fr",
            "🚩 {count} published initiative was reported and waits for a look.",
            "🚩 {count} published initiatives were reported and wait for a look.",
            1,
            count=1,
        )
        in text
    )
    assert (
        tn(
            "fr",
            "⚠️ {count} message could not be delivered.",
            "⚠️ {count} messages could not be delivered.",
            2,
            count=2,
        )
        in text
    )
    # Figures compared with the day before (9 people against 5).
    versus = t("fr", "({delta} vs yesterday)", delta="+4")
    assert t("fr", "👥 New people: {count}", count=f"9 {versus}") in text
    needs = t("fr", "({delta} vs yesterday)", delta="+12")
    assert t("fr", "📍 Needs reported: {count}", count=f"12 {needs}") in text
    buttons = [
        b["text"] for row in message.payload["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert buttons == [
        t("fr", "Decide on the proposals ({count})", count=12),
        t("fr", "See the reported initiatives ({count})", count=1),
        t("fr", "Failed deliveries ({count})", count=2),
        t("fr", "All themes"),
        t("fr", "All arrondissements"),
    ]
    async with harness.sessionmaker() as session:
        stored = await session.get(OutboxPicture, picture.picture_id)
    assert picture.method == "sendPhoto" and stored is not None
    assert stored.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert plain(picture.payload["caption"]).startswith(
        t("fr", "The last {days} days, one bar a day (the day of the month below):", days=14)
    )


async def delivered_summary(harness: Harness) -> dict[str, Any]:
    """The summary as it reads in the group once delivered."""
    group_person(harness)  # makes the group known
    await deliver_all(harness.bot, harness.sessionmaker, harness.settings.model_copy(update=FAST))
    [summary] = [
        m for m in harness.standin.chat_messages(GROUP_ID) if "text" in m and m.get("reply_markup")
    ]
    return summary


async def test_the_summary_buttons_act(harness: Harness) -> None:
    await busy_day(harness)
    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0))
    summary = await delivered_summary(harness)
    coordinator = group_person(harness)

    calls = await coordinator.press(
        t("fr", "Decide on the proposals ({count})", count=12), summary
    )
    said = texts(calls)
    assert said[0] == tn(
        "fr",
        "{count} proposal is waiting, oldest first:",
        "{count} proposals are waiting, oldest first:",
        12,
        count=12,
    )
    assert "I-1" in said[1] and len(said) == 12  # the heading, ten cards, "…and 2 more"
    assert button_texts(coordinator.bot_messages()[-2])  # a card with its decision buttons

    calls = await coordinator.press(t("fr", "Failed deliveries ({count})", count=2), summary)
    assert "chat not found" in texts(calls)[0]

    calls = await coordinator.press(t("fr", "All arrondissements"), summary)
    [listing] = texts(calls)
    assert listing.startswith(plain(t("fr", "<b>Needs by arrondissement</b>")))
    assert listing.count("• ") == 12

    calls = await coordinator.press(
        t("fr", "See the reported initiatives ({count})", count=1), summary
    )
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == tn(
        "fr", "{count} card is on its way.", "{count} cards are on their way.", 1, count=1
    )
    card = (await rows(harness))[-1]
    assert card.chat_id == GROUP_ID and "Jardin partagé" in plain(card.payload["text"])

    stranger = group_person(harness, 777)
    calls = await stranger.press(t("fr", "Decide on the proposals ({count})", count=12), summary)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == t("fr", "Only the city's coordinators can do this.")
    assert answer.params.get("show_alert")


# -- figures on demand


NOW = paris(2026, 11, 15, 16, 30)


async def test_stats_today_week_month_and_dates(harness: Harness) -> None:
    await busy_day(harness)
    harness.dp["wall_clock"] = lambda: NOW
    coordinator = group_person(harness)

    [today] = texts(await coordinator.send("/stats"))
    assert today.startswith(plain(t("fr", "📊 <b>Figures for today so far</b>")))
    # Today until 16:30 (9 people, at noon) against yesterday until 16:30 (5).
    versus = t("fr", "({delta} vs yesterday)", delta="+4")
    assert t("fr", "👥 New people: {count}", count=f"9 {versus}") in today
    assert plain(t("fr", "<b>To decide</b>")) in today
    buttons = button_texts(coordinator.keyboard_message())
    assert t("fr", "Challenge figures") in buttons and t("fr", "Survey results") in buttons

    [week] = texts(await coordinator.send("/stats week"))
    assert week.startswith(plain(t("fr", "📊 <b>Figures for the last {days} days</b>", days=7)))
    versus = tn(
        "fr",
        "({delta} vs the previous {days} day)",
        "({delta} vs the previous {days} days)",
        7,
        delta="+14",
        days=7,
    )
    assert t("fr", "👥 New people: {count}", count=f"14 {versus}") in week

    [month] = texts(await coordinator.send("/stats month"))
    assert month.startswith(plain(t("fr", "📊 <b>Figures for the last {days} days</b>", days=30)))

    [dates] = texts(await coordinator.send("/stats 14/11/2026 14/11/2026"))
    versus = t("fr", "({delta} vs the day before)", delta="+5")
    assert t("fr", "👥 New people: {count}", count=f"5 {versus}") in dates

    [dates] = texts(await coordinator.send("/stats 01/11/2026 14/11/2026"))
    heading = "📊 <b>Figures from {first} to {last}</b>"
    assert dates.startswith(plain(t("fr", heading, first="1er nov. 2026", last="14 nov. 2026")))

    [wrong] = texts(await coordinator.send("/stats last tuesday"))
    assert wrong == plain(
        t(
            "fr",
            "Send /stats for today so far, <code>/stats week</code> for the last 7 days, "
            "<code>/stats month</code> for the last 30, or one or two dates: "
            "<code>/stats 01/11/2026 15/11/2026</code> (at most a year, not in the future).",
        )
    )


async def test_stats_reach_the_challenges_and_surveys_figures(harness: Harness) -> None:
    async with harness.sessionmaker.begin() as session:
        user = User(telegram_id=7100, locale="fr", role=Role.association, onboarded_at=NOW)
        challenge = Challenge(
            slug="iso1",
            texts={"fr": {"title": "Rompre l'isolement", "description": "…"}},
            theme_code="older_people",
            status=ChallengeStatus.open,
            opened_at=NOW,
        )
        session.add_all([user, challenge])
        await session.flush()
        session.add(
            Participation(challenge_id=challenge.id, user_id=user.id, kind="time", joined_at=NOW)
        )
    harness.dp["wall_clock"] = lambda: NOW
    coordinator = group_person(harness)
    await coordinator.send("/stats")
    calls = await coordinator.press(t("fr", "Challenge figures"))
    [figures] = texts(calls)
    assert "Rompre l'isolement" in figures
    # The challenges' own figures count "the last 7 days" on the real clock.
    recent = int(datetime.now(UTC) - NOW <= timedelta(days=7))
    assert (
        t(
            "fr",
            "Participants: {count} ({recent} in the last 7 days; {left} left)",
            count=1,
            recent=recent,
            left=0,
        )
        in figures
    )
    [same] = texts(await coordinator.send("/challenge_stats"))
    assert same == figures
    calls = await coordinator.send("/survey_results")
    assert texts(calls)  # the surveys' own list


async def test_challenge_figures_show_ten_challenges_and_say_how_many_more(
    harness: Harness,
) -> None:
    async with harness.sessionmaker.begin() as session:
        session.add_all(
            Challenge(
                slug=f"c{n}",
                texts={"fr": {"title": f"Défi numéro {n}", "description": "…"}},
                theme_code="older_people",
                status=ChallengeStatus.open,
                opened_at=NOW - timedelta(days=n),
            )
            for n in range(12)
        )
    coordinator = group_person(harness)
    [figures] = texts(await coordinator.send("/challenge_stats"))
    assert sum(f"Défi numéro {n}" in figures for n in range(12)) == 10
    assert figures.endswith(
        tn(
            "fr",
            "… and {count} more open challenge: /challenges lists them all.",
            "… and {count} more open challenges: /challenges lists them all.",
            2,
            count=2,
        )
    )


async def test_non_coordinators_are_refused(harness: Harness) -> None:
    stranger = group_person(harness, 777)
    for command in ("/stats", "/stats week", "/export", "/challenge_stats", "/survey_results"):
        calls = await stranger.send(command)
        assert texts(calls) == [t("fr", "Only the city's coordinators can do this.")], command
    assert not harness.standin.calls_of("sendDocument")


async def test_the_summary_follows_its_settings(harness: Harness) -> None:
    await some_activity(harness, date(2026, 11, 15))
    settings = harness.settings
    alone = settings.model_copy(update={"coordinator_chat_id": None})
    await daily_summary(
        JobContext(harness.bot, harness.sessionmaker, alone, harness.i18n),
        paris(2026, 11, 15, 18, 0),
    )
    assert await runs(harness) == [] and await rows(harness) == []  # no group, no summary
    early = JobContext(
        harness.bot,
        harness.sessionmaker,
        settings.model_copy(update={"summary_time": time(7, 30)}),
        harness.i18n,
    )
    await daily_summary(early, paris(2026, 11, 15, 7, 29))
    assert await runs(harness) == []
    await daily_summary(early, paris(2026, 11, 15, 7, 30))
    assert len(await runs(harness)) == 1


async def test_the_summary_speaks_the_groups_language(harness: Harness) -> None:
    await busy_day(harness)
    for locale, day in (("en", date(2026, 11, 15)), ("ar", date(2026, 11, 16))):
        settings = harness.settings.model_copy(update={"group_locale": locale})
        await daily_summary(
            JobContext(harness.bot, harness.sessionmaker, settings, harness.i18n),
            datetime.combine(day, SIX, PARIS),
        )
        message = [r for r in await rows(harness) if r.method == "sendMessage"][-1]
        text = plain(message.payload["text"])
        title = t(locale, "📊 <b>Daily summary</b> — {day}", day=format_date(day, "full", locale))
        assert plain(title) == text.splitlines()[0]
        if locale == "en":
            assert t(locale, "Citizen") in text and t(locale, "Association") in text
        else:
            waiting = tn(
                locale,
                "⏳ {count} proposal is waiting for a decision, for {age}.",
                "⏳ {count} proposals are waiting for a decision, the oldest for {age}.",
                12,
                count=12,
                age=format_timedelta(timedelta(days=6, hours=9), threshold=1.5, locale=locale),
            )
            assert waiting in text


# -- one way of writing a period


@pytest.mark.parametrize(
    ("locale", "days", "one_day", "today_so_far", "summary_day"),
    [
        (
            "fr",
            "Du 1er déc. 2026 au 5 déc. 2026",
            "5 déc. 2026",
            "Le 7 déc. 2026, de 00:00 à 16:30",
            "Du 6 déc. 2026, 18:00 au 7 déc. 2026, 18:00",
        ),
        (
            "en",
            "From Dec 1, 2026 to Dec 5, 2026",
            "Dec 5, 2026",
            "Dec 7, 2026, from 12:00\u202fAM to 4:30\u202fPM",
            "From Dec 6, 2026, 6:00\u202fPM to Dec 7, 2026, 6:00\u202fPM",
        ),
        (
            "ar",
            "من 01‏/12‏/2026 إلى 05‏/12‏/2026",
            "05‏/12‏/2026",
            "يوم 07‏/12‏/2026، من 12:00 ص إلى 4:30 م",
            "من 06‏/12‏/2026، 6:00 م إلى 07‏/12‏/2026، 6:00 م",
        ),
    ],
)
def test_a_period_is_written_one_way(
    i18n: CatalogI18n, locale: str, days: str, one_day: str, today_so_far: str, summary_day: str
) -> None:
    zone = "Europe/Paris"
    with i18n.context(), i18n.use_locale(locale):
        # Whole days end at midnight: they are named by the last day they include.
        assert period_text(period_window(date(2026, 12, 1), date(2026, 12, 5), zone), locale) == (
            days
        )
        assert period_text(period_window(date(2026, 12, 5), date(2026, 12, 5), zone), locale) == (
            one_day
        )
        today = period_window(date(2026, 12, 7), date(2026, 12, 7), zone)
        assert period_text(today.capped(paris(2026, 12, 7, 16, 30)), locale) == today_so_far
        summary = day_window(date(2026, 12, 7), zone, SIX)
        assert period_text(summary, locale) == summary_day


async def test_stats_and_the_summary_write_their_periods_alike(harness: Harness) -> None:
    await busy_day(harness)
    harness.dp["wall_clock"] = lambda: NOW
    coordinator = group_person(harness)

    # Two days without a year: the latest such days; the title names them, nothing else.
    [dates] = texts(await coordinator.send("/stats 01/11 05/11"))
    assert dates.startswith(
        plain(
            t(
                "fr",
                "📊 <b>Figures from {first} to {last}</b>",
                first="1er nov. 2026",
                last="5 nov. 2026",
            )
        )
        + "\n\n"
    )
    assert "6 nov." not in dates and "06/11" not in dates and "00:00" not in dates

    [today] = texts(await coordinator.send("/stats"))
    assert today.splitlines()[1] == "Le 15 nov. 2026, de 00:00 à 16:30"

    [two_days] = texts(await coordinator.send("/stats 14/11 15/11"))
    assert two_days.splitlines()[1] == "Du 14 nov. 2026, 00:00 au 15 nov. 2026, 16:30"
    [listing] = texts(await coordinator.press(t("fr", "All themes")))
    assert listing.splitlines()[1] == "Du 14 nov. 2026, 00:00 au 15 nov. 2026, 16:30"

    await daily_summary(context(harness), paris(2026, 11, 15, 18, 0))
    # The summary's rows; not the /stats shown above, remembered where they were shown.
    message, _picture = [
        r for r in await rows(harness) if r.chat_id == GROUP_ID and r.sent_message_id is None
    ]
    summary = plain(message.payload["text"])
    assert summary.splitlines()[1] == "Du 14 nov. 2026, 18:00 au 15 nov. 2026, 18:00"
