"""The weekly digest of new needs: a member of a verified organisation opts in from
/organisation; each week its reachable members receive the needs reported where it acts, once
across workers, as news (quiet hours and STOP hold), within the monthly alert cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.jobs import JobContext
from handlers.organisations.digest import weekly_needs_digest
from storage.models import OutboxMessage, User, utcnow
from storage.needs import report_need
from storage.outbox import NEWS
from storage.users import find_user
from tests.challenges_setup import alert_of
from tests.conversation import Harness, Person
from tests.initiatives_setup import onboarded

# Monday 7 December 2026, 10:30 in Marseille: the week's digest is due.
MONDAY = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
OPT_IN = "Receive each week the new needs where we act"


async def need(harness: Harness, text: str, at: datetime, *, reporter: int = 1009) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, reporter)
        assert user is not None
        await report_need(session, user, "culture", 3, text, now=at)


async def digests(harness: Harness) -> list[tuple[int, str]]:
    async with harness.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.subject == "needs:digest")
            .order_by(OutboxMessage.id)
        )
        found = []
        for row in rows:
            assert row.kind == NEWS
            found.append((row.chat_id, row.payload["text"]))
        return found


async def colleague(harness: Harness, member: int, telegram_id: int, **values: object) -> Person:
    """Someone onboarded, then put in `member`'s organisation."""
    person = await onboarded(harness, telegram_id)
    async with harness.sessionmaker.begin() as session:
        first = await find_user(session, member)
        assert first is not None
        await session.execute(
            update(User)
            .where(User.telegram_id == telegram_id)
            .values(organisation_id=first.organisation_id, **values)
        )
    return person


async def test_an_opted_in_organisation_gets_the_week_s_new_needs_once(harness: Harness) -> None:
    member = await onboarded(harness, 1001, "Voisins Solidaires", verified=True)
    await colleague(harness, 1001, 1002, locale="fr")
    await colleague(harness, 1001, 1003, stopped_at=utcnow())
    await onboarded(harness, 1009)  # a citizen who reports needs
    context = JobContext(harness.bot, harness.sessionmaker, harness.settings, harness.i18n)

    await member.send("/organisation")
    await member.press(OPT_IN)
    assert "Your members receive each week the new needs where you act." in member.last
    assert "Stop the weekly digest of needs" in member.buttons()

    await need(harness, "A <b>room</b> for rehearsals", MONDAY - timedelta(days=2))
    await need(harness, "An old need of last month", MONDAY - timedelta(days=9))
    await weekly_needs_digest(context, MONDAY)
    sent = await digests(harness)
    # The member in English, the colleague in French; not the one who said STOP.
    assert [chat for chat, _text in sent] == [1001, 1002]
    english, french = sent[0][1], sent[1][1]
    assert "New needs this week where Voisins Solidaires ✓ acts" in english
    assert "A &lt;b&gt;room&lt;/b&gt; for rehearsals" in english
    assert "An old need of last month" not in english
    assert "Nouveaux besoins de la semaine là où Voisins Solidaires ✓ agit" in french

    # Another worker, or a later tick of the same week: nothing more.
    await weekly_needs_digest(context, MONDAY + timedelta(days=2))
    assert len(await digests(harness)) == 2

    # The next week, no new need: nothing.
    await weekly_needs_digest(context, MONDAY + timedelta(days=7))
    assert len(await digests(harness)) == 2

    # The week after, a new need: sent again (the second of the month for each).
    await need(harness, "Instruments to lend", MONDAY + timedelta(days=13))
    await weekly_needs_digest(context, MONDAY + timedelta(days=14))
    assert [chat for chat, _text in await digests(harness)] == [1001, 1002, 1001, 1002]

    # A third digest within 30 days would pass the monthly alert cap (2): skipped.
    await need(harness, "Posters for a concert", MONDAY + timedelta(days=20))
    await weekly_needs_digest(context, MONDAY + timedelta(days=21))
    assert len(await digests(harness)) == 4

    # Opting out: the week after the cap, nothing either.
    await member.send("/organisation")
    await member.press("Stop the weekly digest of needs")
    assert OPT_IN in member.buttons()
    await need(harness, "Chairs for a fair", MONDAY + timedelta(days=48))
    await weekly_needs_digest(context, MONDAY + timedelta(days=49))
    assert len(await digests(harness)) == 4


async def test_only_a_verified_organisation_s_member_opts_in(harness: Harness) -> None:
    member = await onboarded(harness, 1001, "Pas Encore Vérifiée")
    await member.send("/organisation")
    assert OPT_IN not in member.buttons()
    calls = await member.press_data("om:d", member.bot_messages()[-1])
    assert "not verified by the coordinators yet" in alert_of(calls)["text"]
    async with harness.sessionmaker() as session:
        user = await find_user(session, 1001)
        assert user is not None and user.organisation is not None
        assert user.organisation.needs_digest_at is None


@pytest.mark.parametrize("hour", [5])
async def test_not_due_before_monday_morning(harness: Harness, hour: int) -> None:
    await onboarded(harness, 1001, "Voisins Solidaires", verified=True)
    await onboarded(harness, 1009)
    member = harness.person(1001)
    await member.send("/organisation")
    await member.press(OPT_IN)
    await need(harness, "A room to rehearse", MONDAY - timedelta(days=1))
    context = JobContext(harness.bot, harness.sessionmaker, harness.settings, harness.i18n)
    await weekly_needs_digest(context, MONDAY.replace(hour=hour))
    assert await digests(harness) == []
    await weekly_needs_digest(context, MONDAY)
    assert len(await digests(harness)) == 1
