"""Coordinators list an initiative as a challenge's partner (shown on the challenge's card), and
see supports, offers of help and follows in /stats, the daily summary and the exports — a count
of 1 to 4 people never shown as such."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from handlers.challenges.callbacks import ChallengeCb
from storage import initiative_support as gather
from storage.exports import initiatives_csv, needs_csv
from storage.models import ChallengePartner, InitiativeFollow, User
from storage.users import find_user
from tests.challenges_setup import TITLE as CHALLENGE_TITLE
from tests.challenges_setup import make_challenge
from tests.conversation import Harness, plain, texts
from tests.initiatives_setup import group_person, onboarded, published
from tests.texts import t

TITLE = "Tea afternoons for older neighbours"


async def supporters(harness: Harness, initiative_id: int, count: int) -> None:
    async with harness.sessionmaker.begin() as session:
        for number in range(count):
            user = User(telegram_id=9_000 + number, locale="en")
            session.add(user)
            await session.flush()
            await gather.toggle(session, gather.InitiativeSupport, initiative_id, user)
            await gather.toggle(session, InitiativeFollow, initiative_id, user)


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_partner_initiative_is_listed_on_the_challenges_card(
    harness: Harness, locale: str
) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    challenge = await make_challenge(harness)
    coordinator = group_person(harness)

    [answer] = texts(await coordinator.send(f"/partner C-{challenge.id} I-{initiative_id}"))
    assert answer == plain(
        t(
            "fr",
            "{initiative} is now listed as a partner on the card of {challenge}.",
            initiative=f"I-{initiative_id}",
            challenge=f"C-{challenge.id}",
        )
    )
    reader = harness.person(2002, language_code=locale)
    await reader.send("/help")
    await reader.press_data(ChallengeCb(challenge_id=challenge.id).pack())
    # Quoted as the reader's language quotes: «\u00a0…\u00a0» in French, “…” in English.
    shown = {"fr": f"«\u00a0{TITLE}\u00a0»", "en": f"“{TITLE}”"}[locale]
    partners = t(locale, "Partner initiatives: {titles}", titles=shown)
    assert partners in reader.last

    await coordinator.send(f"/partner C-{challenge.id} I-{initiative_id} remove")
    async with harness.sessionmaker() as session:
        assert (await session.scalars(select(ChallengePartner))).all() == []
    await reader.press_data(ChallengeCb(challenge_id=challenge.id).pack())
    assert partners not in reader.last
    assert CHALLENGE_TITLE in reader.last or "(fr)" in reader.last


async def test_only_coordinators_list_partners(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    challenge = await make_challenge(harness)
    stranger = group_person(harness, 777)
    await stranger.send(f"/partner C-{challenge.id} I-{initiative_id}")
    async with harness.sessionmaker() as session:
        assert (await session.scalars(select(ChallengePartner))).all() == []
    # In a private chat too.
    await author.send(f"/partner C-{challenge.id} I-{initiative_id}")
    async with harness.sessionmaker() as session:
        assert (await session.scalars(select(ChallengePartner))).all() == []


async def test_stats_show_supports_keeping_small_counts_hidden(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    await supporters(harness, initiative_id, 3)
    coordinator = group_person(harness)
    [today] = texts(await coordinator.send("/stats"))
    few = t("fr", "fewer than 5")
    assert (
        plain(
            t(
                "fr",
                "🙌 Initiatives: {supports} supports · {helpers} offers of help · "
                "{followers} follows",
                supports=few,
                helpers=0,
                followers=few,
            )
        )
        in today
    )

    await supporters(harness, initiative_id, 0)
    async with harness.sessionmaker.begin() as session:
        for number in range(3, 6):
            user = User(telegram_id=9_000 + number, locale="en")
            session.add(user)
            await session.flush()
            await gather.support(session, initiative_id, user)
    [today] = texts(await coordinator.send("/stats"))
    assert (
        plain(
            t(
                "fr",
                "🙌 Initiatives: {supports} supports · {helpers} offers of help · "
                "{followers} follows",
                supports=6,
                helpers=0,
                followers=few,
            )
        )
        in today
    )


async def test_exports_count_supports_and_say_what_answers_a_need(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    other = await published(harness, author, "A shared garden at the foot of our block")
    await supporters(harness, initiative_id, 5)
    await supporters_of_one(harness, other)
    async with harness.sessionmaker() as session:
        rows = {row["reference"]: row for row in table(await initiatives_csv(session))}
        needs = table(await needs_csv(session))
    assert (rows[f"I-{initiative_id}"]["supports"], rows[f"I-{initiative_id}"]["followers"]) == (
        "5",
        "5",
    )
    assert rows[f"I-{other}"]["supports"] == "<5"
    assert rows[f"I-{other}"]["offers_of_help"] == "0"
    assert needs == []


def table(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


async def supporters_of_one(harness: Harness, initiative_id: int) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, 9_000)
        assert user is not None
        await gather.support(session, initiative_id, user)
