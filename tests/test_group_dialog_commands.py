"""In the coordinators' group, an answer to a dialog that starts with "/" (a rejection reason,
a survey's date…) is a command for Telegram: the coordinator is told it was not taken, in the
group's language, and the dialog goes on (issue 13)."""

from __future__ import annotations

from storage.initiatives import Proposal, submit
from storage.models import InitiativeStatus
from storage.users import find_user
from tests.conversation import Harness, texts
from tests.initiatives_setup import group_person, initiative, onboarded
from tests.surveys_setup import city, imported
from tests.texts import t

NOT_TAKEN = (
    "A message starting with “/” is a command, not an answer: I did not take it. "
    "Please send your answer again without the “/” at the start, or /cancel to give up."
)


async def test_an_answer_starting_with_a_slash_is_said_not_taken_and_the_dialog_waits(
    harness: Harness,
) -> None:
    """Issue 13: a rejection reason, or any answer the group's dialogs wait for, that starts
    with "/" is a command for Telegram: the coordinator is told, in the group's language, and
    the dialog goes on."""
    author = await onboarded(harness)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert user is not None
        initiative_id = (
            await submit(session, user, Proposal("Voisins", "Des appels aux aînés.", "culture", 3))
        ).id
    coordinator = group_person(harness)
    await coordinator.send("/pending")
    card = next(m for m in coordinator.bot_messages() if f"I-{initiative_id}" in m["text"])
    await coordinator.press(t("fr", "Reject"), card)

    calls = await coordinator.send("/hors sujet pour la Ville")
    [reply] = [c for c in calls if c.method == "sendMessage"]
    assert reply.params["text"] == t("fr", NOT_TAKEN)
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.pending

    # Another bot's command is not ours to answer; a real command still works meanwhile.
    assert texts(await coordinator.send("/help@another_bot")) == []
    await coordinator.send("hors sujet pour la Ville")
    found = await initiative(harness, initiative_id)
    assert found.status is InitiativeStatus.rejected and found.reason == "hors sujet pour la Ville"
    # Out of any dialog, an unknown command in the group stays unanswered, as before.
    assert texts(await coordinator.send("/nothing")) == []


async def test_a_survey_date_starting_with_a_slash_is_said_not_taken(harness: Harness) -> None:
    setup = await city(harness)
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    await coordinator.send("/surveys")
    await coordinator.press(f"#{survey_id} ")
    await coordinator.press(t("fr", "Send at…"))
    asked = coordinator.last
    said = texts(await coordinator.send("/12/03 10:00"))
    assert said == [t("fr", NOT_TAKEN)]
    await coordinator.send("/cancel")
    assert coordinator.last == t("fr", "Cancelled: the survey is unchanged.")
    assert asked != coordinator.last
