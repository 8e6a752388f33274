"""What the random conversations (tests/test_random_conversations.py) found, each failure kept
as the plain conversation hypothesis reduced it to."""

from __future__ import annotations

from sqlalchemy import select

from storage.initiatives import Proposal, submit
from storage.models import Organisation, Role
from storage.users import find_user
from tests.conversation import Harness
from tests.delivery_setup import deliver
from tests.initiatives_setup import GROUP_ID, group_person, onboarded
from tests.people import onboard
from tests.texts import t

TITLE = "Tea afternoons Zq5002g0x"
ORGANISATION = "Boulangerie du Panier Zq5006g0x"
DESCRIPTION = "Every Thursday at the centre, tea and cards with older neighbours."


async def test_stats_forgets_the_title_of_a_proposal_whose_author_erased_their_data(
    harness: Harness,
) -> None:
    """/stats lists the proposals waiting by their titles, as the daily summary does; once the
    author erased their data, the /stats shown earlier in the group no longer shows theirs
    (found: a proposal, /stats, /forget, the outbox delivered — the title still there)."""
    author = await onboarded(harness, 5002)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert user is not None
        await submit(session, user, Proposal(TITLE, DESCRIPTION, "older_people", 3))
    coordinator = group_person(harness)
    await coordinator.send("/stats")
    assert TITLE in coordinator.last
    stats_id = coordinator.bot_messages()[-1]["message_id"]

    await author.send("/forget")
    await author.press("Yes, erase everything")
    await deliver(harness)

    shown = harness.standin.message(GROUP_ID, stats_id) or {}
    assert "Zq5002g0x" not in str(shown.get("text"))
    # The rest of the figures stay, the title replaced as in the summary.
    assert t("fr", "(withdrawn at its author's request)") in str(shown.get("text"))
    assert shown.get("reply_markup"), "its buttons stay"


async def test_an_organisation_left_through_settings_goes_with_the_person_who_named_it(
    harness: Harness,
) -> None:
    """Found: an association's member became a citizen in /settings, then erased their data;
    the name they had typed for their association stayed in `organisations`."""
    member = harness.person(5006, language_code="en")
    await onboard(member, organisation=ORGANISATION)
    await member.send("/settings")
    await member.press("Who I am")
    await member.press("Citizen")
    async with harness.sessionmaker() as session:
        user = await find_user(session, member.id)
        assert user is not None and user.role is Role.citizen and user.organisation is None

    await member.send("/forget")
    await member.press("Yes, erase everything")

    async with harness.sessionmaker() as session:
        names = list(await session.scalars(select(Organisation.name)))
    assert not [name for name in names if "Zq5006g0x" in name]
