"""Coordinators decide on proposals from their group; authors are told; nobody decides twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storage.initiatives import Proposal, submit
from storage.models import AuditEntry, InitiativeStatus
from storage.users import find_user
from tests.conversation import Harness, Person, button_texts, plain, texts
from tests.initiatives_setup import (
    COORDINATOR_ID,
    GROUP_ID,
    group_person,
    initiative,
    onboarded,
    outbox,
)
from tests.texts import t, tn

# Races and once-only work: on PostgreSQL too.
pytestmark = pytest.mark.postgres

DESCRIPTION = "Phone calls every week to older people who live alone in the 3rd."


async def proposed(harness: Harness, author: Person, title: str = "Hello neighbours") -> int:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert user is not None
        found = await submit(session, user, Proposal(title, DESCRIPTION, "older_people", 3))
        return found.id


def heading(initiative_id: int) -> str:
    msgid = "<b>New proposal to review</b> ({reference})"
    return plain(t("fr", msgid, reference=f"I-{initiative_id}"))


def card_of(person: Person, initiative_id: int) -> dict:
    cards = [m for m in person.bot_messages() if f"I-{initiative_id}" in (m.get("text") or "")]
    assert cards, "no card"
    return cards[0]  # the card itself; later messages about it follow


async def audit_count(harness: Harness) -> int:
    async with harness.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(AuditEntry)) or 0


async def test_pending_lists_the_oldest_first_and_approve_decides(harness: Harness) -> None:
    author = await onboarded(harness)
    first = await proposed(harness, author, "First proposal")
    second = await proposed(harness, author, "Second proposal")
    coordinator = group_person(harness)
    calls = await coordinator.send("/pending")
    said = texts(calls)
    waiting = tn(
        "fr",
        "{count} proposal is waiting, oldest first:",
        "{count} proposals are waiting, oldest first:",
        2,
        count=2,
    )
    assert said[0] == waiting
    # Each card: its heading with the proposal's reference, a blank line, then the title.
    assert [card.splitlines()[:3] for card in said[1:]] == [
        [heading(first), "", "First proposal"],
        [heading(second), "", "Second proposal"],
    ]
    assert len(button_texts(card_of(coordinator, first))) == 3

    calls = await coordinator.press(t("fr", "Approve"), card_of(coordinator, first))
    card = card_of(coordinator, first)
    assert "reply_markup" not in card or not card["reply_markup"]
    assert "Test" in card["text"] and "✅" in card["text"]  # who decided, and how
    assert (await initiative(harness, first)).status is InitiativeStatus.approved
    assert (await initiative(harness, second)).status is InitiativeStatus.pending
    ((chat, text, _),) = await outbox(harness)
    assert chat == author.id and "has been approved" in text and "I-1" in text
    assert await audit_count(harness) == 1


async def test_reject_asks_the_reason_in_the_group(harness: Harness) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    coordinator = group_person(harness)
    await coordinator.send("/pending")
    calls = await coordinator.press(t("fr", "Reject"), card_of(coordinator, initiative_id))
    assert "I-1" in coordinator.last
    # A reply is asked of the coordinator who pressed, named by a mention: a bot that reads
    # only replies in the group still gets the reason.
    [ask] = [c for c in calls if c.method == "sendMessage"]
    assert ask.params["reply_markup"] == {"force_reply": True, "selective": True}
    [mention] = [e for e in ask.result["entities"] if e["type"] == "text_mention"]
    assert mention["user"]["id"] == COORDINATOR_ID and mention["offset"] == 0
    calls = await coordinator.send(
        None,
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        },
    )
    assert texts(calls) == [t("fr", "Please type the reason as a text message.")]
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.pending
    await coordinator.send("Not within <the> city's remit & off-topic")
    found = await initiative(harness, initiative_id)
    assert found.status is InitiativeStatus.rejected
    assert found.reason == "Not within <the> city's remit & off-topic"
    card = card_of(coordinator, initiative_id)
    assert "❌" in card["text"] and "Not within <the> city's remit" in card["text"]
    ((chat, text, _),) = await outbox(harness)
    assert chat == author.id and "was not accepted" in text and "off-topic" in text


async def test_changes_requested_then_resubmitted(harness: Harness) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    coordinator = group_person(harness)
    await coordinator.send("/pending")
    await coordinator.press(t("fr", "Ask for changes"), card_of(coordinator, initiative_id))
    await coordinator.send("Please say which days and where.")
    ((chat, text, payload),) = await outbox(harness)
    assert chat == author.id and "ask for changes" in text and "which days" in text
    resubmit = payload["reply_markup"]["inline_keyboard"][0][0]
    assert resubmit["text"] == "Edit and send again"

    # The author presses the button of that notification.
    notification = author.standin.message_update(author.user, "(notification)")["message"]
    await author.press_data(resubmit["callback_data"], notification)
    assert "Your proposal" in author.last
    await author.press("Description")
    await author.send("Tuesdays and Thursdays at the community centre of the Panier, 3 pm.")
    await author.press("Send my proposal")
    found = await initiative(harness, initiative_id)
    assert found.status is InitiativeStatus.pending
    assert found.description.startswith("Tuesdays")
    rows = await outbox(harness)
    assert rows[-1][0] == GROUP_ID and "I-1" in rows[-1][1]
    # The old button does not work twice.
    calls = await author.press_data(resubmit["callback_data"], notification)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "no longer valid" in answer.params["text"]


async def test_the_second_coordinator_is_told_it_was_already_decided(harness: Harness) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    first = group_person(harness)
    second = group_person(harness, 43)
    harness.standin.set_chat_member(GROUP_ID, 43, "member")
    await first.send("/pending")
    card = card_of(first, initiative_id)
    await first.press(t("fr", "Approve"), card)
    calls = await second.press(t("fr", "Reject"), card)  # the card as it was before
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params.get("show_alert") and "✅" in answer.params["text"]
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.approved
    assert await audit_count(harness) == 1


async def test_an_older_copy_of_the_card_shows_the_decision_once_pressed(
    harness: Harness,
) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    coordinator = group_person(harness)
    await coordinator.send("/pending")
    older = card_of(coordinator, initiative_id)
    await coordinator.send("/pending")
    newer = [m for m in coordinator.bot_messages() if f"I-{initiative_id}" in m.get("text", "")][
        -1
    ]
    assert newer["message_id"] != older["message_id"]
    await coordinator.press(t("fr", "Approve"), newer)

    calls = await coordinator.press(t("fr", "Reject"), older)

    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params.get("show_alert") and "✅" in answer.params["text"]
    now_reads = harness.standin.message(GROUP_ID, older["message_id"])
    assert now_reads is not None and "reply_markup" not in now_reads
    closed = harness.standin.message(GROUP_ID, newer["message_id"])
    assert closed is not None and now_reads["text"] == closed["text"]
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.approved


async def test_two_coordinators_at_the_same_moment_decide_once(harness: Harness) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    first = group_person(harness)
    second = group_person(harness, 43)
    harness.standin.set_chat_member(GROUP_ID, 43, "administrator")
    await first.send("/pending")
    card = card_of(first, initiative_id)
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    updates = [harness.standin.callback_update(p.user, card, data) for p in (first, second)]
    await asyncio.gather(*(harness.dp.feed_raw_update(harness.bot, u) for u in updates))
    answers = [c for c in harness.standin.calls_of("answerCallbackQuery")]
    assert sum("✅" in (a.params.get("text") or "") for a in answers) == 1
    assert await audit_count(harness) == 1
    assert len(await outbox(harness)) == 1


async def test_non_coordinators_are_refused_everywhere(harness: Harness) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    coordinator = group_person(harness)
    await coordinator.send("/pending")
    card = card_of(coordinator, initiative_id)
    stranger = group_person(harness, 777)  # in the group chat, but not a member
    calls = await stranger.send("/pending")
    assert texts(calls) == [t("fr", "Only the city's coordinators can do this.")]
    calls = await stranger.press(t("fr", "Approve"), card)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == t("fr", "Only the city's coordinators can do this.")
    # A forged button in a private chat, from the author themself.
    calls = await author.press_data(f"mo:approve:{initiative_id}", author.bot_messages()[-1])
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == "Only the city's coordinators can do this."
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.pending
    assert await audit_count(harness) == 0 and await outbox(harness) == []


async def test_a_group_member_is_a_coordinator(harness: Harness) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    member = group_person(harness, 555)
    harness.standin.set_chat_member(GROUP_ID, 555, "member")
    await member.send("/pending")
    await member.press(t("fr", "Approve"), card_of(member, initiative_id))
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.approved
    assert COORDINATOR_ID != 555


async def test_coordinators_see_failed_deliveries_without_their_text(harness: Harness) -> None:
    from storage.models import OutboxMessage, OutboxStatus

    async with harness.sessionmaker.begin() as session:
        session.add(
            OutboxMessage(
                chat_id=777,
                method="sendMessage",
                payload={"text": "private words"},
                status=OutboxStatus.failed,
                last_error="Bad Request: chat not found",
            )
        )
    coordinator = group_person(harness)
    calls = await coordinator.send("/failed")
    said = texts(calls)[0]
    assert "777" in said and "chat not found" in said and "private words" not in said
    stranger = group_person(harness, 778)
    calls = await stranger.send("/failed")
    assert texts(calls) == [t("fr", "Only the city's coordinators can do this.")]


async def test_a_long_photo_card_is_rejected_with_a_long_reason(harness: Harness) -> None:
    """The decision's line must fit in the card's caption (1024 characters)."""
    from storage.outbox import utf16_len
    from tests.delivery_setup import deliver

    author = await onboarded(harness)
    await author.press("Propose an initiative")
    await author.press("Older people and isolation")
    await author.press("Arrondissement 3")
    await author.send("Tea afternoons at the Panier")
    await author.send(("Every Thursday, neighbours and older people share tea. " * 20)[:1000])
    photo = harness.standin.store_file(b"\x89PNG fake", "tea.png", photo=True)
    await author.send(None, photo=[photo])
    await author.send(None, location={"latitude": 43.2993, "longitude": 5.367})
    await author.press("Contact")
    await author.press("Yes, they may")
    await author.press("Send my proposal")
    coordinator = group_person(harness)
    coordinator.user["first_name"] = "Marie-Christine de la Tour-Saint-Barthélemy"
    coordinator.user["last_name"] = "Montredon-Valentine"
    (card,) = await deliver(harness)
    assert card.get("photo") and card["chat"]["id"] == GROUP_ID

    await coordinator.press(t("fr", "Reject"), card)
    await coordinator.send("Not within the programme: " + "x" * 400)
    found = await initiative(harness, 1)
    assert found.status is InitiativeStatus.rejected
    edited = harness.standin.message(GROUP_ID, card["message_id"])
    assert edited is not None and "❌" in edited["caption"]
    assert utf16_len(edited["caption"]) <= 1024


async def test_a_moderation_card_names_its_reference_once(harness: Harness) -> None:
    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    coordinator = group_person(harness)
    calls = await coordinator.send("/pending")
    card = texts(calls)[1]
    assert card.count(f"I-{initiative_id}") == 1


async def test_edit_and_send_again_keeps_what_the_coordinators_asked(harness: Harness) -> None:
    """The request stays readable above the summary, and the revised card recalls it."""
    from tests.delivery_setup import deliver

    author = await onboarded(harness)
    initiative_id = await proposed(harness, author)
    coordinator = group_person(harness)
    await coordinator.send("/pending")
    await coordinator.press(t("fr", "Ask for changes"), card_of(coordinator, initiative_id))
    await coordinator.send("Please say which days and where.")
    (notification,) = await deliver(harness)
    assert notification["chat"]["id"] == author.id and "which days" in notification["text"]

    await author.press("Edit and send again", notification)
    kept = harness.standin.message(author.id, notification["message_id"])
    assert kept is not None and kept["text"] == notification["text"]
    summary = author.bot_messages()[-1]
    assert summary["message_id"] > notification["message_id"]
    assert "Your proposal" in summary["text"]

    await author.press("Description")
    await author.send("Tuesdays and Thursdays at the community centre of the Panier, 3 pm.")
    await author.press("Send my proposal")
    (revised,) = await deliver(harness)
    assert revised["chat"]["id"] == GROUP_ID
    msgid = "<b>Revised proposal to review</b> ({reference})"
    lines = revised["text"].splitlines()
    assert lines[0] == plain(t("fr", msgid, reference=f"I-{initiative_id}"))
    asked = t("fr", "Changes asked: {reason}", reason="Please say which days and where.")
    assert lines[1] == asked
    assert revised["text"].count(f"I-{initiative_id}") == 1


async def test_an_arabic_author_reads_a_latin_title_and_reference_in_their_place(
    harness: Harness,
) -> None:
    author = await onboarded(harness, 1002)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert user is not None
        user.locale = "ar"
    first = await proposed(harness, author, "Jardin du Panier")
    coordinator = group_person(harness)
    await coordinator.send("/pending")
    await coordinator.press(t("fr", "Approve"), card_of(coordinator, first))
    ((chat, text, _),) = await outbox(harness)
    assert chat == author.id
    # Isolated (U+2068…U+2069) inside the Arabic sentence; English readers see them bare.
    assert "\u2068Jardin du Panier\u2069" in text and f"\u2068I-{first}\u2069" in text
