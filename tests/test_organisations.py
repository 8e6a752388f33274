"""Shared organisations: a member invites a colleague by link, asks the coordinators to verify
the organisation, and only then acts on its behalf; the last member leaving hands it to the
coordinators; names typed alike are merged by the coordinators."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.initiatives import Proposal, submit
from storage.models import AuditEntry, Organisation
from storage.users import find_user
from tests.challenges_setup import alert_of
from tests.conversation import Harness
from tests.delivery_setup import deliver
from tests.initiatives_setup import GROUP_ID, group_person, onboarded
from tests.people import onboard
from tests.texts import t


async def organisation_of(harness: Harness, telegram_id: int) -> Organisation | None:
    async with harness.sessionmaker() as session:
        user = await find_user(session, telegram_id)
        assert user is not None
        return user.organisation


async def test_a_colleague_joins_by_link_and_the_coordinators_verify(harness: Harness) -> None:
    member = await onboarded(harness, 1001, organisation="Voisins Solidaires")
    await member.send("/organisation")
    assert "Your organisation: Voisins Solidaires" in member.last
    assert "Members on La Collective: 1" in member.last
    assert "you act in your own name, not on its behalf" in member.last

    # Until verified, a proposal is the person's own, not the organisation's.
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, 1001)
        assert user is not None
        proposal = Proposal("Tea and talk", "Weekly visits to older people.", "older_people", 3)
        initiative = await submit(session, user, proposal)
        assert initiative.organisation_id is None

    await member.press("Invite a member")
    code = re.search(r"start=o_(\S+)", member.last)
    assert code is not None

    colleague = await onboarded(harness, 1002)
    await colleague.send(f"/start o_{code.group(1)}")
    assert "Join Voisins Solidaires on La Collective?" in colleague.last
    await colleague.press("Yes, join")
    assert "Welcome to Voisins Solidaires!" in colleague.last
    first, second = await organisation_of(harness, 1001), await organisation_of(harness, 1002)
    assert first is not None and second is not None and first.id == second.id

    await member.send("/organisation")
    await member.press("Ask the coordinators to verify it")
    assert "Waiting for the coordinators' verification." in member.last
    coordinator = group_person(harness)
    cards = [m for m in await deliver(harness) if m["chat"]["id"] == GROUP_ID]
    (card,) = cards
    assert "Voisins Solidaires" in card["text"]

    # Someone else than a coordinator cannot verify it, even with a forged button.
    await colleague.press_data(f"ov:{first.id}:1", colleague.bot_messages()[-1])
    assert not (await organisation_of(harness, 1001)).verified  # type: ignore[union-attr]

    await coordinator.press(t("fr", "Verify"), card)
    verified = await organisation_of(harness, 1001)
    assert verified is not None and verified.verified
    async with harness.sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "organisation.verify" in actions
    told = [m["text"] for m in await deliver(harness) if m["chat"]["id"] in (1001, 1002)]
    assert len(told) == 2 and all("Voisins Solidaires ✓ is verified" in text for text in told)

    # Verified: now the member acts on its behalf, and the badge shows.
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, 1001)
        assert user is not None
        proposal = Proposal("Board games", "Board games with older people.", "older_people", 3)
        initiative = await submit(session, user, proposal)
        assert initiative.organisation_id == verified.id
    await member.send("/organisation")
    assert "Voisins Solidaires ✓" in member.last

    # The colleague leaves, then the member: the coordinators are told it has nobody left.
    await colleague.send("/organisation")
    await colleague.press("Leave this organisation")
    await colleague.press("Yes, leave")
    assert await organisation_of(harness, 1002) is None
    await member.send("/organisation")
    await member.press("Leave this organisation")
    await member.press("Yes, leave")
    notices = [m["text"] for m in await deliver(harness) if m["chat"]["id"] == GROUP_ID]
    assert any("Voisins Solidaires ✓" in text and "🏷" in text for text in notices)


async def test_names_typed_alike_are_merged_by_the_coordinators_in_french(
    harness: Harness,
) -> None:
    first = harness.person(1101, language_code="fr")
    await onboard(first, organisation="Les Amis du Panier")
    second = harness.person(1102, language_code="fr")
    await onboard(second, organisation="les amis du  panier")
    await first.send("/organisation")
    assert "Invite a member" in first.buttons()

    coordinator = group_person(harness)
    await coordinator.send("/organisations")
    assert "Les Amis du Panier" in coordinator.last
    await coordinator.press(t("fr", "Merge them"))
    one, two = await organisation_of(harness, 1101), await organisation_of(harness, 1102)
    assert one is not None and two is not None and one.id == two.id

    # A citizen may not merge, even with a forged button.
    calls = await second.press_data(f"ox:{one.id}:0", second.bot_messages()[-1])
    assert alert_of(calls)["text"] == "Only the city's coordinators can do this."
    async with harness.sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions == ["organisation.merge"]
