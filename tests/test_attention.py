"""People's attention: nothing they did not ask for reaches them at night — whenever it was
written, however late its send — STOP stops all of it and says how to come back, and a
challenge past its end date closes by itself and can no longer be joined or allied on.

Clocks are moved by hand: the outbox's claim and the sender take `now`, the jobs are run at
the moment the test names."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery import deliver
from bot.factory import create_bot
from bot.jobs import JobContext
from bot.standin import StandIn, make_user, private_chat
from handlers.challenges.coordination_notices import alert, post_update
from handlers.challenges.jobs import close_ended_challenges
from handlers.profile.callbacks import MessagesCb
from handlers.surveys import sending
from handlers.surveys.jobs import send_reminders
from storage import challenge_alerts
from storage import challenges as ch
from storage.db import create_sessionmaker
from storage.models import (
    AuditEntry,
    Challenge,
    ChallengeAlert,
    ChallengeStatus,
    Introduction,
    IntroductionStatus,
    OutboxMessage,
    OutboxStatus,
    Role,
    User,
)
from storage.outbox import (
    ALERT,
    INVITATION,
    NEWS,
    REMINDER,
    SEND_MESSAGE,
    UNSOLICITED,
    DeliveryPolicy,
    TextMessage,
    claim_due,
    enqueue,
)
from storage.privacy import accept_notice, set_alerts
from storage.survey_files import import_surveys
from storage.survey_sending import set_reminder
from storage.users import (
    complete_onboarding,
    find_user,
    get_or_create_user,
    set_arrondissement,
    set_role,
    set_themes,
)
from tests.challenges_setup import TITLE, alert_of, cast
from tests.challenges_setup import organisations_of as organisations
from tests.conftest import TOKEN
from tests.conversation import Harness, Person, button_texts, buttons_of, close_bot, texts
from tests.delivery_setup import deliver as deliver_now
from tests.initiatives_setup import GROUP_ID, outbox
from tests.surveys_setup import survey_item
from tests.texts import t

# Once-only work (the closing job): on PostgreSQL too.
pytestmark = pytest.mark.postgres

PARIS = "Europe/Paris"
# Friday 19 November 2027, in winter: Paris is UTC+1.
AT_20_40 = datetime(2027, 11, 19, 19, 40, tzinfo=UTC)
AT_22_30 = datetime(2027, 11, 19, 21, 30, tzinfo=UTC)
AT_08_00 = datetime(2027, 11, 20, 7, 0, tzinfo=UTC)
POLICY = DeliveryPolicy()
FAST = {
    "delivery_rate": 200,
    "delivery_private_per_second": 50,
    "delivery_group_per_minute": 3000,
    "delivery_backoff_seconds": 0.05,
    "delivery_backoff_max_seconds": 0.2,
    "delivery_lease_seconds": 30,
    "delivery_poll_seconds": 0.02,
}
STOPPED = (
    "Done: you will receive no more messages you did not ask for — no challenge alerts, no "
    "survey invitations or reminders, no news. To receive them again, press the button below "
    "or go to /settings."
)
RESUMED = (
    "Welcome back: you will receive survey invitations and news again, and challenge alerts if "
    "they are on in /settings."
)
CLOSED = "This challenge is closed: it can no longer be joined."

Maker = async_sessionmaker[AsyncSession]


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> Maker:
    return create_sessionmaker(engine)


async def row_for(
    maker: Maker, chat_id: int, text: str, kind: str | None, not_before: datetime
) -> int:
    async with maker.begin() as session:
        (row,) = await enqueue(session, TextMessage(chat_id=chat_id, text=text, kind=kind))
        row.not_before = not_before
        await session.flush()
        return row.id


async def claimed_at(maker: Maker, now: datetime) -> list[int]:
    async with maker.begin() as session:
        return [lease.id for lease in await claim_due(session, now=now, limit=10, policy=POLICY)]


# -- quiet hours hold when the message is sent


@pytest.mark.parametrize("kind", UNSOLICITED)
async def test_an_unsolicited_message_the_sender_missed_at_20_40_waits_for_8_00(
    sessionmaker: Maker, kind: str
) -> None:
    """Written at 20:40 for 20:40; the sender was down until 22:30: it leaves at 08:00. A
    message someone is waiting for (a decision, a card for the coordinators) still goes."""
    late = await row_for(sessionmaker, 1001, "Un nouveau défi", kind, AT_20_40)
    answer = await row_for(sessionmaker, 1002, "Votre proposition est publiée", None, AT_20_40)
    assert await claimed_at(sessionmaker, AT_22_30) == [answer]
    # (The answer's claim has expired by then: it is claimed again, as it would be.)
    assert late not in await claimed_at(sessionmaker, AT_08_00 - timedelta(seconds=1))
    assert late in await claimed_at(sessionmaker, AT_08_00)


@asynccontextmanager
async def sending_at(
    maker: Maker, standin: StandIn, settings: Settings, clock: Callable[[], datetime]
) -> AsyncIterator[None]:
    """The outbox's sender, over real HTTP, reading the time of day from `clock`."""
    bot: Bot = create_bot(TOKEN, standin.base_url, timeout=5)
    stop = asyncio.Event()
    task = asyncio.create_task(
        deliver(bot, maker, settings.model_copy(update=FAST), stop, now=clock)
    )
    try:
        yield
    finally:
        stop.set()
        await task
        await close_bot(bot)


async def rows_once(maker: Maker, condition: Callable[[list[OutboxMessage]], bool]) -> None:
    """Waits until `condition` holds for the outbox (what the sender did, not how fast)."""
    for _ in range(500):
        async with maker() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        if condition(rows):
            return
        await asyncio.sleep(0.02)
    raise AssertionError([(r.id, r.status, r.last_error, r.not_before) for r in rows])


async def test_an_alert_held_by_a_429_at_20_40_is_not_sent_at_22_30_but_at_8_00(
    sessionmaker: Maker, standin: StandIn, settings: Settings
) -> None:
    for telegram_id in (1001, 1002):
        standin.add_chat(private_chat(make_user(telegram_id)))
    clock = {"now": AT_20_40}
    alert_id = await row_for(sessionmaker, 1001, "Un nouveau défi", ALERT, AT_20_40)
    standin.inject("sendMessage", status=429, retry_after=1, chat_id=1001)
    async with sending_at(sessionmaker, standin, settings, lambda: clock["now"]):
        # Telegram asks to wait a second; the sender's clock is still at 20:40.
        await rows_once(sessionmaker, lambda rows: rows[0].last_error is not None)
        clock["now"] = AT_22_30
        # The sender is at work at 22:30: a message someone waits for goes out...
        answer = await row_for(sessionmaker, 1002, "Votre proposition est publiée", None, AT_22_30)
        await rows_once(sessionmaker, lambda rows: rows[-1].status is OutboxStatus.sent)
    # ...the alert does not.
    async with sessionmaker() as session:
        held = await session.get(OutboxMessage, alert_id)
        assert held is not None and held.status is OutboxStatus.pending
    assert not any(m["from"].get("is_bot") for m in standin.chat_messages(1001))
    assert [m["text"] for m in standin.chat_messages(1002)] == ["Votre proposition est publiée"]
    assert answer > alert_id

    clock["now"] = AT_08_00
    async with sending_at(sessionmaker, standin, settings, lambda: clock["now"]):
        await rows_once(sessionmaker, lambda rows: rows[0].status is OutboxStatus.sent)
    async with sessionmaker() as session:
        sent = await session.get(OutboxMessage, alert_id)
        assert sent is not None and sent.sent_at == AT_08_00
    assert [m["text"] for m in standin.chat_messages(1001)] == ["Un nouveau défi"]


async def test_a_fan_out_counts_what_is_already_queued_before_it(sessionmaker: Maker) -> None:
    """Three alerts at 20:50 take three seconds at one a second; behind 700 messages waiting,
    they would leave after 21:00: they all wait for the morning. Messages due later (tomorrow
    morning) are not ahead of it."""
    evening = datetime(2027, 11, 19, 19, 50, tzinfo=UTC)  # 20:50 in Paris
    async with sessionmaker.begin() as session:
        challenge = await opened_challenge(session)
        for telegram_id in (1101, 1102, 1103):
            await member(session, telegram_id, "fr", alerts=True)
        recipients = await challenge_alerts.alert_recipients(session, challenge, evening)
        assert len(recipients) == 3

        def message(user: User) -> tuple[str, dict[str, Any] | None]:
            return "Un nouveau défi", None

        await queue(session, 700, not_before=AT_08_00)
        due = await challenge_alerts.enqueue_alerts(
            session, challenge, recipients, message, now=evening, timezone=PARIS, rate=1
        )
        assert due == evening
        await session.execute(delete(OutboxMessage).where(OutboxMessage.kind == ALERT))
        await session.execute(delete(ChallengeAlert))

        await queue(session, 700, not_before=evening - timedelta(minutes=5))
        due = await challenge_alerts.enqueue_alerts(
            session, challenge, recipients, message, now=evening, timezone=PARIS, rate=1
        )
        assert due == AT_08_00
        alerts = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == ALERT))
        assert {row.not_before for row in alerts} == {AT_08_00}


async def queue(session: AsyncSession, count: int, *, not_before: datetime) -> None:
    await session.execute(
        insert(OutboxMessage.__table__),
        [
            {
                "chat_id": -100500,
                "method": SEND_MESSAGE,
                "payload": {"text": f"n°{number}"},
                "status": OutboxStatus.pending,
                "attempts": 0,
                "not_before": not_before,
                "created_at": not_before,
            }
            for number in range(count)
        ],
    )


# -- people and challenges


async def member(
    session: AsyncSession,
    telegram_id: int,
    locale: str,
    *,
    alerts: bool = False,
    stopped: bool = False,
    role: Role = Role.citizen,
) -> User:
    user = await get_or_create_user(session, telegram_id, locale)
    accept_notice(user)
    set_role(user, role, None)
    set_arrondissement(user, 3)
    await set_themes(session, user, ["older_people"])
    complete_onboarding(user)
    if alerts:
        await set_alerts(session, user, True)
    if stopped:
        user.stopped_at = AT_20_40
    await session.flush()
    return user


async def opened_challenge(
    session: AsyncSession, ends_on: date = date(2028, 6, 30), title: str = TITLE
) -> Challenge:
    challenge = await ch.create_challenge(
        session,
        texts={
            "fr": {"title": f"{title} (fr)", "description": "Visites et appels aux aînés."},
            "en": {"title": title, "description": "Visits and calls to older people."},
        },
        theme_code="older_people",
        arrondissements=[],
        starts_on=None,
        ends_on=ends_on,
        contribution_kinds=["time"],
        activities=[],
        author_telegram_id=42,
    )
    await ch.open_challenge(session, challenge.id, 42, timezone=PARIS)
    return challenge


# -- STOP


async def waiting_for(harness: Harness, telegram_id: int) -> dict[str, OutboxStatus]:
    async with harness.sessionmaker() as session:
        user = await find_user(session, telegram_id)
        assert user is not None
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id))
        return {row.kind or "answer": row.status for row in rows}


async def stopped_at(harness: Harness, telegram_id: int) -> datetime | None:
    async with harness.sessionmaker() as session:
        user = await find_user(session, telegram_id)
        assert user is not None
        return user.stopped_at


@pytest.mark.parametrize(
    ("locale", "typed"),
    [("fr", "STOP"), ("fr", "Arrêt !"), ("ar", "توقف"), ("en", "/stop"), ("fr", "/STOP")],
)
async def test_stop_withdraws_every_unsolicited_message_and_says_how_to_come_back(
    harness: Harness, locale: str, typed: str
) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await member(session, 1201, locale, alerts=True)
        for kind in (*UNSOLICITED, None):
            await enqueue(
                session,
                TextMessage(chat_id=1201, text=f"Un message ({kind})", user_id=user.id, kind=kind),
            )
    person = harness.person(1201, language_code=locale)
    calls = await person.send(typed)

    assert texts(calls) == [t(locale, STOPPED)]
    assert "/settings" in t(locale, STOPPED)
    assert person.buttons() == [t(locale, "Receive them again")]
    assert await waiting_for(harness, 1201) == {
        ALERT: OutboxStatus.dropped,
        INVITATION: OutboxStatus.dropped,
        REMINDER: OutboxStatus.dropped,
        NEWS: OutboxStatus.dropped,
        # What the person asked for (a decision on their proposal, say) still comes.
        "answer": OutboxStatus.pending,
    }
    assert await stopped_at(harness, 1201) is not None

    calls = await person.press(t(locale, "Receive them again"))
    assert texts(calls) == [t(locale, RESUMED)]
    assert await stopped_at(harness, 1201) is None


async def test_the_stop_button_stops_everything_and_the_settings_bring_it_back(
    harness: Harness,
) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await member(session, 1202, "en", alerts=True)
        await enqueue(
            session, TextMessage(chat_id=1202, text="A challenge", user_id=user.id, kind=ALERT)
        )
    person = harness.person(1202, language_code="en")
    await person.send("/start")
    # «Stop these messages», under any unsolicited message.
    calls = await person.press_data(MessagesCb(on=False).pack(), person.bot_messages()[-1])
    assert texts(calls) == [STOPPED]
    assert await waiting_for(harness, 1202) == {ALERT: OutboxStatus.dropped}

    await person.send("/settings")
    assert "Alerts, surveys and news: stopped (you said STOP)" in person.last
    assert "Challenge alerts: on" in person.last  # the consent is kept for the return
    await person.press("Receive alerts, surveys and news again")
    assert "Alerts, surveys and news: stopped" not in person.last
    assert await stopped_at(harness, 1202) is None
    await person.press("Stop alerts, surveys and news")
    assert "Alerts, surveys and news: stopped (you said STOP)" in person.last
    assert await stopped_at(harness, 1202) is not None


def context(harness: Harness) -> JobContext:
    return JobContext(harness.bot, harness.sessionmaker, harness.settings, harness.i18n)


async def test_someone_who_said_stop_gets_no_alert_invitation_reminder_or_news(
    harness: Harness,
) -> None:
    """The same two people are concerned by everything; the one who said STOP receives
    nothing, the other receives each message with its kind and «Stop these messages»."""
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    with harness.i18n.context():
        async with harness.sessionmaker.begin() as session:
            keeps = await member(session, 1301, "fr", alerts=True)
            stops = await member(session, 1302, "fr", alerts=True, stopped=True)
            challenge = await opened_challenge(session)
            alerted = await alert(session, harness.i18n, harness.settings, challenge, now)
            assert alerted.count == 1
            for user in (keeps, stops):
                await ch.join(
                    session, challenge, user, kind="time", text=None, now=now, timezone=PARIS
                )
            assert await post_update(session, harness.i18n, challenge, "Rendez-vous samedi") == 1
            (survey,) = await import_surveys(session, [survey_item(challenge.id)])
            await set_reminder(session, survey.id, 24, 42)
            sent = await sending.send_survey(session, harness.i18n, survey.id, 42, now)
            assert sent is not None and sent.invited == 1
        await send_reminders(context(harness), now + timedelta(hours=25))

    async with harness.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id > 0).order_by(OutboxMessage.id)
            )
        )
    assert {row.chat_id for row in rows} == {1301}
    assert [row.kind for row in rows] == [ALERT, NEWS, INVITATION, REMINDER]
    for row in rows:
        buttons = buttons_of({"reply_markup": row.payload["reply_markup"]})
        assert buttons[-1]["text"] == t("fr", "Stop these messages")
        assert buttons[-1]["callback_data"] == MessagesCb(on=False).pack()


# -- challenges past their end date


async def test_a_challenge_past_its_end_date_closes_once_and_can_no_longer_be_joined(
    harness: Harness,
) -> None:
    async with harness.sessionmaker.begin() as session:
        ended = await opened_challenge(session, ends_on=date(2027, 3, 9))
        today = await opened_challenge(
            session, ends_on=date(2027, 3, 10), title="Visits all year round"
        )
        await member(session, 1401, "en")
    person = harness.person(1401, language_code="en")
    await person.send("/start")
    await person.press("Challenges")
    await person.press(TITLE)
    card = person.keyboard_message()
    assert "Join" in button_texts(card)

    # Ten past midnight in Paris on 10 March: the 9th is over, the 10th is not.
    midnight = datetime(2027, 3, 9, 23, 10, tzinfo=UTC)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, 1401)
        found = await session.get(Challenge, ended.id)
        assert user is not None and found is not None
        # Even before the job has run, its end date refuses newcomers.
        with pytest.raises(ch.ChallengeClosed):
            await ch.join(
                session, found, user, kind="time", text=None, now=midnight, timezone=PARIS
            )
    with harness.i18n.context():
        await asyncio.gather(
            close_ended_challenges(context(harness), midnight),
            close_ended_challenges(context(harness), midnight),
        )
        await close_ended_challenges(context(harness), midnight + timedelta(minutes=1))

    async with harness.sessionmaker() as session:
        statuses = {
            c.id: (c.status, c.closed_at) for c in await session.scalars(select(Challenge))
        }
        closings = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "challenge.close")
        )
        notes = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == GROUP_ID))
        )
    assert statuses[ended.id] == (ChallengeStatus.closed, midnight)
    assert statuses[today.id] == (ChallengeStatus.open, None)
    assert closings == 1
    # The coordinators hear of it once, in the morning.
    (note,) = notes
    assert f"{TITLE} (fr)" in note.payload["text"]
    assert note.not_before == datetime(2027, 3, 10, 7, 0, tzinfo=UTC)

    # The stale Join button: refused, and the card says since when.
    calls = await person.press("Join", card)
    assert alert_of(calls)["text"] == CLOSED
    shown = harness.standin.message(person.id, card["message_id"])
    assert shown is not None
    assert "This challenge closed on March 10, 2027: it can no longer be joined." in shown["text"]
    assert "Join" not in button_texts(shown)


# -- introductions


async def requested(harness: Harness) -> tuple[Challenge, Person, dict[str, Any]]:
    """The citizen asked to meet the company; the request waits in the company's chat."""
    challenge, _association, company, citizen, _outsider = await cast(harness)
    await organisations(citizen)
    await citizen.press("Ask to be introduced to Boulangerie Martin")
    await citizen.press("Yes, ask")
    (message,) = await deliver_now(harness)
    return challenge, company, message


async def introduction_status(harness: Harness) -> IntroductionStatus:
    async with harness.sessionmaker() as session:
        (introduction,) = await session.scalars(select(Introduction))
        return introduction.status


async def test_an_introduction_cannot_be_answered_once_the_challenge_is_closed(
    harness: Harness,
) -> None:
    challenge, company, request = await requested(harness)
    async with harness.sessionmaker.begin() as session:
        await ch.close_challenge(session, challenge.id, 42)
    calls = await company.press(t("fr", "Accept"), request)
    why = t(
        "fr",
        "This request can no longer be answered: the challenge is closed. Nothing was shared.",
    )
    assert alert_of(calls)["text"] == why
    assert await introduction_status(harness) is IntroductionStatus.asked
    shown = harness.standin.message(company.id, request["message_id"])
    assert shown is not None and why in shown["text"] and not shown.get("reply_markup")
    assert not any("tg://" in str(payload) for _c, _t, payload in await outbox(harness))


async def test_an_introduction_cannot_be_answered_once_the_requester_left(
    harness: Harness,
) -> None:
    challenge, company, request = await requested(harness)
    async with harness.sessionmaker.begin() as session:
        citizen = await find_user(session, 3003)
        found = await session.get(Challenge, challenge.id)
        assert citizen is not None and found is not None
        await ch.leave(session, found, citizen)
    calls = await company.press(t("fr", "Decline"), request)
    why = t(
        "fr",
        "This request can no longer be answered: the one who asked has left the challenge. "
        "Nothing was shared.",
    )
    assert alert_of(calls)["text"] == why
    assert await introduction_status(harness) is IntroductionStatus.asked
    # Nobody is told anything: no decline, no contact.
    assert [chat for chat, _t, _p in await outbox(harness) if chat == 3003] == []
