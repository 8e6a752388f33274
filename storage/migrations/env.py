"""Alembic environment: runs migrations over the project's async engine."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    # `alembic` run by hand reads the same variable as the bot.
    return os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///data/collective.db")


def run_with(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys(connection, enforced=False)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them.
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migrations broke foreign keys: {broken[:5]}")
    if sqlite and not connection.in_transaction():
        _foreign_keys(connection, enforced=True)


def _foreign_keys(connection: Connection, *, enforced: bool) -> None:
    """SQLite alters a table by copying it, dropping the old one and renaming the copy: with
    foreign keys enforced, dropping a table that other rows reference fails, so they are off
    while migrating, and checked at the end (https://www.sqlite.org/lang_altertable.html,
    "Making Other Kinds Of Table Schema Changes"). The pragma does nothing inside a
    transaction: it goes to the driver's connection before SQLAlchemy begins one."""
    assert not connection.in_transaction()
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
    finally:
        cursor.close()


async def run_online() -> None:
    engine = create_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
            await connection.commit()
    finally:
        await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_online())
