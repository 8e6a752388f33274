"""What the random conversations (tests/test_random_conversations.py) found, each failure kept
as the plain conversation hypothesis reduced it to."""

from __future__ import annotations

from storage.initiatives import Proposal, submit
from storage.users import find_user
from tests.conversation import Harness
from tests.delivery_setup import deliver
from tests.initiatives_setup import GROUP_ID, group_person, onboarded
from tests.texts import t

TITLE = "Tea afternoons Zq5002g0x"
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
