"""The running bot as `collective run` builds it: migrations, the command menus, long polling,
the sender and the jobs, until it is told to stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import open_app, serve
from bot.config import Settings
from bot.standin import StandIn, make_group
from storage.chat_moves import record_move
from tests.conftest import TOKEN
from tests.texts import t

GROUP, SUPERGROUP = -4500, -1004500


def app_settings(tmp_path: Path, standin: StandIn, group: int) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_base=standin.base_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'collective.db'}",
        coordinator_chat_id=group,
        coordinator_ids=frozenset({42}),
    )


async def run_until_answered(settings: Settings, standin: StandIn, answers: int = 1) -> int | None:
    """Starts the bot, waits until it has sent `answers` messages, and stops it; returns the
    coordinators' group it followed."""
    async with open_app(settings, TOKEN) as app:
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop))
        for _ in range(250):
            if len(standin.calls_of("sendMessage")) >= answers or running.done():
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(running, 10)
        return app.dp["coordinators_chat"].id


async def test_the_bot_starts_answers_and_stops_in_a_moved_group(
    tmp_path: Path, standin: StandIn
) -> None:
    settings = app_settings(tmp_path, standin, GROUP)
    standin.move_chat(GROUP, SUPERGROUP)
    standin.set_chat_member(SUPERGROUP, standin.bot_id, "administrator")
    coordinator = standin.make_user(42)
    standin.push_update(
        standin.message_update(coordinator, "/failed", chat=make_group(SUPERGROUP))
    )
    async with open_app(settings, TOKEN) as app:
        # Recorded before this start, by an earlier run or another process.
        async with app.dp["sessionmaker"].begin() as session:
            await record_move(session, GROUP, SUPERGROUP)

    followed = await run_until_answered(settings, standin)

    assert followed == SUPERGROUP
    assert settings.coordinator_chat_id == GROUP  # as read: the settings never change
    menus = [c.params["scope"] for c in standin.calls_of("setMyCommands")]
    assert {"type": "chat", "chat_id": SUPERGROUP} in menus
    [answer] = standin.calls_of("sendMessage")
    assert answer.params["chat_id"] == SUPERGROUP
    assert answer.params["text"] == t("fr", "Every message has been delivered.")


async def test_a_bot_that_cannot_read_the_group_says_so_there_and_in_the_log(
    tmp_path: Path, standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    settings = app_settings(tmp_path, standin, SUPERGROUP)
    standin.set_chat_member(SUPERGROUP, standin.bot_id, "member")  # privacy mode, not admin

    await run_until_answered(settings, standin)

    [notice] = standin.calls_of("sendMessage")
    assert notice.params["chat_id"] == SUPERGROUP
    assert notice.params["text"] == t(
        "fr",
        "To read the answers you type in this group (the reason for a refusal, a "
        "challenge's texts, a date…), the bot must be one of its administrators. Please make "
        "it an administrator: it needs no particular right.",
    )
    assert "is not an administrator of the coordinators' group" in caplog.text

    # Started again (or by another worker) the same day: said in the log only.
    standin.clear_calls()
    caplog.clear()
    await run_until_answered(settings, standin, answers=0)
    assert standin.calls_of("sendMessage") == []
    assert "is not an administrator of the coordinators' group" in caplog.text
