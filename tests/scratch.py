"""Databases made for one test and dropped after it: SQLite files under the test's folder, or
PostgreSQL databases (TEST_DATABASE_URL's server) named collective_scratch_…, so that a test
that restores or migrates never touches the shared test database's tables. And the previous
release's data (tests/fixtures/release-0009.sql), to fill one of them with."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine, is_sqlite
from storage.migrate import upgrade

POSTGRES = os.environ.get("TEST_DATABASE_URL")
# The previous release's schema revision, and a city's data as it held it.
RELEASE = "0009"
RELEASE_DATA = Path(__file__).parent / "fixtures" / f"release-{RELEASE}.sql"


@dataclass
class Scratch:
    on_sqlite: bool
    folder: Path
    # A database migrated to the head, copied rather than migrated again (conftest's).
    template: Path
    made: list[str] = field(default_factory=list)

    async def database(self, revision: str | None = "head") -> str:
        """A new database at `revision` (None: nothing in it yet)."""
        name = f"collective_scratch_{uuid.uuid4().hex[:12]}"
        if self.on_sqlite:
            path = self.folder / name / "collective.db"
            path.parent.mkdir()
            url = f"sqlite+aiosqlite:///{path}"
            if revision == "head":
                path.write_bytes(self.template.read_bytes())
                return url
        else:
            assert POSTGRES is not None
            await admin(f'CREATE DATABASE "{name}"')
            self.made.append(name)
            url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
        if revision is not None:
            await upgrade(url, revision)
        return url

    async def drop(self) -> None:
        for name in self.made:
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def admin(statement: str) -> None:
    """A statement outside any transaction (CREATE and DROP DATABASE need it)."""
    assert POSTGRES is not None
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def statements(sql: str) -> list[str]:
    """The fixture's statements: each ends with a line ending in ";"."""
    found, current = [], []
    for line in sql.splitlines():
        if not current and (not line.strip() or line.startswith("--")):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            found.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    assert not current, "the fixture's last statement has no ;"
    return found


async def fill(url: str) -> None:
    """Inserts the previous release's rows into a database at that revision."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if not is_sqlite(url):
                # The fixture's times are UTC, written without a zone as SQLite stores them.
                await connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            for statement in statements(RELEASE_DATA.read_text(encoding="utf-8")):
                await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()
