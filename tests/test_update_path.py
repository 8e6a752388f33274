"""The update path's guarantees: an update is confirmed only once its effect is committed; what
the bot says waits for the commit, and is never said for an effect rolled back; long polling
handles people concurrently, each person's updates in order, retries a failed update and sets
it aside in the end; a stop, or a crash, loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import BaseMiddleware, Bot
from aiogram.methods import TelegramMethod
from aiogram.types import TelegramObject, Update
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.polling import Handling, poll
from bot.webhook import SECRET_HEADER, webhook_app
from storage.models import ProcessedUpdate, User
from tests.conversation import Harness, Person, texts
from tests.faults import failing_commits
from tests.initiatives_setup import group_person

pytestmark = pytest.mark.postgres

SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
LANGUAGE = "Which language do you prefer?"


class Bug(BaseMiddleware):
    """A handler bug for the chosen updates, after the handler has run (and queued replies)."""

    def __init__(self) -> None:
        self.update_ids: set[int] = set()

    async def __call__(self, handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        result = await handler(event, data)
        assert isinstance(event, Update)
        if event.update_id in self.update_ids:
            raise RuntimeError("a bug")
        return result


class Hold:
    """Holds the bot's calls to one chat until released: an update caught after its commit,
    while it speaks."""

    def __init__(self, chat_id: int, *, first_only: bool = False) -> None:
        self.chat_id = chat_id
        self.first_only = first_only  # only the first call: the next ones go out at once
        self.reached = asyncio.Event()
        self.released = asyncio.Event()

    async def __call__(self, make_request: Any, bot: Bot, method: TelegramMethod[Any]) -> Any:
        held = not self.released.is_set() and not (self.first_only and self.reached.is_set())
        if getattr(method, "chat_id", None) == self.chat_id and held:
            self.reached.set()
            await self.released.wait()
        return await make_request(bot, method)


async def until(condition: Callable[[], bool]) -> None:
    """Lets the loop run until `condition` holds (bounded, to fail rather than hang)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def role_of(harness: Harness, person: Person) -> str | None:
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        return user.role.value if user.role else None


async def processed(harness: Harness) -> int:
    async with harness.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0


async def at_the_role_question(harness: Harness, user_id: int = 1001) -> Person:
    person = harness.person(user_id, language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("I have read it, continue")
    return person


def citizen_pressed(harness: Harness, person: Person) -> dict[str, Any]:
    message = person.keyboard_message()
    data = next(
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "Citizen"
    )
    return harness.standin.callback_update(person.user, message, data)


# -- A rolled-back update says nothing


async def test_a_rolled_back_update_says_nothing_and_changes_nothing(
    harness: Harness, engine: AsyncEngine
) -> None:
    person = await at_the_role_question(harness)
    before = await processed(harness)
    update = citizen_pressed(harness, person)
    mark = len(harness.standin.calls)
    with failing_commits(engine) as failed:
        await harness.feed(update)
    assert failed and len(harness.take_failures()) == 1
    # Neither the next question nor the button's answer: only that something went wrong.
    calls = harness.standin.calls[mark:]
    assert [c.method for c in calls] == ["sendMessage"] and texts(calls) == [SORRY]
    assert await role_of(harness, person) is None and await processed(harness) == before

    # Sent again (as Telegram does for an update not confirmed), it has its effect, once.
    mark = len(harness.standin.calls)
    await harness.feed(update)
    assert await role_of(harness, person) == "citizen"
    assert "In which arrondissement" in texts(harness.standin.calls[mark:])[0]
    assert await processed(harness) == before + 1


async def test_a_reply_that_fails_after_the_commit_does_not_undo_the_effect(
    harness: Harness,
) -> None:
    person = await at_the_role_question(harness)
    # Telegram refuses twice: the reply is tried again once, then given up.
    harness.standin.inject("editMessageText", status=500, times=2)
    calls = await person.press("Citizen")
    assert harness.failures == [] and SORRY not in texts(calls)
    assert await role_of(harness, person) == "citizen"
    assert len(harness.standin.calls_of("editMessageText", include_failed=True)) >= 2


async def test_an_edit_refused_after_the_commit_is_said_in_a_new_message(
    harness: Harness,
) -> None:
    # The edit's answer is not read (only whether it worked): a refusal still turns it into
    # a new message, and an edit that changes nothing says nothing more.
    person = await at_the_role_question(harness)
    harness.standin.inject(
        "editMessageText", status=400, description="Bad Request: message can't be edited"
    )
    calls = await person.press("Citizen")
    sent = [c for c in calls if c.method == "sendMessage"]
    assert len(sent) == 1 and "In which arrondissement" in texts(sent)[0]
    assert await role_of(harness, person) == "citizen" and harness.failures == []

    harness.standin.inject(
        "editMessageText",
        status=400,
        description="Bad Request: message is not modified: specified new message content "
        "and reply markup are exactly the same",
    )
    calls = await person.press("3")
    assert [c.method for c in calls if c.ok] == ["answerCallbackQuery"]
    assert harness.failures == []


async def test_replies_go_out_after_the_commit_in_order(
    harness: Harness, engine: AsyncEngine
) -> None:
    person = harness.person(language_code="en")
    seen: list[tuple[str, int]] = []

    async def watch(make_request: Any, bot: Bot, method: TelegramMethod[Any]) -> Any:
        # By the time a reply goes out, its update is committed: another session sees it.
        async with harness.sessionmaker() as session:
            count = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
        seen.append((method.__api_method__, count or 0))
        return await make_request(bot, method)

    harness.bot.session.middleware(watch)
    await person.send("/start")
    await person.press("English")
    assert [method for method, _count in seen] == [
        "sendMessage",
        "editMessageText",
        "answerCallbackQuery",
    ]
    assert [count for _method, count in seen] == [1, 2, 2]


# -- Webhook: a failed update is answered with an error


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[TestClient]:
    app = webhook_app(harness.dp, harness.bot, "s3cr3t", "/telegram")
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_webhook_answers_an_error_for_a_rolled_back_update(
    harness: Harness, engine: AsyncEngine, client: TestClient
) -> None:
    person = await at_the_role_question(harness)
    update = citizen_pressed(harness, person)
    headers = {SECRET_HEADER: "s3cr3t"}
    with failing_commits(engine):
        response = await client.post("/telegram", json=update, headers=headers)
    assert response.status == 500  # Telegram sends it again
    assert await role_of(harness, person) is None

    again = await client.post("/telegram", json=update, headers=headers)
    assert again.status == 200 and await role_of(harness, person) == "citizen"


# -- Long polling


@asynccontextmanager
async def polling(harness: Harness, **options: Any) -> AsyncIterator[asyncio.Task[None]]:
    """The bot's polling loop, running; stopped (and waited for) at the end."""
    stop = asyncio.Event()
    handling = Handling(harness.dp, harness.bot, retry_delay=0, **options)
    task = asyncio.create_task(poll(harness.dp, harness.bot, stop, long_poll=1, handling=handling))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def push(harness: Harness, person: Person, text: str) -> int:
    update = harness.standin.message_update(person.user, text)
    harness.standin.push_update(update)
    return int(update["update_id"])


async def test_polling_retries_a_failed_update_and_confirms_it_once_handled(
    harness: Harness, engine: AsyncEngine
) -> None:
    person = harness.person(language_code="en")
    with failing_commits(engine, times=2) as failed:
        push(harness, person, "/start")
        async with polling(harness):
            await until(lambda: harness.standin.pending_updates == 0)
    assert len(failed) == 2
    # Handled at the third attempt; the person never saw the failures.
    assert [LANGUAGE in text for text in texts(harness.standin.calls)] == [True]
    assert await processed(harness) == 1


async def test_an_update_failing_every_attempt_is_set_aside_and_the_rest_goes_on(
    harness: Harness,
) -> None:
    bug = Bug()
    harness.dp.update.outer_middleware(bug)
    unlucky = harness.person(2001, language_code="en")
    other = harness.person(2002, language_code="en")
    bug.update_ids.add(push(harness, unlucky, "/start"))
    push(harness, other, "/start")
    push(harness, unlucky, "/help")
    async with polling(harness):
        await until(lambda: harness.standin.pending_updates == 0)

    # Told once, at the last attempt; their next update was handled; the other person's too.
    assert (
        texts([c for c in harness.standin.calls if c.params.get("chat_id") == unlucky.id])[0]
        == SORRY
    )
    assert "La Collective" in unlucky.last
    assert LANGUAGE in other.last
    async with harness.sessionmaker() as session:
        aside = await session.scalars(
            select(ProcessedUpdate).where(ProcessedUpdate.failed_at.is_not(None))
        )
        [row] = list(aside)
    assert row.update_id in bug.update_ids and row.error == "RuntimeError: a bug"

    # The coordinators see it with the failed deliveries.
    coordinator = group_person(harness)
    calls = await coordinator.send("/failed")
    said = texts(calls)[0]
    assert "n° " + str(row.update_id) in said and "RuntimeError: a bug" in said


async def test_people_are_handled_concurrently_each_in_order(harness: Harness) -> None:
    slow = harness.person(3001, language_code="en")
    quick = harness.person(3002, language_code="en")
    hold = Hold(slow.id)
    harness.bot.session.middleware(hold)
    push(harness, slow, "/start")
    push(harness, slow, "/help")
    push(harness, quick, "/start")
    async with polling(harness):
        await hold.reached.wait()
        # The slow person's first update is committed and speaking; the other person's
        # update is handled meanwhile, and so is the slow one's second — committed, its
        # replies waiting behind the first one's.
        await until(lambda: bool(quick.bot_messages()))
        await until(lambda: harness.standin.pending_updates == 0)  # all committed: confirmed
        assert await processed(harness) == 3
        assert slow.bot_messages() == []
        hold.released.set()
    first, second = slow.said(2)
    assert LANGUAGE in first and "La Collective" in second


async def test_a_persons_replies_keep_their_order_across_batches(harness: Harness) -> None:
    """A person's next update, in a later batch, is handled once the one before is committed,
    while its replies are held; the replies still go out in the updates' order."""
    person = harness.person(3101, language_code="en")
    hold = Hold(person.id, first_only=True)  # the second update's replies would go past
    harness.bot.session.middleware(hold)
    push(harness, person, "/start")
    async with polling(harness):
        await hold.reached.wait()
        await until(lambda: harness.standin.pending_updates == 0)
        push(harness, person, "/help")
        await until(lambda: harness.standin.pending_updates == 0)
        assert await processed(harness) == 2
        assert person.bot_messages() == []
        hold.released.set()
    first, second = person.said(2)
    assert LANGUAGE in first and "La Collective" in second


async def test_a_stop_finishes_the_batch_in_hand_and_confirms_it(harness: Harness) -> None:
    person = harness.person(4001, language_code="en")
    hold = Hold(person.id)
    harness.bot.session.middleware(hold)
    push(harness, person, "/start")
    stop = asyncio.Event()
    task = asyncio.create_task(poll(harness.dp, harness.bot, stop, long_poll=1))
    await hold.reached.wait()
    stop.set()  # SIGTERM
    await asyncio.sleep(0)
    assert not task.done()
    hold.released.set()
    await asyncio.wait_for(task, 30)
    assert LANGUAGE in person.last
    assert harness.standin.pending_updates == 0


async def test_a_batch_cut_by_a_crash_is_handled_after_the_restart_once(
    harness: Harness,
) -> None:
    people = [harness.person(5001 + i, language_code="en") for i in range(3)]
    for person in people:
        push(harness, person, "/start")
    stuck = asyncio.Event()

    class Crash(BaseMiddleware):
        """The last person's update never ends: the process dies in its transaction (last,
        since on SQLite the others would wait for its write lock)."""

        async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
            if data["event_from_user"].id == people[-1].id:
                stuck.set()
                await asyncio.Event().wait()
            return await handler(event, data)

    harness.dp.update.outer_middleware(Crash())
    stop = asyncio.Event()
    task = asyncio.create_task(poll(harness.dp, harness.bot, stop, long_poll=1))
    await stuck.wait()
    await until(lambda: all(p.bot_messages() for p in people[:-1]))
    task.cancel()  # the crash
    with pytest.raises(asyncio.CancelledError):
        await task
    # The stuck update was not confirmed (those before it, committed, may have been).
    assert harness.standin.pending_updates >= 1

    await harness.restart()
    async with polling(harness):
        await until(lambda: harness.standin.pending_updates == 0)
    assert [len(p.bot_messages()) for p in people] == [1, 1, 1]
    assert await processed(harness) == 3


async def test_the_offset_never_passes_an_uncommitted_update(
    harness: Harness, engine: AsyncEngine
) -> None:
    """The first update of three is held before its transaction while the others commit, and
    a fourth one comes and is fetched and handled meanwhile; then its commit fails once.
    Nothing is confirmed until it is committed; then everything is, each update having had
    its effect once."""
    people = [harness.person(6001 + i, language_code="en") for i in range(4)]
    first, *_ = [push(harness, person, "/start") for person in people[:3]]
    held, go = asyncio.Event(), asyncio.Event()

    class Held(BaseMiddleware):
        async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
            if event.update_id == first and not go.is_set():
                held.set()
                await go.wait()
            return await handler(event, data)

    # First, before the transaction: the others are not kept from SQLite's write lock.
    chain = harness.dp.update.outer_middleware
    others = list(chain)
    for middleware in others:
        chain.unregister(middleware)
    for middleware in [Held(), *others]:
        chain.register(middleware)
    stop = asyncio.Event()
    handling = Handling(harness.dp, harness.bot, retry_delay=0)
    task = asyncio.create_task(
        poll(harness.dp, harness.bot, stop, long_poll=1, handling=handling, refetch=0.01)
    )
    await held.wait()
    await until(lambda: all(p.bot_messages() for p in people[1:3]))
    push(harness, people[3], "/start")  # fetched only past the three in hand
    await until(lambda: bool(people[3].bot_messages()))
    assert await processed(harness) == 3
    assert harness.standin.pending_updates == 4
    offsets = [c.params.get("offset") or 0 for c in harness.standin.calls_of("getUpdates")]
    assert max(offsets) <= first
    with failing_commits(engine) as failed:
        go.set()
        await until(lambda: bool(people[0].bot_messages()))
    assert failed  # its first commit failed: tried again
    await until(lambda: harness.standin.pending_updates == 0)
    stop.set()
    await asyncio.wait_for(task, 30)
    assert [len(p.bot_messages()) for p in people] == [1, 1, 1, 1]
    assert await processed(harness) == 4
