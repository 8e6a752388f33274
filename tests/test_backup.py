"""Backups taken while the bot works, restores that refuse what they must, and rotation.

On PostgreSQL (TEST_DATABASE_URL) the restores go into scratch databases made and dropped here;
the shared test database is only ever read (backed up)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.backup_job import JOB, daily_backup
from bot.config import Settings
from bot.i18n import CatalogI18n
from bot.jobs import JobContext
from bot.scheduler import run_jobs
from bot.standin import StandIn
from storage.backup import (
    BackupError,
    RestoreRefused,
    backup,
    backups_in,
    restore,
    rotate,
    suffix_of,
)
from storage.db import create_engine, create_sessionmaker, is_sqlite
from storage.migrate import upgrade
from storage.models import AssistedParticipation, JobRun, SurveyAnswer, User
from storage.privacy import forget_assisted, forget_user
from tests.conftest import TOKEN
from tests.conversation import Harness
from tests.scratch import RELEASE, Scratch, fill

ROOT = Path(__file__).resolve().parent.parent
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
async def scratch(
    database_url: str, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Scratch]:
    made = Scratch(is_sqlite(database_url), tmp_path, sqlite_template)
    try:
        yield made
    finally:
        await made.drop()


async def rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


async def add_people(url: str, *telegram_ids: int) -> None:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            session.add_all(User(telegram_id=t, locale="fr") for t in telegram_ids)
    finally:
        await engine.dispose()


async def people(url: str) -> set[int]:
    return {row[0] for row in await rows(url, "SELECT telegram_id FROM users")}


def integrity(url: str) -> list[str]:
    path = make_url(url).database
    assert path is not None
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]
    finally:
        connection.close()


@asynccontextmanager
async def held_open(url: str) -> AsyncIterator[None]:
    """The database open elsewhere, as a running bot has it: on SQLite another process with
    the bot's engine (its pool keeps the connection), on PostgreSQL another session."""
    if not is_sqlite(url):
        engine = create_engine(url)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            yield
        await engine.dispose()
        return
    holder = (
        "import asyncio, sys\n"
        "from sqlalchemy import text\n"
        "from storage.db import create_engine\n"
        "async def main():\n"
        "    engine = create_engine(sys.argv[1])\n"
        "    async with engine.connect() as connection:\n"
        "        await connection.execute(text('SELECT count(*) FROM users'))\n"
        "    print('open', flush=True)\n"
        "    await asyncio.to_thread(sys.stdin.read)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        holder,
        url,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert await process.stdout.readline() == b"open\n"
        yield
    finally:
        process.stdin.close()
        await process.wait()


def damage_a_page(path: Path) -> None:
    """A page in the middle of the file overwritten, as a bad disk or a torn copy does."""
    size = path.stat().st_size
    with open(path, "r+b") as damaged:
        damaged.seek(size // 4096 // 2 * 4096)
        damaged.write(b"\xa5" * 4096)


# A backup while the bot works


@pytest.fixture
async def harness_apart(
    scratch: Scratch, settings: Settings, i18n: CatalogI18n, standin: StandIn
) -> AsyncIterator[Harness]:
    """The bot over a scratch database of its own: its backups read nothing other tests write
    (on PostgreSQL, the shared test database)."""
    url = await scratch.database()
    engine = create_engine(url)
    try:
        async with Harness.open(
            settings.model_copy(update={"database_url": url}),
            create_sessionmaker(engine),
            i18n,
            standin,
            TOKEN,
        ) as harness:
            yield harness
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_backup_during_a_stream_of_updates_holds_every_update_handled_before_it(
    harness_apart: Harness, scratch: Scratch, tmp_path: Path
) -> None:
    """People keep writing to the bot while the backup is taken; restored elsewhere, the copy
    has everyone whose update the bot had handled (committed) when the backup began."""
    handled: list[int] = []
    enough = asyncio.Event()
    stop = asyncio.Event()

    async def stream() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            person = harness_apart.person(5000 + number, language_code="fr")
            await person.send("/start")
            handled.append(person.id)
            if number == 20:
                enough.set()

    writing = asyncio.create_task(stream())
    await asyncio.wait_for(enough.wait(), 60)
    before = list(handled)
    path = await backup(harness_apart.settings.database_url, tmp_path / "backups")
    stop.set()
    await asyncio.wait_for(writing, 60)

    target = await scratch.database(revision=None)
    restored = await restore(target, path)
    assert not restored.migrated
    copied = await people(target)
    assert set(before) <= copied <= set(handled)
    updates = await rows(target, "SELECT count(*) FROM processed_updates")
    assert updates[0][0] == len(copied)
    if scratch.on_sqlite:
        assert integrity(target) == ["ok"]
        assert integrity(f"sqlite+aiosqlite:///{path}") == ["ok"]


async def test_the_backup_is_named_by_its_utc_time_and_said_by_its_kind(
    scratch: Scratch, tmp_path: Path
) -> None:
    source = await scratch.database()
    path = await backup(source, tmp_path, now=NOON)
    assert path.name == "collective-20261207T120000Z." + ("db" if scratch.on_sqlite else "dump")
    with pytest.raises(BackupError, match="already exists"):
        await backup(source, tmp_path, now=NOON)


# Restore: checked, then swapped in; refused, changing nothing, otherwise


async def test_a_restore_brings_back_the_database_as_it_was_at_the_backup(
    scratch: Scratch, tmp_path: Path
) -> None:
    live = await scratch.database()
    await add_people(live, 1, 2)
    path = await backup(live, tmp_path / "backups", now=NOON)
    await add_people(live, 3)
    restored = await restore(live, path)
    assert await people(live) == {1, 2}
    assert (restored.revision, restored.migrated) == (restored.head, False)
    if scratch.on_sqlite:
        # The database it replaced stays beside it, whole; nothing else is left there.
        assert restored.replaced is not None
        assert await people(f"sqlite+aiosqlite:///{restored.replaced}") == {1, 2, 3}
        folder = Path(restored.database).parent
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["collective.db", Path(restored.replaced).name]
        )


async def test_a_restore_refuses_a_database_in_use(scratch: Scratch, tmp_path: Path) -> None:
    live = await scratch.database()
    await add_people(live, 1)
    path = await backup(live, tmp_path / "backups", now=NOON)
    await add_people(live, 2)
    async with held_open(live):
        with pytest.raises(RestoreRefused, match="in use"):
            await restore(live, path)
    assert await people(live) == {1, 2}
    if scratch.on_sqlite:
        assert [p.name for p in Path(make_url(live).database or "").parent.iterdir()] == [
            "collective.db"
        ]
    # Once the bot is stopped, it goes.
    await restore(live, path)
    assert await people(live) == {1}


async def test_a_restore_refuses_a_file_that_is_not_a_backup(
    scratch: Scratch, tmp_path: Path
) -> None:
    live = await scratch.database()
    await add_people(live, 1)
    notes = tmp_path / "notes.db"
    notes.write_text("not a database at all\n" * 400)
    with pytest.raises(RestoreRefused, match=r"not a readable SQLite database|not an archive"):
        await restore(live, notes)
    with pytest.raises(RestoreRefused, match="no such file"):
        await restore(live, tmp_path / "missing.db")
    assert await people(live) == {1}


async def test_a_restore_refuses_a_damaged_sqlite_copy(scratch: Scratch, tmp_path: Path) -> None:
    if not scratch.on_sqlite:
        pytest.skip("an SQLite file")
    live = await scratch.database()
    await add_people(live, *range(1, 400))
    path = await backup(live, tmp_path / "backups", now=NOON)
    await add_people(live, 400)
    damage_a_page(path)
    with pytest.raises(RestoreRefused, match=r"integrity check|malformed"):
        await restore(live, path)
    assert len(await people(live)) == 400
    assert integrity(live) == ["ok"]


async def test_a_restore_of_a_damaged_dump_changes_nothing(
    scratch: Scratch, tmp_path: Path
) -> None:
    if scratch.on_sqlite:
        pytest.skip("a pg_dump archive")
    live = await scratch.database()
    await add_people(live, *range(1, 400))
    path = await backup(live, tmp_path / "backups", now=NOON)
    await add_people(live, 400)
    # Damaged near its end, among the last tables' rows: its list of contents and its revision
    # still read, so the restore starts, and fails on the damaged rows.
    damaged = bytearray(path.read_bytes())
    damaged[-300:-200] = b"\xa5" * 100
    path.write_bytes(bytes(damaged))
    with pytest.raises(BackupError, match="rolled back"):
        await restore(live, path)
    assert len(await people(live)) == 400


async def test_a_restore_refuses_a_copy_at_a_revision_this_code_does_not_know(
    scratch: Scratch, tmp_path: Path
) -> None:
    newer = await scratch.database()
    await add_people(newer, 7)
    engine = create_engine(newer)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d0011'"))
    await engine.dispose()
    path = await backup(newer, tmp_path / "backups", now=NOON)
    live = await scratch.database()
    await add_people(live, 1)
    with pytest.raises(RestoreRefused, match="revision f00d0011, unknown"):
        await restore(live, path)
    assert await people(live) == {1}


async def test_a_restore_refuses_a_database_of_something_else(
    scratch: Scratch, tmp_path: Path
) -> None:
    other = await scratch.database()
    engine = create_engine(other)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE alembic_version"))
    await engine.dispose()
    path = await backup(other, tmp_path / "backups", now=NOON)
    live = await scratch.database()
    with pytest.raises(RestoreRefused, match="no migration revision"):
        await restore(live, path)


async def test_a_copy_from_the_previous_release_is_migrated_as_it_is_restored(
    scratch: Scratch, tmp_path: Path
) -> None:
    older = await scratch.database(revision=RELEASE)
    await fill(older)
    path = await backup(older, tmp_path / "backups", now=NOON)
    live = await scratch.database()
    restored = await restore(live, path)
    assert (restored.revision, restored.migrated) == (RELEASE, True)
    assert await rows(live, "SELECT version_num FROM alembic_version") == [(restored.head,)]
    engine = create_engine(live)
    async with create_sessionmaker(engine)() as session:
        person = await session.scalar(select(User).where(User.telegram_id == 700000004))
        assert person is not None and person.locale == "ar" and person.stopped_at is None
        answers = await session.scalar(select(func.count()).select_from(SurveyAnswer))
        assert answers == 9
    await engine.dispose()


async def test_people_erased_since_the_backup_stay_erased_after_a_restore(
    scratch: Scratch, tmp_path: Path
) -> None:
    live = await scratch.database(revision=RELEASE)
    await fill(live)
    await upgrade(live)
    erased_before = await rows(live, "SELECT id FROM users WHERE erased_at IS NOT NULL")
    path = await backup(live, tmp_path / "backups", now=NOON)
    engine = create_engine(live)
    try:
        async with create_sessionmaker(engine).begin() as session:
            # The person who reported need 1 uses /forget; an association erases Mme R.
            person = await session.get(User, 1)
            assert person is not None
            await forget_user(session, person, NOON)
            assisted = await session.get(AssistedParticipation, 1)
            assert assisted is not None
            await forget_assisted(session, assisted)
    finally:
        await engine.dispose()

    restored = await restore(live, path)

    assert restored.erasures_replayed == 2
    assert await rows(
        live, "SELECT telegram_id, erased_at IS NOT NULL FROM users WHERE id = 1"
    ) == [(None, True)]
    assert await rows(live, "SELECT text, latitude FROM needs WHERE id = 1") == [("", None)]
    assert await rows(live, "SELECT name, wishes FROM assisted_participations") == [("", None)]
    # Nobody else was touched.
    erased_after = await rows(live, "SELECT id FROM users WHERE erased_at IS NOT NULL")
    assert sorted(erased_after) == sorted([*erased_before, (1,)])


# Rotation


def test_keep_leaves_the_newest_backups_of_that_kind_and_nothing_else_is_touched(
    tmp_path: Path,
) -> None:
    names = [f"collective-202612{day:02}T030000Z.db" for day in range(1, 6)]
    others = ["collective-20261201T030000Z.dump", "notes.txt", ".collective-x.db.partial"]
    for name in names + others:
        (tmp_path / name).write_bytes(b"")
    removed = rotate(tmp_path, ".db", keep=2)
    assert [p.name for p in removed] == names[:3]
    assert [p.name for p in backups_in(tmp_path, ".db")] == names[3:]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[3:] + others)


async def test_backup_with_keep_rotates_after_writing(scratch: Scratch, tmp_path: Path) -> None:
    source = await scratch.database()
    written = [
        await backup(source, tmp_path, keep=3, now=NOON + timedelta(days=day)) for day in range(5)
    ]
    suffix = written[0].suffix
    assert backups_in(tmp_path, suffix) == written[2:]


# The commands


def collective(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**environment, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_commands_back_up_and_restore_and_say_what_they_did(
    tmp_path: Path, sqlite_template: Path
) -> None:
    live = tmp_path / "data" / "collective.db"
    live.parent.mkdir()
    live.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite+aiosqlite:///{live}"

    backed_up = collective("backup", "backups", "--keep", "3", database_url=url, cwd=tmp_path)
    assert backed_up.returncode == 0, backed_up.stderr
    path = tmp_path / backed_up.stdout.strip()
    assert backups_in(tmp_path / "backups", ".db") == [path]

    restored = collective("restore", str(path), database_url=url, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    said = restored.stdout.splitlines()
    assert said[0].startswith(f"Restored {path} into {live} (revision ")
    assert said[1].startswith(f"The database it replaced is kept as {live}.replaced-")

    (tmp_path / "notes.txt").write_text("a shopping list\n" * 100)
    refused = collective("restore", "notes.txt", database_url=url, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("Restore refused: notes.txt is not a readable SQLite")
    assert len(refused.stderr.strip().splitlines()) == 1


# The daily backup


async def claimed_days(harness: Harness) -> list[object]:
    async with harness.sessionmaker() as session:
        return list(await session.scalars(select(JobRun.day).where(JobRun.name == JOB)))


@pytest.mark.postgres
async def test_the_daily_backup_is_written_once_a_day_after_its_time_whatever_the_workers(
    harness_apart: Harness, tmp_path: Path
) -> None:
    folder = tmp_path / "daily"
    settings = harness_apart.settings.model_copy(
        update={"backup_dir": str(folder), "backup_keep": 2, "backup_time": time(3, 0)}
    )
    context = JobContext(
        harness_apart.bot, harness_apart.sessionmaker, settings, harness_apart.i18n
    )
    engine = create_engine(settings.database_url)
    other_worker = JobContext(
        harness_apart.bot, create_sessionmaker(engine), settings, harness_apart.i18n
    )
    suffix = suffix_of(settings.database_url)
    paris_half_past_two = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)

    await daily_backup(context, paris_half_past_two)
    assert backups_in(folder, suffix) == []

    ten_past_three = paris_half_past_two + timedelta(minutes=40)
    await asyncio.gather(
        daily_backup(context, ten_past_three), daily_backup(other_worker, ten_past_three)
    )
    await daily_backup(other_worker, ten_past_three + timedelta(hours=12))
    assert [p.name for p in backups_in(folder, suffix)] == [f"collective-20261207T021000Z{suffix}"]

    for days in (1, 2):
        await daily_backup(context, ten_past_three + timedelta(days=days))
    assert [p.name for p in backups_in(folder, suffix)] == [
        f"collective-20261208T021000Z{suffix}",
        f"collective-20261209T021000Z{suffix}",
    ]
    await engine.dispose()


async def test_a_failed_daily_backup_is_tried_again_at_the_next_tick(
    harness_apart: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_folder = tmp_path / "backups"
    not_a_folder.write_text("")
    settings = harness_apart.settings.model_copy(update={"backup_dir": str(not_a_folder)})
    context = JobContext(
        harness_apart.bot, harness_apart.sessionmaker, settings, harness_apart.i18n
    )
    morning = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    await run_jobs(context, morning, [(JOB, daily_backup)])
    assert f"scheduled job {JOB} failed" in caplog.text
    assert await claimed_days(harness_apart) == []

    fixed = settings.model_copy(update={"backup_dir": str(tmp_path / "daily")})
    context = JobContext(harness_apart.bot, harness_apart.sessionmaker, fixed, harness_apart.i18n)
    await run_jobs(context, morning + timedelta(seconds=15), [(JOB, daily_backup)])
    assert len(backups_in(tmp_path / "daily", suffix_of(fixed.database_url))) == 1
    assert await claimed_days(harness_apart) == [morning.date()]


async def test_no_daily_backup_without_a_folder(harness_apart: Harness) -> None:
    assert not harness_apart.settings.backup_dir
    context = JobContext(
        harness_apart.bot, harness_apart.sessionmaker, harness_apart.settings, harness_apart.i18n
    )
    await daily_backup(context, datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    assert await claimed_days(harness_apart) == []
