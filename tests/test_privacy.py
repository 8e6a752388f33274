"""/privacy, /mydata, /forget, /settings and /language once onboarded."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from handlers.common import help_text
from handlers.privacy.notice import notice_text
from storage.models import FsmRecord, Organisation, User
from storage.privacy import NOTICE_VERSION
from tests.conversation import Harness, plain, texts
from tests.people import onboard
from tests.texts import t

TIMEZONE = "Europe/Paris"


async def test_mydata_sends_a_summary_and_a_complete_json_file(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await onboard(person, organisation="Voisins du 3e")
    calls = await person.send("/mydata")
    summary = texts(calls)[0]
    assert "Everything we store about you" in summary and "Voisins du 3e" in summary
    assert f"Privacy notice (version {NOTICE_VERSION}) read on" in summary
    assert "What you contributed and received\nNothing yet." in summary
    document = next(c for c in calls if c.method == "sendDocument")
    filename, content = document.files["document"]
    assert filename == "my-data.json"
    data = json.loads(content)
    about = data["about you"]
    assert about["Telegram id"] == person.id and about["organisation"] == "Voisins du 3e"
    assert about["who you are"] == "association" and about["arrondissement"] == 3
    assert about["themes"] == ["culture"]
    consents = data["your consents"]
    assert consents["privacy notice"]["version"] == NOTICE_VERSION
    assert consents["privacy notice"]["read and acknowledged"] is not None
    assert consents["sharing your contact with coordinators"] is None
    for key in (
        "needs you reported",
        "initiatives you proposed",
        "challenges you joined",
        "people you registered",
        "introductions",
        "initiatives you reported",
        "your survey answers",
        "challenge alerts you received",
        "survey invitations you received",
        "what you were in the middle of",
    ):
        assert data[key] == []


async def test_mydata_before_the_notice_says_how_little_is_kept(harness: Harness) -> None:
    person = harness.person(language_code="fr")
    calls = await person.send("/mydata")
    assert texts(calls)[0].endswith(
        t(
            "fr",
            "We only store your Telegram id ({id}) and your language. Nothing else is kept "
            "about you.",
            id=person.id,
        )
    )


async def test_forget_asks_first_then_erases_everything(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await onboard(person)
    await person.send("/forget")
    await person.press("No, keep my data")
    assert person.last.startswith("Nothing was erased.")

    await person.send("/settings")
    await person.press("Themes")  # a dialog in progress is part of what is erased
    await person.send("/forget")
    await person.press("Yes, erase everything")
    assert "Your data has been erased." in person.last
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(User).where(User.telegram_id == person.id)) is None
        erased = (await session.scalars(select(User).where(User.erased_at.is_not(None)))).one()
        assert erased.telegram_id is None and erased.role is None and erased.themes == []
        assert erased.arrondissement is None and erased.notice_accepted_at is None
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0

    # A new start is a new person, asked everything again.
    await person.send("/start")
    assert "Which language do you prefer?" in person.last


async def test_privacy_notice_says_who_why_how_long_and_the_rights(harness: Harness) -> None:
    person = harness.person(language_code="en")
    calls = await person.send("/privacy")
    notice = texts(calls)[0]
    for fact in (
        "City of Marseille",
        "dpd@marseille.fr",
        "24 months",
        "12 months",
        "/mydata",
        "/forget",
        "/settings",
        "CNIL",
        "15",
    ):
        assert fact in notice


@pytest.mark.parametrize(("locale", "word"), [("fr", "conservons"), ("ar", "نحتفظ")])
async def test_help_privacy_and_mydata_answer_in_the_persons_language(
    harness: Harness, locale: str, word: str
) -> None:
    person = harness.person(language_code=locale)
    with harness.i18n.context(), harness.i18n.use_locale(locale):
        expected = {
            "/help": help_text(harness.settings),
            "/privacy": notice_text(harness.settings),
        }
    for command, text in expected.items():
        assert texts(await person.send(command))[0] == plain(text)
    # Before the notice, /mydata says how little is kept, in their language too.
    [summary] = texts(await person.send("/mydata"))
    assert word in summary and "Everything we store about you" not in summary


async def test_settings_change_one_field_at_a_time(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await onboard(person)
    await person.send("/settings")
    assert "Where: Arrondissement 3" in person.last
    await person.press("Arrondissement")
    assert "Step" not in person.last  # no step counter outside onboarding
    await person.press("Outside Marseille")
    assert "Where: Outside Marseille" in person.last

    await person.press("Themes")
    assert "✅ Culture" in person.buttons()
    await person.press("Ecology")
    await person.press("Done")
    assert "Themes: Culture and Ecology" in person.last

    await person.press("Share my contact")
    assert "Contact sharing: yes" in person.last
    await person.press("Stop sharing my contact")
    assert "Contact sharing: no" in person.last

    await person.press("Who I am")
    await person.press("Association")
    await person.send("Quartiers Solidaires")
    assert "Association — Quartiers Solidaires" in person.last
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        assert (user.arrondissement, user.themes) == (0, ["culture", "ecology"])
        assert user.contact_consent_at is None
        assert await session.scalar(select(func.count()).select_from(Organisation)) == 1


async def test_language_switches_at_any_time_and_asks_the_question_again(
    harness: Harness,
) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("I have read it, continue")
    await person.send("/language")
    await person.press("العربية")
    said = person.said(2)
    assert t("ar", "Done: I will speak English with you.") in said[0]
    assert t("ar", "Who are you?") in said[1]
    await person.press(t("ar", "Citizen"))
    assert t("ar", "In which arrondissement of Marseille do you live or act?") in person.last


async def test_a_person_who_blocks_the_bot_is_marked_inactive(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await onboard(person)
    await harness.feed(harness.standin.my_chat_member_update(person.user, "kicked"))
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None and user.active is False


async def test_forget_drops_messages_waiting_for_the_person(harness: Harness) -> None:
    from storage.models import OutboxMessage, OutboxStatus
    from storage.outbox import TextMessage, enqueue
    from storage.users import find_user

    person = harness.person(language_code="en")
    await onboard(person)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, person.id)
        assert user is not None
        await enqueue(session, TextMessage(chat_id=person.id, text="A decision", user_id=user.id))
        # A card for the coordinators that carries the person's contact.
        link = f'<a href="tg://user?id={person.id}">write to them</a>'
        await enqueue(session, TextMessage(chat_id=-100500, text=f"A proposal — {link}"))
        other = f'<a href="tg://user?id={person.id}7">write to them</a>'
        await enqueue(session, TextMessage(chat_id=-100500, text=f"Someone else — {other}"))
        (sent,) = await enqueue(
            session, TextMessage(chat_id=person.id, text="Earlier", user_id=user.id)
        )
        sent.status = OutboxStatus.sent
    await person.send("/forget")
    await person.press("Yes, erase everything")
    async with harness.sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        mine, card, someone_else, earlier = rows
        assert mine.status is OutboxStatus.dropped and card.status is OutboxStatus.dropped
        assert someone_else.status is OutboxStatus.pending
        # Nothing left that leads back to the person, sent or not.
        for row in (mine, earlier):
            assert (row.chat_id, row.user_id, row.payload) == (0, None, {})


async def test_alerts_stop_with_stop_arret_or_the_settings(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    for label in ("English", "I have read it, continue", "Citizen", "3", "Culture", "Done", "No"):
        await person.press(label)
    await person.press("Yes, alert me")

    async def alerts_on() -> bool:
        async with harness.sessionmaker() as session:
            user = await session.scalar(select(User).where(User.telegram_id == person.id))
            assert user is not None
            return user.alerts_consent_at is not None

    async def stopped() -> bool:
        async with harness.sessionmaker() as session:
            user = await session.scalar(select(User).where(User.telegram_id == person.id))
            assert user is not None
            return user.stopped_at is not None

    assert await alerts_on()
    stopped_text = "you will receive no more messages you did not ask for"
    calls = await person.send("stop")
    assert stopped_text in texts(calls)[0]
    # STOP stops everything; the consent to alerts is kept for when the person comes back.
    assert await stopped() and await alerts_on()
    await person.send("/settings")
    assert "Alerts, surveys and news: stopped" in person.last
    await person.press("Receive alerts, surveys and news again")
    assert "Alerts, surveys and news: stopped" not in person.last and not await stopped()
    await person.press("Stop challenge alerts")
    assert "Challenge alerts: off" in person.last and not await alerts_on()
    await person.press("Turn challenge alerts on")
    assert "Challenge alerts: on" in person.last and await alerts_on()
    await person.send("ARRÊT")
    assert await stopped()
    # The one-tap button under alerts sent before STOP covered every message.
    await person.send("/settings")
    await person.press("Receive alerts, surveys and news again")
    calls = await person.press_data("al:0", person.bot_messages()[-1])
    assert stopped_text in texts(calls)[0]
    assert await stopped()


async def test_forget_keeps_contributions_without_the_persons_words(harness: Harness) -> None:
    from storage.challenges import create_challenge, join, open_challenge
    from storage.models import Participation
    from storage.users import find_user

    person = harness.person(language_code="en")
    await onboard(person)
    async with harness.sessionmaker.begin() as session:
        challenge = await create_challenge(
            session,
            texts={
                "en": {
                    "title": "Visits to older people",
                    "description": "Weekly visits to older people at home.",
                }
            },
            theme_code="older_people",
            arrondissements=[],
            starts_on=None,
            ends_on=None,
            contribution_kinds=["time"],
            activities=[],
            author_telegram_id=42,
        )
        await open_challenge(session, challenge.id, actor_id=42, timezone=TIMEZONE)
        user = await find_user(session, person.id)
        assert user is not None
        await join(
            session,
            challenge,
            user,
            kind="time",
            text="Call me at 06 12 34 56 78",
            timezone=TIMEZONE,
        )
    calls = await person.send("/mydata")
    document = next(c for c in calls if c.method == "sendDocument")
    data = json.loads(document.files["document"][1])
    assert data["challenges you joined"][0]["what you wrote"] == "Call me at 06 12 34 56 78"

    await person.send("/forget")
    await person.press("Yes, erase everything")
    async with harness.sessionmaker() as session:
        participation = (await session.scalars(select(Participation))).one()
        assert participation.text is None and participation.kind == "time"


async def test_forget_finds_the_persons_contact_in_waiting_messages(engine) -> None:  # type: ignore[no-untyped-def]
    """On each database: the contact link is found inside the stored JSON payloads."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from storage.models import OutboxMessage, OutboxStatus, utcnow
    from storage.outbox import TextMessage, enqueue
    from storage.privacy import forget_user
    from storage.users import get_or_create_user

    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker.begin() as session:
        user = await get_or_create_user(session, 555, "fr")
        for telegram_id in (555, 5555, 555):
            link = f'<a href="tg://user?id={telegram_id}">écrire</a> (@voisin)'
            await enqueue(session, TextMessage(chat_id=-100500, text=f"Carte — {link}"))
        # The last one went out already: it keeps the fact, not the contact.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == 3)
            .values(status=OutboxStatus.sent, sent_at=utcnow())
        )
    async with sessionmaker.begin() as session:
        user = await session.get(User, user.id)
        assert user is not None
        await forget_user(session, user)
    async with sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert [row.status for row in rows] == [
            OutboxStatus.dropped,
            OutboxStatus.pending,
            OutboxStatus.sent,
        ]
        assert [('tg://user?id=555"' in str(row.payload)) for row in rows] == [False] * 3
        assert "tg://user?id=5555" in rows[1].payload["text"]
