"""Browsing published initiatives — by theme, by arrondissement, all — page by page, their
cards with or without a photo, and «My proposals»."""

from __future__ import annotations

import pytest

from handlers.initiatives.callbacks import BrowseBy, BrowseCb, CardCb
from storage.initiatives import PAGE_SIZE, Decision, Proposal, decide, hide, submit
from storage.models import User
from storage.users import find_user
from tests.conversation import Harness, Person, buttons_of, plain
from tests.initiatives_setup import COORDINATOR_ID, onboarded, published
from tests.texts import t, tn

DESCRIPTION = "Weekly visits and phone calls to older people living alone."


async def visitor(harness: Harness, user_id: int = 2001) -> Person:
    """Someone who has not accepted the notice: browsing is open to them too."""
    person = harness.person(user_id, language_code="en")
    await person.send("/help")
    return person


async def open_list(person: Person, way: str, choice: str | None = None) -> None:
    await person.press("Initiatives")
    await person.press(way)
    if choice is not None:
        await person.press(choice)


def item_buttons(person: Person) -> list[str]:
    return [
        b["text"]
        for b in buttons_of(person.keyboard_message())
        if b["callback_data"].startswith(f"{CardCb.__prefix__}:")
    ]


def alert_of(calls: list) -> dict:
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    return answer.params


async def hidden(harness: Harness, initiative_id: int) -> None:
    async with harness.sessionmaker.begin() as session:
        await hide(
            session, initiative_id, actor_id=COORDINATOR_ID, actor_name="Coord", reason="spam"
        )


async def test_pages_of_all_initiatives_newest_first(harness: Harness) -> None:
    author = await onboarded(harness)
    titles = [f"Initiative number {n:02d}" for n in range(12)]
    for title in titles:
        await published(harness, author, title)
    newest_first = titles[::-1]
    pages = -(-len(titles) // PAGE_SIZE)

    person = await visitor(harness)
    await open_list(person, "All initiatives")
    count = tn("en", "{count} initiative", "{count} initiatives", 12, count=12)
    assert f"{count} · page 1/{pages}" in person.last
    assert item_buttons(person) == newest_first[:PAGE_SIZE]
    assert person.buttons()[PAGE_SIZE:] == ["▶", "← Back"]

    await person.press("▶")
    assert f"page 2/{pages}" in person.last
    assert item_buttons(person) == newest_first[PAGE_SIZE : 2 * PAGE_SIZE]
    assert person.buttons()[PAGE_SIZE:] == ["◀", "▶", "← Back"]

    await person.press("▶")
    assert f"page 3/{pages}" in person.last
    assert item_buttons(person) == newest_first[2 * PAGE_SIZE :]
    await person.press("◀")
    assert item_buttons(person) == newest_first[PAGE_SIZE : 2 * PAGE_SIZE]

    # A card opened from page 2 leads back to page 2.
    await person.press(newest_first[PAGE_SIZE + 1])
    assert newest_first[PAGE_SIZE + 1] in person.last
    await person.press("← Back to the list")
    assert f"page 2/{pages}" in person.last
    assert item_buttons(person) == newest_first[PAGE_SIZE : 2 * PAGE_SIZE]

    await person.press("← Back")
    assert "How would you like to browse them?" in person.last


async def test_by_theme_and_by_arrondissement(harness: Harness) -> None:
    author = await onboarded(harness)
    housing = [f"Shared flat number {n}" for n in range(3)]
    for n, title in enumerate(housing):
        await published(harness, author, title, theme="housing", arrondissement=13 + n)
    await published(harness, author, "Library for all", theme="culture", arrondissement=13)
    await published(harness, author, "Beyond the city", theme="culture", arrondissement=0)

    person = await visitor(harness)
    await open_list(person, "By theme", "Housing")
    assert "Housing" in person.last and "page 1/1" in person.last
    assert item_buttons(person) == housing[::-1]
    await person.press("← Back")
    assert person.last == "Which theme?"
    await person.press("Sport")
    assert "No initiative has been published on this theme yet." in person.last
    assert person.buttons() == ["← Back"]

    await person.press("← Back")
    await person.press("← Back")
    await person.press("By arrondissement")
    await person.press("13")
    assert item_buttons(person) == ["Library for all", housing[0]]
    # The card of a single-page list leads back to that same list.
    await person.press(housing[0])
    await person.press("← Back to the list")
    assert item_buttons(person) == ["Library for all", housing[0]]
    await person.press("← Back")
    await person.press("Outside Marseille")
    assert item_buttons(person) == ["Beyond the city"]
    await person.press("← Back")
    await person.press("2")
    assert "No initiative has been published in this arrondissement yet." in person.last


async def test_nothing_published_yet(harness: Harness) -> None:
    person = await visitor(harness)
    await open_list(person, "All initiatives")
    assert "No initiative has been published yet." in person.last


async def test_a_card_as_text_with_user_text_escaped(harness: Harness) -> None:
    author = await onboarded(harness, organisation="Voisins <Solidaires> & co", verified=True)
    title = "<b>Tea</b> & games"
    initiative_id = await published(harness, author, title, theme="older_people", arrondissement=2)
    person = await visitor(harness)
    await open_list(person, "All initiatives")
    calls = await person.press(title)
    (edit,) = [c for c in calls if c.method == "editMessageText"]
    card = plain(edit.params["text"])
    for fact in (
        title,
        "Older people and isolation",
        "Arrondissement 2",
        "Carried by Voisins <Solidaires> & co ✓",
        DESCRIPTION,
        f"I-{initiative_id}",
    ):
        assert fact in card
    # Reporting needs the notice.
    assert person.buttons() == ["← Back to the list"]

    member = await onboarded(harness, 1002)
    await member.press("Initiatives")
    await member.press("All initiatives")
    await member.press(title)
    assert member.buttons() == [
        "Support",
        "Follow",
        "I want to help",
        "Share",
        "Report abuse",
        "← Back to the list",
    ]


async def test_a_card_with_a_photo(harness: Harness) -> None:
    author = await onboarded(harness)
    photo = harness.standin.store_file(b"\xff\xd8jpeg", "tea.jpg", photo=True)["file_id"]
    long_text = "Tea, games and news with the neighbours of the Panier every week. " * 15
    await published(harness, author, "Tea afternoons", description=long_text[:1000], photo=photo)
    person = await visitor(harness)
    await open_list(person, "All initiatives")
    list_message = person.keyboard_message()

    calls = await person.press("Tea afternoons")
    (sent,) = [c for c in calls if c.method == "sendPhoto" and c.ok]
    assert sent.params["photo"] == photo
    assert len(plain(sent.params["caption"])) <= 1024
    assert "Tea afternoons" in person.last
    assert person.buttons() == ["← Back to the list"]
    assert harness.standin.message(person.id, list_message["message_id"]) is None

    # Back to the list: the photo goes, the list comes again.
    photo_message = person.keyboard_message()
    await person.press("← Back to the list")
    assert harness.standin.message(person.id, photo_message["message_id"]) is None
    assert item_buttons(person) == ["Tea afternoons"]


async def test_a_hidden_initiative_disappears_at_once(harness: Harness) -> None:
    author = await onboarded(harness)
    first = await published(harness, author, "First initiative")
    await published(harness, author, "Second initiative")
    person = await visitor(harness)
    await open_list(person, "All initiatives")
    assert item_buttons(person) == ["Second initiative", "First initiative"]

    await hidden(harness, first)
    calls = await person.press("First initiative")
    alert = alert_of(calls)
    assert alert["text"] == "This initiative is no longer published."
    assert alert["show_alert"] is True
    # The list is shown again, without it.
    assert item_buttons(person) == ["Second initiative"]
    assert "1 initiative · page 1/1" in person.last

    # A card button kept from earlier says so too.
    calls = await person.press_data(CardCb(initiative_id=first).pack())
    assert alert_of(calls)["text"] == "This initiative is no longer published."


@pytest.mark.parametrize(
    "data",
    [
        BrowseCb(by=BrowseBy.theme, value="unknown").pack(),
        BrowseCb(by=BrowseBy.arrondissement, value="99").pack(),
        BrowseCb(by=BrowseBy.arrondissement, value="x").pack(),
        BrowseCb(by=BrowseBy.all, value="extra").pack(),
        BrowseCb(by=BrowseBy.all, page=-1).pack(),
        CardCb(initiative_id=999).pack(),
    ],
)
async def test_forged_browse_buttons(harness: Harness, data: str) -> None:
    person = await visitor(harness)
    before = person.last
    calls = await person.press_data(data)
    assert alert_of(calls)["show_alert"] is True
    assert person.last == before


async def test_a_page_past_the_end_shows_the_last_one(harness: Harness) -> None:
    author = await onboarded(harness)
    await published(harness, author, "Only initiative")
    person = await visitor(harness)
    await person.press_data(BrowseCb(by=BrowseBy.all, page=4).pack())
    assert "page 1/1" in person.last
    assert item_buttons(person) == ["Only initiative"]


async def test_my_proposals_with_where_each_stands(harness: Harness) -> None:
    author = await onboarded(harness)
    decisions = [
        ("Waiting for its turn", None, None),
        ("Published already", Decision.approve, None),
        ("Not for this programme", Decision.reject, "Outside the <city>'s remit"),
        ("Needs more detail", Decision.request_changes, "Please say where & when"),
        ("Hidden after reports", Decision.approve, "hide"),
    ]
    references = {}
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert isinstance(user, User)
        for title, decision, reason in decisions:
            proposal = Proposal(title, DESCRIPTION, "culture", 3)
            initiative = await submit(session, user, proposal)
            references[title] = f"I-{initiative.id}"
            if decision is not None:
                await decide(
                    session,
                    initiative.id,
                    decision,
                    actor_id=COORDINATOR_ID,
                    actor_name="Coord",
                    reason=reason if reason != "hide" else None,
                )
            if reason == "hide":
                await hide(
                    session,
                    initiative.id,
                    actor_id=COORDINATOR_ID,
                    actor_name="Coord",
                    reason="spam, off_topic",
                )

    await author.press("My proposals")
    text = author.last
    assert text.startswith("Your proposals")
    positions = [text.index(references[title]) for title, _, _ in decisions]
    assert positions == sorted(positions, reverse=True), "newest first"
    for title, status in [
        ("Waiting for its turn", "waiting for review"),
        ("Published already", "published"),
        ("Not for this programme", "not accepted"),
        ("Needs more detail", "changes requested"),
        ("Hidden after reports", "hidden"),
    ]:
        assert f"{references[title]} · {title} — {t('en', status)}" in text
    assert "Reason: Outside the <city>'s remit" in text
    assert "Reason: Please say where & when" in text
    assert "Reason: Spam or advertising, Off-topic" in text
    assert text.count("Reason:") == 3
    assert author.buttons() == [
        "Contest the hiding of “Hidden after reports”",
        "Edit “Needs more detail”",
        "Back to the menu",
    ]


async def test_my_proposals_empty_and_before_the_notice(harness: Harness) -> None:
    author = await onboarded(harness)
    await author.press("My proposals")
    assert author.last == "You have not proposed any initiative yet. Why not the first one?"
    assert author.buttons() == ["Propose an initiative", "Back to the menu"]

    person = await visitor(harness)
    await person.press_data("m:mp")
    assert "Which language do you prefer?" in person.last
