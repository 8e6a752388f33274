"""`collective chat`: the real bot in a terminal, over the same database as every other
command; buttons numbered [#1], [#2]…, "#2" presses one in the chat it is typed in, and a number
alone is a message."""

from __future__ import annotations

import io
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main as collective
from bot.config import Settings, database_name
from bot.localchat import LOCAL_USER_ID, chat
from storage.db import create_sessionmaker
from storage.models import Role, SurveyAnswer, SurveyQuestion
from storage.privacy import accept_notice
from storage.survey_files import import_surveys
from storage.surveys import open_survey
from storage.users import (
    complete_onboarding,
    get_or_create_user,
    set_arrondissement,
    set_role,
    set_themes,
)
from tests.challenges_setup import EXAMPLE
from tests.surveys_setup import COORDINATOR, NOW, SURVEY


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
        read=script("/start", "#2", "#1", "#1", "#5", "#8", "#13", "#2", "#2", "/mydata", "/quit"),
        write=shown.append,
    )
    screen = "\n".join(shown)
    assert "[#2] English" in screen
    assert "Step 2 of 7" in screen and "[#1] I have read it, continue" in screen
    assert "[#17] Outside Marseille" in screen
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
    await chat(settings, read=script("/start", "#1", "#1"), write=first.append)
    assert "Étape 3 sur 7" in "\n".join(first)

    # The same database, a new stand-in: its first updates are not taken for handled ones.
    again: list[str] = []
    await chat(settings, read=script("bonjour", "#1"), write=again.append)
    screen = "\n".join(again)
    assert "Merci de répondre avec l’un des boutons ci-dessous." in screen
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
    assert "\nbot> Cette commande s’utilise dans le groupe des coordinateurs." in screen
    # The bot is an administrator there: no warning that it cannot read the group.
    assert "administrateur" not in screen


# -- pressing a button, per chat, and numbers typed as answers


class Press:
    """A line typed as "#N", N being the number the screen shows for that button last."""

    def __init__(self, label: str, digits: str = "0123456789") -> None:
        self.label = label
        self.digits = digits

    def line(self, screen: list[str]) -> str:
        for shown in reversed("\n".join(screen).splitlines()):
            number, _, label = shown.strip().removeprefix("[#").partition("] ")
            if label == self.label and number.isdigit():
                return "#" + number.translate(str.maketrans("0123456789", self.digits))
        raise AssertionError(f"no button {self.label!r} on the screen")


def conversation(screen: list[str], *lines: str | Press) -> Callable[[], Awaitable[str | None]]:
    """Lines typed one after the other; a Press reads its number off the screen so far."""
    queue = list(lines)

    async def read() -> str | None:
        if not queue:
            return None
        line = queue.pop(0)
        return line.line(screen) if isinstance(line, Press) else line

    return read


async def invited_to_a_survey(engine: AsyncEngine) -> None:
    """The chat's person, onboarded in English, invited to a survey with a number question."""
    async with create_sessionmaker(engine).begin() as session:
        user = await get_or_create_user(session, LOCAL_USER_ID, "en")
        accept_notice(user)
        set_role(user, Role.citizen)
        set_arrondissement(user, 3)
        await set_themes(session, user, ["older_people"])
        complete_onboarding(user)
        (survey,) = await import_surveys(session, [SURVEY], COORDINATOR)
        await open_survey(session, survey.id, COORDINATOR, NOW)


async def test_a_number_alone_answers_and_a_hash_presses_in_its_own_chat(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await invited_to_a_survey(engine)
    shown: list[str] = []
    await chat(
        settings,
        language_code="en",
        read=conversation(
            shown,
            "/start",
            Press("Surveys"),
            Press("Answer: Isolation check"),
            Press("4"),
            Press("Yes"),
            "12",
            Press("At their door", digits="٠١٢٣٤٥٦٧٨٩"),
            "/group",
            "#1",
            "/private",
            "#9",
            "/quit",
        ),
        write=shown.append,
    )
    screen = "\n".join(shown)
    assert "database " + database_name(settings.database_url) in shown[0]
    assert "How many visits?" in screen
    # "12" was the answer, not a button: the next question came.
    assert "no button" not in screen.split("How many visits?")[1].split("4/6")[0]
    assert "4/6" in screen and "(pressed: At their door)" in screen and "5/6" in screen
    async with create_sessionmaker(engine)() as session:
        answers = dict(
            (
                await session.execute(
                    select(SurveyQuestion.code, SurveyAnswer.value_number)
                    .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
                    .where(SurveyQuestion.code == "visits")
                )
            ).all()
        )
        channel = await session.scalar(
            select(SurveyAnswer.option_code)
            .join(SurveyQuestion, SurveyAnswer.question_id == SurveyQuestion.id)
            .where(SurveyQuestion.code == "channel")
        )
    assert answers == {"visits": 12} and channel == "door"
    # In the group, "#1" presses nothing of the private chat's buttons.
    after_group = screen.split("(coordinators group)")[1]
    assert after_group.startswith("\n  (no message with buttons in this chat yet)")
    # Back in the private chat, a number out of range says so.
    assert "(no button #9: the latest buttons here go from #1 to #" in screen


# -- one database for every command


def test_the_chat_shows_what_the_other_commands_wrote(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
) -> None:
    """As the README says: import the example challenge, open the chat, and it is there."""
    monkeypatch.chdir(tmp_path)
    assert collective(["challenges", "import", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Saved in the database data/collective.db."

    monkeypatch.setattr(sys, "stdin", io.StringIO("/group\n/challenges\n/quit\n"))
    assert collective(["chat"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("La Collective — local chat, database data/collective.db (")
    assert "Rompre l’isolement des personnes âgées" in out.split("(coordinators group)")[1]
    assert not (tmp_path / "data" / "chat.db").exists()

    assert collective(["migrate"]) == 0
    assert capsys.readouterr().out == "The database data/collective.db is up to date.\n"


def test_a_real_bots_database_is_left_alone_unless_chosen(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
) -> None:
    """The chat delivers the outbox and runs the daily jobs: over a bot's database with
    people in it, their messages would go nowhere."""
    monkeypatch.chdir(tmp_path)
    assert collective(["migrate"]) == 0
    with sqlite3.connect(tmp_path / "data" / "collective.db") as db:
        db.execute(
            "INSERT INTO users (telegram_id, locale, active, created_at, updated_at, "
            "last_seen_at) VALUES (555, 'fr', 1, '2026-12-01', '2026-12-01', '2026-12-01')"
        )
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("/quit\n"))
    assert collective(["chat"]) == 2
    said = capsys.readouterr()
    assert said.out == ""
    assert said.err.splitlines() == [
        "data/collective.db holds the data of a bot on Telegram (1 person): the local chat "
        "would take the messages waiting for them and run their daily jobs. Try the bot in a "
        "database of its own: collective chat --database data/chat.db"
    ]

    monkeypatch.setattr(sys, "stdin", io.StringIO("/start\n/quit\n"))
    assert collective(["chat", "--database", "data/chat.db"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("La Collective — local chat, database data/chat.db (")
    assert "[#1] Français" in out
    assert (tmp_path / "data" / "chat.db").exists()
