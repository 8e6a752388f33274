"""Erasures outlive a restore: a backup taken before someone used /forget (or before an
organisation erased a person it had registered) still holds their words; restoring it would
bring them back. The erasures found in the database being replaced are done again on the copy
before it takes its place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from storage.db import create_engine, create_sessionmaker
from storage.models import AssistedParticipation, User
from storage.privacy import forget_assisted, forget_user


@dataclass(frozen=True)
class Erasures:
    # Row ids: they are never reused (a person's row stays, anonymous, once erased).
    people: frozenset[int] = field(default_factory=frozenset)
    registered: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.people or self.registered)


async def erasures_in(database_url: str) -> Erasures:
    """The erasures done in that database; none when it does not exist or holds no tables."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            people = await connection.scalars(select(User.id).where(User.erased_at.is_not(None)))
            registered = await connection.scalars(
                select(AssistedParticipation.id).where(AssistedParticipation.name == "")
            )
            return Erasures(frozenset(people), frozenset(registered))
    except SQLAlchemyError:
        return Erasures()
    finally:
        await engine.dispose()


async def replay(database_url: str, erasures: Erasures, now: datetime | None = None) -> int:
    """Erases again, in that database, whoever `erasures` names and it still holds; returns
    how many it erased. The group cards were rewritten at the time of the first erasure."""
    if not erasures:
        return 0
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            people = await session.scalars(
                select(User).where(User.id.in_(erasures.people), User.erased_at.is_(None))
            )
            erased = 0
            for person in list(people):
                await forget_user(session, person, now)
                erased += 1
            registered = await session.scalars(
                select(AssistedParticipation).where(
                    AssistedParticipation.id.in_(erasures.registered),
                    AssistedParticipation.name != "",
                )
            )
            for assisted in list(registered):
                await forget_assisted(session, assisted)
                erased += 1
            return erased
    finally:
        await engine.dispose()
