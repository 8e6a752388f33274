"""Coordinators, in their group, preview a survey, send it now or at a date, set its one
reminder, close it (the respondents then receive the results), and read its results, exports
and waves. The scheduler's jobs send once, whatever the restarts and workers. Nobody else can
do any of it, whatever button they forge."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from babel.lists import format_list
from babel.numbers import format_percent
from sqlalchemy import func, select

from bot.jobs import JobContext
from handlers.surveys import results_group
from handlers.surveys.jobs import send_due_surveys, send_reminders
from storage.challenges import leave
from storage.models import (
    AuditEntry,
    Challenge,
    OutboxMessage,
    OutboxPicture,
    Survey,
    SurveyInvitation,
    SurveyStatus,
    User,
)
from tests.conversation import Harness, Person, plain, texts
from tests.initiatives_setup import GROUP_ID, group_person, outbox
from tests.surveys_setup import (
    MORNING,
    PARTICIPANTS,
    TITLES,
    answered,
    city,
    imported,
)
from tests.texts import t, tn

# Races and once-only work: on PostgreSQL too.
pytestmark = pytest.mark.postgres

DESCRIPTION = "Visites et appels aux aînés isolés."
REFUSAL = "Only the city's coordinators can do this."


# -- setup


@pytest.fixture
def clock(harness: Harness) -> dict[str, datetime]:
    moment = {"now": MORNING}
    harness.dp["wall_clock"] = lambda: moment["now"]
    return moment


async def left(harness: Harness, challenge_id: int, user_id: int) -> None:
    async with harness.sessionmaker.begin() as session:
        found = await session.get(Challenge, challenge_id)
        user = await session.get(User, user_id)
        assert found is not None and user is not None
        await leave(session, found, user)


def context(harness: Harness) -> JobContext:
    return JobContext(harness.bot, harness.sessionmaker, harness.settings, harness.i18n)


async def run(harness: Harness, job: Any, now: datetime) -> None:
    with harness.i18n.context():
        await job(context(harness), now)


async def survey_row(harness: Harness, survey_id: int) -> Survey:
    async with harness.sessionmaker() as session:
        found = await session.get(Survey, survey_id)
        assert found is not None
        return found


async def count(harness: Harness, model: Any) -> int:
    async with harness.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


def answer_of(calls: list) -> str:
    return next(c for c in calls if c.method == "answerCallbackQuery").params.get("text") or ""


async def card_of(coordinator: Person, survey_id: int) -> None:
    await coordinator.send("/surveys")
    await coordinator.press(f"#{survey_id} ")


def invitations_by_chat(rows: list[tuple[int, str, dict]]) -> dict[int, str]:
    return {chat: text for chat, text, _ in rows if chat > 0}


def sent_note(count: int) -> str:
    return tn(
        "fr",
        "“{title}” has been sent: {count} person invited.",
        "“{title}” has been sent: {count} people invited.",
        count,
        title=TITLES["fr"],
        count=count,
    )


# -- the list, the card, the preview


async def test_the_list_and_the_preview_in_the_groups_language(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await city(harness)
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    calls = await coordinator.send("/surveys")
    listing = texts(calls)[0]
    assert f"#{survey_id} {TITLES['fr']}" in listing
    assert t("fr", "series “{series}”, wave {wave}", series="isolement", wave=1) in listing
    assert t("fr", "challenge “{title}”", title="Rompre l'isolement") in listing
    await coordinator.press(f"#{survey_id} ")
    assert t("fr", "Status: draft, not sent yet") in coordinator.last
    assert "Rompre l'isolement" in coordinator.last  # the challenge it is for
    assert coordinator.buttons()[:4] == [
        t("fr", "Preview"),
        t("fr", "Send now"),
        t("fr", "Send at…"),
        t("fr", "Reminder after…"),
    ]
    calls = await coordinator.press(t("fr", "Preview"))
    preview = "\n".join(texts(calls))
    for line in (
        TITLES["fr"],
        "1. Vous sentez-vous seul ?",
        t("fr", "Scale from 1 ({low}) to 5 ({high})", low="Jamais", high="Toujours"),
        t("fr", "Yes or no"),
        t("fr", "A number") + " · " + t("fr", "at least {value}", value="0"),
        t("fr", "in {unit}", unit="visites"),
        t("fr", "Asked only if the answer to question {number} is “{value}”.", number=2,
          value=t("fr", "Yes")),
        "1. phone (fr)",
        t("fr", "Optional: can be skipped"),
        "Merci (fr)",
    ):  # fmt: skip
        assert line in preview, line
    assert "Do you feel lonely?" not in preview


# -- sending now


async def test_send_now_invites_exactly_the_participants_each_in_their_language(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await city(harness)
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    await card_of(coordinator, survey_id)
    await coordinator.press(t("fr", "Send now"))
    assert (
        tn("fr", "Send “{title}” now to {count} person? Each receives it in their language.",
           "Send “{title}” now to {count} people? Each receives it in their language.", 6,
           title=TITLES["fr"], count=6)
        == coordinator.last
    )  # fmt: skip
    assert await outbox(harness) == []
    calls = await coordinator.press(t("fr", "Yes, send it"))
    assert sent_note(6) in texts(calls)
    found = await survey_row(harness, survey_id)
    assert found.status is SurveyStatus.open and found.opened_at == MORNING
    rows = await outbox(harness)
    invited = invitations_by_chat(rows)
    assert sorted(invited) == sorted(PARTICIPANTS) and len(rows) == 6
    for telegram_id, locale in PARTICIPANTS.items():
        assert TITLES[locale] in invited[telegram_id]
        for other in set(TITLES) - {locale}:
            assert TITLES[other] not in invited[telegram_id]
    buttons = rows[0][2]["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"sv:{survey_id}:s", f"sv:{survey_id}:l"]
    async with harness.sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions == ["survey.open"]
    # The card is the open survey's now; the old confirmation cannot send twice.
    assert t("fr", "Close") in coordinator.buttons()
    confirm = f"scm:S:{survey_id}"
    calls = await coordinator.press_data(confirm)
    assert answer_of(calls) == t("fr", "This survey has already been sent.")
    assert len(await outbox(harness)) == 6 and await count(harness, SurveyInvitation) == 6


# -- sending at a date


async def test_send_at_a_typed_date_is_done_by_the_job_once(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await city(harness)
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    await card_of(coordinator, survey_id)
    await coordinator.press(t("fr", "Send at…"))
    template = t(
        "fr",
        "{name}, when should “{title}” be sent? Please type the date and time in Paris as "
        "DD/MM/YYYY HH:MM, for example {example}.",
    )
    # What follows the survey's title, up to the example: the expected format, in French.
    asked = template.split("{title}")[1].split("{example}")[0].lstrip("» ")
    assert asked in coordinator.last and "11/03/2027 09:30" in coordinator.last
    calls = await coordinator.send("lundi matin")
    expected = t("fr", "Please type the date and time as DD/MM/YYYY HH:MM, for example {example}.",
                 example="11/03/2027 09:30")  # fmt: skip
    assert texts(calls) == [expected]
    # A restart: the dialog lives in the database and goes on.
    (await harness.restart())["wall_clock"] = lambda: clock["now"]
    calls = await coordinator.send("01/03/2027 10:00")
    assert texts(calls) == [
        t("fr", "This moment has passed: please type a date and time to come.")
    ]
    calls = await coordinator.send("15/03/2027 09:30")
    said = texts(calls)
    assert said[0].startswith(t("fr", "Scheduled: “{title}” will be sent on {when}.",
                                 title=TITLES["fr"], when="")[:20])  # fmt: skip
    assert "15/03/2027 09:30" in said[0]
    # 09:30 in Paris, winter time: 08:30 UTC.
    due = datetime(2027, 3, 15, 8, 30, tzinfo=UTC)
    assert (await survey_row(harness, survey_id)).send_at == due
    assert t("fr", "Status: draft, to be sent on {when}", when="15/03/2027 09:30") in said[1]

    await run(harness, send_due_surveys, due - timedelta(minutes=1))
    assert await outbox(harness) == []
    await run(harness, send_due_surveys, due)
    rows = await outbox(harness)
    assert sorted(invitations_by_chat(rows)) == sorted(PARTICIPANTS)
    assert [text for chat, text, _ in rows if chat == GROUP_ID] == [sent_note(6)]
    # Again (a restart, the next tick): nothing more.
    await run(harness, send_due_surveys, due + timedelta(minutes=1))
    assert len(await outbox(harness)) == len(rows) == 7
    found = await survey_row(harness, survey_id)
    assert found.status is SurveyStatus.open and found.opened_at == due


async def test_two_workers_at_the_same_moment_send_once(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await city(harness)
    due = MORNING + timedelta(hours=1)
    first = await imported(harness, setup["challenge"], send_at=due.isoformat())
    second = await imported(harness, setup["challenge"], send_at=due.isoformat())
    await asyncio.gather(*(run(harness, send_due_surveys, due) for _ in range(3)))
    rows = await outbox(harness)
    assert len([r for r in rows if r[0] > 0]) == 12 and len(rows) == 14
    async with harness.sessionmaker() as session:
        per_survey = dict(
            (
                await session.execute(
                    select(SurveyInvitation.survey_id, func.count()).group_by(
                        SurveyInvitation.survey_id
                    )
                )
            ).all()
        )
        opened = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "survey.open")
        )
    assert per_survey == {first: 6, second: 6} and opened == 2


# -- the reminder


async def test_one_reminder_to_the_unfinished_who_still_take_part(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await city(harness)
    users = setup["users"]
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    await card_of(coordinator, survey_id)
    card = coordinator.keyboard_message()
    await coordinator.press(t("fr", "Reminder after…"))
    assert texts(await coordinator.send("/cancel")) == [
        t("fr", "Cancelled: the survey is unchanged.")
    ]
    assert texts(await coordinator.send("24")) == []  # no dialog any more
    await coordinator.press(t("fr", "Reminder after…"), card)
    wrong = t("fr", "Please type a whole number of hours from {low} to {high}.", low=1, high=336)
    assert texts(await coordinator.send("demain")) == [wrong]
    assert texts(await coordinator.send("400")) == [wrong]
    calls = await coordinator.send("24")
    assert texts(calls)[0] == tn(
        "fr",
        "Reminder set: {hours} hour after the invitation, once, to those who have not finished.",
        "Reminder set: {hours} hours after the invitation, once, to those who have not finished.",
        24,
        hours=24,
    )
    assert (await survey_row(harness, survey_id)).reminder_after_hours == 24

    await coordinator.press(t("fr", "Send now"))
    await coordinator.press(t("fr", "Yes, send it"))
    await answered(harness, survey_id, users[2001])  # finished
    await answered(harness, survey_id, users[2002], finish=False)  # halfway
    await left(harness, setup["challenge"], users[2004])  # left the challenge since
    invitations = len(await outbox(harness))

    await run(harness, send_reminders, MORNING + timedelta(hours=23))
    assert len(await outbox(harness)) == invitations
    later = MORNING + timedelta(hours=25)
    await asyncio.gather(run(harness, send_reminders, later), run(harness, send_reminders, later))
    await run(harness, send_reminders, later + timedelta(hours=1))
    rows = (await outbox(harness))[invitations:]
    reminded = invitations_by_chat(rows)
    assert sorted(reminded) == [2002, 2003, 2005, 2006] and len(rows) == 5
    for telegram_id, text in reminded.items():
        locale = PARTICIPANTS[telegram_id]
        reminder = t(
            locale,
            "⏰ A reminder: your answers to this survey are still awaited. If you started it, "
            "you will go on where you stopped.",
        )
        assert TITLES[locale] in text and reminder in text
    note = tn(
        "fr",
        "Reminder sent for “{title}” to {count} person who has not finished.",
        "Reminder sent for “{title}” to {count} people who have not finished.",
        4,
        title=TITLES["fr"],
        count=4,
    )
    assert [text for chat, text, _ in rows if chat == GROUP_ID] == [note]


# -- closing, results, exports


async def answered_by_all(harness: Harness, survey_id: int, users: dict[int, int]) -> None:
    for number, user_id in enumerate(users.values()):
        comment = "<b>Un voisin</b> & moi" if number == 0 else f"Réponse {number}"
        await answered(
            harness, survey_id, user_id, lonely=2 + number % 2, visits=number, comment=comment
        )


async def test_closing_sends_the_results_to_each_respondent_in_their_language(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await city(harness)
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    await card_of(coordinator, survey_id)
    await coordinator.press(t("fr", "Send now"))
    await coordinator.press(t("fr", "Yes, send it"))
    await answered_by_all(harness, survey_id, setup["users"])
    before = len(await outbox(harness))
    await coordinator.press(t("fr", "Close"))
    assert "6" in coordinator.last
    calls = await coordinator.press(t("fr", "Yes, close it"))
    assert (
        tn("fr", "“{title}” is closed. The results are on their way to its {count} respondent.",
           "“{title}” is closed. The results are on their way to its {count} respondents.", 6,
           title=TITLES["fr"], count=6)
        in texts(calls)
    )  # fmt: skip
    assert (await survey_row(harness, survey_id)).status is SurveyStatus.closed
    rows = (await outbox(harness))[before:]
    by_chat: dict[int, list[tuple[str, dict]]] = {}
    for chat, text, payload in rows:
        by_chat.setdefault(chat, []).append((text, payload))
    assert sorted(by_chat) == sorted(PARTICIPANTS)
    async with harness.sessionmaker() as session:
        photos = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.method == "sendPhoto"))
        )
        # One chart per language (it is written in it), stored once however many people
        # it goes to.
        pictures = list(await session.scalars(select(OutboxPicture)))
    languages = set(PARTICIPANTS.values())
    assert len(photos) == 6 and len(pictures) == len(languages)
    assert all(picture.content.startswith(b"\x89PNG") for picture in pictures)
    picture_of: dict[str, set[int | None]] = {}
    for photo in photos:
        picture_of.setdefault(PARTICIPANTS[photo.chat_id], set()).add(photo.picture_id)
    assert sorted(picture_of) == sorted(languages)
    assert len({found for ids in picture_of.values() for found in ids}) == len(languages)
    assert all(len(ids) == 1 for ids in picture_of.values())
    for telegram_id, locale in PARTICIPANTS.items():
        text = by_chat[telegram_id][0][0]
        assert TITLES[locale] in text
        whole = tn(
            locale,
            "{count} of the {invited} person invited answered the whole survey ({rate}).",
            "{count} of the {invited} people invited answered the whole survey ({rate}).",
            6,
            count=6,
            invited=6,
            rate=format_percent(1, locale=locale),
        )
        assert whole in text
        # Alone in the 13th: no figures of its own; and the 3rd's five would be the whole
        # city minus the 13th's one, so the 3rd has none either.
        heading = t(locale, "<b>In your arrondissement ({place})</b>")
        assert plain(heading.format(place="…")).split("(")[0] in text
        not_shown = t(
            locale,
            "Not shown separately, so that no group of fewer than {count} people can be "
            "singled out: these answers count in the figures for the whole city.",
            count=5,
        )
        assert not_shown in text
    # The comments were not announced as published: only the coordinators read them.
    assert not any("Un voisin" in text for text, _ in by_chat[2001])


async def sent_and_answered(harness: Harness) -> tuple[Person, int]:
    """A survey sent from the group and answered by everyone; its card shown again."""
    setup = await city(harness)
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    await card_of(coordinator, survey_id)
    await coordinator.press(t("fr", "Send now"))
    await coordinator.press(t("fr", "Yes, send it"))
    await answered_by_all(harness, survey_id, setup["users"])
    await card_of(coordinator, survey_id)
    return coordinator, survey_id


async def test_results_and_exports_in_the_group(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    coordinator, survey_id = await sent_and_answered(harness)

    calls = await coordinator.press(t("fr", "Results"))
    said = "\n".join(texts(calls))
    assert TITLES["fr"] in said and "(100 %)" in said.replace("\u202f", " ").replace("\xa0", " ")
    assert "• <b>Un voisin</b> & moi" in said  # escaped: read as typed, with no identity
    assert "2001" not in said and "Réponse 3" in said
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert photo.files["photo"][1].startswith(b"\x89PNG")

    calls = await coordinator.press(t("fr", "Export CSV"))
    (document,) = [c for c in calls if c.method == "sendDocument"]
    name, content = document.files["document"]
    assert name == f"survey-{survey_id}.csv" and content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "response;arrondissement;lonely;visited;visits;how;comment"
    assert len([line for line in lines[1:] if line]) == 6

    calls = await coordinator.press(t("fr", "Export JSON"))
    (document,) = [c for c in calls if c.method == "sendDocument"]
    name, content = document.files["document"]
    data = json.loads(content)
    assert name == f"survey-{survey_id}.json"
    assert data["completed"] == 6 and data["invited"] == 6 and data["min_group"] == 5
    visits = next(q for q in data["questions"] if q["code"] == "visits")
    # Six different numbers of visits, each a group of one: no total, which would be theirs.
    assert visits["distribution"] == {} and visits["total"] is None


def hidden_note(locale: str, *numbers: int) -> str:
    listed = format_list([str(n) for n in numbers], locale=locale)
    return tn(
        locale,
        "The figures of question {numbers} are not shown, so that no group of fewer than "
        "{count} people can be singled out.",
        "The figures of questions {numbers} are not shown, so that no group of fewer than "
        "{count} people can be singled out.",
        len(numbers),
        numbers=listed,
        count=5,
    )


async def test_hidden_figures_are_explained_once_under_the_questions(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    old = "Not shown, so that no group of fewer than {count} people can be singled out."
    coordinator, _survey_id = await sent_and_answered(harness)
    said = "\n".join(texts(await coordinator.press(t("fr", "Results"))))
    # Six different numbers of visits (question 3): hidden; the comments are the group's.
    assert said.count(hidden_note("fr", 3)) == 1
    assert t("fr", old, count=5) not in said

    before = len(await outbox(harness))
    await coordinator.press(t("fr", "Close"))
    await coordinator.press(t("fr", "Yes, close it"))
    rows = (await outbox(harness))[before:]
    results = next(text for chat, text, _ in rows if chat == 2001 and "Visité" in text)
    assert results.count(hidden_note("fr", 3)) == 1
    assert t("fr", old, count=5) not in results


async def test_the_group_sees_the_first_free_texts_and_how_many_more(
    harness: Harness, clock: dict[str, datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results_group, "GROUP_TEXTS", 4)  # 30 in use: six people here
    coordinator, _survey = await sent_and_answered(harness)

    said = "\n".join(texts(await coordinator.press(t("fr", "Results"))))

    listed = [line for line in said.split("\n") if line.startswith("• ")]
    comments = [line for line in listed if "Réponse" in line or "Un voisin" in line]
    assert len(comments) == 4
    assert (
        tn("fr", "… and {count} more answer.", "… and {count} more answers.", 2, count=2) in said
    )


async def test_compare_waves(harness: Harness, clock: dict[str, datetime]) -> None:
    setup = await city(harness)
    users = setup["users"]
    coordinator = group_person(harness)
    waves = []
    for lonely in (4, 2):
        survey_id = await imported(harness, setup["challenge"])
        waves.append(survey_id)
        await card_of(coordinator, survey_id)
        await coordinator.press(t("fr", "Send now"))
        await coordinator.press(t("fr", "Yes, send it"))
        for user_id in users.values():
            await answered(harness, survey_id, user_id, lonely=lonely, visits=lonely)
    first_card = await survey_row(harness, waves[0])
    assert first_card.wave == 1 and (await survey_row(harness, waves[1])).wave == 2
    await card_of(coordinator, waves[1])
    calls = await coordinator.press(t("fr", "Compare waves"))
    said = "\n".join(texts(calls))
    per_wave = " · ".join(
        t("fr", "wave {wave}: {value}", wave=wave, value=value) for wave, value in ((1, 4), (2, 2))
    )
    assert t("fr", "Mean per wave: {values}", values=per_wave) in said
    totals = " · ".join(
        t("fr", "wave {wave}: {value}", wave=wave, value=value)
        for wave, value in ((1, 24), (2, 12))
    )
    assert t("fr", "Total per wave: {values}", values=totals) in said
    charts = [c for c in calls if c.method == "sendPhoto"]
    assert len(charts) == 2  # the two key figures
    assert all(c.files["photo"][1].startswith(b"\x89PNG") for c in charts)


# -- refusals


async def test_non_coordinators_and_forged_buttons_are_refused(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await city(harness)
    survey_id = await imported(harness, setup["challenge"])
    coordinator = group_person(harness)
    await card_of(coordinator, survey_id)
    card = coordinator.keyboard_message()
    stranger = group_person(harness, 777)  # in the group chat, but not a member
    calls = await stranger.send("/surveys")
    assert texts(calls) == [t("fr", REFUSAL)]
    for label in ("Send now", "Send at…", "Reminder after…", "Preview"):
        calls = await stranger.press(t("fr", label), card)
        assert answer_of(calls) == t("fr", REFUSAL)
    for data in (f"scm:S:{survey_id}", f"scm:X:{survey_id}", f"scm:cv:{survey_id}"):
        calls = await stranger.press_data(data, card)
        assert answer_of(calls) == t("fr", REFUSAL)
    # A participant forging the buttons in their private chat.
    participant = harness.person(2001, language_code="fr")
    chat = harness.standin.message_update(participant.user, "(invitation)")["message"]
    for data in (f"scm:S:{survey_id}", f"scm:re:{survey_id}", f"scm:js:{survey_id}"):
        calls = await participant.press_data(data, chat)
        assert answer_of(calls) == t("fr", REFUSAL)
    assert not [c for c in harness.standin.calls if c.method in ("sendDocument", "sendPhoto")]
    found = await survey_row(harness, survey_id)
    assert found.status is SurveyStatus.draft and found.send_at is None
    assert await outbox(harness) == []
    assert await count(harness, AuditEntry) == 0 and await count(harness, SurveyInvitation) == 0
    # A coordinator's forged button on a draft that cannot be closed changes nothing either.
    calls = await coordinator.press_data(f"scm:X:{survey_id}", card)
    assert answer_of(calls) == t("fr", "This survey is not open.")
    assert (await survey_row(harness, survey_id)).status is SurveyStatus.draft
