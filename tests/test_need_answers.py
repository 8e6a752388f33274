"""A need is open, then being answered (linked by a coordinator, or by an initiative's carrier
once a coordinator confirms), or closed; its author is told, in their language, and sees where
each of their needs stands in «My needs», where they can withdraw one."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from handlers.initiatives.callbacks import GatherAction, GatherCb
from handlers.initiatives.need_links import NeedLinkCb
from handlers.needs.mine import MyNeedCb, MyNeedsAction
from storage.models import Need, NeedStatus, User
from storage.needs import needs_counts, report_need
from storage.users import find_user
from tests.conversation import Harness, Person
from tests.initiatives_setup import GROUP_ID, group_person, onboarded, outbox, published
from tests.needs_setup import needs
from tests.texts import t

NEED_TEXT = "Older people on our street are alone all summer long."
TITLE = "Tea afternoons for older neighbours"


async def reported(harness: Harness, person: Person) -> int:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, person.id)
        assert user is not None
        return (await report_need(session, user, "older_people", 3, NEED_TEXT)).id


async def speaking(harness: Harness, person: Person, locale: str) -> Person:
    async with harness.sessionmaker.begin() as session:
        await session.execute(
            update(User).where(User.telegram_id == person.id).values(locale=locale)
        )
    return person


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_my_needs_lists_them_and_withdraws_one(harness: Harness, locale: str) -> None:
    person = await speaking(harness, await onboarded(harness, 1001), locale)
    need_id = await reported(harness, person)
    await person.send("/start")
    await person.press(t(locale, "My needs"))
    assert f"N-{need_id}" in person.last
    assert t(locale, "open") in person.last
    await person.press(t(locale, "Withdraw {reference}", reference=f"N-{need_id}"))
    assert t(locale, "You have not reported any need yet.") in person.last
    assert (await needs(harness))[0].status is NeedStatus.withdrawn


async def test_nobody_else_withdraws_a_need(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    need_id = await reported(harness, author)
    other = await onboarded(harness, 1002)
    data = MyNeedCb(action=MyNeedsAction.withdraw, need_id=need_id).pack()
    calls = await other.press_data(data)
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == "This need cannot be withdrawn."
    assert (await needs(harness))[0].status is NeedStatus.open


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_coordinator_links_a_need_and_its_author_is_told(
    harness: Harness, locale: str
) -> None:
    author = await speaking(harness, await onboarded(harness, 1001), locale)
    need_id = await reported(harness, author)
    carrier = await onboarded(harness, 1002)
    initiative_id = await published(harness, carrier, TITLE)
    coordinator = group_person(harness)

    await coordinator.send(f"/need N-{need_id} I-{initiative_id}")
    (need,) = await needs(harness)
    assert need.status is NeedStatus.answered and need.answered_by_initiative_id == initiative_id
    chat, text, payload = (await outbox(harness))[-1]
    assert chat == author.id
    assert text == t(
        locale,
        "Good news: your need {reference} is being answered by “{name}”.",
        reference=f"N-{need_id}",
        name=TITLE,
    )
    assert payload["reply_markup"]["inline_keyboard"][0][0]["text"] == t(
        locale, "See it, and support it"
    )

    await author.send("/start")
    await author.press(t(locale, "My needs"))
    assert t(locale, "being answered") in author.last

    await coordinator.send(f"/need N-{need_id} close")
    assert (await needs(harness))[0].status is NeedStatus.closed


async def test_a_carriers_link_waits_for_a_coordinator(harness: Harness) -> None:
    author = await onboarded(harness, 1001)
    need_id = await reported(harness, author)
    carrier = await onboarded(harness, 1002)
    initiative_id = await published(harness, carrier, TITLE)

    # Someone who does not carry it cannot say it answers a need.
    calls = await author.press_data(
        GatherCb(action=GatherAction.answers, initiative_id=initiative_id).pack()
    )
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["show_alert"] is True

    await carrier.press_data(
        GatherCb(action=GatherAction.answers, initiative_id=initiative_id).pack()
    )
    await carrier.send(f"N-{need_id}")
    (need,) = await needs(harness)
    assert need.status is NeedStatus.open and need.link_confirmed is False
    assert any(chat == GROUP_ID for chat, _, _ in await outbox(harness))
    told = len([row for row in await outbox(harness) if row[0] == author.id])
    assert told == 0

    # Only a coordinator confirms: in a private chat the button is refused.
    await author.press_data(NeedLinkCb(need_id=need_id, accept=True).pack())
    assert (await needs(harness))[0].status is NeedStatus.open

    coordinator = group_person(harness)
    await coordinator.send("/need")
    usage = coordinator.bot_messages()[-1]
    await coordinator.press_data(NeedLinkCb(need_id=need_id, accept=True).pack(), usage)
    (need,) = await needs(harness)
    assert need.status is NeedStatus.answered and need.link_confirmed is True
    # The message pressed keeps what it said; the decision is added below it.
    decided = harness.standin.message(GROUP_ID, usage["message_id"])
    assert decided is not None and decided["text"].startswith(usage["text"])
    line = t("fr", "✅ {need} is answered by {reference}.", need=f"N-{need_id}", reference="I-1")
    assert decided["text"].endswith(line)
    assert any(chat == author.id for chat, _, _ in await outbox(harness))


async def test_a_withdrawn_need_is_left_out_of_my_needs(harness: Harness) -> None:
    person = await onboarded(harness, 1001)
    await reported(harness, person)
    async with harness.sessionmaker.begin() as session:
        await session.execute(update(Need).values(status=NeedStatus.withdrawn))
    await person.send("/start")
    await person.press("My needs")
    assert person.last == "You have not reported any need yet."


async def test_a_withdrawn_need_leaves_the_needs_map(harness: Harness) -> None:
    person = await onboarded(harness, 1001)
    kept = await reported(harness, person)
    gone = await reported(harness, person)
    await person.send("/start")
    await person.press("My needs")
    await person.press(f"Withdraw N-{gone}")
    async with harness.sessionmaker() as session:
        assert await needs_counts(session) == {(3, "older_people"): 1}
    assert [need.id for need in await needs(harness) if need.status is NeedStatus.open] == [kept]
