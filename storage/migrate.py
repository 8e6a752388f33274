"""Schema migrations, applied from code (at start, from the CLI, in tests).

Alembic (and Mako) cost some 12 MB resident for the life of the process: they are loaded only
when the database is not already at the newest revision, which is read from the migration
files' own lines.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*"([^"]+)"', re.MULTILINE)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest revision, from the files; None unless there is exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def current_revision(url: str) -> str | None:
    from storage.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            found = [row[0] for row in rows]
    except Exception:  # no such table yet, no such database yet: Alembic will say
        return None
    finally:
        await engine.dispose()
    return found[0] if len(found) == 1 else None


async def upgrade(url: str, revision: str = "head") -> None:
    if revision == "head" and (head := head_revision()) and await current_revision(url) == head:
        return
    from alembic import command

    # Alembic's env runs its own event loop; keep it off the bot's.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


async def downgrade(url: str, revision: str) -> None:
    from alembic import command

    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)
