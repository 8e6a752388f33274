"""How long data is kept: what the privacy notice promises, enforced (PRIVACY.md).

- A person not seen for `inactive_months` (`last_seen_at`: their last update in a private
  chat) is erased as /forget erases them (`handlers.privacy.erasure.erase_person`). They are
  warned `warning_days` before, and again `final_warning_days` before; a late warning moves the
  erasure so that each notice still gives its full delay. A warning holds only while the person
  has not been seen since it: whoever comes back is not erased, and the marks of a past warning
  are cleared. Someone who blocked the bot (`active` false) cannot be warned: they are erased at
  the limit.
- Free-text survey answers are emptied `free_text_months` after their survey closed. The rows
  stay, answered and not skipped, so that the counts hold.
- Outbox rows that went out, failed or were dropped keep their content `outbox_days`; then only
  what the counts and /failed read: status, kind, chat, times, the reason of a failure.
- Processed update ids are kept `updates_days`: Telegram keeps an update for redelivery 24 hours
  at most.

Each function does one bounded batch in the caller's transaction (it never commits) and says
how much it did; the daily job (handlers/privacy/jobs.py) repeats it, one transaction per
batch, so that a city of 100,000 people is never loaded at once nor locked for long.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    JobRun,
    OutboxMessage,
    OutboxStatus,
    ProcessedUpdate,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    SurveyStatus,
    User,
)

# The outbox kind of an inactivity warning.
INACTIVITY = "inactivity"


@dataclass(frozen=True)
class Periods:
    """The retention periods; the defaults are those written in the privacy notice."""

    inactive_months: int = 24
    warning_days: int = 30
    final_warning_days: int = 7
    free_text_months: int = 12
    outbox_days: int = 30
    updates_days: int = 2

    @property
    def warning(self) -> timedelta:
        return timedelta(days=self.warning_days)

    @property
    def final_warning(self) -> timedelta:
        return timedelta(days=self.final_warning_days)


@dataclass(frozen=True)
class Batch:
    """What one batch did, and the last id it looked at (None: nothing left to look at), from
    which the next batch goes on."""

    done: int
    last: int | None


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (earlier when negative); the month's last day when
    that day does not exist (31 August + 6 months: the end of February)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


# -- the daily claim


async def day_claimed(session: AsyncSession, name: str, day: date) -> bool:
    found = await session.scalar(select(JobRun.day).where(JobRun.name == name, JobRun.day == day))
    return found is not None


# -- inactive people


def _known() -> Any:
    return and_(User.telegram_id.is_not(None), User.erased_at.is_(None))


def _holds(mark: Any) -> Any:
    """A warning the person has not answered by coming back."""
    return mark > User.last_seen_at


def _stale(mark: Any) -> Any:
    return or_(mark.is_(None), mark <= User.last_seen_at)


def _warning_holds(mark: datetime | None, user: User) -> bool:
    return mark is not None and mark > user.last_seen_at


def erasure_moment(user: User, periods: Periods) -> datetime | None:
    """When the person is erased, given the warnings they were sent; None while a person who
    can be warned has not been warned twice. The later of: the end of the inactivity period,
    the first warning's delay, the last warning's delay."""
    end = add_months(user.last_seen_at, periods.inactive_months)
    if not user.active:
        return end
    first, final = user.inactivity_warned_at, user.inactivity_final_warned_at
    if first is None or final is None:
        return None
    if not (_warning_holds(first, user) and _warning_holds(final, user)):
        return None
    return max(end, first + periods.warning, final + periods.final_warning)


def erasure_after_warning(user: User, periods: Periods, now: datetime, *, final: bool) -> datetime:
    """The erasure a warning sent at `now` announces."""
    end = add_months(user.last_seen_at, periods.inactive_months)
    if not final:
        return max(end, now + periods.warning)
    first = user.inactivity_warned_at
    assert first is not None
    return max(end, first + periods.warning, now + periods.final_warning)


async def due_for_warning(
    session: AsyncSession, now: datetime, periods: Periods, *, final: bool, limit: int
) -> Sequence[User]:
    """People to warn now, the longest unseen first: the first warning once the inactivity
    period ends within `warning_days`; the last one once the erasure is `final_warning_days`
    away and the first warning has had its delay but as many days."""
    first, last = User.inactivity_warned_at, User.inactivity_final_warned_at
    if not final:
        conditions = [
            User.last_seen_at <= add_months(now + periods.warning, -periods.inactive_months),
            _stale(first),
        ]
    else:
        conditions = [
            User.last_seen_at <= add_months(now + periods.final_warning, -periods.inactive_months),
            _holds(first),
            first <= now - periods.warning + periods.final_warning,
            _stale(last),
        ]
    users = await session.scalars(
        select(User)
        .where(_known(), User.active.is_(True), *conditions)
        .order_by(User.last_seen_at, User.id)
        .limit(limit)
    )
    return users.all()


def mark_warned(user: User, now: datetime, *, final: bool) -> None:
    if final:
        user.inactivity_final_warned_at = now
    else:
        user.inactivity_warned_at = now
        user.inactivity_final_warned_at = None


async def due_for_erasure(
    session: AsyncSession, now: datetime, periods: Periods, *, limit: int, after: int = 0
) -> tuple[list[User], int | None]:
    """People to erase now, among up to `limit` users of id above `after`: not seen for the
    whole period and warned twice with the delays kept, or, when they blocked the bot, not seen
    for the whole period. Also the last id looked at (None: nobody left), to go on from."""
    first, last = User.inactivity_warned_at, User.inactivity_final_warned_at
    warned = and_(
        _holds(first),
        first <= now - periods.warning,
        _holds(last),
        last <= now - periods.final_warning,
    )
    users = (
        await session.scalars(
            select(User)
            .where(
                _known(),
                User.id > after,
                User.last_seen_at <= add_months(now, -periods.inactive_months),
                or_(User.active.is_(False), warned),
            )
            .order_by(User.id)
            .limit(limit)
        )
    ).all()
    # The query's months are counted back from now, these forward from the last visit: around
    # the end of a month they may differ by a day, and the later one holds.
    due = [
        user
        for user in users
        if (moment := erasure_moment(user, periods)) is not None and moment <= now
    ]
    return due, users[-1].id if users else None


async def clear_answered_warnings(session: AsyncSession, *, limit: int) -> int:
    """Clears the marks of warnings the person answered by coming back (a final warning
    follows a first one, so a past first warning is enough to find them). Until then the marks
    are already void: a warning holds only if later than the last visit (`_holds`), so the
    middleware that records visits needs to know nothing of warnings."""
    ids = (
        select(User.id)
        .where(User.inactivity_warned_at <= User.last_seen_at)
        .order_by(User.id)
        .limit(limit)
    )
    result = await session.execute(
        update(User)
        .where(User.id.in_(ids))
        .values(inactivity_warned_at=None, inactivity_final_warned_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- what people wrote, and what the bot sent


async def empty_free_texts(
    session: AsyncSession, now: datetime, periods: Periods, *, limit: int
) -> int:
    """Empties up to `limit` free-text answers of surveys closed `free_text_months` ago."""
    old_surveys = select(Survey.id).where(
        Survey.status == SurveyStatus.closed,
        Survey.closed_at <= add_months(now, -periods.free_text_months),
    )
    ids = (
        select(SurveyAnswer.id)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id.in_(old_surveys), SurveyAnswer.value_text.is_not(None))
        .limit(limit)
    )
    result = await session.execute(
        update(SurveyAnswer)
        .where(SurveyAnswer.id.in_(ids))
        .values(value_text=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def prune_outbox(
    session: AsyncSession, now: datetime, periods: Periods, *, limit: int, after: int = 0
) -> Batch:
    """Empties the content of up to `limit` rows (of id above `after`) that went out, failed
    or were dropped `outbox_days` ago. What the counts read stays (status, kind, chat, times,
    the picture: a chart of aggregates), and so does the reason of a failure for /failed."""
    cutoff = now - timedelta(days=periods.outbox_days)
    message = OutboxMessage
    finished = or_(
        and_(message.status == OutboxStatus.sent, message.sent_at < cutoff),
        and_(
            message.status == OutboxStatus.failed,
            func.coalesce(message.failed_at, message.created_at) < cutoff,
        ),
        and_(message.status == OutboxStatus.dropped, message.created_at < cutoff),
    )
    ids = (
        await session.scalars(
            select(message.id)
            .where(message.id > after, finished, cast(message.payload, Text) != "{}")
            .order_by(message.id)
            .limit(limit)
        )
    ).all()
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(payload={})
            .execution_options(synchronize_session=False)
        )
    return Batch(len(ids), ids[-1] if ids else None)


async def prune_processed_updates(
    session: AsyncSession, now: datetime, periods: Periods, *, limit: int
) -> int:
    """Deletes up to `limit` update ids handled `updates_days` ago, past any redelivery."""
    ids = (
        select(ProcessedUpdate.update_id)
        .where(ProcessedUpdate.processed_at < now - timedelta(days=periods.updates_days))
        .order_by(ProcessedUpdate.processed_at)
        .limit(limit)
    )
    result = await session.execute(
        delete(ProcessedUpdate)
        .where(ProcessedUpdate.update_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
