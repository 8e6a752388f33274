"""Each person's replies handed over after their update's commit (bot/replies.py's Speaking, as
long polling uses it): in order behind their earlier updates' replies, the update itself going
on at once — unless a `later` step reads answers, which its own update waits for."""

from __future__ import annotations

import asyncio

from bot.replies import Replies, Speaking, current_replies, later


async def settle() -> None:
    """Lets every task ready to run go as far as it can (no time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_replies_are_handed_over_in_order_and_the_update_goes_on() -> None:
    speaking = Speaking()
    said: list[str] = []
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()
        said.append("first update's reply")

    async def quick() -> None:
        said.append("second update's reply")

    first, second = Replies(), Replies()
    first.actions.append(slow)
    second.actions.append(quick)
    with speaking.of(1):
        await first.send()  # handed over: returns while the reply waits
        await second.send()
    await settle()
    assert said == [] and speaking.chains
    gate.set()
    await speaking.drain()
    assert said == ["first update's reply", "second update's reply"]
    assert not speaking.chains  # forgotten when done


async def test_a_later_step_reading_answers_is_awaited_in_its_own_update() -> None:
    speaking = Speaking()
    said: list[str] = []
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()
        said.append("earlier reply")

    async def remember() -> None:
        said.append("a message id remembered")

    earlier = Replies()
    earlier.actions.append(slow)
    with speaking.of(1):
        await earlier.send()

    async def update() -> None:
        replies = Replies()
        token = current_replies.set(replies)
        try:
            await later(remember)  # reads the answer: its update waits for it
        finally:
            current_replies.reset(token)
        with speaking.of(1):
            await replies.send()

    handled = asyncio.create_task(update())
    await settle()
    assert not handled.done() and said == []
    gate.set()
    await handled
    assert said == ["earlier reply", "a message id remembered"]


async def test_a_later_step_that_only_edits_is_handed_over() -> None:
    speaking = Speaking()
    gate = asyncio.Event()

    async def edit() -> None:
        await gate.wait()

    replies = Replies()
    token = current_replies.set(replies)
    try:
        await later(edit, reads_answers=False)
    finally:
        current_replies.reset(token)
    with speaking.of(1):
        await replies.send()  # returns at once
    assert speaking.chains
    gate.set()
    await speaking.drain()


async def test_first_steps_run_in_the_update_before_the_hand_over() -> None:
    speaking = Speaking()
    done: list[str] = []
    gate = asyncio.Event()

    async def journal_forgotten() -> None:
        done.append("journal forgotten")

    async def reply() -> None:
        await gate.wait()

    replies = Replies()
    replies.first.append(journal_forgotten)
    replies.actions.append(reply)
    with speaking.of(1):
        await replies.send()
    assert done == ["journal forgotten"]  # before the person's next update can start
    gate.set()
    await speaking.drain()
