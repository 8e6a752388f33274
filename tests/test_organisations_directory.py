"""«Who acts near me?»: organisations and initiatives by theme and arrondissement, a page at a
time, with their verified badge; a person asks an organisation to be put in touch or to join it,
a member accepts or declines, and contacts are exchanged only once a member accepts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.organisations.callbacks import AnswerCb, AskCb, AskKind
from storage import my_data
from storage.models import Organisation, OrganisationRequest
from storage.privacy import forget_user
from storage.users import find_user
from tests.challenges_setup import alert_of
from tests.conversation import Harness, Person, buttons_of, texts
from tests.delivery_setup import deliver
from tests.initiatives_setup import onboarded, outbox, published
from tests.texts import t


async def organisation_id(harness: Harness, name: str) -> int:
    async with harness.sessionmaker() as session:
        found = await session.scalar(select(Organisation.id).where(Organisation.name == name))
        assert found is not None
        return found


async def speaks(harness: Harness, person: Person, locale: str) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, person.id)
        assert user is not None
        user.locale = locale


def to(messages: list[dict[str, Any]], chat_id: int) -> list[dict[str, Any]]:
    return [m for m in messages if m["chat"]["id"] == chat_id]


def every_button_fits(person: Person) -> None:
    for message in person.bot_messages():
        for button in buttons_of(message):
            assert len(button.get("callback_data", "").encode()) <= 64


async def test_a_citizen_finds_an_organisation_and_is_put_in_touch(harness: Harness) -> None:
    member = await onboarded(harness, 1001, organisation="Voisins Solidaires", verified=True)
    author = await onboarded(harness, 1003)
    await published(harness, author, "Tea and talk", theme="culture", arrondissement=3)
    citizen = await onboarded(harness, 1002)

    await citizen.send("/help")
    await citizen.press("Who acts near me?")
    await citizen.press("Culture")
    await citizen.press("3rd")
    assert "Voisins Solidaires ✓ — Organisation" in citizen.last
    assert "Tea and talk — Initiative" in citizen.last
    assert "Arrondissement 3" in citizen.last
    await citizen.press("1. Voisins Solidaires")
    assert "✓ Verified by the city's coordinators." in citizen.last
    await citizen.press("Ask to be put in touch")
    assert "if one accepts, you each receive the other's Telegram contact" in citizen.last
    await citizen.press("Yes, ask")
    assert "Your request was sent to Voisins Solidaires ✓" in citizen.last

    # The member is asked, without the citizen's contact nor name.
    (request,) = to(await deliver(harness), 1001)
    assert "Someone asks to be put in touch with Voisins Solidaires ✓" in request["text"]
    assert "A citizen (Arrondissement 3)" in request["text"]
    assert "write to them" not in request["text"]

    # Asking twice, or one's own organisation, or a forged button: refused.
    org = await organisation_id(harness, "Voisins Solidaires")
    again = AskCb(organisation_id=org, kind=AskKind.contact, sure=True).pack()
    calls = await citizen.press_data(again)
    assert alert_of(calls)["text"].startswith("You already asked Voisins Solidaires ✓")
    await member.send("/help")
    calls = await member.press_data(again)
    assert alert_of(calls)["text"] == "You are already a member of Voisins Solidaires ✓."
    calls = await citizen.press_data(AskCb(organisation_id=999, kind=AskKind.contact).pack())
    assert (
        alert_of(calls)["text"] == "This button is no longer valid. Please use the latest message."
    )
    async with harness.sessionmaker() as session:
        (asked,) = await session.scalars(select(OrganisationRequest))
    calls = await citizen.press_data(AnswerCb(request_id=asked.id, accept=True).pack())
    assert alert_of(calls)["text"] == "Only the members of this organisation can answer."
    assert to(await deliver(harness), 1002) == []

    # The member accepts: each receives the other's contact; a second press changes nothing.
    calls = await member.press("Accept", request)
    assert any("You accepted" in text for text in texts(calls))
    waiting = [(chat, payload["text"]) for chat, _, payload in await outbox(harness)]
    (to_citizen,) = [text for chat, text in waiting[-2:] if chat == 1002]
    (to_member,) = [text for chat, text in waiting[-2:] if chat == 1001]
    assert "Voisins Solidaires ✓ accepted your request" in to_citizen
    assert '<a href="tg://user?id=1001">write to them</a>' in to_citizen
    assert '<a href="tg://user?id=1002">write to them</a>' in to_member
    calls = await member.press_data(AnswerCb(request_id=asked.id, accept=False).pack(), request)
    assert alert_of(calls)["text"] == "Another member has already answered this request."
    every_button_fits(citizen)


async def test_the_directory_goes_page_by_page(harness: Harness) -> None:
    author = await onboarded(harness, 1003)
    for number in range(7):
        await published(harness, author, f"Garden {number}", theme="ecology", arrondissement=5)
    citizen = await onboarded(harness, 1002)
    await citizen.send("/help")
    await citizen.press("Who acts near me?")
    await citizen.press("All themes")
    await citizen.press("The whole city")
    assert "Page 1 of 2" in citizen.last
    assert "5. Garden 4" in citizen.last and "Garden 5" not in citizen.last
    await citizen.press("Next →")
    assert "6. Garden 5" in citizen.last and "7. Garden 6" in citizen.last
    await citizen.press("← Previous")
    assert "1. Garden 0" in citizen.last
    await citizen.press("Another search")
    await citizen.press("Culture")
    await citizen.press("16th")
    assert "Nobody is listed here yet" in citizen.last
    every_button_fits(citizen)


async def test_asking_to_join_in_french_a_member_accepts_in_arabic(harness: Harness) -> None:
    member = await onboarded(harness, 1001, organisation="Les Amis du Panier")
    await speaks(harness, member, "ar")
    asker = await onboarded(harness, 1002)
    await speaks(harness, asker, "fr")
    other = await onboarded(harness, 1004)
    await speaks(harness, other, "fr")

    await asker.send("/help")
    await asker.press(t("fr", "Who acts near me?"))
    await asker.press(t("fr", "All themes"))
    await asker.press(t("fr", "The whole city"))
    assert "Les Amis du Panier" in asker.last
    await asker.press("1. Les Amis du Panier")
    assert t("fr", "Not verified by the city's coordinators yet.") in asker.last
    await asker.press(t("fr", "Ask to join it"))
    await asker.press(t("fr", "Yes, ask"))
    (request,) = to(await deliver(harness), 1001)
    assert t("ar", "Accept") in [b["text"] for b in buttons_of(request)]
    assert "Test" in request["text"]  # their Telegram name, so that a colleague recognises them

    await member.press(t("ar", "Accept"), request)
    (welcome,) = to(await deliver(harness), 1002)
    assert welcome["text"] == t(
        "fr",
        "🏷 Welcome to {name}! A member accepted your request: see /organisation.",
        name="Les Amis du Panier",
    )
    async with harness.sessionmaker() as session:
        joined = await find_user(session, 1002)
        assert joined is not None and joined.organisation is not None
        assert joined.organisation.name == "Les Amis du Panier"

    # Another asks to be put in touch; the member declines: told kindly, no contact given.
    await other.send("/help")
    await other.press(t("fr", "Who acts near me?"))
    await other.press(t("fr", "All themes"))
    await other.press(t("fr", "The whole city"))
    await other.press("1. Les Amis du Panier")
    await other.press(t("fr", "Ask to be put in touch"))
    await other.press(t("fr", "Yes, ask"))
    delivered = await deliver(harness)
    (contact_request,) = to(delivered, 1001)
    assert len(to(delivered, 1002)) == 1  # the new member is asked too
    await member.press(t("ar", "Decline"), contact_request)
    delivered = await deliver(harness)
    (sorry,) = to(delivered, 1004)
    assert "Les Amis du Panier" in sorry["text"]
    assert not any("tg://user" in payload["text"] for _, _, payload in await outbox(harness))


async def test_my_data_lists_the_membership_and_requests_and_erasure_leaves_none(
    harness: Harness,
) -> None:
    member = await onboarded(harness, 1001, organisation="Voisins Solidaires", verified=True)
    citizen = await onboarded(harness, 1002)
    org = await organisation_id(harness, "Voisins Solidaires")
    await citizen.send("/help")
    await citizen.press_data(AskCb(organisation_id=org, kind=AskKind.contact, sure=True).pack())
    (request,) = to(await deliver(harness), 1001)
    await member.press("Accept", request)

    await citizen.send("/mydata")
    assert "• 1 request to an organisation" in "\n".join(citizen.said(3))
    await member.send("/mydata")
    assert "• 1 request to an organisation" in "\n".join(member.said(3))
    async with harness.sessionmaker() as session:
        user = await find_user(session, 1001)
        assert user is not None
        data = await my_data.export_user_data(session, user)
    assert data["about you"]["organisation"] == "Voisins Solidaires"
    assert data["about you"]["organisation verified by the coordinators"] is True
    (answered,) = data[my_data.REQUESTS]
    assert answered["asked by you"] is False and answered["answer"] == "accepted"

    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, 1002)
        assert user is not None
        await forget_user(session, user)
        other = await find_user(session, 1001)
        assert other is not None
        await forget_user(session, other)
    async with harness.sessionmaker() as session:
        assert list(await session.scalars(select(OrganisationRequest))) == []
