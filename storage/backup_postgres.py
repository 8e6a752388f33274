"""PostgreSQL's side of storage/backup.py: `pg_dump` to back up, `pg_restore` and `psql` to
restore. The tools read the connection from libpq's variables (PGHOST, PGPASSWORD…), made from
DATABASE_URL, so that the password never appears on a command line."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from storage.backup_base import BackupError, Restored, RestoreRefused, check_revision, which
from storage.db import create_engine
from storage.erasures import erasures_in, replay
from storage.migrate import upgrade

# Other sessions on the database, the bot's pooled connections among them (not autovacuum).
OTHER_SESSIONS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)


def libpq_environment(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    environment = dict(os.environ)
    for variable, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            environment[variable] = str(value)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str):
        environment["PGSSLMODE"] = "require" if ssl == "true" else ssl
    return environment


async def dump(database_url: str, target: Path) -> None:
    """The whole database in pg_dump's custom format (compressed, one snapshot)."""
    command = [which("pg_dump"), "--no-password", "--format=custom", f"--file={target}"]
    process = await asyncio.create_subprocess_exec(
        *command,
        env=libpq_environment(database_url),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, error = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"pg_dump failed: {_last_line(error)}")


async def archive_revision(copy: Path) -> str | None:
    """The migration revision stored in the archive, read without restoring it; refuses a file
    pg_restore cannot read."""
    process = await asyncio.create_subprocess_exec(
        which("pg_restore"),
        "--data-only",
        "--table=alembic_version",
        "--file=-",
        str(copy),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, error = await process.communicate()
    if process.returncode != 0:
        raise RestoreRefused(f"{copy} is not an archive pg_restore can read: {_last_line(error)}")
    lines = output.decode().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            rows = lines[number + 1 : lines.index("\\.", number)]
            if len(rows) > 1:
                raise RestoreRefused("the copy holds several migration revisions")
            return rows[0] if rows else None
    return None


async def sessions_elsewhere(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(OTHER_SESSIONS)).scalar_one())
    finally:
        await engine.dispose()


async def restore_dump(database_url: str, copy: Path) -> Restored:
    """Checks the archive (readable, at a known revision), refuses while another session is on
    the database, then replaces the whole schema with the archive's in one transaction, and
    migrates it to this code's head if it is older.

    Not `pg_restore --clean`: it drops only what the archive holds, so a table added by a later
    migration would stay and make that migration fail; the schema is emptied instead, in the
    same transaction as the restore — any error leaves the database as it was."""
    pg_restore, psql = which("pg_restore"), which("psql")
    revision, head = check_revision(await archive_revision(copy))
    url = make_url(database_url)
    erased = await erasures_in(database_url)
    try:
        others = await sessions_elsewhere(database_url)
    except (OSError, SQLAlchemyError) as error:
        raise BackupError(f"cannot reach the database {url.database}: {error}") from None
    if others:
        raise RestoreRefused(
            f"the database {url.database} is in use by {others} other session(s): stop the "
            "bot (every worker), then restore again"
        )
    environment = libpq_environment(database_url)
    reading, writing = os.pipe()
    try:
        producer = await asyncio.create_subprocess_exec(
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--file=-",
            str(copy),
            stdout=writing,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
    finally:
        os.close(writing)
    try:
        consumer = await asyncio.create_subprocess_exec(
            psql,
            "--no-password",
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            "--single-transaction",
            "--command=DROP SCHEMA public CASCADE",
            "--command=CREATE SCHEMA public",
            "--file=-",
            stdin=reading,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
    finally:
        os.close(reading)
    (_, produced), (_, consumed) = await asyncio.gather(
        producer.communicate(), consumer.communicate()
    )
    if consumer.returncode != 0 or producer.returncode != 0:
        reason = _last_line(consumed) if consumer.returncode else _last_line(produced)
        raise BackupError(f"the restore failed and was rolled back: {reason}")
    if revision != head:
        try:
            await upgrade(database_url)
        except SQLAlchemyError as error:
            raise BackupError(
                f"restored at revision {revision}, but migrating it to {head} failed (the bot "
                f"tries again at start): {error}"
            ) from None
    replayed = await replay(database_url, erased)
    return Restored(
        url.render_as_string(hide_password=True), revision, head, erasures_replayed=replayed
    )


def _last_line(output: bytes) -> str:
    lines = output.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no message"
