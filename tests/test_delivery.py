"""The outbox and its sender: rows written with a change are delivered once, in order per chat,
within Telegram's limits, through every kind of failure the stand-in can inject — over real HTTP,
on each database backend.

Timings (poll, backoff, lease) are shortened through the settings; nothing asserts on speed:
a wait the sender must keep (a backoff, a 429's retry_after, a lease) is checked on its own
clock (`now=`), which the test moves by hand.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.delivery import deliver, policy_from
from bot.factory import create_bot
from bot.group_moves import CoordinatorsChat
from bot.standin import Call, StandIn, make_group, make_user, parse_html, private_chat
from storage import outbox
from storage.chat_moves import where_now
from storage.db import create_sessionmaker
from storage.models import OutboxMessage, OutboxPicture, OutboxStatus, User, utcnow
from storage.outbox import (
    ChatLimit,
    DeliveryPolicy,
    PhotoMessage,
    TextMessage,
    claim_due,
    drop_pending,
    failed_messages,
    mark_sent,
    split_text,
    utf16_len,
)
from storage.users import get_or_create_user
from tests.conftest import TOKEN
from tests.conversation import close_bot
from tests.delivery_setup import (
    FAST,
    Maker,
    Rows,
    all_rows,
    deliver_all,
    delivering,
    settled,
    wait_for,
)

GROUP = -1001234
KEYBOARD = {"inline_keyboard": [[{"text": "Voir", "callback_data": "iv:1"}]]}


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> Maker:
    return create_sessionmaker(engine)


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    bot = create_bot(TOKEN, standin.base_url, timeout=5)
    yield bot
    await close_bot(bot)


async def person(sessionmaker: Maker, standin: StandIn, telegram_id: int) -> int:
    """Someone who started the bot: a private chat the bot may write to, and a user row."""
    standin.add_chat(private_chat(make_user(telegram_id)))
    async with sessionmaker.begin() as session:
        return (await get_or_create_user(session, telegram_id, "fr")).id


async def enqueue(
    sessionmaker: Maker, chat_id: int, *texts: str, user_id: int | None = None
) -> list[int]:
    async with sessionmaker.begin() as session:
        rows = [
            row
            for text in texts
            for row in await outbox.enqueue(
                session, TextMessage(chat_id=chat_id, text=text, user_id=user_id)
            )
        ]
    return [row.id for row in rows]


def sends(standin: StandIn, chat_id: int | None = None, ok: bool = True) -> list[Call]:
    calls = [c for c in standin.calls if c.method in ("sendMessage", "sendPhoto")]
    calls = [c for c in calls if chat_id is None or c.params.get("chat_id") == chat_id]
    return [c for c in calls if c.ok] if ok else calls


def texts_in(standin: StandIn, chat_id: int) -> list[str]:
    messages = standin.chat_messages(chat_id)
    return [str(m.get("text") or m.get("caption") or "") for m in messages]


def check_outcomes(rows: Rows, standin: StandIn) -> None:
    """Every row ended sent (with the message Telegram made), or failed or dropped with a
    reason; no message went out twice."""
    for row in rows:
        assert row.status is not OutboxStatus.pending, row.id
        if row.status is OutboxStatus.sent:
            assert row.sent_at is not None
            kept = standin.message(row.chat_id, row.sent_message_id or 0)
            assert kept is not None and kept["from"]["is_bot"]
        else:
            assert row.last_error, row.id
    sent = Counter(
        (c.params.get("chat_id"), c.params.get("text") or c.params.get("caption"))
        for c in sends(standin)
    )
    assert [key for key, count in sent.items() if count > 1] == []


# -- delivered once, and only what was committed


async def test_rows_written_with_a_change_are_sent_once_and_marked_sent(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    anna = await person(sessionmaker, standin, 1001)
    await person(sessionmaker, standin, 1002)
    standin.add_chat(make_group(GROUP))
    async with sessionmaker.begin() as session:
        user = await session.get(User, anna)
        assert user is not None
        user.arrondissement = 13
        await outbox.enqueue(
            session, TextMessage(chat_id=1001, text="<b>Décision</b> &amp; suite", user_id=anna)
        )
        await outbox.enqueue(
            session, TextMessage(chat_id=1001, text="Deuxième", reply_markup=KEYBOARD)
        )
        await outbox.enqueue(session, TextMessage(chat_id=1002, text="Pour Bruno"))
        await outbox.enqueue(session, TextMessage(chat_id=GROUP, text="Carte à modérer"))

    rows = await deliver_all(bot, sessionmaker, fast)

    assert [row.status for row in rows] == [OutboxStatus.sent] * 4
    check_outcomes(rows, standin)
    assert texts_in(standin, 1001) == ["Décision & suite", "Deuxième"]
    assert texts_in(standin, 1002) == ["Pour Bruno"]
    assert texts_in(standin, GROUP) == ["Carte à modérer"]
    first, second = standin.chat_messages(1001)
    assert "reply_markup" not in first and second["reply_markup"] == KEYBOARD
    assert [row.sent_message_id for row in rows[:2]] == [first["message_id"], second["message_id"]]
    assert all(row.attempts == 1 for row in rows)


async def test_a_rolled_back_change_sends_nothing(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    with pytest.raises(RuntimeError):
        async with sessionmaker.begin() as session:
            await outbox.enqueue(session, TextMessage(chat_id=1001, text="Jamais"))
            raise RuntimeError("the change failed")
    await enqueue(sessionmaker, 1001, "Après")

    rows = await deliver_all(bot, sessionmaker, fast)

    assert [row.payload["text"] for row in rows] == ["Après"]
    assert texts_in(standin, 1001) == ["Après"]


# -- Telegram's answers


async def test_a_429_waits_retry_after_for_that_chat_only_and_is_not_an_attempt(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    await person(sessionmaker, standin, 1002)
    standin.inject("sendMessage", status=429, retry_after=1, chat_id=1001)
    await enqueue(sessionmaker, 1001, "Attends")
    await enqueue(sessionmaker, 1002, "Passe", "Passe encore")
    start = utcnow()
    clock = [start]  # the sender's "now", moved by hand: the second passes when the test says

    async with delivering(bot, sessionmaker, fast, now=lambda: clock[0]):
        # The other chat is not held up by that wait.
        waiting, *others = await wait_for(
            sessionmaker, lambda rows: settled(rows[1:]) and rows[0].last_error is not None
        )
        assert [row.status for row in others] == [OutboxStatus.sent] * 2
        assert waiting.status is OutboxStatus.pending and waiting.attempts == 0
        assert waiting.not_before == start + timedelta(seconds=1)
        async with sessionmaker.begin() as session:
            policy = policy_from(fast)
            almost = start + timedelta(seconds=1) - timedelta(microseconds=1)
            assert await claim_due(session, now=almost, limit=10, policy=policy) == []
        clock[0] = start + timedelta(seconds=1)
        rows = await wait_for(sessionmaker)

    check_outcomes(rows, standin)
    assert [row.status for row in rows] == [OutboxStatus.sent] * 3
    [refused, accepted] = sends(standin, 1001, ok=False)
    assert refused.status == 429 and accepted.ok
    assert rows[0].attempts == 1


async def test_a_blocked_bot_marks_the_person_inactive_and_drops_their_messages(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    anna = await person(sessionmaker, standin, 1001)
    await person(sessionmaker, standin, 1002)
    standin.block(1001)
    await enqueue(sessionmaker, 1001, "Un", "Deux", user_id=anna)
    await enqueue(sessionmaker, 1001, "Sans user_id")
    await enqueue(sessionmaker, 1002, "Pour Bruno")

    rows = await deliver_all(bot, sessionmaker, fast)

    check_outcomes(rows, standin)
    reason = "Forbidden: bot was blocked by the user"
    assert [(row.status, row.last_error) for row in rows[:3]] == [
        (OutboxStatus.dropped, reason)
    ] * 3
    assert rows[3].status is OutboxStatus.sent
    assert len(sends(standin, 1001, ok=False)) == 1
    async with sessionmaker() as session:
        user = await session.get(User, anna)
        assert user is not None and user.active is False


@pytest.mark.parametrize(
    ("refusals", "expected"), [(1, OutboxStatus.sent), (2, OutboxStatus.dropped)]
)
async def test_a_lone_403_is_retried_once_before_the_person_is_unreachable(
    bot: Bot,
    sessionmaker: Maker,
    fast: Settings,
    standin: StandIn,
    refusals: int,
    expected: OutboxStatus,
) -> None:
    anna = await person(sessionmaker, standin, 1001)
    description = "Forbidden: bot can't initiate conversation with a user"
    standin.inject("sendMessage", status=403, description=description, times=refusals)
    await enqueue(sessionmaker, 1001, "Bonjour", user_id=anna)

    [row] = await deliver_all(bot, sessionmaker, fast)

    assert row.status is expected
    assert len(sends(standin, 1001, ok=False)) == 2
    async with sessionmaker() as session:
        user = await session.get(User, anna)
        assert user is not None and user.active is (expected is OutboxStatus.sent)
    if expected is OutboxStatus.dropped:
        assert row.last_error == description


@pytest.mark.parametrize(
    ("errors", "expected"), [(2, OutboxStatus.sent), (3, OutboxStatus.failed)]
)
async def test_server_errors_are_retried_with_backoff_up_to_the_limit(
    bot: Bot,
    sessionmaker: Maker,
    fast: Settings,
    standin: StandIn,
    errors: int,
    expected: OutboxStatus,
) -> None:
    await person(sessionmaker, standin, 1001)
    standin.inject("sendMessage", status=500, times=errors)
    await enqueue(sessionmaker, 1001, "Bonjour")
    start = utcnow()
    clock = [start]  # the sender's "now": each backoff passes when the test moves it
    lease = timedelta(seconds=fast.delivery_lease_seconds)

    def failed_attempt(attempt: int) -> Callable[[Rows], bool]:
        # Tried `attempt` times, the last one answered, and not leased any more.
        return lambda rows: rows[0].attempts == attempt and rows[0].not_before < clock[0] + lease

    async with delivering(bot, sessionmaker, fast, now=lambda: clock[0]):
        for attempt, backoff in ((1, 0.05), (2, 0.1)):  # 1×, then 2× the backoff
            [row] = await wait_for(sessionmaker, failed_attempt(attempt))
            assert row.status is OutboxStatus.pending
            assert row.not_before == clock[0] + timedelta(seconds=backoff)
            assert len(sends(standin, 1001, ok=False)) == attempt
            clock[0] = row.not_before
        [row] = await wait_for(sessionmaker)

    check_outcomes([row], standin)
    assert row.status is expected and row.attempts == 3
    assert len(sends(standin, 1001, ok=False)) == 3
    if expected is OutboxStatus.failed:
        assert row.last_error == "Internal Server Error"


@pytest.mark.parametrize(
    ("timeouts", "expected"), [(1, OutboxStatus.sent), (2, OutboxStatus.failed)]
)
async def test_timeouts_are_retried_up_to_the_limit(
    sessionmaker: Maker,
    fast: Settings,
    standin: StandIn,
    timeouts: int,
    expected: OutboxStatus,
) -> None:
    await person(sessionmaker, standin, 1001)
    # Answers slower than the bot waits (they end in a 500 nobody reads).
    standin.inject("sendMessage", status=500, delay=1.0, times=timeouts)
    await enqueue(sessionmaker, 1001, "Bonjour")
    bot = create_bot(TOKEN, standin.base_url, timeout=0.2)
    settings = fast.model_copy(update={"delivery_max_attempts": 2})
    try:
        [row] = await deliver_all(bot, sessionmaker, settings)
    finally:
        await close_bot(bot)

    assert row.status is expected and row.attempts == timeouts + (expected is OutboxStatus.sent)
    if expected is OutboxStatus.failed:
        assert row.last_error == "Request timeout error"
    else:
        assert texts_in(standin, 1001) == ["Bonjour"]


async def test_a_bad_request_fails_at_once_and_the_chat_goes_on(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    await enqueue(sessionmaker, 1001, "<b>jamais fermé", "Ensuite")
    await enqueue(sessionmaker, 999, "Chat inconnu")

    rows = await deliver_all(bot, sessionmaker, fast)

    check_outcomes(rows, standin)
    assert [(row.status, row.attempts) for row in rows] == [
        (OutboxStatus.failed, 1),
        (OutboxStatus.sent, 1),
        (OutboxStatus.failed, 1),
    ]
    assert rows[0].last_error is not None and "can't parse entities" in rows[0].last_error
    assert rows[2].last_error == "Bad Request: chat not found"
    assert rows[0].failed_at is not None and rows[2].failed_at is not None
    assert rows[1].failed_at is None
    async with sessionmaker() as session:
        failed = await failed_messages(session)
    assert [row.id for row in failed] == [rows[2].id, rows[0].id]


async def test_a_group_upgraded_to_a_supergroup_is_followed(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    supergroup = -1009999
    standin.add_chat(make_group(GROUP))
    await enqueue(sessionmaker, GROUP, "Un", "Deux")
    standin.move_chat(GROUP, supergroup)
    settings = fast.model_copy(update={"coordinator_chat_id": GROUP})
    chat = CoordinatorsChat(GROUP)

    async with delivering(bot, sessionmaker, settings, coordinators_chat=chat):
        rows = await wait_for(sessionmaker)

    check_outcomes(rows, standin)
    assert [(row.chat_id, row.status, row.attempts) for row in rows] == [
        (supergroup, OutboxStatus.sent, 1)
    ] * 2
    assert texts_in(standin, supergroup) == ["Un", "Deux"]
    [refused] = sends(standin, GROUP, ok=False)
    assert refused.error == "Bad Request: group chat was upgraded to a supergroup chat"
    # Recorded, and followed: what comes next for the coordinators goes to the supergroup.
    async with sessionmaker() as session:
        assert await where_now(session, GROUP) == supergroup
    assert chat.id == supergroup
    assert settings.coordinator_chat_id == GROUP  # as read: the settings never change


# -- Telegram's sizes


async def test_a_long_text_goes_in_parts_with_the_keyboard_on_the_last(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    paragraph = " ".join(["<b>Marseille</b> &amp; ses quartiers, 😀 solidarité."] * 20)
    text = "\n\n".join(f"{number}. {paragraph}" for number in range(12))
    async with sessionmaker.begin() as session:
        parts = await outbox.enqueue(
            session, TextMessage(chat_id=1001, text=text, reply_markup=KEYBOARD)
        )

    rows = await deliver_all(bot, sessionmaker, fast)

    check_outcomes(rows, standin)
    assert len(parts) == len(rows) >= 3 and all(row.status is OutboxStatus.sent for row in rows)
    messages = standin.chat_messages(1001)
    assert [m.get("reply_markup") for m in messages] == [None] * (len(rows) - 1) + [KEYBOARD]
    assert all(utf16_len(m["text"]) <= 4096 for m in messages)
    # Cut between paragraphs: nothing lost, nothing repeated.
    assert "\n\n".join(m["text"] for m in messages) == parse_html(text)[0]


async def test_a_long_caption_is_cut_and_the_whole_text_follows(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    caption = "<b>Initiative</b>\n" + " ".join(["jardin &amp; partage"] * 80)
    async with sessionmaker.begin() as session:
        rendered = await outbox.enqueue(
            session,
            PhotoMessage(
                chat_id=1001, picture=b"\x89PNG chart", caption=caption, reply_markup=KEYBOARD
            ),
        )
        stored = standin.store_file(b"jpeg", "photo.jpg", photo=True)["file_id"]
        by_id = await outbox.enqueue(
            session, PhotoMessage(chat_id=1001, picture=stored, caption="Court")
        )
    assert len(rendered) == 2 and len(by_id) == 1

    rows = await deliver_all(bot, sessionmaker, fast)

    check_outcomes(rows, standin)
    photo, full_text, known = standin.chat_messages(1001)
    assert photo["caption"].endswith("…") and utf16_len(photo["caption"]) <= 1024
    assert photo["reply_markup"] == KEYBOARD
    assert full_text["text"] == parse_html(caption)[0]
    assert known["caption"] == "Court" and known["photo"][0]["file_id"] == stored
    [upload, _] = standin.calls_of("sendPhoto")
    assert upload.files["photo"][1] == b"\x89PNG chart"


async def test_a_picture_for_many_is_stored_once_and_uploaded_once(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    for chat in (1001, 1002, 1003):
        await person(sessionmaker, standin, chat)
    chart = b"\x89PNG the same chart"
    async with sessionmaker.begin() as session:
        await outbox.enqueue(
            session, PhotoMessage(chat_id=1001, picture=chart, caption="Résultats")
        )
    await deliver_all(bot, sessionmaker, fast)
    async with sessionmaker.begin() as session:
        for chat in (1002, 1003):
            await outbox.enqueue(
                session, PhotoMessage(chat_id=chat, picture=chart, caption="Résultats")
            )

    rows = await deliver_all(bot, sessionmaker, fast)

    check_outcomes(rows, standin)
    first, *others = standin.calls_of("sendPhoto")
    assert first.files["photo"][1] == chart and len(others) == 2
    uploaded = standin.chat_messages(1001)[0]["photo"][-1]["file_id"]
    assert [(call.files, call.params["photo"]) for call in others] == [({}, uploaded)] * 2
    async with sessionmaker() as session:
        [picture] = list(await session.scalars(select(OutboxPicture)))
    assert picture.content == chart and picture.telegram_file_id == uploaded
    assert {row.picture_id for row in rows} == {picture.id}


async def test_a_file_id_telegram_refuses_is_forgotten_and_the_picture_uploaded_again(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    chart = b"\x89PNG a chart"
    async with sessionmaker.begin() as session:
        [row] = await outbox.enqueue(
            session, PhotoMessage(chat_id=1001, picture=chart, caption="Résultats")
        )
        # Uploaded earlier under another bot token: this bot cannot use that file_id.
        await session.execute(
            update(OutboxPicture)
            .where(OutboxPicture.id == row.picture_id)
            .values(telegram_file_id="AgAC-from-another-bot")
        )

    [sent] = await deliver_all(bot, sessionmaker, fast)

    check_outcomes([sent], standin)
    refused, uploaded = standin.calls_of("sendPhoto", include_failed=True)
    assert refused.params["photo"] == "AgAC-from-another-bot" and not refused.ok
    assert uploaded.ok and uploaded.files["photo"][1] == chart
    assert sent.status is OutboxStatus.sent and sent.attempts == 1
    async with sessionmaker() as session:
        picture = await session.get(OutboxPicture, sent.picture_id)
    assert picture is not None
    assert picture.telegram_file_id == uploaded.result["photo"][-1]["file_id"]


# -- restarts, several workers, order, limits


async def test_a_restart_picks_up_pending_rows_and_expired_leases_only(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    for chat in (1001, 1002, 1003):
        await person(sessionmaker, standin, chat)
    pending, expired, leased = [
        (await enqueue(sessionmaker, chat, f"Pour {chat}"))[0] for chat in (1001, 1002, 1003)
    ]
    start = utcnow()
    clock = [start]  # the sender's "now", moved by hand: the lease ends when the test says so
    async with sessionmaker.begin() as session:
        # As a worker killed mid-send leaves its rows: leased, one lease over, one not yet.
        for row_id, until in (
            (expired, start - timedelta(seconds=1)),
            (leased, start + timedelta(minutes=1)),
        ):
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(attempts=1, not_before=until)
            )

    async with delivering(bot, sessionmaker, fast, now=lambda: clock[0]):
        rows = await wait_for(sessionmaker, lambda rows: sum(settled([r]) for r in rows) == 2)
        assert [row.status for row in rows] == [
            OutboxStatus.sent,
            OutboxStatus.sent,
            OutboxStatus.pending,
        ]
        clock[0] = start + timedelta(minutes=1, seconds=1)
        rows = await wait_for(sessionmaker)

    check_outcomes(rows, standin)
    assert [row.attempts for row in rows] == [1, 2, 2]
    assert [row.id for row in rows] == [pending, expired, leased]
    assert texts_in(standin, 1003) == ["Pour 1003"]


async def test_a_worker_killed_mid_send_leaves_a_lease_the_next_one_honours(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    standin.inject("sendMessage", status=500, delay=3, chat_id=1001)
    [row_id] = await enqueue(sessionmaker, 1001, "En vol")

    killed = asyncio.create_task(deliver(bot, sessionmaker, fast, asyncio.Event()))
    [row] = await wait_for(sessionmaker, lambda rows: rows[0].attempts == 1)
    await asyncio.sleep(0.1)  # the request reaches the stand-in, which holds it
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    [row] = await all_rows(sessionmaker)
    assert row.status is OutboxStatus.pending and row.not_before > utcnow()
    async with delivering(bot, sessionmaker, fast):
        await asyncio.sleep(0.2)  # a few polls: the lease holds the row back
        assert [r.attempts for r in await all_rows(sessionmaker)] == [1]

    # The next worker, once the lease is over.
    lease_over = timedelta(seconds=fast.delivery_lease_seconds + 1)
    async with delivering(bot, sessionmaker, fast, now=lambda: utcnow() + lease_over):
        rows = await wait_for(sessionmaker)

    check_outcomes(rows, standin)
    assert [(r.id, r.status, r.attempts) for r in rows] == [(row_id, OutboxStatus.sent, 2)]


async def test_two_workers_at_once_never_send_a_row_twice_and_keep_each_chat_in_order(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    chats = [1001 + number for number in range(8)]
    for chat in chats:
        await person(sessionmaker, standin, chat)
    for round_ in range(5):
        for chat in chats:
            await enqueue(sessionmaker, chat, f"{round_} pour {chat}")
    other = create_bot(TOKEN, standin.base_url, timeout=5)
    try:
        async with (
            delivering(bot, sessionmaker, fast),
            delivering(other, sessionmaker, fast),
        ):
            rows = await wait_for(sessionmaker)
    finally:
        await close_bot(other)

    check_outcomes(rows, standin)
    assert all(row.status is OutboxStatus.sent and row.attempts == 1 for row in rows)
    assert len(sends(standin)) == len(rows) == 40
    for chat in chats:
        assert texts_in(standin, chat) == [f"{round_} pour {chat}" for round_ in range(5)]


async def test_a_retry_holds_back_the_rest_of_its_chat(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    standin.inject("sendMessage", status=502, chat_id=1001, times=2)
    await enqueue(sessionmaker, 1001, *[f"Message {n}" for n in range(5)])

    rows = await deliver_all(bot, sessionmaker, fast)

    check_outcomes(rows, standin)
    assert texts_in(standin, 1001) == [f"Message {n}" for n in range(5)]
    assert [row.attempts for row in rows] == [3, 1, 1, 1, 1]


async def test_a_batch_within_telegrams_limits_provokes_no_429(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    chats = [1001 + number for number in range(15)]
    for chat in chats:
        await person(sessionmaker, standin, chat)
    standin.add_chat(make_group(GROUP))
    for round_ in range(3):
        for chat in chats:
            await enqueue(sessionmaker, chat, f"{round_} pour {chat}")
    await enqueue(sessionmaker, GROUP, *[f"Groupe {n}" for n in range(6)])
    limits = {"delivery_rate": 40, "delivery_private_per_second": 10}
    settings = fast.model_copy(update={**limits, "delivery_group_per_minute": 5})
    standin.enforce_limits(global_per_second=40, private_per_second=10, group_per_minute=5)

    async with delivering(bot, sessionmaker, settings):
        # Five group messages fit in a minute; the sixth waits for the next one.
        rows = await wait_for(
            sessionmaker, lambda rows: sum(not settled([r]) for r in rows) == 1, within=10
        )

    assert standin.violations == 0
    check_outcomes(rows[:-1], standin)
    assert rows[-1].status is OutboxStatus.pending and rows[-1].attempts == 0
    assert rows[-1].not_before >= max(r.sent_at for r in rows[:-1] if r.chat_id == GROUP)
    assert len(sends(standin)) == len(sends(standin, ok=False)) == 50
    for chat in chats:
        assert texts_in(standin, chat) == [f"{round_} pour {chat}" for round_ in range(3)]


# -- the loop's life


async def test_a_stop_lets_the_send_in_flight_finish_and_gives_back_the_rest(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    await person(sessionmaker, standin, 1002)
    standin.inject("sendMessage", status=0, delay=0.3, chat_id=1001)
    await enqueue(sessionmaker, 1001, "En vol")
    await enqueue(sessionmaker, 1002, "Pas encore")
    # Two claimed at once, the second spaced 0.25 s after the first on a clock that stands
    # still: it never starts.
    settings = fast.model_copy(update={"delivery_rate": 4})

    async with delivering(bot, sessionmaker, settings, clock=lambda: 0.0):
        await wait_for(sessionmaker, lambda rows: rows[1].attempts == 1)

    in_flight, given_back = await all_rows(sessionmaker)
    assert in_flight.status is OutboxStatus.sent and texts_in(standin, 1001) == ["En vol"]
    assert given_back.status is OutboxStatus.pending and given_back.attempts == 0
    assert given_back.not_before <= utcnow() and sends(standin, 1002) == []


async def test_a_wake_up_spares_the_wait_for_the_next_poll(
    bot: Bot, sessionmaker: Maker, fast: Settings, standin: StandIn
) -> None:
    await person(sessionmaker, standin, 1001)
    wake = asyncio.Event()
    settings = fast.model_copy(update={"delivery_poll_seconds": 30})
    async with delivering(bot, sessionmaker, settings, wake=wake):
        await asyncio.sleep(0.1)  # idle, until the next poll in 30 s
        await enqueue(sessionmaker, 1001, "Tout de suite")
        wake.set()
        rows = await wait_for(sessionmaker, within=5)
    assert rows[0].status is OutboxStatus.sent


# -- rules without a bot


def test_split_text_cuts_at_paragraphs_lines_then_words_never_inside_markup() -> None:
    assert split_text("  court  ") == ["court"]
    assert split_text("un deux\n\ntrois quatre", limit=12) == ["un deux", "trois quatre"]
    assert split_text("un\ndeux\n\ntrois quatre", limit=12) == ["un\ndeux", "trois quatre"]
    assert split_text("un deux\ntrois quatre", limit=12) == ["un deux", "trois quatre"]
    assert split_text("un deux trois quatre", limit=12) == ["un deux", "trois quatre"]
    # A paragraph break too early would leave a crumb: a later word is taken instead.
    assert split_text("un\n\ndeux trois quatre", limit=12) == ["un\n\ndeux", "trois quatre"]
    assert split_text("aaaa&amp;bbbb", limit=6) == ["aaaa", "&amp;b", "bbb"]
    # A tag open at a cut is closed there and opened again.
    assert split_text('<a href="https://x.fr">un deux trois</a>', limit=38) == [
        '<a href="https://x.fr">un deux</a>',
        '<a href="https://x.fr">trois</a>',
    ]
    assert all(utf16_len(part) <= 5 for part in split_text("😀😀😀😀😀", limit=5))


async def test_drop_pending_drops_a_persons_rows_only(
    sessionmaker: Maker, standin: StandIn
) -> None:
    anna = await person(sessionmaker, standin, 1001)
    await person(sessionmaker, standin, 1002)
    await enqueue(sessionmaker, 1001, "Un", user_id=anna)
    await enqueue(sessionmaker, 1001, "Deux")
    await enqueue(sessionmaker, GROUP, "Au groupe, sur elle", user_id=anna)
    await enqueue(sessionmaker, 1002, "Pour Bruno")
    async with sessionmaker.begin() as session:
        assert await drop_pending(session, anna, "forget") == 3
    rows = await all_rows(sessionmaker)
    assert [(r.status, r.last_error) for r in rows] == [(OutboxStatus.dropped, "forget")] * 3 + [
        (OutboxStatus.pending, None)
    ]


async def test_a_group_gets_at_most_its_quota_in_any_minute_across_workers(
    sessionmaker: Maker,
) -> None:
    policy = DeliveryPolicy(group=ChatLimit(3, timedelta(minutes=1)))
    await enqueue(sessionmaker, GROUP, *[f"Groupe {n}" for n in range(5)])
    start = utcnow()
    for second in range(3):
        now = start + timedelta(seconds=second)
        async with sessionmaker.begin() as session:
            [lease] = await claim_due(session, now=now, limit=10, policy=policy)
            await mark_sent(session, lease, message_id=second + 1, now=now, policy=policy)
    async with sessionmaker.begin() as session:
        assert (
            await claim_due(session, now=start + timedelta(seconds=59), limit=10, policy=policy)
            == []
        )
        [lease] = await claim_due(
            session, now=start + timedelta(seconds=60), limit=10, policy=policy
        )
    assert lease.payload["text"] == "Groupe 3"


async def test_a_send_the_database_cannot_record_at_once_is_not_sent_again(
    bot: Bot,
    sessionmaker: Maker,
    fast: Settings,
    standin: StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telegram accepted it; marking it sent failed once (a locked database): it is recorded
    on a later try, and not sent a second time."""
    anna = await person(sessionmaker, standin, 1001)
    await enqueue(sessionmaker, 1001, "Une fois", user_id=anna)
    real = outbox.mark_sent
    failures = [RuntimeError("database is locked")]

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(outbox, "mark_sent", flaky)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the pause before trying again, not waited
        waits.append(seconds)

    async with delivering(bot, sessionmaker, fast, sleep=sleep):
        rows = await wait_for(sessionmaker)
    assert [row.status for row in rows] == [OutboxStatus.sent]
    assert texts_in(standin, 1001) == ["Une fois"]
    assert waits == [0.5]
