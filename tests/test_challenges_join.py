"""Taking part in a challenge: joining with what one brings, changing it, leaving and coming
back; a closed challenge refused; finding where to help; registering someone one accompanies;
bad input at every step and a restart in the middle."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.challenges import coordination_notices
from handlers.challenges.callbacks import JoinCb, QuizCb
from storage.models import AssistedParticipation, Challenge, Participation, utcnow
from storage.users import find_user
from tests.challenges_setup import (
    ACTIVITIES,
    TITLE,
    alert_of,
    closed,
    dialog_state,
    make_challenge,
    participant,
    register_start,
    visitor,
)
from tests.conversation import STICKER, Harness, Person, button_texts
from tests.delivery_setup import deliver
from tests.initiatives_setup import onboarded
from tests.people import onboard

BRINGS = "Two afternoons a month, and I have a car."
ASK_BUTTONS = "Please answer with one of the buttons below."


async def participations(harness: Harness) -> list[Participation]:
    async with harness.sessionmaker() as session:
        return list((await session.scalars(select(Participation))).all())


async def assisted(harness: Harness) -> list[AssistedParticipation]:
    async with harness.sessionmaker() as session:
        return list((await session.scalars(select(AssistedParticipation))).all())


async def open_card(person: Person, title: str = TITLE) -> None:
    await person.press("Challenges")
    await person.press(title)


async def test_join_change_leave_and_join_again(harness: Harness) -> None:
    await make_challenge(harness)
    person = await onboarded(harness)
    await open_card(person)
    await person.press("Join")
    assert "Step 1 of 3" in person.last and "What would you like to bring?" in person.last
    assert person.buttons() == ["Volunteers' time", "Skills", "Premises", "Funding"]

    await person.send("time")
    assert person.said(2)[0] == ASK_BUTTONS
    assert "What would you like to bring?" in person.last
    await person.press("Volunteers' time")
    assert "Which activity would you like to take part in?" in person.last
    assert person.buttons() == [*(a["texts"]["en"] for a in ACTIVITIES), "None in particular"]
    await person.press("Visits")
    assert "Step 3 of 3" in person.last and "Volunteers' time · Visits" in person.last
    assert "Please write nothing about anyone's health" in person.last
    assert person.buttons() == ["Skip"]

    await person.send(None, sticker=STICKER)
    assert person.said(2)[0] == "Please type your answer as a text message, or press “Skip”."
    await person.send("ok")
    assert "at least 3 characters" in person.last
    await person.send("x" * 301)
    assert "300 characters at most" in person.last
    await person.send(BRINGS)
    assert f"Thank you! You have joined “{TITLE}”." in person.last
    assert BRINGS in person.last
    (row,) = await participations(harness)
    assert (row.kind, row.activity, row.text, row.left_at) == ("time", "visits", BRINGS, None)
    assert await dialog_state(harness, person) == (None, {})

    await person.press("← Back to the challenge")
    assert "You take part: Volunteers' time" in person.last
    assert person.buttons()[:2] == ["Change what I bring", "Leave"]

    # Changing: what was chosen is ticked, what was written may be kept.
    await person.press("Change what I bring")
    assert "✅ Volunteers' time" in person.buttons()
    await person.press("Skills")
    await person.press("None in particular")
    assert BRINGS in person.last
    assert person.buttons() == ["Keep what I wrote", "Skip"]
    await person.press("Keep what I wrote")
    assert f"Done: what you bring to “{TITLE}” is updated." in person.last
    (row,) = await participations(harness)
    assert (row.kind, row.activity, row.text) == ("skills", None, BRINGS)

    await person.press("← Back to the challenge")
    await person.press("Leave")
    assert f"Leave “{TITLE}”?" in person.last
    await person.press("No, stay")
    assert "You take part" in person.last
    await person.press("Leave")
    await person.press("Yes, leave")
    assert f"You have left “{TITLE}”." in person.last
    (row,) = await participations(harness)
    assert row.left_at is not None

    await person.press("← Back to the challenge")
    assert person.buttons()[0] == "Join"
    await person.press("Join")
    await person.press("Funding")
    await person.press("None in particular")
    await person.press("Skip")
    assert f"Thank you! You have joined “{TITLE}”." in person.last
    (row,) = await participations(harness)
    assert (row.kind, row.activity, row.text, row.left_at) == ("funding", None, None, None)


async def test_the_example_fits_the_kind_of_contribution(harness: Harness) -> None:
    await make_challenge(harness, activities=[])
    person = await onboarded(harness)
    await open_card(person)
    await person.press("Join")
    examples = {
        "Volunteers' time": "For instance: “two afternoons a month, and I have a car”.",
        "Skills": "For instance: “I am an accountant: I can help draw up a budget”.",
        "Premises": "For instance: “a room for twenty people, free on Sunday afternoons”.",
        "Funding": "For instance: “500 euros for the bus tickets of the outings”.",
    }
    for kind, example in examples.items():
        await person.press(kind)
        asked = (
            "In a few words, what do you bring (3 to 300 characters)? Or press “Skip”.\n" + example
        )
        assert asked in person.last, kind
        others = [other for other in examples.values() if other != example]
        assert not any(other in person.last for other in others), kind
        await person.send("/back")


async def test_typed_answers_that_name_a_button_join_too(harness: Harness) -> None:
    await make_challenge(harness)
    person = await onboarded(harness)
    await open_card(person)
    await person.press("Join")
    await person.send("SKILLS")
    assert "Which activity would you like to take part in?" in person.last
    await person.send("digital help")
    assert "Skills · Digital help" in person.last
    await person.send("skip")
    assert f"Thank you! You have joined “{TITLE}”." in person.last
    (row,) = await participations(harness)
    assert (row.kind, row.activity, row.text) == ("skills", "digital_help", None)

    # Changing: «none in particular», and the very words «keep what I wrote».
    await person.press("← Back to the challenge")
    await person.press("Change what I bring")
    calls = await person.send("a car")
    assert person.said(2)[0] == ASK_BUTTONS and calls
    await person.send("Premises")
    await person.send("none in particular")
    await person.send(BRINGS)
    await person.press("← Back to the challenge")
    await person.press("Change what I bring")
    await person.send("premises")
    await person.send("none in particular")
    await person.send("keep what I wrote")
    (row,) = await participations(harness)
    assert (row.kind, row.activity, row.text) == ("premises", None, BRINGS)


async def test_back_and_cancel_while_joining(harness: Harness) -> None:
    await make_challenge(harness, activities=[])
    person = await onboarded(harness)
    await open_card(person)
    # Without activities, nothing to find: two steps only.
    assert "Find where I can help" not in person.buttons()
    await person.press("Join")
    await person.send("/back")
    assert person.said(2)[0] == "This is the first step. Send /cancel to stop."
    await person.press("Premises")
    assert "Step 2 of 2" in person.last
    await person.send("/back")
    assert "✅ Premises" in person.buttons()
    await person.press("Premises")
    await person.send("/cancel")
    assert "Cancelled." in person.last
    assert await participations(harness) == []


async def test_a_closed_challenge_cannot_be_joined(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    person = await onboarded(harness)
    await open_card(person)
    card = person.keyboard_message()

    # Closed while the person is joining: their answer is refused.
    await person.press("Join")
    await person.press("Volunteers' time")
    await person.press("Visits")
    await closed(harness, challenge.id)
    await person.send(BRINGS)
    assert person.last == "This challenge is closed: it can no longer be joined."
    assert await participations(harness) == []
    assert await dialog_state(harness, person) == (None, {})

    # An old Join button says so too, and its message becomes the card, closed.
    calls = await person.press("Join", card)
    alert = alert_of(calls)
    assert alert["text"] == "This challenge is closed: it can no longer be joined."
    assert alert["show_alert"] is True
    shown = harness.standin.message(person.id, card["message_id"])
    assert shown is not None and "This challenge closed on " in shown["text"]
    assert button_texts(shown) == ["← Back to the list"]
    calls = await person.press_data(QuizCb(challenge_id=challenge.id).pack())
    assert alert_of(calls)["text"] == "This challenge is closed: it can no longer be joined."
    assert await participations(harness) == []


def as_now(harness: Harness, person: Person, message: dict[str, Any]) -> dict[str, Any]:
    shown = harness.standin.message(person.id, message["message_id"])
    assert shown is not None
    return shown


async def test_an_alert_and_news_stay_when_their_buttons_are_pressed(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    person = await participant(harness, 3010, None)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, 3010)
        found = await session.get(Challenge, challenge.id)
        assert user is not None and found is not None
        user.alerts_consent_at = utcnow()
        await session.flush()
        with harness.i18n.context():
            alerted = await coordination_notices.alert(
                session, harness.i18n, harness.settings, found, utcnow()
            )
    assert alerted.count == 1
    (alert,) = await deliver(harness)
    assert button_texts(alert) == ["Join", "See the challenge", "Stop these messages"]

    # «Join»: the alert stays as it was; the first question comes under it.
    await person.press("Join", alert)
    assert as_now(harness, person, alert) == alert
    assert "What would you like to bring?" in person.last
    assert person.keyboard_message()["message_id"] > alert["message_id"]
    await person.press("Volunteers' time")
    await person.press("Visits")
    await person.send(BRINGS)
    assert f"Thank you! You have joined “{TITLE}”." in person.last
    assert as_now(harness, person, alert) == alert

    # «See the challenge»: the card under the alert, which still says why it came.
    await person.press("See the challenge", alert)
    assert as_now(harness, person, alert) == alert
    assert "You take part: Volunteers' time" in person.last

    # A coordinator's news keeps its words when the card is asked for.
    async with harness.sessionmaker.begin() as session:
        found = await session.get(Challenge, challenge.id)
        assert found is not None
        with harness.i18n.context():
            await coordination_notices.post_update(
                session, harness.i18n, found, "Meeting on Saturday at 10, coffee offered."
            )
    (news,) = await deliver(harness)
    await person.press("See the challenge", news)
    assert as_now(harness, person, news) == news
    assert "Meeting on Saturday" in as_now(harness, person, news)["text"]
    assert "You take part: Volunteers' time" in person.last

    # A Join button on a card (not a notice) still turns the card into the question.
    await person.press("Change what I bring")
    assert "What would you like to bring?" in person.last
    card = person.keyboard_message()
    assert card["message_id"] == person.bot_messages()[-1]["message_id"]


async def test_joining_needs_the_notice_and_a_profile_first(harness: Harness) -> None:
    await make_challenge(harness)
    person = await visitor(harness)
    await open_card(person)
    await person.press("Join")
    assert "Which language do you prefer?" in person.last
    await person.press("English")
    await person.press("I have read it, continue")
    await person.press("Citizen")
    await person.press("3")
    await person.press("Culture")
    await person.press("Done")
    await person.press("No")
    await person.press("No, thanks")
    assert TITLE in person.last and person.buttons()[0] == "Join"
    await person.press("Join")
    assert "What would you like to bring?" in person.last


async def test_joining_resumes_after_a_restart(harness: Harness) -> None:
    await make_challenge(harness)
    person = await onboarded(harness)
    await open_card(person)
    await person.press("Join")
    await person.press("Skills")
    await person.press("Digital help")
    await harness.restart()
    await person.send("/start")
    welcome, question = person.said(2)
    assert welcome == "Welcome back! Let's go on where you left off."
    assert "In a few words, what do you bring (3 to 300 characters)?" in question
    assert "Skills · Digital help" in question
    await person.send(BRINGS)
    (row,) = await participations(harness)
    assert (row.kind, row.activity, row.text) == ("skills", "digital_help", BRINGS)


def expected_matches(*, on_site: bool, remote: bool, hours: int | None, wanted=()) -> list[str]:
    """What the quiz should find, computed here from the challenge's definition."""
    return [
        a["texts"]["en"]
        for a in ACTIVITIES
        if ((on_site and a["on_site"]) or (remote and a["remote"]))
        and (hours is None or a["hours_per_month"] <= hours)
        and (not wanted or a["code"] in wanted)
    ]


def join_buttons(person: Person) -> list[str]:
    prefix = "Join for this: "
    return [b[len(prefix) :] for b in person.buttons() if b.startswith(prefix)]


async def test_finding_where_to_help_ends_on_the_matching_activities(harness: Harness) -> None:
    await make_challenge(harness, arrondissements=[1, 2, 3])
    person = await onboarded(harness)
    await open_card(person)

    # On site, 3 to 5 hours a month, visits and errands ticked (outings take 6).
    await person.press("Find where I can help")
    assert "Question 1 of 4" in person.last
    await person.send("I can visit")
    assert person.said(2)[0] == ASK_BUTTONS
    await person.press("On site")
    assert person.buttons() == ["Arrondissement 3", "Another one"]
    await person.press("Another one")
    await person.send("/back")
    await person.press("On site")
    await person.press("Arrondissement 3")
    assert person.buttons() == ["1–2 h a month", "3–5 h a month", "6 h or more a month"]
    await person.press("3–5 h a month")
    offered = expected_matches(on_site=True, remote=False, hours=5)
    assert person.buttons() == [*offered, "Done"]
    await person.press("Visits")
    await person.press("Help with errands")
    assert person.buttons() == [
        "✅ Visits",
        "✅ Help with errands",
        "Digital help",
        "Done",
    ]
    await person.press("Done")
    wanted = {"visits", "errands"}
    found = expected_matches(on_site=True, remote=False, hours=5, wanted=wanted)
    assert join_buttons(person) == found == ["Visits", "Help with errands"]
    assert "Here is where you can help:" in person.last
    assert "Note:" not in person.last

    # «Join for this» goes into joining with the kind «time» and that activity.
    await person.press("Join for this: Visits")
    assert "Volunteers' time · Visits" in person.last
    await person.press("Skip")
    (row,) = await participations(harness)
    assert (row.kind, row.activity) == ("time", "visits")

    # Remotely, any time, nothing ticked: every remote activity.
    await person.press("← Back to the challenge")
    await person.press("Find where I can help")
    await person.press("Remotely")
    assert "How much time could you give each month?" in person.last
    await person.press("6 h or more a month")
    await person.press("Done")
    assert join_buttons(person) == expected_matches(on_site=False, remote=True, hours=None)

    # On site elsewhere, 1–2 hours: nothing fits; the person is told and may start again.
    await person.press("Start again")
    await person.press("On site")
    await person.press("Another one")
    await person.press("13")
    await person.press("1–2 h a month")
    assert expected_matches(on_site=True, remote=False, hours=2) == []
    assert "None of this challenge's activities fits these answers." in person.last
    assert join_buttons(person) == []
    assert person.buttons() == ["Join", "Start again", "← Back to the challenge"]

    # Either, in the 13th, 1–2 hours: phone calls; on site the challenge is elsewhere.
    await person.press("Start again")
    await person.press("Either")
    await person.press("Another one")
    await person.press("13")
    await person.press("1–2 h a month")
    await person.press("Done")
    assert join_buttons(person) == expected_matches(on_site=True, remote=True, hours=2)
    assert "Note: on site, this challenge takes place in: Arrondissement 1" in person.last


async def test_the_quiz_resumes_after_a_restart(harness: Harness) -> None:
    await make_challenge(harness)
    person = await onboarded(harness)
    await open_card(person)
    await person.press("Find where I can help")
    await person.press("Remotely")
    await harness.restart()
    await person.send("/start")
    assert "How much time could you give each month?" in person.last
    await person.press("1–2 h a month")
    await person.press("Done")
    assert join_buttons(person) == expected_matches(on_site=False, remote=True, hours=2)


async def test_registering_someone_one_accompanies(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    member = await onboarded(harness, organisation="Petits Frères des Pauvres", verified=True)
    await register_start(member)

    await member.send(None, sticker=STICKER)
    assert member.said(2)[0] == "Please type your answer as a text message."
    await member.send("Jeanne 06 12 34 56 78")
    assert member.last == "Please type only a first name or initials: no surname, no number."
    await member.send("J" * 41)
    assert "40 characters at most" in member.last
    await member.send("Jeanne")
    assert "In which arrondissement do they live?" in member.last
    await member.send("the old port")
    assert member.said(2)[0] == ASK_BUTTONS
    # An arrondissement typed as people write it is taken as its button.
    await member.send("13e")
    assert "What would they like?" in member.last
    assert "nothing about their health" in member.last
    await member.send("ok")
    assert "at least 3 characters" in member.last
    await member.press("Visits")
    # The question above is answered in place; the complaint stays below it.
    summary = member.keyboard_message()["text"]
    for fact in (
        "First name or initials: Jeanne",
        "Where: Arrondissement 13",
        "Would like: Visits",
    ):
        assert fact in summary
    assert member.buttons() == ["This person agreed to be registered", "They have not agreed"]
    # A bare «yes» does not record an agreement; the button's words do.
    await member.send("yes")
    assert member.said(2)[0] == ASK_BUTTONS

    # Without the agreement, nothing is stored.
    await member.send("they have not agreed")
    assert "Then we cannot register them: nothing has been stored." in member.last
    assert await assisted(harness) == []

    await member.press("← Back to the challenge")
    await member.press("Register someone I accompany")
    await member.send("M. D.")
    await member.press("3")
    await member.send("/back")
    assert "In which arrondissement do they live?" in member.last
    await member.press("2")
    await member.send("outings")  # the very words of an activity: that activity
    assert "Would like: Outings" in member.last
    await member.send("/back")
    await member.send("A walk by the sea on Sundays")
    assert "Would like: A walk by the sea on Sundays" in member.last
    await member.send("This person agreed to be registered")
    assert f"Thank you! M. D. is registered for “{TITLE}”." in member.last
    (row,) = await assisted(harness)
    assert (row.challenge_id, row.name, row.arrondissement) == (challenge.id, "M. D.", 2)
    assert (row.wishes, row.activity) == ("A walk by the sea on Sundays", None)
    assert row.agreement_recorded_at is not None
    assert await participations(harness) == []
    assert await dialog_state(harness, member) == (None, {})

    # Assisted people count on the card.
    await member.press("← Back to the challenge")
    assert "Fewer than 5 participants so far." in member.last


async def test_registering_someone_stops_when_the_challenge_closes(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    member = await onboarded(harness, organisation="Petits Frères des Pauvres", verified=True)
    await register_start(member)
    await member.send("Jeanne")
    await member.press("13")
    await member.press("Outings")
    await closed(harness, challenge.id)
    await member.press("This person agreed to be registered")
    assert member.last == "This challenge is closed: it can no longer be joined."
    assert await assisted(harness) == []


async def test_forged_join_buttons(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    draft = await make_challenge(harness, "Still a draft", opened=False)
    person = harness.person(1001, language_code="en")
    await onboard(person)
    for data, text in (
        (JoinCb(challenge_id=999).pack(), "This challenge is not available."),
        (JoinCb(challenge_id=draft.id).pack(), "This challenge is not available."),
        (
            JoinCb(challenge_id=challenge.id, activity="unknown").pack(),
            "This button is no longer valid. Please use the latest message.",
        ),
    ):
        calls = await person.press_data(data)
        assert alert_of(calls)["text"] == text
    assert await participations(harness) == []
