"""A published initiative gathers support, followers and helpers from its card; its carriers
post news, answer offers of help, complete or withdraw it; nobody else may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from handlers.initiatives.callbacks import CardCb, GatherAction, GatherCb, HelpAnswerCb
from storage import initiative_support as gather
from storage.models import (
    HelpOffer,
    HelpStatus,
    InitiativeFollow,
    InitiativeStatus,
    InitiativeSupport,
    OutboxMessage,
    User,
    utcnow,
)
from storage.outbox import NEWS
from storage.users import find_user
from tests.conversation import Harness, Person, texts
from tests.initiatives_setup import initiative, onboarded, outbox, published
from tests.texts import t, tn

TITLE = "Tea afternoons for older neighbours"
NEWS_TEXT = "Next tea afternoon on Thursday at 3 pm, bring a friend!"


async def speaking(harness: Harness, person: Person, locale: str) -> Person:
    async with harness.sessionmaker.begin() as session:
        await session.execute(
            update(User).where(User.telegram_id == person.id).values(locale=locale)
        )
    return person


async def open_card(person: Person, initiative_id: int) -> None:
    await person.send("/start")
    await person.press_data(CardCb(initiative_id=initiative_id).pack())


def gather_data(action: GatherAction, initiative_id: int) -> str:
    return GatherCb(action=action, initiative_id=initiative_id).pack()


async def rows(harness: Harness, model: type) -> list:
    async with harness.sessionmaker() as session:
        return list((await session.scalars(select(model))).all())


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_support_and_follow_are_counted_once_and_undone(
    harness: Harness, locale: str
) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    neighbour = await speaking(harness, await onboarded(harness, 1002), locale)

    await open_card(neighbour, initiative_id)
    assert tn(locale, "{count} supporter", "{count} supporters", 0, count=0) in neighbour.last
    assert t(locale, "Support") in neighbour.buttons()
    assert t(locale, "I want to help") in neighbour.buttons()

    await neighbour.press(t(locale, "Support"))
    # A count of 1 to 4 people is never shown as such.
    assert t(locale, "fewer than 5 supporters") in neighbour.last
    assert t(locale, "✓ Supported (undo)") in neighbour.buttons()
    await neighbour.press(t(locale, "Follow"))
    assert t(locale, "✓ Following (stop)") in neighbour.buttons()
    assert len(await rows(harness, InitiativeSupport)) == 1
    assert len(await rows(harness, InitiativeFollow)) == 1

    # Pressed again: undone.
    await neighbour.press(t(locale, "✓ Supported (undo)"))
    assert tn(locale, "{count} supporter", "{count} supporters", 0, count=0) in neighbour.last
    assert await rows(harness, InitiativeSupport) == []


async def test_the_author_is_not_offered_to_support_or_report_their_own(
    harness: Harness,
) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    await open_card(author, initiative_id)
    buttons = author.buttons()
    assert "Support" not in buttons and "Report abuse" not in buttons
    assert "Post news" in buttons and "Mark as completed" in buttons

    # A forged button is refused.
    calls = await author.press_data(gather_data(GatherAction.support, initiative_id))
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == "This is your own initiative."
    assert await rows(harness, InitiativeSupport) == []


async def test_carriers_news_reach_followers_and_helpers_but_not_who_said_stop(
    harness: Harness,
) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    follower = await speaking(harness, await onboarded(harness, 1002), "fr")
    stopped = await onboarded(harness, 1003)
    for person in (follower, stopped):
        await open_card(person, initiative_id)
        await person.press_data(gather_data(GatherAction.follow, initiative_id))
    async with harness.sessionmaker.begin() as session:
        await session.execute(
            update(User).where(User.telegram_id == stopped.id).values(stopped_at=utcnow())
        )

    # Someone else cannot post news, even with a forged button.
    calls = await follower.press_data(gather_data(GatherAction.news, initiative_id))
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == t(
        "fr", "Only the people who carry this initiative can do this."
    )

    await open_card(author, initiative_id)
    await author.press("Post news")
    await author.send(NEWS_TEXT)
    assert author.last == "Your news is on its way to 1 person."
    async with harness.sessionmaker() as session:
        (row,) = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == NEWS))
        ).all()
    assert row.chat_id == follower.id
    assert t("fr", "News from “{title}”:", title=TITLE) in row.payload["text"]
    assert NEWS_TEXT in row.payload["text"]

    # Once a day.
    await author.press_data(gather_data(GatherAction.news, initiative_id))
    await author.send(NEWS_TEXT)
    assert author.last.startswith("You can post news again from")


async def test_an_offer_of_help_accepted_exchanges_contacts(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    helper = await speaking(harness, await onboarded(harness, 1002), "fr")

    await open_card(helper, initiative_id)
    await helper.press(t("fr", "I want to help"))
    await helper.press(t("fr", "Skills"))
    await helper.send("I can drive people to the tea afternoons.")
    assert helper.last == t("fr", "Thank you! Your offer is sent; you will be told their answer.")
    (chat, text, payload) = (await outbox(harness))[-1]
    assert chat == author.id and "I can drive people" in text
    offer_id = (await rows(harness, HelpOffer))[0].id

    # Nobody but a carrier answers it.
    calls = await helper.press_data(HelpAnswerCb(offer_id=offer_id, accept=True).pack())
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == t(
        "fr", "Only the people who carry this initiative can do this."
    )

    await open_card(author, initiative_id)
    await author.press("Offers of help")
    assert "I can drive people" in author.last
    offers = author.keyboard_message()
    await author.press("Accept")
    assert author.last.startswith("Accepted. You can write to them")
    # The list of offers stays above the answer, without the buttons of the one answered.
    kept = harness.standin.message(author.id, offers["message_id"])
    assert kept is not None and "I can drive people" in kept["text"]
    assert not kept.get("reply_markup")
    (chat, text, payload) = (await outbox(harness))[-1]
    assert chat == helper.id
    assert f"tg://user?id={author.id}" in payload["text"]
    assert (await rows(harness, HelpOffer))[0].status is HelpStatus.accepted

    # Answered once.
    calls = await author.press_data(HelpAnswerCb(offer_id=offer_id, accept=False).pack())
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == "This offer has already been answered."


async def test_carriers_complete_and_only_the_author_withdraws(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    first = await published(harness, author, TITLE)
    second = await published(harness, author, "A shared garden at the foot of our block")
    other = await onboarded(harness, 1002)

    for action in (GatherAction.complete, GatherAction.withdraw):
        await open_card(other, first)
        calls = await other.press_data(gather_data(action, first))
        (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answer.params["show_alert"] is True
    assert (await initiative(harness, first)).status is InitiativeStatus.approved

    await open_card(author, first)
    await author.press("Mark as completed")
    assert (await initiative(harness, first)).status is InitiativeStatus.completed
    await open_card(author, second)
    await author.press("Withdraw")
    assert (await initiative(harness, second)).status is InitiativeStatus.withdrawn


async def test_support_instead_of_a_look_alike_records_a_support(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    other = await onboarded(harness, 1002)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, other.id)
        assert user is not None
        assert await gather.support(session, initiative_id, user) is True
        assert await gather.support(session, initiative_id, user) is False
        author_user = await find_user(session, author.id)
        assert author_user is not None
        with pytest.raises(gather.OwnInitiative):
            await gather.support(session, initiative_id, author_user)
    assert len(await rows(harness, InitiativeSupport)) == 1


async def test_news_pace_is_kept_by_the_clock_given(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    now = utcnow()
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert user is not None
        await gather.news_recipients(session, initiative_id, user, now=now)
        with pytest.raises(gather.TooSoon):
            await gather.news_recipients(
                session, initiative_id, user, now=now + timedelta(hours=23)
            )
        await gather.news_recipients(session, initiative_id, user, now=now + timedelta(hours=24))


async def test_support_instead_of_proposing_a_look_alike_is_counted(harness: Harness) -> None:
    author = await onboarded(harness, 2001)
    existing = await published(harness, author, TITLE)
    person = await onboarded(harness, 2002)
    await person.press("Propose an initiative")
    await person.press("Older people and isolation")
    await person.press("Arrondissement 3")
    await person.send("Afternoons of tea with neighbours")
    await person.press("Support “Tea afternoons")
    (support,) = await rows(harness, InitiativeSupport)
    assert support.initiative_id == existing
    async with harness.sessionmaker() as session:
        assert await gather.support_count(session, existing) == 1


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_share_gives_a_link_and_a_poster_that_open_the_card(
    harness: Harness, locale: str
) -> None:
    author = await onboarded(harness, 1001)
    initiative_id = await published(harness, author, TITLE)
    neighbour = await speaking(harness, await onboarded(harness, 1002), locale)
    await open_card(neighbour, initiative_id)
    calls = await neighbour.press(t(locale, "Share"))
    link = f"https://t.me/collective_test_bot?start=i_{initiative_id}"
    (text,) = texts(calls)
    assert link in text
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert photo.params["caption"] == t(locale, "A poster to print for “{title}”.", title=TITLE)

    # Whoever opens the link — even before joining — sees the card.
    visitor = harness.person(3003, language_code="en")
    await visitor.send(f"/start i_{initiative_id}")
    assert TITLE in visitor.last and f"I-{initiative_id}" in visitor.last
    # A link to nothing published is a plain /start.
    await visitor.send("/start i_999999")
    assert TITLE not in visitor.last


@pytest.mark.parametrize("verified", [True, False])
async def test_members_of_a_verified_organisation_carry_its_initiatives(
    harness: Harness, verified: bool
) -> None:
    author = await onboarded(harness, 1001, "Voisins Solidaires", verified=verified)
    initiative_id = await published(harness, author, TITLE)
    colleague = await onboarded(harness, 1002, "Another association")
    async with harness.sessionmaker.begin() as session:
        mine = await find_user(session, author.id)
        theirs = await find_user(session, colleague.id)
        assert mine is not None and theirs is not None
        theirs.organisation_id = mine.organisation_id
    await open_card(colleague, initiative_id)
    if verified:
        assert "Post news" in colleague.buttons() and "Support" not in colleague.buttons()
    else:
        assert "Support" in colleague.buttons() and "Post news" not in colleague.buttons()
