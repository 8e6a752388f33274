"""Alliances on a challenge: a participant sees the other organisations taking part (never a
citizen), asks to be introduced to one; the one asked accepts — each side then receives the
other's contact, in their own language — or declines, and nothing is shared. Forged, stale and
second presses change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import html
from sqlalchemy import select

from handlers.challenges.callbacks import AllyAnswerCb, AllyAskCb, AllyListCb
from storage.challenges import challenge_figures, leave
from storage.models import Challenge, Introduction, IntroductionStatus, Role
from storage.privacy import forget_user
from storage.users import (
    find_user,
)
from tests.challenges_setup import (
    ASSOCIATION,
    ASSOCIATION_BRINGS,
    ASSOCIATION_NAME,
    CITIZEN,
    CITIZEN_BRINGS,
    COMPANY,
    COMPANY_BRINGS,
    COMPANY_NAME,
    TITLE,
    alert_of,
    cast,
    make_challenge,
    open_card,
    organisations_of,
    participant,
)
from tests.conversation import Harness, Person, button_texts, buttons_of, plain
from tests.delivery_setup import deliver
from tests.initiatives_setup import outbox
from tests.texts import t

# Races and once-only work: on PostgreSQL too.
pytestmark = pytest.mark.postgres

TITLE_FR = TITLE + " (fr)"
NOT_TAKING_PART = "You are not taking part in this challenge."


async def introductions(harness: Harness) -> list[Introduction]:
    async with harness.sessionmaker() as session:
        rows = await session.scalars(select(Introduction).order_by(Introduction.id))
        return list(rows.all())


async def figures(harness: Harness, challenge: Challenge) -> tuple[int, int]:
    async with harness.sessionmaker() as session:
        counted = await challenge_figures(session, challenge.id)
        return counted.introductions_asked, counted.introductions_made


def rows_to(rows: list[tuple[int, str, dict[str, Any]]], chat_id: int) -> list[dict[str, Any]]:
    return [payload for chat, _text, payload in rows if chat == chat_id]


def markup_texts(payload: dict[str, Any]) -> list[str]:
    return button_texts({"reply_markup": payload.get("reply_markup")})


async def ask(requester: Person, name: str) -> None:
    await requester.press(f"Ask to be introduced to {name} ✓")
    assert f"Ask to be introduced to {name} ✓?" in requester.last
    assert "Only if they accept do you each receive the other's Telegram contact." in (
        requester.last
    )
    await requester.press("Yes, ask")


async def test_the_list_shows_organisations_never_citizens(harness: Harness) -> None:
    challenge, association, _company, citizen, outsider = await cast(harness)

    await open_card(citizen)
    assert citizen.buttons()[:3] == ["Change what I bring", "Leave", "Organisations taking part"]
    calls = await citizen.press("Organisations taking part")
    shown = citizen.last
    assert f"Organisations taking part in “{TITLE}”" in shown
    assert f"1. {ASSOCIATION_NAME} ✓ (Association)" in shown
    assert "Brings: Skills" in shown and ASSOCIATION_BRINGS in shown
    assert f"2. {COMPANY_NAME} ✓ (Company)" in shown
    assert "Brings: Premises" in shown and COMPANY_BRINGS in shown
    assert "Jeanne" not in shown and "Club Hors Jeu" not in shown
    assert citizen.buttons() == [
        f"Ask to be introduced to {ASSOCIATION_NAME} ✓",
        f"Ask to be introduced to {COMPANY_NAME} ✓",
        "← Back to the challenge",
    ]
    # User text is escaped: the HTML sent shows it as written.
    (raw,) = [c.params["text"] for c in calls if c.method == "editMessageText"]
    assert "&lt;older&gt; people &amp; call them" in raw

    # An organisation does not see itself, nor the citizen.
    shown = await organisations_of(association)
    assert COMPANY_NAME in shown
    assert ASSOCIATION_NAME not in shown and "Jeanne" not in shown and "citizen" not in shown

    # Someone not taking part has no button, and a forged one is refused.
    await open_card(outsider)
    assert "Organisations taking part" not in outsider.buttons()
    before = outsider.last
    for data in (
        AllyListCb(challenge_id=challenge.id).pack(),
        AllyAskCb(challenge_id=challenge.id, target=2, sure=True).pack(),
    ):
        calls = await outsider.press_data(data)
        assert alert_of(calls) == {
            "callback_query_id": alert_of(calls)["callback_query_id"],
            "text": NOT_TAKING_PART,
            "show_alert": True,
        }
        assert outsider.last == before
    assert await introductions(harness) == []
    assert await outbox(harness) == []


async def test_a_long_list_comes_a_page_at_a_time(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    names = [f"Association number {n}" for n in range(7)]
    for n, name in enumerate(names):
        await participant(
            harness,
            4000 + n,
            challenge,
            role=Role.association,
            organisation=name,
            text="word " * 60,
        )
    citizen = await participant(harness, CITIZEN, challenge)
    shown = await organisations_of(citizen)
    assert "page 1/2" in shown
    assert all(name in shown for name in names[:5]) and names[5] not in shown
    assert [b for b in citizen.buttons() if b.startswith("Ask")] == [
        f"Ask to be introduced to {name} ✓" for name in names[:5]
    ]
    await citizen.press("▶")
    assert "page 2/2" in citizen.last and f"6. {names[5]} ✓" in citizen.last
    assert citizen.buttons() == [
        f"Ask to be introduced to {names[5]} ✓",
        f"Ask to be introduced to {names[6]} ✓",
        "◀",
        "← Back to the challenge",
    ]


async def test_ask_then_accept_shares_both_contacts(harness: Harness) -> None:
    challenge, association, company, citizen, _outsider = await cast(harness)
    await organisations_of(citizen)
    await citizen.press(f"Ask to be introduced to {COMPANY_NAME} ✓")
    # Before asking, the person sees what the other side will see of them.
    assert "They will see:\nA citizen (Arrondissement 5)\nBrings: Volunteers' time\n" in (
        citizen.last
    )
    await citizen.press("Yes, ask")
    assert citizen.last == (
        f"Your request has been sent to {COMPANY_NAME} ✓. If they accept, you will receive "
        "their contact here."
    )

    # The company is asked in French: who asks (no contact yet), on which challenge, with
    # what, and two buttons.
    (request,) = rows_to(await outbox(harness), COMPANY)
    assert TITLE_FR in request["text"]
    place = t("fr", "Arrondissement {number}", number=5)
    assert t("fr", "A citizen ({place})", place=place) in request["text"]
    assert t("fr", "Volunteers' time") in request["text"] and CITIZEN_BRINGS in request["text"]
    assert "tg://" not in request["text"]
    assert markup_texts(request) == [t("fr", "Accept"), t("fr", "Decline")]
    assert await figures(harness, challenge) == (1, 0)

    # Asking again is the same introduction, said kindly, and nothing more is sent.
    await citizen.press("← Back to the organisations")
    assert "⏳ Request sent: waiting for their answer." in citizen.last
    await ask(citizen, COMPANY_NAME)
    assert citizen.last == (
        f"You have already asked to meet {COMPANY_NAME} ✓: they have not answered yet."
    )
    assert len(await introductions(harness)) == 1
    assert len(rows_to(await outbox(harness), COMPANY)) == 1

    (message,) = await deliver(harness)
    (introduction,) = await introductions(harness)
    # Someone else pressing the answer (forged: they never had the button) is refused.
    calls = await association.press_data(
        AllyAnswerCb(introduction_id=introduction.id, accept=True).pack(), message
    )
    assert alert_of(calls)["text"] == "This request was not addressed to you."
    assert alert_of(calls)["show_alert"] is True

    company.user["username"] = "soleil_sas"  # the one who accepts is there: their @username
    await company.press(t("fr", "Accept"), message)
    assert t("fr", "✅ You accepted: you will each receive the other's contact.") in company.last
    assert buttons_of(harness.standin.message(COMPANY, message["message_id"]) or {}) == []
    (introduction,) = await introductions(harness)
    assert introduction.status is IntroductionStatus.accepted
    assert introduction.answered_at is not None

    # Each receives the other's contact, in their own language.
    rows = await outbox(harness)
    (to_citizen,) = rows_to(rows, CITIZEN)
    assert (
        f'<a href="tg://user?id={COMPANY}">write to them</a> (@soleil_sas)' in to_citizen["text"]
    )
    assert COMPANY_NAME in to_citizen["text"] and TITLE in to_citizen["text"]
    to_company = rows_to(rows, COMPANY)[-1]
    link = f'<a href="tg://user?id={CITIZEN}">{t("fr", "write to them")}</a>'
    assert link in to_company["text"] and TITLE_FR in to_company["text"]
    assert t("fr", "A citizen ({place})", place=place) in to_company["text"]
    assert not any("tg://" in payload["text"] for payload in rows_to(rows, ASSOCIATION))
    assert await figures(harness, challenge) == (1, 1)

    # A second press on the old buttons changes nothing.
    for label in (t("fr", "Decline"), t("fr", "Accept")):
        calls = await company.press_data(
            AllyAnswerCb(
                introduction_id=introduction.id, accept=label == t("fr", "Accept")
            ).pack(),
            message,
        )
        assert alert_of(calls)["text"] == t("fr", "You have already answered this request.")
    assert len(await outbox(harness)) == len(rows)
    (introduction,) = await introductions(harness)
    assert introduction.status is IntroductionStatus.accepted

    # A forged id is refused.
    calls = await company.press_data(AllyAnswerCb(introduction_id=999, accept=True).pack())
    assert alert_of(calls)["text"] == t(
        "fr", "This button is no longer valid. Please use the latest message."
    )

    # Introduced: the list says so, and asking again says so too.
    await citizen.press("← Back to the organisations")
    assert "🤝 You have been introduced." in citizen.last
    await ask(citizen, COMPANY_NAME)
    assert "You have already been introduced to" in citizen.last
    assert await figures(harness, challenge) == (1, 1)


async def test_decline_tells_the_requester_and_shares_nothing(harness: Harness) -> None:
    challenge, association, company, _citizen, _outsider = await cast(harness)
    await organisations_of(company)
    await company.press(t("fr", "Ask to be introduced to {name}", name=ASSOCIATION_NAME))
    await company.press(t("fr", "Yes, ask"))
    (request,) = rows_to(await outbox(harness), ASSOCIATION)
    assert TITLE in request["text"] and "Boulangerie Martin ✓</b> (Company)" in request["text"]
    assert markup_texts(request) == ["Accept", "Decline"]

    (message,) = await deliver(harness)
    await association.press("Decline", message)
    assert "You declined: nothing was shared." in association.last
    (introduction,) = await introductions(harness)
    assert introduction.status is IntroductionStatus.declined

    (told,) = rows_to(await outbox(harness), COMPANY)
    assert ASSOCIATION_NAME.replace("&", "&amp;") in told["text"] and TITLE_FR in told["text"]
    assert markup_texts(told) == [t("fr", "Organisations taking part")]
    assert not any("tg://" in payload["text"] for _c, _t, payload in await outbox(harness))
    assert await figures(harness, challenge) == (1, 0)

    # The association changes its mind too late: its answer stands.
    calls = await association.press("Accept", message)
    assert alert_of(calls)["text"] == "You have already answered this request."
    assert (await introductions(harness))[0].status is IntroductionStatus.declined
    assert len(await outbox(harness)) == 2

    # The notice stays when its button is pressed: the list comes under it.
    (notice,) = await deliver(harness)
    await company.press(t("fr", "Organisations taking part"), notice)
    assert harness.standin.message(company.id, notice["message_id"]) == notice
    assert company.last.startswith(
        plain(t("fr", "<b>Organisations taking part in “{title}”</b>", title=TITLE_FR))
    )

    # Asking again, from that list: the same introduction, said kindly.
    await company.press(t("fr", "Ask to be introduced to {name}", name=f"{ASSOCIATION_NAME} ✓"))
    await company.press(t("fr", "Yes, ask"))
    assert company.last == plain(
        t(
            "fr",
            "You have already asked to meet <b>{name}</b>; they could not take it up this time.",
            name=html.quote(f"{ASSOCIATION_NAME} ✓"),
        )
    )
    assert len(await introductions(harness)) == 1
    assert len(await outbox(harness)) == 2


async def test_an_organisation_that_left_cannot_be_asked(harness: Harness) -> None:
    challenge, _association, _company, citizen, _outsider = await cast(harness)
    await organisations_of(citizen)
    await citizen.press(f"Ask to be introduced to {COMPANY_NAME} ✓")
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, COMPANY)
        found = await session.get(Challenge, challenge.id)
        assert user is not None and found is not None
        await leave(session, found, user)
    calls = await citizen.press("Yes, ask")
    assert alert_of(calls)["text"] == "This organisation no longer takes part in this challenge."
    assert COMPANY_NAME not in citizen.last and ASSOCIATION_NAME in citizen.last
    assert await introductions(harness) == []


async def test_a_request_from_someone_forgotten_cannot_be_accepted(harness: Harness) -> None:
    challenge, _association, company, citizen, _outsider = await cast(harness)
    await organisations_of(citizen)
    await citizen.press(f"Ask to be introduced to {COMPANY_NAME} ✓")
    await citizen.press("Yes, ask")
    (message,) = await deliver(harness)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, CITIZEN)
        assert user is not None
        await forget_user(session, user)
    calls = await company.press(t("fr", "Accept"), message)
    assert alert_of(calls)["text"] == t(
        "fr", "This request is no longer valid: the person left La Collective."
    )
    (introduction,) = await introductions(harness)
    assert introduction.status is IntroductionStatus.asked
    # The request carried the person's words: it keeps no text at all now.
    assert not any("tg://" in str(payload) for _c, _t, payload in await outbox(harness))
    assert await figures(harness, challenge) == (1, 0)
