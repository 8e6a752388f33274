"""The operator's side: clear one-line errors, the CLI, the command menu, long polling."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.commands import register_commands
from bot.config import LOCALES
from bot.polling import poll
from tests.conversation import Harness, texts

ROOT = Path(__file__).resolve().parent.parent


def collective(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = collective("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "collective chat" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COORDINATOR_CHAT_ID", "group"),
        ("DEFAULT_LOCALE", "de"),
        ("DATABASE_URL", "mysql://x"),
        ("TIMEZONE", "Mars/Olympus"),
        ("COORDINATOR_IDS", "1,two"),
    ],
)
def test_bad_configuration_fails_in_one_line(tmp_path: Path, variable: str, value: str) -> None:
    result = collective("run", env={variable: value, "BOT_TOKEN": "1:x"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Configuration error: {variable}")


def test_migrate_creates_the_database_under_data(tmp_path: Path) -> None:
    result = collective("migrate", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "collective.db").exists()


async def test_the_command_menu_is_registered_per_language(harness: Harness) -> None:
    harness.standin.add_chat(harness.standin.make_group(-100500))
    await register_commands(harness.bot, harness.i18n, -100500, "fr")
    calls = harness.standin.calls_of("setMyCommands")
    group = [c for c in calls if c.params.get("scope", {}).get("type") == "chat"]
    assert len(group) == 1 and group[0].params["scope"]["chat_id"] == -100500
    assert {c["command"] for c in group[0].params["commands"]} >= {"pending", "stats", "export"}
    menus = {
        c.params.get("language_code"): c.params["commands"]
        for c in calls
        if c.params.get("scope", {}).get("type") == "all_private_chats"
    }
    assert set(menus) == {*LOCALES, None}
    assert [c["command"] for c in menus["fr"]] == [c["command"] for c in menus["ar"]]
    descriptions = {locale: menus[locale][0]["description"] for locale in LOCALES}
    assert len(set(descriptions.values())) == 3  # each in its own language
    assert menus[None] == menus["fr"]


async def test_long_polling_handles_then_confirms(harness: Harness) -> None:
    standin = harness.standin
    person = harness.person(language_code="en")
    standin.push_update(standin.message_update(person.user, "/help"))
    standin.push_update(standin.message_update(person.user, "/privacy"))
    stop = asyncio.Event()
    task = asyncio.create_task(poll(harness.dp, harness.bot, stop, long_poll=1))
    for _ in range(200):
        if len(texts(standin.calls)) >= 2:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    said = texts(standin.calls)
    assert "La Collective" in said[0] and "How La Collective uses your data" in said[1]
    # Both confirmed: a poller started afresh gets nothing again.
    left = [c for c in standin.calls_of("getUpdates")][-1]
    assert left.params["offset"] > 0
    mark = len(standin.calls)
    stop = asyncio.Event()
    task = asyncio.create_task(poll(harness.dp, harness.bot, stop, long_poll=0))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert texts(standin.calls[mark:]) == []


async def test_long_polling_outlives_a_429_and_a_conflict(harness: Harness) -> None:
    standin = harness.standin
    person = harness.person(language_code="en")
    standin.inject("getUpdates", status=429, retry_after=1)
    standin.inject(
        "getUpdates", status=409, description="Conflict: terminated by other getUpdates request"
    )
    standin.push_update(standin.message_update(person.user, "/help"))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # time passes when the poller says it waits
        waits.append(seconds)

    stop = asyncio.Event()
    task = asyncio.create_task(poll(harness.dp, harness.bot, stop, long_poll=1, sleep=sleep))
    for _ in range(400):
        if texts(standin.calls):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert "La Collective" in texts(standin.calls)[0]
    # The 429's retry_after, then the backoff's first delay after the conflict.
    assert waits == [1, 1.0]
    assert [c.status for c in standin.calls_of("getUpdates", include_failed=True)][:3] == [
        429,
        409,
        200,
    ]
