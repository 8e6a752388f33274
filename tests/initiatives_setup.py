"""Shared setup for initiative tests: people, published initiatives, the group, the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.initiatives import Decision, Proposal, decide, submit
from storage.models import Initiative, OutboxMessage, User
from storage.users import find_user
from tests.conversation import Harness, Person, plain
from tests.people import onboard

GROUP_ID = -100500
COORDINATOR_ID = 42


async def onboarded(
    harness: Harness,
    user_id: int = 1001,
    organisation: str | None = None,
    *,
    verified: bool = False,
) -> Person:
    """`verified`: their organisation verified by the coordinators, so that they act for it."""
    person = harness.person(user_id, language_code="en")
    await onboard(person, organisation=organisation)
    if verified:
        async with harness.sessionmaker.begin() as session:
            user = await find_user(session, user_id)
            assert user is not None and user.organisation is not None
            user.organisation.verified = True
    return person


async def published(
    harness: Harness,
    author: Person,
    title: str,
    *,
    theme: str = "older_people",
    arrondissement: int = 3,
    description: str = "Weekly visits and phone calls to older people living alone.",
    photo: str | None = None,
) -> int:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert user is not None
        initiative = await submit(
            session,
            user,
            Proposal(title, description, theme, arrondissement, photo_file_id=photo),
        )
        await decide(
            session, initiative.id, Decision.approve, actor_id=COORDINATOR_ID, actor_name="Coord"
        )
        return initiative.id


def group_person(harness: Harness, user_id: int = COORDINATOR_ID) -> Person:
    """Someone in the coordinators' group: their messages go to the group chat."""
    harness.standin.add_chat(harness.standin.make_group(GROUP_ID))
    return GroupPerson(harness, harness.standin.make_user(user_id, language_code="fr"))


class GroupPerson(Person):
    async def send(self, text: str | None = None, **fields: Any):  # type: ignore[no-untyped-def]
        fields.setdefault("chat", self.standin.make_group(GROUP_ID))
        return await super().send(text, **fields)

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.standin.chat_messages(GROUP_ID) if m.get("from", {}).get("is_bot")]


async def outbox(harness: Harness) -> list[tuple[int, str, dict[str, Any]]]:
    """What waits for delivery: (chat id, text as read, payload)."""
    async with harness.sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [
            (
                row.chat_id,
                plain(row.payload.get("text") or row.payload.get("caption")),
                row.payload,
            )
            for row in rows
            # Not a copy /pending showed, remembered without its text (`outbox.remember_shown`).
            if row.payload or row.sent_at is not None
        ]


async def initiative(harness: Harness, initiative_id: int) -> Initiative:
    async with harness.sessionmaker() as session:
        found = await session.get(Initiative, initiative_id)
        assert found is not None
        return found


async def user_row(harness: Harness, telegram_id: int) -> User:
    async with harness.sessionmaker() as session:
        found = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert found is not None
        return found
