"""`collective chat`: the real bot in a terminal, buttons numbered, a number presses one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.localchat import chat


def script(*lines: str) -> Callable[[], Awaitable[str | None]]:
    queue = list(lines)

    async def read() -> str | None:
        return queue.pop(0) if queue else None

    return read


async def test_a_newcomer_onboards_and_exports_their_data_in_the_terminal(
    settings: Settings,
    engine: AsyncEngine,  # a clean database
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # files the bot sends are saved under data/chat-files
    shown: list[str] = []
    await chat(
        settings,
        language_code="ar",
        read=script("/start", "2", "1", "1", "5", "8", "13", "2", "2", "/mydata", "/quit"),
        write=shown.append,
    )
    screen = "\n".join(shown)
    assert "[2] English" in screen
    assert "Step 2 of 7" in screen and "[1] I have read it, continue" in screen
    assert "[17] Outside Marseille" in screen
    assert "Thank you, you are all set!" in screen
    assert "[file saved: data/chat-files/my-data.json]" in screen
    assert (tmp_path / "data" / "chat-files" / "my-data.json").exists()


async def test_a_second_session_over_the_same_database_carries_on(
    settings: Settings,
    engine: AsyncEngine,  # a clean database
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    first: list[str] = []
    await chat(settings, read=script("/start", "1", "1"), write=first.append)
    assert "Étape 3 sur 7" in "\n".join(first)

    # The same database, a new stand-in: its first updates are not taken for handled ones.
    again: list[str] = []
    await chat(settings, read=script("bonjour", "1"), write=again.append)
    screen = "\n".join(again)
    assert "Merci de répondre avec l'un des boutons ci-dessous." in screen
    assert "Étape 3 sur 7" in screen and "Étape 4 sur 7" in screen


async def test_the_coordinators_side_is_tried_in_a_local_group(
    settings: Settings,
    engine: AsyncEngine,  # a clean database
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    shown: list[str] = []
    await chat(
        settings,
        read=script("/group", "/failed", "/private", "/failed", "/quit"),
        write=shown.append,
    )
    screen = "\n".join(shown)
    # In the group, as a coordinator; in the private chat, pointed to the group.
    assert "\ngroup> Tous les messages ont bien été remis." in screen
    assert "\nbot> Cette commande s'utilise dans le groupe des coordinateurs." in screen
    # The bot is an administrator there: no warning that it cannot read the group.
    assert "administrateur" not in screen
