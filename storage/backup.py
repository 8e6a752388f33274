"""Backups of the bot's database, taken while it runs, and their restore.

A backup is a consistent copy: on SQLite, the online backup API in a single step, which is one
read transaction — the copy is the database as it was when the backup began, and WAL lets the
bot go on writing meanwhile; on PostgreSQL, `pg_dump` in its custom format (one snapshot).
Files are named by the UTC time they were taken, so that their names sort by age:
`collective-20261207T031500Z.db` (SQLite, a database file that sqlite3 opens as it is) or
`collective-20261207T031500Z.dump` (PostgreSQL, for `pg_restore`).

A restore swaps a copy in only when nothing has the database open, and only a copy that passes
the checks: SQLite's integrity check (PostgreSQL: an archive pg_restore can read) and a migration
revision this code knows — its head, or an older one, which is then migrated to the head.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.backup_base import BackupError, Restored, RestoreRefused, check_revision
from storage.backup_postgres import dump, restore_dump
from storage.db import is_sqlite
from storage.erasures import Erasures, erasures_in, replay
from storage.migrate import upgrade
from storage.models import utcnow

PREFIX = "collective-"
STAMP = "%Y%m%dT%H%M%SZ"
NAME = re.compile(r"^collective-\d{8}T\d{6}Z\.(db|dump)$")
# Another connection to the database: SQLite answers "database is locked" at once rather than
# after a busy timeout (nothing here waits on the clock).
NO_WAIT = 0.0


def suffix_of(database_url: str) -> str:
    return ".db" if is_sqlite(database_url) else ".dump"


def backup_name(taken_at: datetime, suffix: str) -> str:
    return f"{PREFIX}{taken_at.strftime(STAMP)}{suffix}"


def backups_in(directory: Path, suffix: str) -> list[Path]:
    """The backups of one kind in `directory`, oldest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    found = (p for p in directory.iterdir() if NAME.match(p.name) and p.suffix == suffix)
    return sorted(found, key=lambda path: path.name)


def rotate(directory: Path, suffix: str, keep: int) -> list[Path]:
    """Removes all but the `keep` newest backups of that kind; returns what it removed."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    removed = backups_in(directory, suffix)[:-keep]
    for path in removed:
        path.unlink()
    return removed


async def backup(
    database_url: str,
    directory: str | Path,
    *,
    keep: int | None = None,
    now: datetime | None = None,
) -> Path:
    """Writes a consistent copy of the database into `directory` (created if needed), named by
    `now` (UTC), then keeps only the `keep` newest backups of that kind there."""
    folder = Path(directory)
    suffix = suffix_of(database_url)
    final = folder / backup_name((now or utcnow()).astimezone(UTC), suffix)
    # Written under a hidden name, then renamed: a backup cut short never looks complete.
    partial = folder / f".{final.name}.partial"
    await asyncio.to_thread(_make_room, final)
    try:
        if is_sqlite(database_url):
            await asyncio.to_thread(_sqlite_backup, sqlite_path(database_url), partial)
        else:
            await dump(database_url, partial)
        await asyncio.to_thread(_publish, partial, final)
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
    if keep is not None:
        await asyncio.to_thread(rotate, folder, suffix, keep)
    return final


def _make_room(final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        raise BackupError(f"{final} already exists")


def _publish(partial: Path, final: Path) -> None:
    _fsync(partial)
    os.replace(partial, final)
    _fsync_directory(final.parent)


async def restore(database_url: str, source: str | Path) -> Restored:
    """Replaces the database with the copy in `source`, after its checks; the database must
    not be in use (stop the bot first). Raises RestoreRefused, having changed nothing."""
    copy = Path(source)
    if not await asyncio.to_thread(copy.is_file):
        raise RestoreRefused(f"{copy}: no such file")
    if is_sqlite(database_url):
        return await _sqlite_restore(database_url, copy)
    return await restore_dump(database_url, copy)


# SQLite


def sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names no database file")
    return Path(database)


def _sqlite_backup(database: Path, target: Path) -> None:
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(target, isolation_level=None)
    try:
        # pages=-1: all pages in one step, one read transaction, one moment of the database.
        # In steps, each write by the bot in between would restart the copy.
        source.backup(copy, pages=-1)
        _make_self_contained(copy)
        problems = _integrity_problems(copy)
    finally:
        copy.close()
        source.close()
    if problems:
        raise BackupError(f"the copy fails SQLite's integrity check: {problems}")


def _make_self_contained(connection: sqlite3.Connection) -> None:
    # The copy's header says WAL like the bot's database: make it one file, with no -wal.
    connection.execute("PRAGMA journal_mode=DELETE")


def _integrity_problems(connection: sqlite3.Connection) -> str:
    lines = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return "" if lines == ["ok"] else "; ".join(lines[:3])


async def _sqlite_restore(database_url: str, source: Path) -> Restored:
    target = sqlite_path(database_url)
    # Refused before any work when the bot runs; checked again, and held, at the swap.
    await asyncio.to_thread(_release_if_unused, target)
    erased = await erasures_in(database_url) if target.exists() else Erasures()
    prepared = await asyncio.to_thread(_beside, target)
    try:
        revision, head = check_revision(await asyncio.to_thread(_prepare_copy, source, prepared))
        copy_url = f"sqlite+aiosqlite:///{prepared}"
        if revision != head:
            # Migrated on the copy, before the swap: a failing migration leaves the database
            # as it was.
            await upgrade(copy_url)
        replayed = await replay(copy_url, erased)
        if revision != head or replayed:
            await asyncio.to_thread(_settle, prepared)
        replaced = await asyncio.to_thread(_swap, prepared, target)
    finally:
        for leftover in (prepared, *_companions(prepared)):
            leftover.unlink(missing_ok=True)
    return Restored(
        str(target),
        revision,
        head,
        replaced=str(replaced) if replaced else None,
        erasures_replayed=replayed,
    )


def _beside(target: Path) -> Path:
    """A new empty file in the database's folder: the rename that swaps it in stays on one
    file system."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=target.parent)
    os.close(handle)
    return Path(name)


def _prepare_copy(source: Path, prepared: Path) -> str | None:
    """Copies `source` to `prepared` (read-only on the source) and checks the copy; returns its
    migration revision."""
    try:
        original = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        copy = sqlite3.connect(prepared, isolation_level=None)
        try:
            original.backup(copy, pages=-1)
            _make_self_contained(copy)
            problems = _integrity_problems(copy)
            if problems:
                raise RestoreRefused(f"the copy fails SQLite's integrity check: {problems}")
            try:
                rows = copy.execute("SELECT version_num FROM alembic_version").fetchall()
            except sqlite3.OperationalError:
                rows = []
        finally:
            copy.close()
            original.close()
    except sqlite3.DatabaseError as error:
        raise RestoreRefused(f"{source} is not a readable SQLite database ({error})") from None
    if len(rows) > 1:
        raise RestoreRefused("the copy holds several migration revisions")
    return rows[0][0] if rows else None


def _settle(prepared: Path) -> None:
    # After the migrations (which ran in WAL), one file again, and fsynced with the rest.
    copy = sqlite3.connect(prepared, isolation_level=None)
    try:
        _make_self_contained(copy)
    finally:
        copy.close()


def _companions(database: Path) -> list[Path]:
    return [database.with_name(database.name + end) for end in ("-wal", "-shm", "-journal")]


def _exclusive(target: Path) -> sqlite3.Connection | None:
    """A connection to the live database that is sure nobody else has it open, or a refusal.

    The bot's connections keep the database in WAL mode, and every connection to a WAL
    database holds a shared lock on its file for as long as it is open, idle or not (a pooled
    connection of a running bot, `collective chat`, an sqlite3 shell). Leaving WAL mode needs
    that lock alone, so `PRAGMA journal_mode=DELETE` succeeds only when no other connection is
    open — and SQLite then folds the WAL into the file and removes -wal and -shm itself.
    (An exclusive transaction would not tell: in WAL mode it waits for writers only.)"""
    if not target.exists():
        return None
    connection = sqlite3.connect(target, timeout=NO_WAIT, isolation_level=None)
    try:
        mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError as error:
        connection.close()
        raise RestoreRefused(
            f"{target} is in use by another process ({error}): stop the bot (and any "
            "`collective` command or sqlite3 shell using it), then restore again"
        ) from None
    except sqlite3.DatabaseError:
        # Its header is gone: no connection can be working on it as a database.
        connection.close()
        return None
    if mode != "delete":
        connection.close()
        raise RestoreRefused(f"{target} is in use by another process (it stays in {mode} mode)")
    return connection


def _release_if_unused(target: Path) -> None:
    connection = _exclusive(target)
    if connection is not None:
        connection.close()


def _swap(prepared: Path, target: Path) -> Path | None:
    """Puts `prepared` in place of `target` in one rename, with nobody able to open the old
    database meanwhile; the old one stays beside it (returned), so that a restore of the
    wrong file can be undone."""
    _fsync(prepared)
    gate = _exclusive(target)
    aside = None
    try:
        if target.exists():
            if gate is not None:
                # In rollback mode now: this lock keeps out any connection, reader or
                # writer, until the new file is in place.
                gate.execute("BEGIN EXCLUSIVE")
            # Nothing can be using them now; a -wal of the old database left here would be
            # replayed into the new one.
            for stale in _companions(target):
                stale.unlink(missing_ok=True)
            aside = _set_aside(target)
            _same_owner_and_mode(prepared, target)
        os.replace(prepared, target)
        _fsync_directory(target.parent)
    finally:
        if gate is not None:
            gate.close()
    return aside


def _same_owner_and_mode(prepared: Path, target: Path) -> None:
    status = target.stat()
    os.chmod(prepared, stat.S_IMODE(status.st_mode))
    try:
        os.chown(prepared, status.st_uid, status.st_gid)
    except PermissionError:
        pass  # not root: the file is ours, as the database was if we could replace it


def _set_aside(target: Path) -> Path:
    stamp = utcnow().strftime(STAMP)
    for attempt in range(100):
        aside = target.with_name(
            f"{target.name}.replaced-{stamp}" + (f"-{attempt}" * bool(attempt))
        )
        try:
            # A second name for the same file: nothing copied, and the rename that follows
            # leaves the old database whole under this name.
            os.link(target, aside)
        except FileExistsError:
            continue
        except OSError:
            shutil.copy2(target, aside)
        return aside
    raise BackupError(f"too many replaced copies of {target} beside it")


def _fsync(path: Path) -> None:
    with open(path, "rb+") as file:
        os.fsync(file.fileno())


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
