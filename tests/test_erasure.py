"""/forget leaves nothing of the person: every kind of contribution the bot knows is made with
a unique marker, the person is erased through the bot, then every column of every table (found
by enumerating the models, so that a new table is searched too), the dialog storage, the
exports and what Telegram now shows to others are searched for each marker."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import Message
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.delivery import telegram_method
from bot.i18n import CatalogI18n
from bot.standin import StandIn
from handlers.initiatives.callbacks import CardCb
from handlers.initiatives.reports import tell_group_reported
from handlers.summary.jobs import post_summary
from storage import initiatives as initiatives_storage
from storage.challenges import join, register_assisted
from storage.db import create_sessionmaker
from storage.exports import export_files
from storage.models import (
    Base,
    Challenge,
    ChallengeAlert,
    Initiative,
    InitiativeStatus,
    OutboxMessage,
    OutboxPicture,
    OutboxStatus,
    ReportReason,
    Role,
    SurveyQuestion,
    User,
    utcnow,
)
from storage.outbox import Lease
from storage.survey_files import import_surveys
from storage.surveys import answer, open_survey, start_response
from storage.users import find_user
from tests.challenges_setup import TITLE as CHALLENGE_TITLE
from tests.challenges_setup import alert_of, make_challenge, participant
from tests.conftest import TOKEN
from tests.conversation import Harness, Person, texts
from tests.initiatives_setup import GROUP_ID, group_person, onboarded, published
from tests.people import onboard
from tests.surveys_setup import NOW, SURVEY
from tests.texts import t

REDIS = os.environ.get("TEST_REDIS_URL")

PERSON = 7_770_001
OTHER_ORG, THIRD_ORG = 7_770_002, 7_770_003
OTHER_NAME, THIRD_NAME = "Boulangerie Martin", "Amis du Panier"

# Every marker is unique: found anywhere after /forget, something of the person remains.
ORGANISATION = "Chez Fatima Orgqzx"
USERNAME = "fatima_userqzx"
TITLE_A = "Thé chez Fatima Titleaqzx"
DESCRIPTION_A = "Venez au 12 rue Paradis, tel 06 Descaqzx, chaque jeudi après-midi."
LATITUDE_A, LONGITUDE_A = 43.287654, 5.381234
TITLE_B = "Jardin partagé Titlebqzx"
DESCRIPTION_B = "Un jardin au pied de notre immeuble, Descbqzx, pour les voisins."
TITLE_C = "Vide-grenier Titlecqzx"
DESCRIPTION_C = "Un vide-grenier chez moi, appelez Desccqzx, tous les dimanches."
REASON_C = "Please remove the phone number Reasoncqzx from the text."
NEED = "The lift of our building Needqzx has been broken for weeks."
NEED_LATITUDE, NEED_LONGITUDE = 43.271, 5.402
BRINGS = "I bring Bringsqzx: tea, cakes and a car."
ASSISTED_NAME = "Zoubidaqzx"
WISHES = "She would like Wishesqzx visits on Sundays."
SURVEY_TEXT = "My free answer Surveyqzx about the visits."
HELPS = "I can drive Helpsqzx people on Saturdays."
DRAFT_TITLE = "Draft Draftqzx initiative"

MARKERS = [
    ORGANISATION,
    USERNAME,
    "Titleaqzx",
    "Descaqzx",
    "Titlebqzx",
    "Descbqzx",
    "Titlecqzx",
    "Desccqzx",
    "Reasoncqzx",
    "Needqzx",
    "Bringsqzx",
    ASSISTED_NAME,
    "Wishesqzx",
    "Surveyqzx",
    "Helpsqzx",
    "Draftqzx",
    f"tg://user?id={PERSON}",
]
FLOAT_MARKERS = [LATITUDE_A, LONGITUDE_A, NEED_LATITUDE, NEED_LONGITUDE]

# What the dialog storage holds, when it is not the database: (key, value) pairs.
Dialogs = Callable[[], Awaitable[list[tuple[str, Any]]]]
TIMEZONE = "Europe/Paris"


@pytest.fixture
async def redis_harness(
    settings: Settings, engine: AsyncEngine, i18n: CatalogI18n, standin: StandIn
) -> AsyncIterator[Harness]:
    if not REDIS:
        pytest.skip("TEST_REDIS_URL is not set")
    client = Redis.from_url(REDIS)
    await client.flushdb()
    await client.aclose()
    with_redis = settings.model_copy(update={"redis_url": REDIS})
    async with Harness.open(with_redis, create_sessionmaker(engine), i18n, standin, TOKEN) as h:
        yield h


# -- sending what waits, as the delivery loop does (its pace aside)


async def deliver(harness: Harness) -> None:
    """Sends every pending row and records it sent with its message id, as `mark_sent` does."""
    async with harness.sessionmaker.begin() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.pending)
                .order_by(OutboxMessage.id)
            )
        ).all()
        for row in rows:
            picture: bytes | str | None = None
            if row.picture_id is not None:
                stored = await session.get(OutboxPicture, row.picture_id)
                assert stored is not None
                picture = stored.telegram_file_id or stored.content
            lease = Lease(
                row.id, row.chat_id, row.user_id, row.method, row.payload, row.picture_id,
                1, None, row.not_before, picture,
            )  # fmt: skip
            sent = await harness.bot(telegram_method(lease))
            row.status, row.sent_at = OutboxStatus.sent, utcnow()
            row.sent_message_id = sent.message_id if isinstance(sent, Message) else None


# -- what the person contributes, through the bot where a person would


async def propose(
    person: Person,
    title: str,
    description: str,
    *,
    photo: dict[str, Any] | None = None,
    location: tuple[float, float] | None = None,
) -> None:
    await person.send("/start")
    await person.press("Propose an initiative")
    await person.press("Older people and isolation")
    await person.press("Arrondissement 3")
    await person.send(title)
    if "Mine is different: continue" in person.buttons():
        await person.press("Mine is different: continue")
    await person.send(description)
    if photo is not None:
        await person.send(None, photo=[photo])
    else:
        await person.press("Skip")
    if location is not None:
        await person.send(None, location={"latitude": location[0], "longitude": location[1]})
    else:
        await person.press("Skip")
    # Coordinators may contact them: their cards carry a link to them.
    await person.press("Contact")
    await person.press("Yes, they may")
    await person.press("Send my proposal")


async def report_need(person: Person) -> None:
    await person.send("/start")
    await person.press("Report a need")
    await person.press("Housing")
    await person.press("Yes: Arrondissement 3")
    await person.send(NEED)
    await person.send(None, location={"latitude": NEED_LATITUDE, "longitude": NEED_LONGITUDE})
    await person.press("Send")


def card_of(harness: Harness, marker: str) -> dict[str, Any]:
    """The bot's latest message in the group that shows `marker`."""
    found = [
        m
        for m in harness.standin.chat_messages(GROUP_ID)
        if m.get("from", {}).get("is_bot") and marker in str(m.get("text") or m.get("caption"))
    ]
    assert found, f"no card showing {marker}"
    return found[-1]


async def every_contribution(harness: Harness) -> tuple[Person, Person, Person]:
    """The person (an association's member) and two other organisations on a challenge."""
    challenge = await make_challenge(harness)
    person = harness.person(PERSON, language_code="en")
    person.user["username"] = USERNAME
    await onboard(person, organisation=ORGANISATION)
    # Verified by the coordinators, so that the person registers someone on its behalf.
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, PERSON)
        assert user is not None and user.organisation is not None
        user.organisation.verified = True
    coordinator = group_person(harness)
    other = await participant(
        harness, OTHER_ORG, challenge, role=Role.company, organisation=OTHER_NAME, kind="skills"
    )
    third = await participant(
        harness, THIRD_ORG, challenge, role=Role.association, organisation=THIRD_NAME
    )

    # Three proposals: one with a photo and a place, approved; one waiting; one rejected.
    photo = harness.standin.store_file(b"\x89PNG the person's photo", "tea.png", photo=True)
    await propose(person, TITLE_A, DESCRIPTION_A, photo=photo, location=(LATITUDE_A, LONGITUDE_A))
    await propose(person, TITLE_B, DESCRIPTION_B)
    await propose(person, TITLE_C, DESCRIPTION_C)
    await deliver(harness)
    await coordinator.press(t("fr", "Approve"), card_of(harness, "Titleaqzx"))
    await coordinator.press(t("fr", "Reject"), card_of(harness, "Titlecqzx"))
    await coordinator.send(REASON_C)
    # Someone reports the published one: its card in the group shows it again.
    async with harness.sessionmaker.begin() as session:
        reporter = await find_user(session, OTHER_ORG)
        published_one = await session.scalar(
            select(Initiative).where(Initiative.status == InitiativeStatus.approved)
        )
        assert reporter is not None and published_one is not None
        await initiatives_storage.report(
            session, published_one.id, reporter, ReportReason.offensive
        )
        with harness.i18n.context():
            await tell_group_reported(
                session,
                harness.i18n,
                harness.settings,
                harness.dp["coordinators_chat"],
                published_one,
                ReportReason.offensive,
            )
    await report_need(person)
    # The proposal still waiting, listed by /pending and in the day's summary.
    await coordinator.send("/pending")
    async with harness.sessionmaker.begin() as session:
        now = utcnow()
        day = now.astimezone(ZoneInfo(harness.settings.timezone)).date()
        assert await post_summary(session, harness.i18n, harness.settings, GROUP_ID, day, now)
    await deliver(harness)
    assert "Titlebqzx" in str(harness.standin.chat_messages(GROUP_ID)[-2].get("text"))

    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, PERSON)
        assert user is not None
        found = await session.get(Challenge, challenge.id)
        assert found is not None
        await join(session, found, user, kind="time", text=BRINGS, timezone=TIMEZONE)
        await register_assisted(
            session, found, user, name=ASSISTED_NAME, arrondissement=3, wishes=WISHES,
            activity=None, agreed=True, timezone=TIMEZONE,
        )  # fmt: skip
        session.add(ChallengeAlert(challenge_id=challenge.id, user_id=user.id))
        (survey,) = await import_surveys(session, [SURVEY], 42)
        await open_survey(session, survey.id, 42, NOW)
        response = await start_response(session, survey, user, NOW)
        for question in await session.scalars(
            select(SurveyQuestion).where(SurveyQuestion.code.in_(("lonely", "comment")))
        ):
            if question.code == "lonely":
                await answer(session, response, question, value_number=4)
            else:
                await answer(session, response, question, value_text=SURVEY_TEXT)
    # Someone else's initiative, which the person reports.
    others = await published(harness, other, "Boulangerie solidaire du Panier")
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, PERSON)
        assert user is not None
        await initiatives_storage.report(session, others, user, ReportReason.spam)
    # They support it, follow it and offer their help, which its carrier receives.
    await person.send("/start")
    await person.press_data(CardCb(initiative_id=others).pack())
    await person.press("Support")
    await person.press("Follow")
    await person.press("I want to help")
    await person.press("Skills")
    await person.send(HELPS)
    await deliver(harness)

    # Introductions: the person asks one organisation, and accepts another's request (their
    # @username then travels with their contact).
    await person.send("/start")
    await person.press("Challenges")
    await person.press(CHALLENGE_TITLE)
    await person.press("Organisations taking part")
    await person.press(f"Ask to be introduced to {OTHER_NAME}")
    await person.press("Yes, ask")
    await third.send("/start")
    await third.press("Challenges")
    await third.press(CHALLENGE_TITLE)
    await third.press("Organisations taking part")
    await third.press(f"Ask to be introduced to {ORGANISATION}")
    await third.press("Yes, ask")
    await deliver(harness)
    request = [m for m in person.bot_messages() if "Accept" in str(m.get("reply_markup"))][-1]
    await person.press("Accept", request)
    await deliver(harness)

    # A message still waiting for the person, and one already sent: the decision on the
    # rejected proposal is delivered, a later one waits.
    async with harness.sessionmaker() as session:
        waiting = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.pending)
        )
    assert waiting is None, "everything so far was delivered"
    await propose(person, "Goûter des voisins Titlecqzx", "Encore une idée, Desccqzx, à voir.")

    # A dialog in progress, its draft holding what was typed.
    await person.send("/start")
    await person.press("Propose an initiative")
    await person.press("Older people and isolation")
    await person.press("Arrondissement 3")
    await person.send(DRAFT_TITLE)
    return person, other, third


# -- searching


def found_in(value: Any, marker: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bytes):
        text = value.decode("latin-1")
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return marker.lower() in text.lower()


async def leftovers(
    harness: Harness, markers: list[str], dialogs: Dialogs | None = None
) -> list[str]:
    """Where a marker is still found: every column of every table, the exports, and the
    dialog storage when it is not the database."""
    found = []
    for key, value in await dialogs() if dialogs else []:
        found += [f"dialog {key}: {m}" for m in markers if found_in(value, m)]
        if key.split(":")[-3:-2] == [str(PERSON)]:
            found.append(f"dialog {key}")
    async with harness.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    for marker in markers:
                        if found_in(value, marker):
                            found.append(f"{table.name}.{column}: {marker}")
                    if isinstance(value, float) and any(
                        abs(value - f) < 1e-9 for f in FLOAT_MARKERS
                    ):
                        found.append(f"{table.name}.{column}: {value}")
        for name, content in (await export_files(session)).items():
            text = content.decode("utf-8-sig")
            found += [f"{name}: {m}" for m in markers if m.lower() in text.lower()]
            found += [f"{name}: {f}" for f in FLOAT_MARKERS if str(f) in text.replace(",", ".")]
    return found


def shown(harness: Harness, messages: list[tuple[int, int]], markers: list[str]) -> list[str]:
    """What the bot's messages show now: every one in the group (the cards), and in others'
    chats those delivered from the outbox (a request to meet). A quoted message is the
    quoting person's, not the bot's."""
    group = [(GROUP_ID, m["message_id"]) for m in harness.standin.chat_messages(GROUP_ID)]
    found = []
    for chat_id, message_id in [*group, *messages]:
        message = harness.standin.message(chat_id, message_id) or {}
        if not message.get("from", {}).get("is_bot"):
            continue
        own = {k: v for k, v in message.items() if k != "reply_to_message"}
        found += [f"chat {chat_id}: {m}" for m in markers if found_in(own, m)]
    return found


async def delivered_to(harness: Harness, chats: list[int]) -> list[tuple[int, int]]:
    async with harness.sessionmaker() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.sent_message_id).where(
                OutboxMessage.chat_id.in_(chats), OutboxMessage.sent_message_id.is_not(None)
            )
        )
        return [(chat_id, message_id) for chat_id, message_id in rows]


async def erase_and_search(harness: Harness, dialogs: Dialogs | None = None) -> None:
    person, other, third = await every_contribution(harness)
    async with harness.sessionmaker() as session:
        photo_id = await session.scalar(
            select(Initiative.photo_file_id).where(Initiative.photo_file_id.is_not(None))
        )
    assert photo_id is not None
    markers = [*MARKERS, photo_id]
    delivered = await delivered_to(harness, [other.id, third.id])
    # Everything is there before: the search would find it.
    before = await leftovers(harness, markers, dialogs)
    for marker in markers:
        assert any(marker in entry for entry in before), marker
    assert shown(harness, delivered, markers)

    await person.send("/forget")
    await person.press("Yes, erase everything")
    assert "Your data has been erased." in person.last
    await deliver(harness)

    assert await leftovers(harness, markers, dialogs) == []
    assert shown(harness, delivered, markers) == []
    # The cards say why they changed.
    withdrawn = t("fr", "This content was withdrawn at its author's request.")
    cards = [
        m
        for m in harness.standin.chat_messages(GROUP_ID)
        if withdrawn in str(m.get("text") or m.get("caption"))
    ]
    # The three cards posted, the report's, and the one /pending showed.
    assert len(cards) == 5 and sum(1 for card in cards if card.get("photo")) == 1
    assert all(not card.get("reply_markup") for card in cards)
    # What remains counts: four proposals, withdrawn; the need, the participation.
    async with harness.sessionmaker() as session:
        statuses = (
            await session.scalars(
                select(Initiative.status)
                .join(User, User.id == Initiative.proposer_id)
                .where(User.erased_at.is_not(None))
            )
        ).all()
        assert statuses == [InitiativeStatus.withdrawn] * 4


@pytest.mark.postgres
async def test_forget_leaves_nothing_of_the_person(harness: Harness) -> None:
    await erase_and_search(harness)


async def test_forget_leaves_nothing_in_redis_either(redis_harness: Harness) -> None:
    """With REDIS_URL the dialogs live in Redis: the person's go too, in every chat."""

    async def in_redis() -> list[tuple[str, bytes | None]]:
        client = Redis.from_url(REDIS or "")
        try:
            keys = [key.decode() async for key in client.scan_iter(match="fsm:*")]
            return [(key, await client.get(key)) for key in keys if not key.endswith(":lock")]
        finally:
            await client.aclose()

    await erase_and_search(redis_harness, in_redis)


# -- what the withdrawal means for everyone else


async def forget(person: Person) -> None:
    await person.send("/forget")
    await person.press("Yes, erase everything")


async def test_a_waiting_proposal_leaves_pending_and_cannot_be_decided(harness: Harness) -> None:
    author = await onboarded(harness)
    await propose(author, TITLE_B, DESCRIPTION_B)
    await propose(author, TITLE_C, DESCRIPTION_C)
    coordinator = group_person(harness)
    await deliver(harness)
    first, second = card_of(harness, "Titlebqzx"), card_of(harness, "Titlecqzx")
    # A coordinator starts rejecting the second one just before the author leaves.
    await coordinator.press(t("fr", "Reject"), second)
    await forget(author)

    calls = await coordinator.send("/pending")
    assert texts(calls) == [t("fr", "Nothing is waiting for a decision.")]
    # The card, pressed before it was rewritten: nothing to decide, nobody told.
    calls = await coordinator.press(t("fr", "Approve"), first)
    withdrawn = t(
        "fr",
        "This proposal was withdrawn: its author erased their data. There is nothing left to "
        "decide, and the author cannot be told.",
    )
    assert alert_of(calls)["text"] == withdrawn
    assert alert_of(calls)["show_alert"] is True
    assert not (harness.standin.message(GROUP_ID, first["message_id"]) or {}).get("reply_markup")
    calls = await coordinator.send("Not within the programme.")
    assert texts(calls) == [withdrawn]
    async with harness.sessionmaker() as session:
        rows = (await session.scalars(select(Initiative).order_by(Initiative.id))).all()
        assert [row.status for row in rows] == [InitiativeStatus.withdrawn] * 2
        assert [(row.decided_by, row.reason) for row in rows] == [(None, None)] * 2
        pending = await session.scalars(
            select(OutboxMessage.method).where(OutboxMessage.status == OutboxStatus.pending)
        )
        # Only the cards' rewriting waits: nothing for the author.
        assert pending.all() == ["editMessageText", "editMessageText"]


async def test_a_withdrawn_initiative_leaves_every_list_and_look_alike(harness: Harness) -> None:
    author = await onboarded(harness)
    await published(harness, author, "Tea afternoons at the Panier")
    other = await onboarded(harness, 1002)

    async def offered() -> list[str]:
        await other.send("/start")
        await other.press("Propose an initiative")
        await other.press("Older people and isolation")
        await other.press("Arrondissement 3")
        await other.send("Tea afternoons for neighbours")
        return [b for b in other.buttons() if b.startswith("Support")]

    assert await offered() == ["Support “Tea afternoons at the Panier”"]
    await other.send("/cancel")
    await other.press("Yes, discard it")
    await forget(author)

    assert await offered() == []
    await other.send("/cancel")
    await other.press("Yes, discard it")
    await other.send("/start")
    await other.press("Initiatives")
    await other.press("All initiatives")
    assert "No initiative has been published yet." in other.last
    async with harness.sessionmaker() as session:
        look_alikes = await initiatives_storage.similar(session, "older_people", 3, "Tea time")
        assert look_alikes == []
        assert await initiatives_storage.published(session) == ([], 0)
        assert (await initiatives_storage.pending(session))[1] == 0
    # Its card, opened from an old list, says it is no longer published.
    calls = await other.press_data(CardCb(initiative_id=1).pack())
    assert alert_of(calls)["text"] == "This initiative is no longer published."
