"""Reports: a participant flags a published initiative; coordinators hide it or keep it from
their group; the author contests a hiding once; coordinators restore it or keep it hidden.
Messages to the group and to the author go through the outbox, each in its reader's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from handlers.initiatives.callbacks import ContestCb, HideCb, ReportCb, RestoreCb
from storage.models import (
    AuditEntry,
    FsmRecord,
    InitiativeReport,
    InitiativeStatus,
    OutboxMessage,
    ReportReason,
)
from storage.users import find_user
from tests.conversation import Harness, Person, plain
from tests.delivery_setup import deliver
from tests.initiatives_setup import (
    GROUP_ID,
    group_person,
    initiative,
    onboarded,
    outbox,
    published,
)
from tests.texts import t, tn

TITLE = "Tea afternoons at the Panier"
GROUP = "fr"  # the settings' group_locale
AUTHOR = "en"  # onboarded() people speak English
EXPLANATION = "We are a <real> association & meet every Thursday."


def reported_times(count: int) -> str:
    singular, plural = "It has been reported {count} time.", "It has been reported {count} times."
    return tn(GROUP, singular, plural, count, count=count)


def alert_of(calls: list) -> dict[str, Any]:
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    return answer.params


async def setup(harness: Harness) -> tuple[Person, Person, Person, int]:
    """An author with a published initiative, a participant, and a coordinator in the group."""
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    reporter = await onboarded(harness, 1002)
    return author, reporter, group_person(harness), initiative_id


async def report(person: Person, reason: str = "Spam or advertising") -> list:
    await person.press("Initiatives")
    await person.press("All initiatives")
    await person.press(TITLE)
    await person.press("Report abuse")
    assert person.last == f"Why are you reporting “{TITLE}”?"
    return await person.press(reason)


async def counts(harness: Harness) -> tuple[int, int, int, int]:
    """Reports (all, open), audit rows, outbox rows."""
    async with harness.sessionmaker() as session:

        async def count(query: Any) -> int:
            return await session.scalar(query) or 0

        return (
            await count(select(func.count()).select_from(InitiativeReport)),
            await count(select(func.count()).where(InitiativeReport.handled_at.is_(None))),
            await count(select(func.count()).select_from(AuditEntry)),
            await count(select(func.count()).select_from(OutboxMessage)),
        )


async def dialog(harness: Harness, person: Person) -> tuple[str | None, dict]:
    async with harness.sessionmaker() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.user_id == person.id))
        return (record.state, record.data) if record else (None, {})


async def audit_actions(harness: Harness) -> list[str]:
    async with harness.sessionmaker() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [row.action for row in rows]


async def test_report_hide_contest_restore(harness: Harness) -> None:
    author, reporter, coordinator, initiative_id = await setup(harness)

    await report(reporter)
    assert reporter.last == (
        "Thank you for your report. The city's coordinators will look at this initiative."
    )
    ((chat_id, text, payload),) = await outbox(harness)
    assert chat_id == GROUP_ID
    heading = t(
        GROUP, "⚠️ <b>Initiative reported</b> ({reference})", reference=f"I-{initiative_id}"
    )
    assert plain(heading) in text
    assert t(GROUP, "Reason: {reason}", reason=t(GROUP, "Spam or advertising")) in text
    assert reported_times(1) in text
    assert TITLE in text
    buttons = payload["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == [t(GROUP, "Hide"), t(GROUP, "Keep")]

    (card,) = await deliver(harness)
    calls = await coordinator.press(t(GROUP, "Hide"), card)
    assert alert_of(calls)["text"] == t(GROUP, "Done: the author has been told.")
    closed = harness.standin.message(GROUP_ID, card["message_id"])
    assert closed is not None and "reply_markup" not in closed
    assert t(GROUP, "🚫 Hidden by {who} on {when}.", who="Test", when="")[:-1] in closed["text"]
    assert TITLE in closed["text"]

    hidden = await initiative(harness, initiative_id)
    assert hidden.status is InitiativeStatus.hidden and hidden.reason == "spam"
    assert hidden.decided_by == 42
    assert (await counts(harness))[:2] == (1, 0)
    assert await audit_actions(harness) == ["initiative.approve", "initiative.hide"]

    # Gone from browsing at once.
    calls = await reporter.press("← Back to the initiative")
    assert alert_of(calls)["text"] == "This initiative is no longer published."
    visitor = harness.person(3001, language_code="en")
    await visitor.send("/help")
    await visitor.press("Initiatives")
    await visitor.press("All initiatives")
    assert "No initiative has been published yet." in visitor.last

    # The author is told in their language, with «Contest».
    (notice,) = await deliver(harness)
    assert notice["chat"]["id"] == author.id
    assert f"“{TITLE}” (I-{initiative_id}) has been hidden" in notice["text"]
    assert "Reason: Spam or advertising." in notice["text"]
    await author.press("Contest", notice)
    assert author.last.startswith(f"Why should “{TITLE}” (I-{initiative_id}) be shown again?")
    assert (await dialog(harness, author)) == (
        "Contest:typing_explanation",
        {"contest": {"initiative_id": initiative_id}},
    )

    await author.send(EXPLANATION)
    assert author.last.startswith("Thank you. Your explanation has been sent")
    assert (await dialog(harness, author))[0] is None
    assert (await initiative(harness, initiative_id)).contested_at is not None

    (contested,) = await deliver(harness)
    assert contested["chat"]["id"] == GROUP_ID
    assert EXPLANATION in contested["text"]  # escaped, read as written
    assert t(GROUP, "Reason: {reason}", reason="")[:-1] in contested["text"]
    calls = await coordinator.press(t(GROUP, "Restore"), contested)
    assert alert_of(calls)["text"] == t(GROUP, "Done: the author has been told.")
    restored = await initiative(harness, initiative_id)
    assert restored.status is InitiativeStatus.approved
    assert await audit_actions(harness) == [
        "initiative.approve",
        "initiative.hide",
        "initiative.restore",
    ]
    closed = harness.standin.message(GROUP_ID, contested["message_id"])
    assert closed is not None and "reply_markup" not in closed
    assert "↩️" in closed["text"]

    (news,) = await deliver(harness)
    assert news["chat"]["id"] == author.id
    assert "the coordinators have restored your initiative" in news["text"]
    await visitor.press("← Back")
    await visitor.press("All initiatives")
    assert TITLE in visitor.buttons()

    # A second press on either card changes nothing, and says so.
    before = await counts(harness)
    for message, label in ((contested, "Keep hidden"), (card, "Keep"), (card, "Hide")):
        calls = await coordinator.press(t(GROUP, label), message)
        alert = alert_of(calls)
        assert alert["text"] == t(GROUP, "This has already been handled: nothing was changed.")
        assert alert["show_alert"] is True
    assert await counts(harness) == before
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.approved

    # The notification's button is spent: the initiative is no longer hidden.
    calls = await author.press("Contest", notice)
    assert alert_of(calls)["text"] == (
        "This button is no longer valid. Please use the latest message."
    )
    assert (await dialog(harness, author))[0] is None


async def test_keep_sets_the_reports_aside(harness: Harness) -> None:
    _author, reporter, coordinator, initiative_id = await setup(harness)
    await report(reporter, "Off-topic")
    second = await onboarded(harness, 1003)
    await report(second, "Offensive or hateful")
    rows = await outbox(harness)
    assert [chat for chat, _, _ in rows] == [GROUP_ID, GROUP_ID]
    assert reported_times(2) in rows[1][1]

    first_card, second_card = await deliver(harness)
    calls = await coordinator.press(t(GROUP, "Keep"), second_card)
    assert alert_of(calls)["text"] == t(GROUP, "Done.")
    kept = await initiative(harness, initiative_id)
    assert kept.status is InitiativeStatus.approved
    assert (await counts(harness))[:2] == (2, 0)
    assert await audit_actions(harness) == ["initiative.approve", "initiative.keep"]
    closed = harness.standin.message(GROUP_ID, second_card["message_id"])
    assert closed is not None and "reply_markup" not in closed and "✅" in closed["text"]

    # The other card of the same reports is already handled.
    calls = await coordinator.press(t(GROUP, "Hide"), first_card)
    assert alert_of(calls)["show_alert"] is True
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.approved
    assert await deliver(harness) == []


async def test_hide_with_several_reasons_then_keep_hidden(harness: Harness) -> None:
    author, reporter, coordinator, initiative_id = await setup(harness)
    await report(reporter, "Off-topic")
    for person_id in (1003, 1004):
        await report(await onboarded(harness, person_id), "Spam or advertising")
    cards = await deliver(harness)
    await coordinator.press(t(GROUP, "Hide"), cards[0])
    hidden = await initiative(harness, initiative_id)
    assert hidden.reason == "spam, off_topic"
    (notice,) = await deliver(harness)
    assert "Reason: Spam or advertising, Off-topic." in notice["text"]

    await author.press("Contest", notice)
    await author.send(EXPLANATION)
    (contested,) = await deliver(harness)
    calls = await coordinator.press(t(GROUP, "Keep hidden"), contested)
    assert alert_of(calls)["text"] == t(GROUP, "Done: the author has been told.")
    kept = await initiative(harness, initiative_id)
    assert kept.status is InitiativeStatus.hidden
    assert await audit_actions(harness) == [
        "initiative.approve",
        "initiative.hide",
        "initiative.keep_hidden",
    ]
    (news,) = await deliver(harness)
    assert news["chat"]["id"] == author.id
    assert "decided to keep your initiative" in news["text"]

    calls = await coordinator.press(t(GROUP, "Restore"), contested)
    assert alert_of(calls)["show_alert"] is True
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.hidden
    # Nor can it be contested again, from the notification or from «My proposals».
    calls = await author.press("Contest", notice)
    assert "already contested" in alert_of(calls)["text"]
    await author.send("/start")
    await author.press("My proposals")
    assert not [b for b in author.buttons() if b.startswith("Contest")]


async def test_a_second_report_by_the_same_person(harness: Harness) -> None:
    _author, reporter, _coordinator, _initiative_id = await setup(harness)
    await report(reporter)
    await report(reporter, "Off-topic")
    assert reporter.last.startswith("Thank you: you had already reported this initiative.")
    assert (await counts(harness))[0] == 1
    assert len(await outbox(harness)) == 1


async def test_only_coordinators_in_their_group(harness: Harness) -> None:
    author, reporter, _coordinator, initiative_id = await setup(harness)
    await report(reporter)
    (card,) = await deliver(harness)
    before = await counts(harness)

    stranger = group_person(harness, 77)
    calls = await stranger.press(t(GROUP, "Hide"), card)
    alert = alert_of(calls)
    assert alert["text"] == t(GROUP, "Only the city's coordinators can do this.")
    assert alert["show_alert"] is True
    assert harness.standin.message(GROUP_ID, card["message_id"]) == card

    # Forged in private chats: by a participant, and by a coordinator outside the group.
    coordinator_alone = harness.person(42, language_code="en")
    await coordinator_alone.send("/help")
    for person in (reporter, author, coordinator_alone):
        for data in (
            HideCb(initiative_id=initiative_id, hide=True).pack(),
            HideCb(initiative_id=initiative_id, hide=False).pack(),
            RestoreCb(initiative_id=initiative_id, restore=True).pack(),
        ):
            alert = alert_of(await person.press_data(data))
            assert alert["show_alert"] is True
    assert "only in the coordinators' group" in alert["text"]
    assert await counts(harness) == before
    assert (await initiative(harness, initiative_id)).status is InitiativeStatus.approved

    # A member of the group is a coordinator.
    harness.standin.set_chat_member(GROUP_ID, 78, "member")
    calls = await group_person(harness, 78).press(t(GROUP, "Keep"), card)
    assert alert_of(calls)["text"] == t(GROUP, "Done.")


async def test_forged_report_and_contest_buttons(harness: Harness) -> None:
    author, reporter, _coordinator, initiative_id = await setup(harness)
    visitor = harness.person(3001, language_code="en")
    await visitor.send("/help")
    reason = ReportCb(initiative_id=initiative_id, reason=ReportReason.spam).pack()
    alert = alert_of(await visitor.press_data(reason))
    assert "join La Collective first" in alert["text"]
    alert = alert_of(await reporter.press_data(ReportCb(initiative_id=999).pack()))
    assert alert["text"] == "This initiative is no longer published."

    # Contesting what is not hidden, or someone else's.
    for person in (author, reporter):
        alert = alert_of(await person.press_data(ContestCb(initiative_id=initiative_id).pack()))
        assert alert["show_alert"] is True
        assert (await dialog(harness, person))[0] is None
    assert await counts(harness) == (0, 0, 1, 0)


async def test_the_explanation_is_checked(harness: Harness) -> None:
    author, reporter, coordinator, initiative_id = await setup(harness)
    await report(reporter)
    (card,) = await deliver(harness)
    await coordinator.press(t(GROUP, "Hide"), card)
    (notice,) = await deliver(harness)
    await author.press("Contest", notice)
    question = author.last
    state = await dialog(harness, author)

    sticker = {
        "file_id": "CAAC",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await author.send(None, sticker=sticker)
    assert author.said(2) == ["Please type your explanation as a text message.", question]
    await author.send("no")
    assert author.last == tn(
        AUTHOR,
        "This is too short: at least {limit} character, please.",
        "This is too short: at least {limit} characters, please.",
        3,
        limit=3,
    )
    await author.send("x" * 501)
    assert "500" in author.last and author.last.startswith("This is too long")
    await author.send("   ")
    assert await dialog(harness, author) == state
    assert (await initiative(harness, initiative_id)).contested_at is None
    assert await deliver(harness) == []

    # The dialog survives a restart.
    await harness.restart()
    await author.send("It is a mistake, really.")
    assert author.last.startswith("Thank you. Your explanation has been sent")
    (contested,) = await deliver(harness)
    assert "It is a mistake, really." in contested["text"]

    # Only once.
    calls = await author.press("Contest", notice)
    assert "already contested" in alert_of(calls)["text"]


HIDDEN_NOTICE = (
    "Your initiative “{title}” ({reference}) has been hidden by the city's coordinators "
    "after reports from participants. Reason: {reason}.\n\nIf you think this is a "
    "mistake, you can contest this decision once: press “Contest” and explain why."
)


async def test_reported_from_a_photo_card_and_told_in_the_authors_language(
    harness: Harness,
) -> None:
    author = await onboarded(harness, 1001)
    photo = harness.standin.store_file(b"\xff\xd8jpeg", "tea.jpg", photo=True)["file_id"]
    initiative_id = await published(harness, author, TITLE, photo=photo)
    async with harness.sessionmaker.begin() as session:
        author_row = await find_user(session, author.id)
        assert author_row is not None
        author_row.locale = "ar"
    reporter = await onboarded(harness, 1002)
    await reporter.press("Initiatives")
    await reporter.press("All initiatives")
    await reporter.press(TITLE)
    card = reporter.keyboard_message()
    assert "photo" in card
    await reporter.press("Report abuse")
    # A photo cannot become text: the card goes, the question comes.
    assert harness.standin.message(reporter.id, card["message_id"]) is None
    await reporter.press("Off-topic")

    coordinator = group_person(harness)
    (group_card,) = await deliver(harness)
    await coordinator.press(t(GROUP, "Hide"), group_card)
    (notice,) = await deliver(harness)
    assert notice["chat"]["id"] == author.id
    expected = t(
        "ar",
        HIDDEN_NOTICE,
        # A Latin title and reference inside an Arabic sentence: isolated (handlers/bidi.py).
        title=f"\u2068{TITLE}\u2069",
        reference=f"\u2068I-{initiative_id}\u2069",
        reason=t("ar", "Off-topic"),
    )
    assert notice["text"] == plain(expected)
    assert [b["text"] for row in notice["reply_markup"]["inline_keyboard"] for b in row] == [
        t("ar", "Contest")
    ]


async def test_the_author_is_not_offered_to_report_their_own_initiative(
    harness: Harness,
) -> None:
    author, _reporter, _coordinator, initiative_id = await setup(harness)
    await author.press("Initiatives")
    await author.press("All initiatives")
    await author.press(TITLE)
    assert "Report abuse" not in author.buttons() and "Report" not in author.buttons()
    # An old or forged button, with or without a reason: refused, politely, and nothing kept.
    for data in (
        ReportCb(initiative_id=initiative_id).pack(),
        ReportCb(initiative_id=initiative_id, reason=ReportReason.spam).pack(),
    ):
        calls = await author.press_data(data)
        alert = alert_of(calls)
        assert alert["text"] == (
            "This initiative is yours: only other people can report it. Its card lets you give "
            "news of it, mark it completed or withdraw it."
        )
        assert alert["show_alert"] is True
    assert await counts(harness) == (0, 0, 1, 0)


async def test_a_report_card_names_its_reference_once(harness: Harness) -> None:
    _author, reporter, _coordinator, initiative_id = await setup(harness)
    await report(reporter)
    ((_, text, _),) = await outbox(harness)
    assert text.count(f"I-{initiative_id}") == 1
