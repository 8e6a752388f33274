"""One transaction per update, each update once, and a flood slowed down politely."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ProcessedUpdate, User
from tests.conversation import Harness, texts
from tests.faults import failing_commits

# Races and once-only work: on PostgreSQL too.
pytestmark = pytest.mark.postgres


async def test_the_same_update_twice_has_one_effect(harness: Harness) -> None:
    person = harness.person(language_code="en")
    update = harness.standin.message_update(person.user, "/start")
    await harness.feed(update)
    mark = len(harness.standin.calls)
    await harness.feed(update)
    await harness.restart()  # also after a restart
    await harness.feed(update)
    assert harness.standin.calls[mark:] == []
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


async def test_a_failing_handler_changes_nothing_and_the_person_is_told(
    harness: Harness, engine: AsyncEngine
) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("I have read it, continue")
    # The commit fails, after the role was set in the session. (A failing call to Telegram
    # no longer does: replies go out after the commit, tests/test_update_path.py.)
    with failing_commits(engine):
        calls = await person.press("Citizen")
    assert len(harness.take_failures()) == 1
    assert "Sorry, something went wrong on our side." in texts(calls)[-1]
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None and user.role is None
        # Rolled back with the rest: the same update, sent again, would be handled.
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 3


async def test_a_flood_is_slowed_down_and_others_are_not_affected(harness: Harness) -> None:
    flooder = harness.person(3001, language_code="en")
    calm = harness.person(3002, language_code="en")
    replies: list[str] = []
    for i in range(20):
        # Same instant: the test clock does not move between these.
        update = harness.standin.message_update(flooder.user, f"message {i}")
        mark = len(harness.standin.calls)
        await harness.dp.feed_raw_update(harness.bot, update)
        replies += texts(harness.standin.calls[mark:])
    limit = harness.settings.flood_messages
    understood = "I did not understand. Please use the buttons, or send /help."
    assert replies.count(understood) == limit
    slow_down = "You are sending messages very quickly. Please wait a few seconds, then go on."
    assert replies.count(slow_down) == 1 and len(replies) == limit + 1

    calls = await calm.send("hello")
    assert texts(calls) == [understood]

    harness.clock.now += harness.settings.flood_seconds + 1
    calls = await flooder.send("hello again")
    assert texts(calls) == [understood]
