"""Challenges for the tests: the isolation challenge made through storage, people taking part
in it, and steps that many conversations share."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.challenges import close_challenge, create_challenge, join, open_challenge
from storage.models import Challenge, FsmRecord, Role
from storage.privacy import accept_notice
from storage.users import (
    complete_onboarding,
    get_or_create_user,
    set_arrondissement,
    set_role,
    set_themes,
)
from tests.conversation import Harness, Person
from tests.initiatives_setup import COORDINATOR_ID
from tests.texts import t

# The programme's first real challenge, as coordinators import it.
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "isolation-challenge.yaml"

TITLE = "Breaking the isolation of older people"
DESCRIPTION = "Many older people in Marseille live alone. Let us visit, call and go out with them."
TITLE_AR = "كسر عزلة كبار السن"
DESCRIPTION_AR = "يعيش كثير من كبار السن في مرسيليا بمفردهم. لنزرهم ونتصل بهم ونخرج معهم."
STARTS, ENDS = date(2025, 3, 1), date(2030, 6, 30)
KINDS = ["time", "skills", "premises", "funding"]
TIMEZONE = "Europe/Paris"


def activity(code: str, label: str, *, on_site: bool, remote: bool, hours: int) -> dict:
    return {
        "code": code,
        "texts": {"en": label, "fr": label + " (fr)"},
        "on_site": on_site,
        "remote": remote,
        "hours_per_month": hours,
    }


# The isolation challenge's ways to help.
ACTIVITIES = [
    activity("visits", "Visits", on_site=True, remote=False, hours=4),
    activity("phone_calls", "Phone calls", on_site=False, remote=True, hours=2),
    activity("outings", "Outings", on_site=True, remote=False, hours=6),
    activity("errands", "Help with errands", on_site=True, remote=False, hours=3),
    activity("digital_help", "Digital help", on_site=True, remote=True, hours=3),
]


async def make_challenge(
    harness: Harness,
    title: str = TITLE,
    *,
    theme: str = "older_people",
    arrondissements: list[int] | None = None,
    activities: list[dict] | None = None,
    opened: bool = True,
    opened_at: datetime | None = None,
    arabic: bool = False,
) -> Challenge:
    texts: dict[str, dict[str, str]] = {
        "fr": {"title": title + " (fr)", "description": DESCRIPTION + " (fr)"},
        "en": {"title": title, "description": DESCRIPTION},
    }
    if arabic:
        texts["ar"] = {"title": TITLE_AR, "description": DESCRIPTION_AR}
    async with harness.sessionmaker.begin() as session:
        challenge = await create_challenge(
            session,
            texts=texts,
            theme_code=theme,
            arrondissements=arrondissements or [],
            starts_on=STARTS,
            ends_on=ENDS,
            contribution_kinds=KINDS,
            activities=ACTIVITIES if activities is None else activities,
            author_telegram_id=COORDINATOR_ID,
        )
        if opened:
            await open_challenge(
                session, challenge.id, COORDINATOR_ID, now=opened_at, timezone=TIMEZONE
            )
        return challenge


async def closed(harness: Harness, challenge_id: int) -> None:
    async with harness.sessionmaker.begin() as session:
        await close_challenge(session, challenge_id, COORDINATOR_ID)


async def visitor(harness: Harness, user_id: int = 2001, language: str = "en") -> Person:
    """Someone who has not accepted the notice: browsing is open to them too."""
    person = harness.person(user_id, language_code=language)
    await person.send("/help")
    return person


def alert_of(calls: list) -> dict[str, Any]:
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    return answer.params


async def dialog_state(harness: Harness, person: Person) -> tuple[str | None, dict]:
    async with harness.sessionmaker() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.user_id == person.id))
        return (record.state, record.data) if record else (None, {})


ASSOCIATION, COMPANY, CITIZEN, OUTSIDER = 3001, 3002, 3003, 3004
ASSOCIATION_NAME = "Petits Frères & Sœurs"
COMPANY_NAME = "Boulangerie Martin"
ASSOCIATION_BRINGS = "We visit <older> people & call them."
COMPANY_BRINGS = "Our back room, on Sunday afternoons."
CITIZEN_BRINGS = "I am Jeanne Dupont, I live rue Paradis."


async def participant(
    harness: Harness,
    telegram_id: int,
    challenge: Challenge | None,
    *,
    locale: str = "en",
    role: Role = Role.citizen,
    organisation: str | None = None,
    arrondissement: int = 5,
    kind: str = "time",
    text: str | None = None,
    verified: bool = True,
) -> Person:
    """Someone onboarded through storage, taking part in `challenge` (when given)."""
    async with harness.sessionmaker.begin() as session:
        user = await get_or_create_user(session, telegram_id, locale)
        accept_notice(user)
        set_role(user, role, organisation)
        if user.organisation is not None:
            # Verified by the coordinators: its members speak for it (storage/organisations.py).
            user.organisation.verified = verified
        set_arrondissement(user, arrondissement)
        await set_themes(session, user, ["older_people"])
        complete_onboarding(user)
        await session.flush()
        if challenge is not None:
            found = await session.get(Challenge, challenge.id)
            assert found is not None
            await join(session, found, user, kind=kind, text=text, timezone=TIMEZONE)
    person = harness.person(telegram_id, language_code=locale)
    # The chat exists for the stand-in, as for Telegram once the person started the bot.
    await person.send("/start")
    return person


async def cast(harness: Harness) -> tuple[Challenge, Person, Person, Person, Person]:
    """An open challenge; an association (English), a company (French) and a citizen taking
    part; an association that does not."""
    challenge = await make_challenge(harness)
    association = await participant(
        harness,
        ASSOCIATION,
        challenge,
        role=Role.association,
        organisation=ASSOCIATION_NAME,
        kind="skills",
        text=ASSOCIATION_BRINGS,
    )
    company = await participant(
        harness,
        COMPANY,
        challenge,
        locale="fr",
        role=Role.company,
        organisation=COMPANY_NAME,
        kind="premises",
        text=COMPANY_BRINGS,
    )
    citizen = await participant(harness, CITIZEN, challenge, text=CITIZEN_BRINGS)
    outsider = await participant(
        harness, OUTSIDER, None, role=Role.association, organisation="Club Hors Jeu"
    )
    return challenge, association, company, citizen, outsider


async def open_card(person: Person) -> None:
    await person.send("/start")
    await person.press(t(person.user["language_code"], "Challenges"))
    await person.press(TITLE)


async def organisations_of(person: Person) -> str:
    await open_card(person)
    await person.press(t(person.user["language_code"], "Organisations taking part"))
    return person.last


async def register_start(member: Person) -> None:
    """A member of an organisation, on the challenge's card, starts registering someone."""
    await member.press("Challenges")
    await member.press(TITLE)
    await member.press("Register someone I accompany")
    assert "What is their first name, or their initials?" in member.last
