"""Coordinators, in their group, write challenges, open them (alerting the people they concern,
each in their language, never at night), close and reopen them, see and export who takes part,
post updates and print posters. Nobody else can, whatever button they forge."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.challenges.callbacks import JoinCb
from handlers.challenges.coordination_callbacks import (
    FormAction,
    FormCb,
    ManageAction,
    ManageCb,
)
from handlers.profile.callbacks import MessagesCb
from storage.challenges import create_challenge, join, leave, register_assisted
from storage.models import (
    AuditEntry,
    Challenge,
    ChallengeAlert,
    ChallengeStatus,
    FsmRecord,
    Organisation,
    OutboxMessage,
    Role,
    User,
    UserTheme,
)
from storage.privacy import NOTICE_VERSION
from tests.conversation import STICKER, Harness, Person, buttons_of, plain, texts
from tests.initiatives_setup import GROUP_ID, group_person, outbox
from tests.texts import t, tn

# A Wednesday morning in Paris (11:00), and 22:00 the same day: the quiet hours.
MORNING = datetime(2027, 3, 10, 10, 0, tzinfo=UTC)
NIGHT = datetime(2027, 3, 10, 21, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2027, 3, 11, 7, 0, tzinfo=UTC)  # 08:00 in Paris

TITLE = "Rompre l'isolement des aînés"
DESCRIPTION = "Visites, appels et sorties avec les personnes âgées isolées de nos quartiers."
TEXTS = {
    "fr": {"title": TITLE, "description": DESCRIPTION},
    "en": {
        "title": "Breaking the isolation of older people",
        "description": "Visits, calls and outings with isolated older people in our areas.",
    },
    "ar": {
        "title": "كسر عزلة كبار السن",
        "description": "زيارات ومكالمات ونزهات مع كبار السن المعزولين في أحيائنا.",
    },
}
REFUSAL = "Only the city's coordinators can do this."
TIMEZONE = "Europe/Paris"


@pytest.fixture
def clock(harness: Harness) -> dict[str, datetime]:
    """The handlers' wall clock, set by the test."""
    moment = {"now": MORNING}
    harness.dp["wall_clock"] = lambda: moment["now"]
    return moment


# -- setup


async def person(
    harness: Harness,
    telegram_id: int,
    locale: str,
    *,
    arrondissement: int = 3,
    themes: tuple[str, ...] = ("older_people",),
    alerts: bool = True,
    active: bool = True,
    organisation: str | None = None,
) -> int:
    """Someone who went through onboarding, written straight to the database."""
    async with harness.sessionmaker.begin() as session:
        user = User(
            telegram_id=telegram_id,
            locale=locale,
            role=Role.association if organisation else Role.citizen,
            # Verified: its members act on its behalf (register the people they accompany).
            organisation=Organisation(name=organisation, kind=Role.association, verified=True)
            if organisation
            else None,
            arrondissement=arrondissement,
            notice_version=NOTICE_VERSION,
            notice_accepted_at=MORNING,
            onboarded_at=MORNING,
            alerts_consent_at=MORNING if alerts else None,
            active=active,
            theme_links=[UserTheme(theme_code=code) for code in themes],
        )
        session.add(user)
        await session.flush()
        return user.id


async def city(harness: Harness) -> dict[str, int]:
    """Who an alert for the older people of the 3rd and 13th reaches, and who it does not."""
    return {
        "fr": await person(harness, 2001, "fr"),
        "en": await person(harness, 2002, "en", arrondissement=13, organisation="Petits Frères"),
        "ar": await person(harness, 2003, "ar", themes=("solidarity", "older_people")),
        "other theme": await person(harness, 2004, "fr", themes=("culture",)),
        "elsewhere": await person(harness, 2005, "en", arrondissement=8),
        "alerts off": await person(harness, 2006, "fr", alerts=False),
        "inactive": await person(harness, 2007, "ar", active=False),
    }


async def challenge(harness: Harness, *, status: ChallengeStatus = ChallengeStatus.draft) -> int:
    async with harness.sessionmaker.begin() as session:
        found = await create_challenge(
            session,
            texts=TEXTS,
            theme_code="older_people",
            arrondissements=[3, 13],
            starts_on=date(2027, 3, 1),
            ends_on=date(2027, 12, 31),
            contribution_kinds=["time", "skills", "premises"],
            activities=[
                {
                    "code": "visits",
                    "texts": {"fr": "Visites à domicile", "en": "Home visits"},
                    "on_site": True,
                    "remote": False,
                    "hours_per_month": 4,
                }
            ],
            author_telegram_id=42,
        )
        found.status = status
        return found.id


async def stored(harness: Harness, challenge_id: int) -> Challenge:
    async with harness.sessionmaker() as session:
        found = await session.get(Challenge, challenge_id)
        assert found is not None
        return found


async def joined(
    harness: Harness, challenge_id: int, user_id: int, kind: str, text: str | None = None
) -> None:
    async with harness.sessionmaker.begin() as session:
        found = await session.get(Challenge, challenge_id)
        user = await session.get(User, user_id)
        assert found is not None and user is not None
        await join(
            session, found, user, kind=kind, text=text, activity="visits", timezone=TIMEZONE
        )


async def count(harness: Harness, model: Any) -> int:
    async with harness.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def audit_actions(harness: Harness) -> list[str]:
    async with harness.sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def dialog(harness: Harness, telegram_id: int) -> str | None:
    async with harness.sessionmaker() as session:
        record = await session.scalar(
            select(FsmRecord).where(FsmRecord.user_id == telegram_id, FsmRecord.state.is_not(None))
        )
        return record.state if record else None


def alerted(people: int) -> str:
    return tn(
        "fr",
        "{count} person has been alerted.",
        "{count} people have been alerted.",
        people,
        count=people,
    )


def answer_of(calls: list) -> str:
    return next(c for c in calls if c.method == "answerCallbackQuery").params.get("text") or ""


YES_OPEN = t("fr", "Yes, open it and send the alerts")


def open_question(people: int, title: str = TITLE) -> str:
    return tn(
        "fr",
        "Open “{title}”? {count} person will be alerted now, in their language.",
        "Open “{title}”? {count} people will be alerted now, in their language.",
        people,
        title=title,
        count=people,
    )


def button_at(message: dict[str, Any], row: int, column: int) -> str | None:
    """The callback data of the button at (row, column) of a message's keyboard — negative
    rows count from the bottom, where the keyboard stays when the text above it shrinks."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    if not -len(rows) <= row < len(rows):
        return None
    buttons = rows[row]
    # A button alone on its row spans it: a tap anywhere on the row reaches it.
    if len(buttons) == 1:
        return str(buttons[0]["callback_data"])
    return str(buttons[column]["callback_data"]) if column < len(buttons) else None


def places_of(message: dict[str, Any], data: str) -> list[tuple[int, int]]:
    """Where a button sits, counted from the top and from the bottom of the keyboard."""
    rows = message["reply_markup"]["inline_keyboard"]
    return [
        place
        for r, row in enumerate(rows)
        for c, button in enumerate(row)
        if button["callback_data"] == data
        for place in ((r, c), (r - len(rows), c))
    ]


def latest(coordinator: Person, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it reads now (buttons edit it in place)."""
    return next(m for m in coordinator.bot_messages() if m["message_id"] == message["message_id"])


async def open_card(coordinator: Person) -> None:
    await coordinator.send("/challenges")
    await coordinator.press(TITLE[:20])


# -- writing a challenge


async def test_a_challenge_written_step_by_step_then_saved_as_a_draft(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    coordinator = group_person(harness)
    await coordinator.send("/new_challenge")
    assert t("fr", "Step {number} of {total}", number=1, total=7) in coordinator.last

    # Title: not a text, too short, then right.
    calls = await coordinator.send(None, sticker=STICKER)
    said = texts(calls)
    assert said[0] == t("fr", "Please type your answer as a text message.")
    assert t("fr", "Step {number} of {total}", number=1, total=7) in said[1]
    calls = await coordinator.send("Hi")
    said = texts(calls)
    assert said[0] == tn(
        "fr",
        "This is too short: at least {limit} character, please.",
        "This is too short: at least {limit} characters, please.",
        5,
        limit=5,
    )
    assert t("fr", "Step {number} of {total}", number=1, total=7) in said[1]
    await coordinator.send("Un titre provisoire")

    # Description: too short, then right.
    assert t("fr", "Step {number} of {total}", number=2, total=7) in coordinator.last
    await coordinator.send("Trop court.")
    assert t("fr", "Step {number} of {total}", number=2, total=7) in coordinator.last
    await coordinator.send(DESCRIPTION)

    # Theme: typed instead of pressed, then pressed; /back keeps what was answered.
    assert t("fr", "Which theme does the challenge concern?") in coordinator.last
    calls = await coordinator.send("aînés")
    assert texts(calls)[0] == t("fr", "Please answer with one of the buttons below.")
    await coordinator.send("/back")
    assert t("fr", "Step {number} of {total}", number=2, total=7) in coordinator.last
    await coordinator.send(DESCRIPTION)
    await coordinator.press(t("fr", "Older people and isolation"))

    # Arrondissements: «Done» needs one; a second press unticks.
    assert t("fr", "Step {number} of {total}", number=4, total=7) in coordinator.last
    calls = await coordinator.press(t("fr", "Done"))
    assert answer_of(calls) == t("fr", "Tick at least one arrondissement, or press “Whole city”.")
    for number in ("3", "13", "8", "8"):
        await coordinator.press(number)
    assert {"1er", "✅ 3e", "✅ 13e", "8e"} <= set(coordinator.buttons())
    await coordinator.press(t("fr", "Done"))

    # Start: not a date, a date that does not exist, then a date.
    assert t("fr", "Step {number} of {total}", number=5, total=7) in coordinator.last
    for wrong in ("next monday", "31/02/2027"):
        calls = await coordinator.send(wrong)
        not_a_date = (
            "This is not a date. Please type it as DD/MM/YYYY (day, month, year), or press “Skip”."
        )
        assert texts(calls)[0] == t("fr", not_a_date)
        assert t("fr", "Step {number} of {total}", number=5, total=7) in texts(calls)[1]
    await coordinator.send("01/04/2027")

    # End: before the start, already past, then right.
    calls = await coordinator.send("15/03/2027")
    assert "01/04/2027" in texts(calls)[0]
    await coordinator.send("/back")
    assert t("fr", "Step {number} of {total}", number=5, total=7) in coordinator.last
    await coordinator.press(t("fr", "Skip"))
    calls = await coordinator.send("01/01/2027")
    assert texts(calls)[0] == t(
        "fr", "This date has passed. Please type a date to come, or press “Skip”."
    )
    await coordinator.send("30/06/2027")

    # Kinds: at least one; ticks.
    assert t("fr", "Step {number} of {total}", number=7, total=7) in coordinator.last
    calls = await coordinator.press(t("fr", "Done"))
    assert answer_of(calls) == t("fr", "Tick at least one kind of contribution.")
    await coordinator.press(t("fr", "Volunteers' time"))
    await coordinator.press(t("fr", "Premises"))
    assert "✅ " + t("fr", "Premises") in coordinator.buttons()
    await coordinator.press(t("fr", "Done"))

    # The preview: the citizens' card, and that activities come from a file.
    preview = coordinator.last
    for fact in (
        "Un titre provisoire",
        DESCRIPTION,
        t("fr", "Older people and isolation"),
        t("fr", "Arrondissement {number}", number=13),
        t("fr", "Volunteers' time"),
        t("fr", "Premises"),
        "collective challenges import FILE",
    ):
        assert fact in preview, fact
    assert "2027" in preview  # «Until» the end date; the start was skipped
    assert t("fr", "Save as draft") in coordinator.buttons()
    assert t("fr", "Open now") in coordinator.buttons()

    # A field changed from the preview comes back to it; dates go on from start to end.
    await coordinator.press(t("fr", "Title"))
    await coordinator.send(TITLE)
    assert TITLE in coordinator.last and t("fr", "Save as draft") in coordinator.buttons()
    await coordinator.press(t("fr", "Dates"))
    await coordinator.send("01/04/2027")
    assert t("fr", "Step {number} of {total}", number=6, total=7) in coordinator.last
    await coordinator.press(t("fr", "Skip"))
    assert t("fr", "Save as draft") in coordinator.buttons()

    await coordinator.press(t("fr", "Save as draft"))
    async with harness.sessionmaker() as session:
        saved = (await session.scalars(select(Challenge))).one()
    assert saved.status is ChallengeStatus.draft and saved.author_telegram_id == 42
    assert saved.texts == {"fr": {"title": TITLE, "description": DESCRIPTION}}
    assert saved.theme_code == "older_people" and saved.arrondissements == [3, 13]
    assert (saved.starts_on, saved.ends_on) == (date(2027, 4, 1), None)
    assert saved.contribution_kinds == ["time", "premises"] and saved.activities == []
    assert await dialog(harness, 42) is None
    # Its management card replaces the preview.
    assert t("fr", "Status: {status}", status=t("fr", "draft")) in coordinator.last
    assert t("fr", "Open") in coordinator.buttons()
    assert await outbox(harness) == []


async def test_the_form_takes_typed_answers_that_name_its_buttons(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    coordinator = group_person(harness)
    await coordinator.send("/new_challenge")
    await coordinator.send(TITLE)
    await coordinator.send(DESCRIPTION)
    await coordinator.send(t("fr", "Older people and isolation").upper())
    assert t("fr", "Step {number} of {total}", number=4, total=7) in coordinator.last
    # Several at once, as people write them; «done» with none ticked is refused.
    calls = await coordinator.send(t("fr", "Done").lower())
    assert texts(calls)[0] == t("fr", "Tick at least one arrondissement, or press “Whole city”.")
    await coordinator.send("3e, 13, 8ème")
    assert {"✅ 3e", "✅ 13e", "✅ 8e"} <= set(coordinator.buttons())
    await coordinator.send("8e")
    assert "8e" in coordinator.buttons()
    await coordinator.send(t("fr", "Done"))
    assert t("fr", "Step {number} of {total}", number=5, total=7) in coordinator.last
    await coordinator.press(t("fr", "Skip"))
    await coordinator.press(t("fr", "Skip"))
    await coordinator.send(f"{t('fr', 'Premises')} ; {t('fr', 'Skills')}")
    assert "✅ " + t("fr", "Premises") in coordinator.buttons()
    calls = await coordinator.send("des chaises")
    assert texts(calls)[0] == t("fr", "Please answer with one of the buttons below.")
    await coordinator.send(t("fr", "Done"))
    assert t("fr", "Save as draft") in coordinator.buttons()
    await coordinator.press(t("fr", "Save as draft"))
    saved = await stored(harness, 1)
    assert saved.theme_code == "older_people" and saved.arrondissements == [3, 13]
    assert saved.contribution_kinds == ["skills", "premises"]


async def test_cancel_leaves_the_form_and_saves_nothing(harness: Harness) -> None:
    coordinator = group_person(harness)
    await coordinator.send("/new_challenge")
    await coordinator.send(TITLE)
    calls = await coordinator.send("/cancel")
    assert texts(calls) == [t("fr", "Cancelled: nothing was saved.")]
    assert await count(harness, Challenge) == 0 and await dialog(harness, 42) is None


async def test_open_now_from_the_preview_at_night_delays_the_alerts(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    people = await city(harness)
    clock["now"] = NIGHT
    coordinator = group_person(harness)
    await coordinator.send("/new_challenge")
    await coordinator.send(TITLE)
    await coordinator.send(DESCRIPTION)
    await coordinator.press(t("fr", "Older people and isolation"))
    await coordinator.press(t("fr", "Whole city"))
    await coordinator.press(t("fr", "Skip"))
    await coordinator.press(t("fr", "Skip"))
    await coordinator.press(t("fr", "Skills"))
    await coordinator.press(t("fr", "Done"))
    calls = await coordinator.press(t("fr", "Open now"))
    # Saved, and asked first: opening alerts people, and it is night.
    assert answer_of(calls) == t("fr", "Saved.")
    assert (await stored(harness, 1)).status is ChallengeStatus.draft
    assert await outbox(harness) == []
    assert texts(calls)[-1] == "\n\n".join(
        [
            open_question(4),
            t(
                "fr",
                "It is night: the alerts will wait until {when}, the end of the quiet hours.",
                when="11/03/2027 08:00",
            ),
        ]
    )
    calls = await coordinator.press(YES_OPEN)

    saved = await stored(harness, 1)
    assert saved.status is ChallengeStatus.open and saved.opened_at == NIGHT
    async with harness.sessionmaker() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.chat_id)))
    # The whole city: the 8th too; never those without the theme, with alerts off, inactive.
    assert [row.chat_id for row in rows] == [2001, 2002, 2003, 2005]
    assert {row.user_id for row in rows} == {
        people[who] for who in ("fr", "en", "ar", "elsewhere")
    }
    assert all(row.not_before == NEXT_MORNING for row in rows)
    night = t(
        "fr",
        "It is night: the alerts wait until {when}, the end of the quiet hours.",
        when="11/03/2027 08:00",  # NEXT_MORNING in Paris, as the group's French writes it
    )
    opened = t("fr", "“{title}” is open.", title=TITLE)
    assert texts(calls)[-1] == f"{opened} {alerted(4)} {night}"


async def test_opening_alerts_exactly_the_people_concerned_in_their_language(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    people = await city(harness)
    challenge_id = await challenge(harness)
    coordinator = group_person(harness)
    await open_card(coordinator)
    assert t("fr", "Status: {status}", status=t("fr", "draft")) in coordinator.last
    await coordinator.press(t("fr", "Open"))
    assert coordinator.keyboard_message()["text"] == open_question(3)
    calls = await coordinator.press(YES_OPEN)

    assert (await stored(harness, challenge_id)).status is ChallengeStatus.open
    rows = {chat: (text, payload) for chat, text, payload in await outbox(harness)}
    assert set(rows) == {2001, 2002, 2003}
    for chat, locale in ((2001, "fr"), (2002, "en"), (2003, "ar")):
        text, payload = rows[chat]
        assert TEXTS[locale]["title"] in text
        assert t(locale, "Older people and isolation") in text  # why they receive it
        buttons = buttons_of({"reply_markup": payload["reply_markup"]})
        assert [b["text"] for b in buttons] == [
            t(locale, "Join"),
            t(locale, "See the challenge"),
            t(locale, "Stop these messages"),
        ]
        assert buttons[0]["callback_data"] == JoinCb(challenge_id=challenge_id, below=True).pack()
        assert buttons[2]["callback_data"] == MessagesCb(on=False).pack()
    assert TEXTS["fr"]["title"] not in rows[2002][0]
    async with harness.sessionmaker() as session:
        not_before = set(await session.scalars(select(OutboxMessage.not_before)))
        alerted_ids = set(await session.scalars(select(ChallengeAlert.user_id)))
    assert not_before == {MORNING}
    assert alerted_ids == {people["fr"], people["en"], people["ar"]}
    assert texts(calls)[-1].endswith(alerted(3))
    assert await audit_actions(harness) == ["challenge.open"]
    assert t("fr", "Close") in coordinator.buttons()


async def test_close_then_reopen_alerts_nobody_twice(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    await city(harness)
    challenge_id = await challenge(harness)
    coordinator = group_person(harness)
    await open_card(coordinator)
    await coordinator.press(t("fr", "Open"))
    await coordinator.press(YES_OPEN)
    card = coordinator.keyboard_message()
    await coordinator.press(t("fr", "Close"), card)
    assert latest(coordinator, card)["text"] == t(
        "fr",
        "Close “{title}”? Nobody will be able to join it any more; its participants and its "
        "figures stay.",
        title=TITLE,
    )
    assert (await stored(harness, challenge_id)).status is ChallengeStatus.open
    calls = await coordinator.press(t("fr", "Yes, close the challenge"))
    assert answer_of(calls) == t("fr", "Closed: nobody can join it any more.")
    assert (await stored(harness, challenge_id)).status is ChallengeStatus.closed
    assert t("fr", "Reopen") in coordinator.buttons()

    await coordinator.press(t("fr", "Reopen"))
    # Those already alerted are not alerted again: nobody is left to alert.
    assert latest(coordinator, card)["text"] == open_question(0)
    calls = await coordinator.press(YES_OPEN)
    assert (await stored(harness, challenge_id)).status is ChallengeStatus.open
    assert texts(calls)[-1].endswith(alerted(0))
    assert len(await outbox(harness)) == 3
    assert await audit_actions(harness) == ["challenge.open", "challenge.close", "challenge.open"]
    # «Reopen» pressed again on a card that was not refreshed: it is already open.
    calls = await coordinator.press_data(
        ManageCb(action=ManageAction.open, challenge_id=challenge_id).pack(), card
    )
    assert answer_of(calls) == t("fr", "This challenge is already open.")


async def test_a_double_tap_neither_opens_nor_closes_without_a_confirmation(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    await city(harness)
    challenge_id = await challenge(harness)
    coordinator = group_person(harness)
    await open_card(coordinator)
    card = coordinator.keyboard_message()

    def manage(action: ManageAction) -> str:
        return ManageCb(action=action, challenge_id=challenge_id).pack()

    async def status_and_alerts() -> tuple[ChallengeStatus, int]:
        return (await stored(harness, challenge_id)).status, len(await outbox(harness))

    # «Open» asks; the confirmation's «Yes» is not where «Open» was, from the top or the bottom.
    pressed = places_of(card, manage(ManageAction.open))
    await coordinator.press(t("fr", "Open"), card)
    confirm = latest(coordinator, card)
    assert confirm["text"] == open_question(3)
    assert [b["text"] for b in buttons_of(confirm)] == [
        t("fr", "Preview"),
        YES_OPEN,
        t("fr", "No, not now"),
    ]
    for row, column in pressed:
        assert button_at(confirm, row, column) != manage(ManageAction.open_confirmed)
    # The second tap of a double tap: on the old keyboard, then on what replaced it.
    await coordinator.press_data(manage(ManageAction.open), card)
    for row, column in pressed:
        data = button_at(latest(coordinator, card), row, column)
        if data is not None:
            await coordinator.press_data(data, latest(coordinator, card))
    assert await status_and_alerts() == (ChallengeStatus.draft, 0)

    await open_card(coordinator)
    card = coordinator.keyboard_message()
    await coordinator.press(t("fr", "Open"), card)
    confirm = latest(coordinator, card)
    yes = places_of(confirm, manage(ManageAction.open_confirmed))
    await coordinator.press(YES_OPEN, confirm)
    assert await status_and_alerts() == (ChallengeStatus.open, 3)
    # Twice «Yes»: the second finds it open. What now sits under «Yes» does not close it.
    calls = await coordinator.press_data(manage(ManageAction.open_confirmed), confirm)
    assert answer_of(calls) == t("fr", "This challenge is already open.")
    opened = latest(coordinator, card)
    assert t("fr", "Close") in [b["text"] for b in buttons_of(opened)]
    for row, column in yes:
        assert button_at(opened, row, column) not in (
            manage(ManageAction.close),
            manage(ManageAction.close_confirmed),
        )
    assert await status_and_alerts() == (ChallengeStatus.open, 3)

    # Closing the same way: asked, «Yes» elsewhere, and a second «Yes» does nothing.
    await open_card(coordinator)
    card = coordinator.keyboard_message()
    pressed = places_of(card, manage(ManageAction.close))
    await coordinator.press(t("fr", "Close"), card)
    confirm = latest(coordinator, card)
    assert [b["text"] for b in buttons_of(confirm)] == [
        t("fr", "No, keep it open"),
        t("fr", "Yes, close the challenge"),
    ]
    for row, column in pressed:
        assert button_at(confirm, row, column) != manage(ManageAction.close_confirmed)
    await coordinator.press(t("fr", "No, keep it open"), confirm)
    assert await status_and_alerts() == (ChallengeStatus.open, 3)
    assert t("fr", "Close") in coordinator.buttons()
    await coordinator.press(t("fr", "Close"), latest(coordinator, card))
    await coordinator.press(t("fr", "Yes, close the challenge"))
    calls = await coordinator.press_data(manage(ManageAction.close_confirmed), confirm)
    assert answer_of(calls) == t("fr", "This challenge is not open.")
    assert await status_and_alerts() == (ChallengeStatus.closed, 3)
    assert await audit_actions(harness) == ["challenge.open", "challenge.close"]


async def test_open_now_on_the_form_is_confirmed_away_from_where_it_was_pressed(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    challenge_id = await challenge(harness)
    coordinator = group_person(harness)
    await open_card(coordinator)
    await coordinator.press(t("fr", "Edit"))
    preview = coordinator.keyboard_message()
    pressed = places_of(preview, FormCb(action=FormAction.open).pack())
    assert pressed
    await coordinator.press(t("fr", "Open now"), preview)
    confirm = latest(coordinator, preview)
    assert confirm["text"] == open_question(0)
    yes = ManageCb(action=ManageAction.open_confirmed, challenge_id=challenge_id).pack()
    for row, column in pressed:
        assert button_at(confirm, row, column) != yes
    assert (await stored(harness, challenge_id)).status is ChallengeStatus.draft
    await coordinator.press(t("fr", "No, not now"), confirm)
    assert t("fr", "Status: {status}", status=t("fr", "draft")) in coordinator.last
    assert await audit_actions(harness) == []


async def test_a_challenge_whose_end_has_passed_does_not_reopen(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    await city(harness)
    challenge_id = await challenge(harness, status=ChallengeStatus.closed)
    clock["now"] = datetime(2028, 1, 10, 10, 0, tzinfo=UTC)
    coordinator = group_person(harness)
    await open_card(coordinator)
    calls = await coordinator.press(t("fr", "Reopen"))
    assert texts(calls)[-1] == t(
        "fr", "Its end date has passed: change the dates (Edit) before opening it."
    )
    assert (await stored(harness, challenge_id)).status is ChallengeStatus.closed
    assert await outbox(harness) == [] and await audit_actions(harness) == []


async def test_participants_their_counts_and_the_csv_export(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    people = await city(harness)
    challenge_id = await challenge(harness, status=ChallengeStatus.open)
    await joined(harness, challenge_id, people["fr"], "time", "<b>Visites</b> & appels")
    await joined(harness, challenge_id, people["en"], "premises", "Une salle le jeudi")
    await joined(harness, challenge_id, people["ar"], "time")
    async with harness.sessionmaker.begin() as session:
        found = await session.get(Challenge, challenge_id)
        member = await session.get(User, people["en"])
        assert found is not None and member is not None
        await register_assisted(
            session, found, member, name="J. M.", arrondissement=13, wishes=None,
            activity="visits", agreed=True, timezone=TIMEZONE,
        )  # fmt: skip
        await leave(session, found, await session.get(User, people["ar"]))  # type: ignore[arg-type]
    coordinator = group_person(harness)
    await open_card(coordinator)
    card = coordinator.last
    assert t("fr", "Assisted participations (people without Telegram): {count}", count=1) in card
    await coordinator.press(t("fr", "Participants"))
    listing = coordinator.last
    assert "Petits Frères" in listing and "Une salle le jeudi" in listing
    assert "<b>Visites</b> & appels" in listing  # escaped: shown as typed
    assert t("fr", "A citizen ({place})", place=t("fr", "Arrondissement {number}", number=3)) in (
        listing
    )
    assert "2003" not in listing  # left, and never an id
    time, premises = t("fr", "Volunteers' time"), t("fr", "Premises")
    # Each participant: who, what they bring, and the activity they chose.
    citizen = t("fr", "A citizen ({place})", place=t("fr", "Arrondissement {number}", number=3))
    assert listing.splitlines()[-2:] == [
        f"• {citizen} — {time}: <b>Visites</b> & appels (Visites à domicile)",
        f"• Petits Frères ✓ — {premises}: Une salle le jeudi (Visites à domicile)",
    ]
    assert f"{time} 1" in listing and f"{premises} 1" in listing
    assert (
        t("fr", "Participants: {count} ({recent} in the last 7 days; {left} left)",
          count=2, recent=2, left=1)
        in listing
    )  # fmt: skip
    await coordinator.press(t("fr", "← Back to the challenge"))
    calls = await coordinator.press(t("fr", "Export CSV"))
    (document,) = [c for c in calls if c.method == "sendDocument"]
    name, content = document.files["document"]
    assert name == f"participants-{(await stored(harness, challenge_id)).slug}.csv"
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("type;role;organisation;")
    assert len([line for line in lines if line]) == 1 + 2 + 1  # header, 2 people, 1 assisted
    assert "Petits Frères" in content.decode("utf-8-sig")


async def test_a_long_list_of_participants_is_split_into_pages(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    challenge_id = await challenge(harness, status=ChallengeStatus.open)
    for number in range(40):
        user_id = await person(harness, 3000 + number, "fr", organisation=f"Association {number}")
        await joined(harness, challenge_id, user_id, "skills", "Des compétences " + "x" * 280)
    coordinator = group_person(harness)
    await open_card(coordinator)
    calls = await coordinator.press(t("fr", "Participants"))
    pages = 1
    seen = set()
    while True:
        (shown,) = [c for c in calls if c.method == "editMessageText"]
        assert len(shown.params["text"]) < 4096
        seen |= {n for n in range(40) if f"Association {n} " in plain(shown.params["text"])}
        if "▶" not in coordinator.buttons():
            break
        calls = await coordinator.press("▶")
        pages += 1
    assert pages >= 3 and seen == set(range(40))


async def test_an_update_reaches_the_participants_only(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    people = await city(harness)
    challenge_id = await challenge(harness, status=ChallengeStatus.open)
    await joined(harness, challenge_id, people["fr"], "time")
    await joined(harness, challenge_id, people["en"], "premises")
    await joined(harness, challenge_id, people["ar"], "time")
    async with harness.sessionmaker.begin() as session:
        found = await session.get(Challenge, challenge_id)
        await leave(session, found, await session.get(User, people["ar"]))  # type: ignore[arg-type]
    coordinator = group_person(harness)
    await open_card(coordinator)
    await coordinator.press(t("fr", "Post an update"))
    assert TEXTS["fr"]["title"] in coordinator.last and "1000" in coordinator.last
    calls = await coordinator.send("ok")
    assert texts(calls) == [
        tn("fr", "This is too short: at least {limit} character, please.",
           "This is too short: at least {limit} characters, please.", 3, limit=3)
    ]  # fmt: skip
    assert await outbox(harness) == []
    update = "<i>Rendez-vous</i> samedi à 10h & café offert"
    calls = await coordinator.send(update)
    assert texts(calls) == [
        tn("fr", "Update sent to {count} participant.", "Update sent to {count} participants.",
           2, count=2)
    ]  # fmt: skip
    rows = {chat: text for chat, text, _payload in await outbox(harness)}
    assert set(rows) == {2001, 2002}
    assert update in rows[2001] and TEXTS["fr"]["title"] in rows[2001]
    assert update in rows[2002] and TEXTS["en"]["title"] in rows[2002]
    assert await dialog(harness, 42) is None


async def test_the_poster_is_a_photo_with_the_link(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    challenge_id = await challenge(harness, status=ChallengeStatus.open)
    coordinator = group_person(harness)
    await open_card(coordinator)
    calls = await coordinator.press(t("fr", "Poster"))
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    _name, content = photo.files["photo"]
    assert content.startswith(b"\x89PNG")
    slug = (await stored(harness, challenge_id)).slug
    link = f"https://t.me/{harness.standin.bot_username}?start=c_{slug}"
    assert link in plain(photo.params["caption"])
    assert link in coordinator.said(2)[0]  # on the card too


async def test_editing_a_challenge_keeps_its_other_languages(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    challenge_id = await challenge(harness, status=ChallengeStatus.open)
    coordinator = group_person(harness)
    await open_card(coordinator)
    await coordinator.press(t("fr", "Edit"))
    assert TITLE in coordinator.last and DESCRIPTION in coordinator.last
    assert t("fr", "Open now") not in coordinator.buttons()  # already open
    await coordinator.press(t("fr", "Title"))
    await coordinator.send("Ensemble contre l'isolement")
    await coordinator.press(t("fr", "Arrondissements"))
    await coordinator.press(t("fr", "Whole city"))
    await coordinator.press(t("fr", "Save the changes"))
    saved = await stored(harness, challenge_id)
    assert saved.texts["fr"]["title"] == "Ensemble contre l'isolement"
    assert saved.texts["en"] == TEXTS["en"] and saved.arrondissements == []
    assert saved.status is ChallengeStatus.open and saved.activities[0]["code"] == "visits"
    assert await audit_actions(harness) == ["challenge.update"]
    assert "Ensemble contre l'isolement" in coordinator.last


async def test_a_challenge_written_in_french_is_given_its_other_languages(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    await city(harness)
    challenge_id = await challenge(harness)
    async with harness.sessionmaker.begin() as session:
        found = await session.get(Challenge, challenge_id)
        assert found is not None
        found.texts = {"fr": TEXTS["fr"]}  # as written in the group, in French only
    coordinator = group_person(harness)
    await open_card(coordinator)
    assert t("fr", "Texts in: {languages}", languages="français") in coordinator.last

    # Alerted before any translation: each reader is told the text is in French.
    await coordinator.press(t("fr", "Open"))
    await coordinator.press(YES_OPEN)
    rows = {chat: text for chat, text, _payload in await outbox(harness)}
    assert t("en", "(text in {language})", language="French") in rows[2002]
    assert t("ar", "(text in {language})", language="الفرنسية") in rows[2003]
    assert "(" not in rows[2001].splitlines()[1]  # French readers read their own language
    reader = harness.person(2002, language_code="en")
    await reader.send("/start")
    await reader.press("Challenges")
    await reader.press(TITLE[:20])
    assert reader.last.splitlines()[:2] == [TITLE, "(text in French)"]

    # «Add a translation»: the language, then the title, then the description.
    await open_card(coordinator)
    await coordinator.press(t("fr", "Add a translation"))
    assert coordinator.buttons() == [
        "✅ Français",
        "English",
        "العربية",
        t("fr", "← Back to the challenge"),
    ]
    await coordinator.press("English")
    assert TITLE in coordinator.last
    assert (
        t(
            "fr",
            "Please type the title in {language} ({low} to {high} characters).",
            language="anglais",
            low=5,
            high=100,
        )
        in coordinator.last
    )
    calls = await coordinator.send("Hi")
    assert texts(calls)[0] == tn(
        "fr",
        "This is too short: at least {limit} character, please.",
        "This is too short: at least {limit} characters, please.",
        5,
        limit=5,
    )
    await coordinator.send("Breaking the  isolation\nof older people")
    assert DESCRIPTION in coordinator.last  # the text to translate from
    calls = await coordinator.send(None, sticker=STICKER)
    assert texts(calls)[0] == t("fr", "Please type your answer as a text message.")
    calls = await coordinator.send(TEXTS["en"]["description"])
    assert texts(calls)[0] == t(
        "fr", "Saved: the challenge can now be read in {language}.", language="anglais"
    )
    assert t("fr", "Texts in: {languages}", languages="français et anglais") in coordinator.last
    saved = await stored(harness, challenge_id)
    assert saved.texts == {"fr": TEXTS["fr"], "en": TEXTS["en"]}
    assert saved.status is ChallengeStatus.open
    assert await audit_actions(harness) == ["challenge.open", "challenge.update"]
    assert await dialog(harness, 42) is None

    # The English reader now reads English, without a note; the Arabic one still French.
    await reader.send("/start")
    await reader.press("Challenges")
    await reader.press(TEXTS["en"]["title"][:20])
    assert reader.last.splitlines()[:2] == [
        TEXTS["en"]["title"],
        "Theme: Older people and isolation",
    ]

    # /cancel half-way: nothing changes.
    await open_card(coordinator)
    await coordinator.press(t("fr", "Add a translation"))
    assert "✅ English" in coordinator.buttons()
    await coordinator.press("العربية")
    calls = await coordinator.send("/cancel")
    assert texts(calls) == [t("fr", "Cancelled: the challenge is unchanged.")]
    assert set((await stored(harness, challenge_id)).texts) == {"fr", "en"}
    assert await dialog(harness, 42) is None


async def test_nobody_else_can_manage_challenges(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    people = await city(harness)
    challenge_id = await challenge(harness)
    coordinator = group_person(harness)
    await open_card(coordinator)
    card = coordinator.keyboard_message()
    stranger = group_person(harness, 777)  # in the group chat, not a member
    for command in ("/new_challenge", "/challenges"):
        calls = await stranger.send(command)
        assert texts(calls) == [t("fr", REFUSAL)]
    for action in ManageAction:
        data = ManageCb(action=action, challenge_id=challenge_id).pack()
        calls = await stranger.press_data(data, card)
        assert answer_of(calls) == t("fr", REFUSAL), action
    calls = await stranger.press_data(FormCb(action=FormAction.open).pack(), card)
    assert answer_of(calls) == t("fr", REFUSAL)
    assert await dialog(harness, 777) is None

    # Forged in a private chat by someone who takes part in the city.
    citizen = harness.person(2001, language_code="fr")
    message = citizen.standin.message_update(citizen.user, "(anything)")["message"]
    message = {**message, "from": harness.standin.bot_user}
    for data in (
        ManageCb(action=ManageAction.open, challenge_id=challenge_id).pack(),
        ManageCb(action=ManageAction.export, challenge_id=challenge_id).pack(),
        FormCb(action=FormAction.save).pack(),
    ):
        calls = await citizen.press_data(data, message)
        assert answer_of(calls) == t("fr", REFUSAL)
    assert (await stored(harness, challenge_id)).status is ChallengeStatus.draft
    assert await outbox(harness) == [] and await audit_actions(harness) == []
    assert not harness.standin.calls_of("sendDocument") and people

    # A member of the group is a coordinator.
    harness.standin.set_chat_member(GROUP_ID, 555, "member")
    member = group_person(harness, 555)
    await member.send("/challenges")
    assert TITLE in member.last
