"""Open challenges: browsing them page by page and by theme, a challenge's card in each
language, sharing its link, and opening it from a deep link — after onboarding for a newcomer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date

from handlers.challenges.callbacks import AssistCb, ChallengeCb, ChallengeListCb, ShareCb
from storage.challenges import join
from storage.models import Challenge
from storage.users import find_user
from tests.challenges_setup import (
    DESCRIPTION,
    DESCRIPTION_AR,
    ENDS,
    STARTS,
    TITLE,
    TITLE_AR,
    alert_of,
    closed,
    dialog_state,
    make_challenge,
    visitor,
)
from tests.conversation import Harness, Person, buttons_of
from tests.initiatives_setup import onboarded
from tests.texts import t, tn

TIMEZONE = "Europe/Paris"


async def joined_by(harness: Harness, person: Person, challenge_id: int) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, person.id)
        challenge = await session.get(Challenge, challenge_id)
        assert user is not None and challenge is not None
        await join(session, challenge, user, kind="time", text=None, timezone=TIMEZONE)


def item_buttons(person: Person) -> list[str]:
    return [
        b["text"]
        for b in buttons_of(person.keyboard_message())
        if b["callback_data"].startswith(f"{ChallengeCb.__prefix__}:")
    ]


async def test_pages_of_open_challenges_and_the_theme_filter(harness: Harness) -> None:
    start = datetime(2025, 4, 1, tzinfo=UTC)
    titles = [f"Challenge number {n}" for n in range(7)]
    for n, title in enumerate(titles):
        await make_challenge(harness, title, opened_at=start + timedelta(hours=n))
    await make_challenge(
        harness, "Reading together", theme="culture", opened_at=start - timedelta(hours=1)
    )
    await make_challenge(harness, "Not opened yet", opened=False)
    gone = await make_challenge(harness, "Already over", opened_at=start)
    await closed(harness, gone.id)
    newest_first = titles[::-1]

    person = await visitor(harness)
    await person.press("Challenges")
    count = tn("en", "{count} open challenge", "{count} open challenges", 8, count=8)
    assert f"{count} · page 1/2" in person.last
    assert item_buttons(person) == newest_first[:5]
    assert person.buttons()[5:] == ["▶", "Filter by theme", "Help"]

    await person.press("▶")
    assert "page 2/2" in person.last
    assert item_buttons(person) == [*newest_first[5:], "Reading together"]
    assert person.buttons()[3:] == ["◀", "Filter by theme", "Help"]

    # A card opened from page 2 leads back to page 2.
    await person.press(newest_first[6])
    assert newest_first[6] in person.last
    await person.press("← Back to the list")
    assert "page 2/2" in person.last

    await person.press("Filter by theme")
    assert person.last == "Which theme?"
    await person.press("Culture")
    assert "Culture" in person.last and "page 1/1" in person.last
    assert item_buttons(person) == ["Reading together"]
    await person.press("Reading together")
    await person.press("← Back to the list")
    assert item_buttons(person) == ["Reading together"]

    await person.press("Filter by theme")
    await person.press("Sport")
    assert "No challenge is open on this theme at the moment." in person.last
    await person.press("All themes")
    assert f"{count} · page 1/2" in person.last


async def test_no_challenge_open_yet(harness: Harness) -> None:
    await make_challenge(harness, "Not opened yet", opened=False)
    person = await visitor(harness)
    await person.press("Challenges")
    assert "No challenge is open at the moment. Come back soon!" in person.last
    assert person.buttons() == ["Filter by theme", "Help"]


def english_card_facts() -> list[str]:
    return [
        TITLE,
        DESCRIPTION,
        "Theme: Older people and isolation",
        "Where: Whole city",
        "From {} to {}".format(
            format_date(STARTS, "long", locale="en"), format_date(ENDS, "long", locale="en")
        ),
        "Sought: Volunteers' time, Skills, Premises, and Funding",
        "Ways to help:",
        "• Visits — on site · about 4 hours a month",
        "• Phone calls — remotely · about 2 hours a month",
        "• Digital help — on site or remotely · about 3 hours a month",
        "Nobody has joined yet: be the first!",
    ]


async def test_a_card_in_english_and_in_arabic(harness: Harness) -> None:
    challenge = await make_challenge(harness, arabic=True, arrondissements=[13, 3])
    person = await visitor(harness)
    await person.press("Challenges")
    await person.press(TITLE)
    english = person.last
    for fact in english_card_facts():
        fact = fact.replace("Where: Whole city", "Where: Arrondissement 3 and Arrondissement 13")
        assert fact in english, fact
    # Joining needs the notice, which «Join» leads to; registering someone is for members.
    assert person.buttons() == ["Join", "Find where I can help", "Share", "← Back to the list"]

    arabic = await visitor(harness, 2002, language="ar")
    await arabic.press(t("ar", "Challenges"))
    await arabic.press(TITLE_AR)
    card = arabic.last
    assert TITLE_AR in card and DESCRIPTION_AR in card
    assert format_date(ENDS, "long", locale="ar") in card
    assert card != english and TITLE not in card
    assert t("ar", "Join") in arabic.buttons()

    # The French card falls back on French texts, never on the English ones.
    french = await visitor(harness, 2003, language="fr")
    await french.press_data(ChallengeCb(challenge_id=challenge.id).pack())
    assert TITLE + " (fr)" in french.last
    assert "Visits (fr)" in french.last


async def test_participants_are_counted_from_five(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    people = [await onboarded(harness, 1001 + n) for n in range(5)]
    await joined_by(harness, people[0], challenge.id)
    reader = people[1]
    await reader.press("Challenges")
    await reader.press(TITLE)
    assert "Fewer than 5 participants so far." in reader.last
    for person in people[1:]:
        await joined_by(harness, person, challenge.id)
    await reader.press_data(ChallengeCb(challenge_id=challenge.id).pack())
    assert tn("en", "{count} participant", "{count} participants", 5, count=5) in reader.last
    assert "You take part: Volunteers' time" in reader.last


async def test_a_closed_challenge_says_so_and_offers_no_join(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    person = await onboarded(harness)
    await person.press("Challenges")
    list_message = person.keyboard_message()
    await closed(harness, challenge.id)
    await person.press(TITLE, list_message)
    assert "This challenge closed on " in person.last
    assert "it can no longer be joined." in person.last
    assert person.buttons() == ["← Back to the list"]
    # The list no longer has it.
    await person.press("← Back to the list")
    assert "No challenge is open at the moment." in person.last


async def test_share_gives_the_deep_link(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    person = await visitor(harness)
    await person.press("Challenges")
    await person.press(TITLE)
    card = person.keyboard_message()
    await person.press("Share")
    link = f"https://t.me/{harness.standin.bot_username}?start=c_{challenge.slug}"
    assert link in person.last and TITLE in person.last
    # The card stays as it was, to go on from.
    assert person.keyboard_message() == card


async def test_a_newcomer_from_a_deep_link_is_onboarded_then_sees_the_card(
    harness: Harness,
) -> None:
    challenge = await make_challenge(harness)
    person = harness.person(3001, language_code="en")
    await person.send(f"/start c_{challenge.slug}")
    assert t("en", "Which language do you prefer?") in person.last
    await onboard_after_the_language(person)
    welcome, card = person.said(2)
    assert welcome == "Thank you, you are all set! Welcome to La Collective."
    assert TITLE in card and DESCRIPTION in card
    assert person.buttons()[0] == "Join"
    assert await dialog_state(harness, person) == (None, {})


async def onboard_after_the_language(person: Person) -> None:
    await person.press("English")
    await person.press("I have read it, continue")
    await person.press("Citizen")
    # A wrong answer on the way does not lose where the person is going.
    await person.send("hello")
    await person.press("3")
    await person.press("Culture")
    await person.press("Done")
    await person.press("No")
    await person.press("No, thanks")


async def test_a_deep_link_for_someone_onboarded_and_bad_payloads(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    draft = await make_challenge(harness, "Still a draft", opened=False)
    person = await onboarded(harness)
    await person.send(f"/start c_{challenge.slug}")
    assert TITLE in person.last and person.buttons()[0] == "Join"

    for payload in ("hello", "c_", "c_" + "x" * 40, "i_12"):
        await person.send(f"/start {payload}")
        assert person.last == t("en", "What would you like to do?"), payload

    for slug in ("unknown1", draft.slug):
        await person.send(f"/start c_{slug}")
        said = person.said(2)
        assert said[0] == "This link leads to no challenge any more."
        assert said[1] == t("en", "What would you like to do?")


async def test_a_deep_link_for_someone_who_declined_the_notice(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    person = harness.person(3002, language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("No, thank you")
    await person.send(f"/start c_{challenge.slug}")
    assert "How La Collective uses your data" in person.last
    await person.press("I have read it, continue")
    await person.press("Citizen")
    await person.press("3")
    await person.press("Culture")
    await person.press("Done")
    await person.press("No")
    await person.press("No, thanks")
    assert TITLE in person.last


@pytest.mark.parametrize(
    "data",
    [
        ChallengeCb(challenge_id=999).pack(),
        ChallengeListCb(theme="unknown").pack(),
        ChallengeListCb(page=-1).pack(),
        ShareCb(challenge_id=999).pack(),
    ],
)
async def test_forged_browse_buttons(harness: Harness, data: str) -> None:
    person = await visitor(harness)
    before = person.last
    calls = await person.press_data(data)
    assert alert_of(calls)["show_alert"] is True
    assert person.last == before


async def test_a_draft_card_is_not_shown(harness: Harness) -> None:
    draft = await make_challenge(harness, "Still a draft", opened=False)
    person = await visitor(harness)
    calls = await person.press_data(ChallengeCb(challenge_id=draft.id).pack())
    assert alert_of(calls)["text"] == "This challenge is not available."


async def test_only_organisations_members_may_register_someone(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    member = await onboarded(
        harness, 1001, organisation="Petits Frères des Pauvres", verified=True
    )
    await member.press("Challenges")
    await member.press(TITLE)
    assert "Register someone I accompany" in member.buttons()

    # A member of an organisation the coordinators have not verified acts in their own name.
    unverified = await onboarded(harness, 1003, organisation="Les Voisins Solidaires")
    await unverified.press("Challenges")
    await unverified.press(TITLE)
    assert "Register someone I accompany" not in unverified.buttons()
    calls = await unverified.press_data(AssistCb(challenge_id=challenge.id).pack())
    alert = alert_of(calls)
    assert alert["text"] == (
        "Your organisation is not verified by the coordinators yet: until it is, you act in "
        "your own name, not on its behalf."
    )
    assert await dialog_state(harness, unverified) == (None, {})

    citizen = await onboarded(harness, 1002)
    await citizen.press("Challenges")
    await citizen.press(TITLE)
    assert "Register someone I accompany" not in citizen.buttons()
    calls = await citizen.press_data(AssistCb(challenge_id=challenge.id).pack())
    alert = alert_of(calls)
    assert alert["text"] == "Only members of an organisation can register someone they accompany."
    assert alert["show_alert"] is True
    assert await dialog_state(harness, citizen) == (None, {})
