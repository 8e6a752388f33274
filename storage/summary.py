"""The coordinators' figures: what happened in a window of time, what waits for a decision,
the last days' activity for the dashboard, and the claim that makes the daily summary run once.

Windows are local days (Europe/Paris by default, daylight saving included) turned into UTC
bounds, so that every count is a range scan on an indexed timestamp. Two kinds of day:

- a calendar day, midnight to midnight (`/stats`, date ranges);
- a summary day, from the previous day's summary time to this day's (`cutoff`): what happened
  since the last summary, so that nothing falls between two summaries. Across a change of
  time it lasts 23 or 25 hours.

Every figure is compared with the window of the same length just before it, moved by whole
local days (yesterday at the same hour for "today so far").

Counts read the rows people left, erased people's included (anonymous aggregates). They are
for coordinators, not published: no small-group suppression here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEntry,
    Challenge,
    ChallengeAlert,
    HelpOffer,
    Initiative,
    InitiativeFollow,
    InitiativeReport,
    InitiativeStatus,
    InitiativeSupport,
    Introduction,
    IntroductionStatus,
    Need,
    OutboxMessage,
    Participation,
    ReportReason,
    SummaryRun,
    Survey,
    SurveyResponse,
    User,
    utcnow,
)

DEFAULT_TIMEZONE = "Europe/Paris"
DASHBOARD_DAYS = 14
# Items listed in a message before a button for the rest.
FIRST_ITEMS = 10
# Posted this long after its time, the summary says it is late (the bot was not running).
LATE_AFTER = timedelta(minutes=10)
# Audit actions that are moderation decisions on a proposal (storage.initiatives.decide).
DECISIONS = ("approve", "reject", "changes")


# -- windows


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC, covering the local days first_day..last_day."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    timezone: str = DEFAULT_TIMEZONE

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def shifted(self, days: int) -> Window:
        zone = ZoneInfo(self.timezone)
        return Window(
            _move(self.start, days, zone),
            _move(self.end, days, zone),
            self.first_day + timedelta(days=days),
            self.last_day + timedelta(days=days),
            self.timezone,
        )

    def capped(self, now: datetime) -> Window:
        """Ending no later than `now` (today so far)."""
        end = min(self.end, max(now, self.start))
        return Window(self.start, end, self.first_day, self.last_day, self.timezone)


def _move(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The same wall-clock time `days` local days away."""
    wall = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return local_moment(wall.date(), wall.time(), zone.key)


def local_moment(day: date, at: time, timezone: str) -> datetime:
    """`day` at the local time `at`, in UTC. A time skipped by the spring change reads as in
    winter time (02:30 is 03:30 summer time); a time met twice in autumn, the first one."""
    local = datetime.combine(day, at).replace(tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def day_window(day: date, timezone: str, cutoff: time | None = None) -> Window:
    """A calendar day; with `cutoff`, the summary day ending on `day` at that local time."""
    if cutoff is None:
        return period_window(day, day, timezone)
    return Window(
        local_moment(day - timedelta(days=1), cutoff, timezone),
        local_moment(day, cutoff, timezone),
        day,
        day,
        timezone,
    )


def period_window(first: date, last: date, timezone: str) -> Window:
    """The calendar days first..last, both included."""
    if last < first:
        raise ValueError("the period ends before it starts")
    return Window(
        local_moment(first, time(0), timezone),
        local_moment(last + timedelta(days=1), time(0), timezone),
        first,
        last,
        timezone,
    )


# -- figures


@dataclass
class Activity:
    """Something counted per challenge or per survey, with its texts to name it."""

    id: int
    texts: dict[str, Any]
    count: int = 0
    other: int = 0  # challenges: people who left


@dataclass
class Counts:
    """What happened in one window."""

    window: Window
    people_by_role: dict[str, int] = field(default_factory=dict)
    needs_by_theme: dict[str, int] = field(default_factory=dict)
    needs_by_arrondissement: dict[int, int] = field(default_factory=dict)
    proposals_received: int = 0
    decisions: dict[str, int] = field(default_factory=dict)  # DECISIONS -> count
    reports: int = 0
    # Per challenge: count = joined, other = left; most active first.
    challenges: list[Activity] = field(default_factory=list)
    introductions_asked: int = 0
    introductions_made: int = 0
    # Per survey: count = responses completed; most answered first.
    surveys: list[Activity] = field(default_factory=list)
    alerts: int = 0
    delivered: int = 0
    failed: int = 0
    # Around initiatives: supports, offers of help and follows made in the window.
    supports: int = 0
    helpers: int = 0
    followers: int = 0

    @property
    def people(self) -> int:
        return sum(self.people_by_role.values())

    @property
    def needs(self) -> int:
        return sum(self.needs_by_theme.values())

    @property
    def decided(self) -> int:
        return sum(self.decisions.values())

    @property
    def joined(self) -> int:
        return sum(item.count for item in self.challenges)

    @property
    def left(self) -> int:
        return sum(item.other for item in self.challenges)

    @property
    def responses(self) -> int:
        return sum(item.count for item in self.surveys)

    def totals(self) -> dict[str, int]:
        """Each headline figure, by a stable name (the CLI's, and the comparisons')."""
        return {
            "people": self.people,
            "needs": self.needs,
            "proposals_received": self.proposals_received,
            "proposals_decided": self.decided,
            "reports": self.reports,
            "joined": self.joined,
            "left": self.left,
            "introductions_asked": self.introductions_asked,
            "introductions_made": self.introductions_made,
            "responses": self.responses,
            "alerts": self.alerts,
            "delivered": self.delivered,
            "failed": self.failed,
        }

    @property
    def empty(self) -> bool:
        """Nothing happened. Deliveries alone are no news: they follow from what is counted
        here, or from the previous summary itself, delivered in this window."""
        return not any(value for name, value in self.totals().items() if name != "delivered")


@dataclass
class WaitingProposal:
    id: int
    title: str
    submitted_at: datetime


@dataclass
class Waiting:
    """What waits for a decision at `at`."""

    at: datetime
    proposals: int = 0
    oldest: datetime | None = None  # submitted_at of the proposal waiting longest
    first: list[WaitingProposal] = field(default_factory=list)  # oldest first
    reported: int = 0  # published initiatives with open reports
    reports: int = 0  # open reports

    @property
    def oldest_age(self) -> timedelta | None:
        return None if self.oldest is None else max(self.at - self.oldest, timedelta(0))

    @property
    def empty(self) -> bool:
        return not self.proposals and not self.reported


@dataclass
class SummaryFigures:
    """The figures of a window, those of the window before, and what waits."""

    counts: Counts
    previous: Counts
    waiting: Waiting

    @property
    def window(self) -> Window:
        return self.counts.window

    @property
    def quiet(self) -> bool:
        """Nothing new, nothing waiting: the summary says nothing that day."""
        return self.counts.empty and self.waiting.empty


DailyFigures = SummaryFigures


def _within(column: Any, window: Window) -> Any:
    return and_(column >= window.start, column < window.end)


async def counts(session: AsyncSession, window: Window) -> Counts:
    """Every figure of the window, in a dozen indexed queries."""
    found = Counts(window)
    for role, count in await session.execute(
        select(User.role, func.count())
        .where(_within(User.onboarded_at, window), User.role.is_not(None))
        .group_by(User.role)
    ):
        if role is None:  # left out by the query
            continue
        found.people_by_role[role.value] = count
    for theme, arrondissement, count in await session.execute(
        select(Need.theme_code, Need.arrondissement, func.count())
        .where(_within(Need.created_at, window))
        .group_by(Need.theme_code, Need.arrondissement)
    ):
        found.needs_by_theme[theme] = found.needs_by_theme.get(theme, 0) + count
        found.needs_by_arrondissement[arrondissement] = (
            found.needs_by_arrondissement.get(arrondissement, 0) + count
        )
    found.needs_by_theme = _most_first(found.needs_by_theme)
    found.needs_by_arrondissement = dict(sorted(found.needs_by_arrondissement.items()))
    found.proposals_received = await _count(
        session, Initiative.id, _within(Initiative.submitted_at, window)
    )
    actions = {f"initiative.{decision}": decision for decision in DECISIONS}
    for action, count in await session.execute(
        select(AuditEntry.action, func.count())
        .where(_within(AuditEntry.created_at, window), AuditEntry.action.in_(list(actions)))
        .group_by(AuditEntry.action)
    ):
        found.decisions[actions[action]] = count
    found.reports = await _count(
        session, InitiativeReport.id, _within(InitiativeReport.created_at, window)
    )
    found.challenges = await _challenges(session, window)
    found.introductions_asked = await _count(
        session, Introduction.id, _within(Introduction.created_at, window)
    )
    found.introductions_made = await _count(
        session,
        Introduction.id,
        _within(Introduction.answered_at, window),
        Introduction.status == IntroductionStatus.accepted,
    )
    found.surveys = await _surveys(session, window)
    found.alerts = await _count(
        session, ChallengeAlert.id, _within(ChallengeAlert.created_at, window)
    )
    found.supports = await _count(
        session, InitiativeSupport.id, _within(InitiativeSupport.created_at, window)
    )
    found.helpers = await _count(session, HelpOffer.id, _within(HelpOffer.created_at, window))
    found.followers = await _count(
        session, InitiativeFollow.id, _within(InitiativeFollow.created_at, window)
    )
    # Only a sent row has a sent_at (storage.outbox.mark_sent): no status to check, so that
    # the planner takes the index on sent_at rather than the one on status.
    found.delivered = await _count(
        session, OutboxMessage.id, _within(OutboxMessage.sent_at, window)
    )
    # Only a failed row has a failed_at (storage.outbox.mark_failed).
    found.failed = await _count(
        session, OutboxMessage.id, _within(OutboxMessage.failed_at, window)
    )
    return found


async def _count(session: AsyncSession, column: Any, *conditions: Any) -> int:
    return await session.scalar(select(func.count(column)).where(*conditions)) or 0


def _most_first(counts: dict[Any, int]) -> dict[Any, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))))


async def _challenges(session: AsyncSession, window: Window) -> list[Activity]:
    joined = dict(
        (
            await session.execute(
                select(Participation.challenge_id, func.count())
                .where(_within(Participation.joined_at, window))
                .group_by(Participation.challenge_id)
            )
        ).all()
    )
    left = dict(
        (
            await session.execute(
                select(Participation.challenge_id, func.count())
                .where(_within(Participation.left_at, window))
                .group_by(Participation.challenge_id)
            )
        ).all()
    )
    ids = set(joined) | set(left)
    if not ids:
        return []
    texts: dict[int, dict[str, Any]] = dict(
        (
            await session.execute(
                select(Challenge.id, Challenge.texts).where(Challenge.id.in_(ids))
            )
        ).all()
    )
    items = [
        Activity(number, texts.get(number) or {}, joined.get(number, 0), left.get(number, 0))
        for number in ids
    ]
    return sorted(items, key=lambda item: (-(item.count + item.other), item.id))


async def _surveys(session: AsyncSession, window: Window) -> list[Activity]:
    completed = dict(
        (
            await session.execute(
                select(SurveyResponse.survey_id, func.count())
                .where(_within(SurveyResponse.completed_at, window))
                .group_by(SurveyResponse.survey_id)
            )
        ).all()
    )
    if not completed:
        return []
    texts: dict[int, dict[str, Any]] = dict(
        (
            await session.execute(select(Survey.id, Survey.texts).where(Survey.id.in_(completed)))
        ).all()
    )
    items = [
        Activity(number, texts.get(number) or {}, count) for number, count in completed.items()
    ]
    return sorted(items, key=lambda item: (-item.count, item.id))


async def waiting(session: AsyncSession, at: datetime, first: int = FIRST_ITEMS) -> Waiting:
    """What waited for a decision at `at`. Now: the proposals pending and the open reports.
    In the past: the proposals submitted before and still pending, or decided since (a
    proposal sent back for changes counts from its last submission), and the reports made
    before and handled since, or never."""
    found = Waiting(at)
    still = and_(
        Initiative.submitted_at < at,
        (Initiative.status == InitiativeStatus.pending) | (Initiative.decided_at >= at),
    )
    found.proposals, found.oldest = (
        await session.execute(
            select(func.count(Initiative.id), func.min(Initiative.submitted_at)).where(still)
        )
    ).one()
    rows = await session.execute(
        select(Initiative.id, Initiative.title, Initiative.submitted_at)
        .where(still)
        .order_by(Initiative.submitted_at, Initiative.id)
        .limit(first)
    )
    found.first = [WaitingProposal(*row) for row in rows]
    open_reports = and_(
        InitiativeReport.created_at < at,
        InitiativeReport.handled_at.is_(None) | (InitiativeReport.handled_at >= at),
    )
    found.reported, found.reports = (
        await session.execute(
            select(
                func.count(func.distinct(InitiativeReport.initiative_id)),
                func.count(InitiativeReport.id),
            )
            .join(Initiative, Initiative.id == InitiativeReport.initiative_id)
            # Only a published initiative's reports can be settled (kept or hidden).
            .where(open_reports, Initiative.status == InitiativeStatus.approved)
        )
    ).one()
    return found


async def figures_of(
    session: AsyncSession,
    window: Window,
    *,
    now: datetime | None = None,
    waiting_at: datetime | None = None,
) -> SummaryFigures:
    """The window's figures (ending at `now` at the latest), those of the window before
    (ending as far into it), and what waits at `waiting_at` (by default the window's end)."""
    current = window.capped(now or utcnow())
    # So far today: yesterday up to the same hour.
    previous = current.shifted(-window.days)
    return SummaryFigures(
        await counts(session, current),
        await counts(session, previous),
        await waiting(session, waiting_at or current.end),
    )


async def daily_figures(
    session: AsyncSession,
    day: date,
    timezone: str = DEFAULT_TIMEZONE,
    *,
    cutoff: time | None = None,
    now: datetime | None = None,
    waiting_at: datetime | None = None,
) -> DailyFigures:
    """The figures of `day` (a calendar day; with `cutoff`, the summary day ending then),
    compared with the day before."""
    return await figures_of(
        session, day_window(day, timezone, cutoff), now=now, waiting_at=waiting_at
    )


async def period_figures(
    session: AsyncSession,
    start: date,
    end: date,
    timezone: str = DEFAULT_TIMEZONE,
    *,
    now: datetime | None = None,
) -> SummaryFigures:
    """The figures of the calendar days start..end (so far), compared with as many days
    before."""
    return await figures_of(session, period_window(start, end, timezone), now=now)


# -- the dashboard's days


@dataclass
class DayActivity:
    day: date
    people: int = 0
    needs: int = 0
    proposals: int = 0
    joined: int = 0
    responses: int = 0

    SERIES = ("people", "needs", "proposals", "joined", "responses")

    def values(self) -> list[int]:
        return [getattr(self, name) for name in self.SERIES]


async def activity(
    session: AsyncSession,
    last_day: date,
    timezone: str = DEFAULT_TIMEZONE,
    *,
    days: int = DASHBOARD_DAYS,
    cutoff: time | None = None,
    now: datetime | None = None,
) -> list[DayActivity]:
    """New people, needs, proposals, joins and survey responses per day, for the `days`
    days ending on `last_day` (summary days with `cutoff`); one query per table."""
    now = now or utcnow()
    windows = [
        day_window(last_day - timedelta(days=back), timezone, cutoff).capped(now)
        for back in range(days - 1, -1, -1)
    ]
    found = [DayActivity(window.first_day) for window in windows]
    sources: Sequence[tuple[str, Any, tuple[Any, ...]]] = (
        ("people", User.onboarded_at, (User.role.is_not(None),)),
        ("needs", Need.created_at, ()),
        ("proposals", Initiative.submitted_at, ()),
        ("joined", Participation.joined_at, ()),
        ("responses", SurveyResponse.completed_at, ()),
    )
    span = Window(windows[0].start, windows[-1].end, windows[0].first_day, last_day, timezone)
    for name, column, conditions in sources:
        row = (
            await session.execute(
                select(
                    *(func.count(case((_within(column, window), 1))) for window in windows)
                ).where(_within(column, span), *conditions)
            )
        ).one()
        for day, value in zip(found, row, strict=True):
            setattr(day, name, value)
    return found


# -- the daily summary's claim


def due_day(now: datetime, timezone: str, at: time) -> date | None:
    """The local day whose summary is due at `now`: today once its time has come, else none
    (a day whose time passed while the bot was down is caught up the same day only)."""
    today = local_date(now, timezone)
    return today if now >= local_moment(today, at, timezone) else None


def is_late(now: datetime, day: date, timezone: str, at: time) -> bool:
    return now - local_moment(day, at, timezone) > LATE_AFTER


async def summary_claimed(session: AsyncSession, day: date) -> bool:
    return await session.scalar(select(SummaryRun.id).where(SummaryRun.day == day)) is not None


async def claim_summary(
    session: AsyncSession,
    day: date,
    *,
    now: datetime | None = None,
    late: bool = False,
) -> bool:
    """Takes the day's summary for this transaction: False when another worker, or an earlier
    run, already took it. Write the summary's messages in the same transaction: if it rolls
    back, the day is free again. On PostgreSQL a concurrent claim waits for the first one's
    transaction, then finds the day taken; on SQLite, BEGIN IMMEDIATE makes them take turns."""
    dialect = session.get_bind().dialect.name
    # The PostgreSQL dialect (some 2 MB) only where it is the database.
    module = "postgresql" if dialect == "postgresql" else "sqlite"
    insert = importlib.import_module(f"sqlalchemy.dialects.{module}").insert
    result = await session.execute(
        insert(SummaryRun)
        .values(day=day, posted_at=now or utcnow(), late=late, quiet=False)
        .on_conflict_do_nothing(index_elements=[SummaryRun.day])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_quiet(session: AsyncSession, day: date) -> None:
    run = await session.scalar(select(SummaryRun).where(SummaryRun.day == day))
    if run is not None:
        run.quiet = True
        await session.flush()


async def summary_run(session: AsyncSession, day: date) -> SummaryRun | None:
    return await session.scalar(select(SummaryRun).where(SummaryRun.day == day))


async def reported_initiatives(
    session: AsyncSession, limit: int = FIRST_ITEMS
) -> list[tuple[Initiative, ReportReason]]:
    """Published initiatives with open reports, the longest waiting first, each with the
    reason of its latest open report."""
    rows = await session.execute(
        select(InitiativeReport.initiative_id, func.min(InitiativeReport.created_at))
        .join(Initiative, Initiative.id == InitiativeReport.initiative_id)
        .where(
            InitiativeReport.handled_at.is_(None),
            Initiative.status == InitiativeStatus.approved,
        )
        .group_by(InitiativeReport.initiative_id)
        .order_by(func.min(InitiativeReport.created_at), InitiativeReport.initiative_id)
        .limit(limit)
    )
    found = []
    for initiative_id, _first in rows.all():
        initiative = await session.get(Initiative, initiative_id)
        reason = await session.scalar(
            select(InitiativeReport.reason)
            .where(
                InitiativeReport.initiative_id == initiative_id,
                InitiativeReport.handled_at.is_(None),
            )
            .order_by(InitiativeReport.id.desc())
            .limit(1)
        )
        if initiative is not None and reason is not None:
            found.append((initiative, reason))
    return found


# -- for the data team (the CLI): plain, stable, in English


def as_dict(figures: SummaryFigures) -> dict[str, Any]:
    """The figures as JSON-ready data: windows as ISO UTC times, per-item lists by id."""

    def window(found: Counts) -> dict[str, Any]:
        return {
            "start": found.window.start.isoformat(),
            "end": found.window.end.isoformat(),
            "timezone": found.window.timezone,
            "totals": found.totals(),
            "people_by_role": found.people_by_role,
            "needs_by_theme": found.needs_by_theme,
            "needs_by_arrondissement": {
                str(k): v for k, v in found.needs_by_arrondissement.items()
            },
            "decisions": {decision: found.decisions.get(decision, 0) for decision in DECISIONS},
            "challenges": [
                {"id": item.id, "joined": item.count, "left": item.other}
                for item in found.challenges
            ],
            "surveys": [{"id": item.id, "responses": item.count} for item in found.surveys],
        }

    waiting = figures.waiting
    age = waiting.oldest_age
    return {
        "first_day": figures.window.first_day.isoformat(),
        "last_day": figures.window.last_day.isoformat(),
        "current": window(figures.counts),
        "previous": window(figures.previous),
        "waiting": {
            "at": waiting.at.isoformat(),
            "proposals": waiting.proposals,
            "oldest_seconds": None if age is None else int(age.total_seconds()),
            "reported_initiatives": waiting.reported,
            "open_reports": waiting.reports,
        },
        "quiet": figures.quiet,
    }


def report_lines(figures: SummaryFigures) -> list[str]:
    """The figures as lines of text: `name: value (before: value)`."""
    zone = ZoneInfo(figures.window.timezone)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    counts, previous, waiting = figures.counts, figures.previous, figures.waiting
    lines = [
        f"from {local(counts.window.start)} to {local(counts.window.end)} "
        f"({counts.window.timezone}); before: from {local(previous.window.start)} "
        f"to {local(previous.window.end)}"
    ]
    before = previous.totals()
    for name, value in counts.totals().items():
        lines.append(f"{name}: {value} (before: {before[name]})")
    details: dict[str, Mapping[Any, int]] = {
        "people_by_role": counts.people_by_role,
        "needs_by_theme": counts.needs_by_theme,
        "needs_by_arrondissement": counts.needs_by_arrondissement,
        "decisions": counts.decisions,
        "joined_by_challenge": {item.id: item.count for item in counts.challenges},
        "left_by_challenge": {item.id: item.other for item in counts.challenges if item.other},
        "responses_by_survey": {item.id: item.count for item in counts.surveys},
    }
    for name, values in details.items():
        if values:
            listed = ", ".join(f"{key} {value}" for key, value in values.items())
            lines.append(f"  {name}: {listed}")
    oldest = "" if waiting.oldest is None else f", the oldest since {local(waiting.oldest)}"
    lines.append(f"waiting_proposals at {local(waiting.at)}: {waiting.proposals}{oldest}")
    lines.append(f"reported_initiatives: {waiting.reported} ({waiting.reports} open reports)")
    return lines
