"""Log lines: one per event, JSON lines with LOG_FORMAT=json carrying the update's id, and no
personal data at INFO — a conversation's lines never show what the person typed, their first
name or their username."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import JsonFormatter, TextFormatter, UpdateFilter, handler_for, handling_update
from tests.conversation import Harness
from tests.through_webhook import webhook_worker

FIRST_NAME = "Zéphyrine"
USERNAME = "zeph_marseille_77"
ORGANISATION = "Les Jardins Secrets de Zéphyrine"
TYPED = "Mon voisin Octave Rambert a besoin de courses rue Sainte"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, as `collective run` writes it with LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = handler_for("json")
    handler.setStream(stream)  # type: ignore[attr-defined]
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_a_conversations_log_has_its_update_ids_and_none_of_the_persons_words(
    harness: Harness, json_lines: io.StringIO
) -> None:
    async with webhook_worker(harness):
        person = harness.person(2077, language_code="en")
        person.user.update(first_name=FIRST_NAME, username=USERNAME, last_name="Rambert")
        await person.send("/start")
        await person.press("English")
        await person.press("I have read it, continue")
        await person.press("Association")
        await person.send(ORGANISATION)
        await person.press("13")
        await person.send(TYPED)  # a text where a button was expected
    # The conversation went on: the organisation's name was taken, the next steps asked.
    assert any("Which themes" in said or "arrondissement" in said for said in person.said(6))

    lines = json_lines.getvalue().splitlines()
    assert lines, "the conversation logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
        for secret in (FIRST_NAME, USERNAME, "Rambert", "Jardins", "Octave", "voisin"):
            assert secret not in json.dumps(entry, ensure_ascii=False), entry
    # aiogram's line for each update handled, with its id as a field.
    handled = [e for e in entries if e["message"].startswith("Update id=")]
    assert len(handled) == 7
    assert all(e["update_id"] == int(e["message"].split()[1][3:]) for e in handled)


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    made = logging.LogRecord("bot.test", logging.ERROR, __file__, 1, message, args, exc_info)
    UpdateFilter().filter(made)
    return made


def test_a_traceback_stays_on_its_line_in_both_formats() -> None:
    try:
        raise ValueError("broken\nacross lines")
    except ValueError as error:
        caught = error
    with handling_update(42):
        made = record("update %s failed", 42, exc=caught)
    entry = json.loads(JsonFormatter().format(made))
    assert entry["update_id"] == 42 and entry["level"] == "ERROR"
    assert "ValueError" in entry["exception"] and "\n" not in entry["exception"]
    text = TextFormatter().format(made)
    assert "\n" not in text and "[update 42] update 42 failed" in text and "ValueError" in text


def test_outside_an_update_a_line_has_no_update_id() -> None:
    entry = json.loads(JsonFormatter().format(record("outbox %s: sent", 7)))
    assert "update_id" not in entry and entry["message"] == "outbox 7: sent"


def test_collective_writes_json_lines_when_log_format_says_so(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LOG_FORMAT")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env={
            **env,
            "PYTHONPATH": str(root),
            "LOG_FORMAT": "json",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'collective.db'}",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(json.loads(line)["level"] for line in lines)
    assert any("Running upgrade" in json.loads(line)["message"] for line in lines)


async def test_a_failed_statement_names_the_statement_not_what_was_typed(tmp_path: Path) -> None:
    """What an error line would carry: the statement, without its values (people's words)."""
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (body TEXT NOT NULL UNIQUE)"))
            await connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": TYPED})
        with pytest.raises(Exception) as failure:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": TYPED})
    finally:
        await engine.dispose()
    assert "INSERT INTO notes" in str(failure.value)
    assert "Octave" not in str(failure.value)
