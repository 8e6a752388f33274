"""Migrations on a database full of a city's data: the previous release's rows
(tests/fixtures/release-0009.sql) all survive the upgrade to this code's head, with their
values, and a downgrade and upgrade again.

The comparison goes over every table and column found in the database, not a list written
here: a later migration is held to the same promise without touching this test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from storage.db import create_engine, create_sessionmaker, is_sqlite
from storage.migrate import downgrade, upgrade
from storage.models import Base
from tests.scratch import RELEASE, RELEASE_DATA, Scratch, fill, statements

# What the rows of the previous release get in the columns added since.
ADDED = {
    ("users", "stopped_at"): None,
    ("users", "inactivity_warned_at"): None,
    ("users", "inactivity_final_warned_at"): None,
    ("outbox", "subject"): None,
    ("survey_questions", "published"): False,
}
# Columns a migration fills from each row's own data, rather than with one default.
DERIVED = {
    # 0012: an organisation verified before verification had a time was verified when made.
    ("organisations", "verified_at"): lambda row: row["created_at"] if row["verified"] else None,
}

Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


@pytest.fixture
async def scratch(
    database_url: str, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Scratch]:
    made = Scratch(is_sqlite(database_url), tmp_path, sqlite_template)
    try:
        yield made
    finally:
        await made.drop()


def inserted_per_table(sql: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for statement in statements(sql):
        table = statement.split()[2]
        values = statement.split(" VALUES", 1)[1]
        counts[table] = counts.get(table, 0) + sum(
            1 for line in values.splitlines() if line.lstrip().startswith("(")
        )
    return counts


def _snapshot(connection: Connection) -> Snapshot:
    inspector = inspect(connection)
    tables: Snapshot = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        key = inspector.get_pk_constraint(table)["constrained_columns"]
        rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings()
        tables[table] = {tuple(row[c] for c in key): dict(row) for row in rows}
    return tables


async def snapshot(url: str) -> Snapshot:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_snapshot)
    finally:
        await engine.dispose()


def columns(tables: Snapshot, table: str) -> set[str]:
    rows = list(tables.get(table, {}).values())
    return set(rows[0]) if rows else set()


def kept(before: Snapshot, after: Snapshot) -> list[str]:
    """What of `before` is missing or changed in `after`: every row, every column it had."""
    lost = []
    for table, rows in before.items():
        if table not in after:
            lost.append(f"table {table}")
            continue
        for key, row in rows.items():
            now = after[table].get(key)
            if now is None:
                lost.append(f"{table} {key}")
                continue
            lost += [
                f"{table} {key} {column}: {value!r} became {now.get(column, 'nothing')!r}"
                for column, value in row.items()
                if column not in now or now[column] != value
            ]
    return lost


async def test_the_previous_release_data_survives_the_upgrade_and_a_downgrade(
    scratch: Scratch,
) -> None:
    url = await scratch.database(revision=RELEASE)
    await fill(url)
    release = await snapshot(url)
    # The fixture is all there before anything moves (the seeded themes besides).
    sql = RELEASE_DATA.read_text(encoding="utf-8")
    for table, count in inserted_per_table(sql).items():
        seeded = 12 if table == "themes" else 0
        assert len(release[table]) == count + seeded, table

    await upgrade(url)
    head = await snapshot(url)
    assert kept(release, head) == []
    # A column added since gives every old row the same value (a default), that one here.
    added = {(t, c) for t in release for c in columns(head, t) - columns(release, t)}
    assert set(ADDED) <= added
    for table, column in added:
        if (table, column) in DERIVED:
            derive = DERIVED[table, column]
            for row in head[table].values():
                assert row[column] == derive(row), (table, column, row)
            continue
        values = {row[column] for row in head[table].values()}
        assert len(values) == 1, (table, column, values)
        if (table, column) in ADDED:
            assert values == {ADDED[table, column]}, (table, column, values)

    # The application reads every row back, with its types (enums, JSON, times).
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        for mapper in Base.registry.mappers:
            table = mapper.local_table.name  # type: ignore[attr-defined]
            loaded = (await session.scalars(select(mapper.class_))).unique().all()
            assert len(loaded) == len(head[table]), table
    await engine.dispose()

    await downgrade(url, RELEASE)
    assert await snapshot(url) == release
    await upgrade(url)
    assert await snapshot(url) == head
