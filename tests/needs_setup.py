"""Needs for the tests: someone at a step of reporting one, and the needs stored."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Need
from tests.conversation import Harness, Person
from tests.people import onboard


async def needs(harness: Harness) -> list[Need]:
    async with harness.sessionmaker() as session:
        return list(await session.scalars(select(Need).order_by(Need.id)))


async def reporting(harness: Harness, user_id: int = 1001) -> Person:
    """An onboarded citizen of the 3rd, at the first step of reporting a need."""
    person = harness.person(user_id, language_code="en")
    await onboard(person)
    await person.press("Report a need")
    return person


async def at_description(harness: Harness) -> Person:
    person = await reporting(harness)
    await person.press("Housing")
    await person.press("Yes: Arrondissement 3")
    return person
