"""Databases made for one test and dropped after it: SQLite files under the test's folder, or
PostgreSQL databases (TEST_DATABASE_URL's server) named collective_scratch_…, so that a test
that restores or migrates never touches the shared test database's tables."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade

POSTGRES = os.environ.get("TEST_DATABASE_URL")


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
