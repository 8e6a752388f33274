"""Dialogs' states and drafts (fsm_records) as one update reads and writes them: each read at
most once per session, changed in memory, and written when the session commits — one
statement per changed dialog, without the ORM's unit of work (an upsert, or a delete for a
finished dialog). Most updates move their person's dialog on: through the ORM that write was a
flush of its own, some 150 µs of CPU; as a statement, half that.

The session's statements that read or delete fsm_records through the ORM (/mydata's export,
an erasure) first see what the session changed, as the ORM's autoflush would have shown them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Delete, Insert, Select, bindparam, delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from storage.models import FsmRecord, utcnow

_KNOWN = "dialogs"  # session.info: the dialogs read or changed in this session, by key
TABLE = FsmRecord.__table__


@dataclass
class Dialog:
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    stored: bool = False  # its row exists (as far as this session knows)
    changed: bool = False
    user_id: int | None = None

    @property
    def empty(self) -> bool:
        return self.state is None and not self.data


def known(session: AsyncSession | Session) -> dict[str, Dialog]:
    found: dict[str, Dialog] = session.info.setdefault(_KNOWN, {})
    return found


def remember(
    session: AsyncSession, key: str, found: tuple[str | None, dict[str, Any]] | None
) -> Dialog:
    """A dialog read with something else (the person, storage/users.py), as its state and
    data, or None for no row: not read again."""
    dialog = Dialog() if found is None else Dialog(found[0], dict(found[1]), stored=True)
    known(session)[key] = dialog
    return dialog


@lru_cache
def _reading() -> Select[Any]:
    return select(TABLE.c.state, TABLE.c.data).where(TABLE.c.key == bindparam("key"))


async def read_dialog(session: AsyncSession, key: str) -> Dialog:
    dialogs = known(session)
    dialog = dialogs.get(key)
    if dialog is None:
        connection = await session.connection()
        row = (await connection.execute(_reading(), {"key": key})).first()
        dialog = Dialog() if row is None else Dialog(row.state, dict(row.data or {}), True)
        dialogs[key] = dialog
    return dialog


@lru_cache
def _upsert(dialect: str) -> Insert:
    # The PostgreSQL dialect (some 2 MB) only where it is the database.
    module = "postgresql" if dialect == "postgresql" else "sqlite"
    insert = importlib.import_module(f"sqlalchemy.dialects.{module}").insert
    statement = insert(TABLE).values(
        key=bindparam("key"),
        user_id=bindparam("user_id"),
        state=bindparam("state"),
        data=bindparam("data"),
        updated_at=bindparam("updated_at"),
    )
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=[TABLE.c.key],
        set_={
            "state": statement.excluded.state,
            "data": statement.excluded.data,
            "updated_at": statement.excluded.updated_at,
        },
    )
    return upsert


@lru_cache
def _deleting() -> Delete:
    return delete(TABLE).where(TABLE.c.key == bindparam("key"))


def write_changed(session: Session) -> None:
    """Writes the dialogs the session changed (inside its greenlet: at commit, or before an
    ORM statement on fsm_records)."""
    dialogs: dict[str, Dialog] | None = session.info.get(_KNOWN)
    if not dialogs:
        return
    for key, dialog in dialogs.items():
        if not dialog.changed:
            continue
        dialog.changed = False
        if dialog.empty:
            # A finished dialog leaves no row behind.
            if dialog.stored:
                session.connection().execute(_deleting(), {"key": key})
                dialog.stored = False
            continue
        connection = session.connection()
        connection.execute(
            _upsert(connection.dialect.name),
            {
                "key": key,
                "user_id": dialog.user_id,
                "state": dialog.state,
                "data": dialog.data,
                "updated_at": utcnow(),
            },
        )
        dialog.stored = True


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    write_changed(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(state: ORMExecuteState) -> None:
    dialogs: dict[str, Dialog] | None = state.session.info.get(_KNOWN)
    if not dialogs or not (state.is_delete or any(d.changed for d in dialogs.values())):
        return  # nothing to show, or to forget: asked first, it is the cheaper question
    if FsmRecord.__mapper__ in state.all_mappers:
        write_changed(state.session)
        if state.is_delete:
            # Deleted from under the session: read again if asked.
            state.session.info.pop(_KNOWN, None)
