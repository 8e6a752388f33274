"""Wrong type, too long, empty, hostile markup, stale or forged buttons: a clear message, the
dialog stays where it was, and nothing entered is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import FsmRecord, User
from tests.conversation import STICKER, Harness, Person, texts
from tests.texts import t, tn


async def state_of(harness: Harness, person: Person) -> tuple[str | None, dict]:
    async with harness.sessionmaker() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.user_id == person.id))
        return (record.state, record.data) if record else (None, {})


async def at_themes(harness: Harness) -> Person:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("I have read it, continue")
    await person.press("Citizen")
    await person.press("5")
    await person.press("Housing")
    return person


@pytest.mark.parametrize(
    ("message", "fields"),
    [("hello", {}), (None, {"sticker": STICKER}), ("   ", {})],
    ids=["text", "sticker", "blank"],
)
async def test_anything_but_a_button_gets_the_question_again(
    harness: Harness, message: str | None, fields: dict
) -> None:
    person = await at_themes(harness)
    before = await state_of(harness, person)
    calls = await person.send(message, **fields)
    said = texts(calls)
    assert said[0] == "Please answer with one of the buttons below."
    assert "Which themes matter to you?" in said[1]
    # The same keyboard again, with what was already ticked.
    assert "✅ Housing" in person.buttons()
    assert await state_of(harness, person) == before


async def test_organisation_name_checks(harness: Harness) -> None:
    person = harness.person(language_code="fr")
    await person.send("/start")
    await person.press("Français")
    await person.press(t("fr", "I have read it, continue"))
    await person.press(t("fr", "Institution"))

    calls = await person.send(None, sticker=STICKER)
    assert texts(calls)[0] == t(
        "fr", "Please type the name of your organisation as a text message."
    )
    calls = await person.send("x" * 121)
    assert texts(calls) == [
        tn(
            "fr",
            "This is too long: {limit} character at most. Please shorten it and send it again.",
            "This is too long: {limit} characters at most. Please shorten it and send it again.",
            120,
            limit=120,
        )
    ]
    calls = await person.send("A")
    assert texts(calls) == [
        tn(
            "fr",
            "This is too short: at least {limit} character, please.",
            "This is too short: at least {limit} characters, please.",
            2,
            limit=2,
        )
    ]
    assert (await state_of(harness, person))[0] == "Profile:typing_organisation"
    assert (await state_of(harness, person))[1]["profile"]["role"] == "institution"

    hostile = '<b>Centre</b> social & <script>alert("x")</script> &amp;'
    await person.send(hostile)
    assert t("fr", "In which arrondissement of Marseille do you live or act?") in person.last
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None and user.organisation is not None
        assert user.organisation.name == hostile
    # Shown back escaped: the stand-in refuses HTML that Telegram would refuse.
    await person.press("2")
    await person.press(t("fr", "Culture"))
    await person.press(t("fr", "Done"))
    await person.press(t("fr", "No"))
    await person.press(t("fr", "No, thanks"))
    await person.send("/settings")
    assert hostile in person.last


@pytest.mark.parametrize(
    "data",
    ["rl:coordinator", "ar:99", "th:unknown", "lg:de", "zz:forged", "nt:maybe", "ar:-1"],
)
async def test_forged_buttons_change_nothing(harness: Harness, data: str) -> None:
    person = await at_themes(harness)
    before = await state_of(harness, person)
    calls = await person.press_data(data)
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1
    assert (
        answers[0].params["text"]
        == "This button is no longer valid. Please use the latest message."
    )
    assert await state_of(harness, person) == before
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        assert (user.role.value, user.arrondissement, user.themes) == ("citizen", 5, [])


async def test_an_old_button_after_the_dialog_moved_on(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    language_message = person.keyboard_message()
    await person.press("I have read it, continue")
    # The role question replaced the notice; an older message's button is pressed again.
    await person.send("/privacy")
    calls = await person.press_data("nt:1", language_message)
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answers and "no longer valid" in answers[0].params["text"]
    assert (await state_of(harness, person))[0] == "Profile:choosing_role"


async def test_no_theme_chosen_is_refused_with_an_alert(harness: Harness) -> None:
    person = await at_themes(harness)
    await person.press("✅ Housing")
    calls = await person.press("Done")
    alert = next(c for c in calls if c.method == "answerCallbackQuery")
    assert alert.params["text"] == "Please choose at least one theme, then press “Done”."
    assert alert.params.get("show_alert") is True
    assert (await state_of(harness, person))[0] == "Profile:choosing_themes"


async def test_unknown_command_and_chatter_outside_a_dialog(harness: Harness) -> None:
    person = harness.person(language_code="en")
    calls = await person.send("/frobnicate")
    assert texts(calls) == ["I do not know this command. Send /help to see what I can do."]
    calls = await person.send("bonjour")
    assert texts(calls) == ["I did not understand. Please use the buttons, or send /help."]


async def test_commands_work_in_the_middle_of_a_dialog(harness: Harness) -> None:
    person = await at_themes(harness)
    calls = await person.send("/help")
    assert "La Collective" in texts(calls)[0]
    assert (await state_of(harness, person))[0] == "Profile:choosing_themes"
    calls = await person.send("/cancel")
    assert texts(calls)[0].startswith("Cancelled.")
    assert (await state_of(harness, person))[0] is None
    calls = await person.send("/cancel")
    assert texts(calls) == ["There is nothing to cancel."]


STEPS_BEFORE = {
    "language": [],
    "notice": ["English"],
    "role": ["English", "I have read it, continue"],
    "arrondissement": ["English", "I have read it, continue", "Citizen"],
    "contact": ["English", "I have read it, continue", "Citizen", "7", "Sport", "Done"],
    "alerts": ["English", "I have read it, continue", "Citizen", "7", "Sport", "Done", "No"],
}


@pytest.mark.parametrize("step", STEPS_BEFORE)
@pytest.mark.parametrize(
    ("message", "fields"), [("hello", {}), (None, {"sticker": STICKER})], ids=["text", "sticker"]
)
async def test_every_question_asks_again_after_a_wrong_kind_of_answer(
    harness: Harness, step: str, message: str | None, fields: dict
) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    for label in STEPS_BEFORE[step]:
        await person.press(label)
    question, buttons = person.last, person.buttons()
    before = await state_of(harness, person)
    calls = await person.send(message, **fields)
    assert texts(calls)[0] == "Please answer with one of the buttons below."
    assert person.last == question and person.buttons() == buttons
    assert await state_of(harness, person) == before


async def test_someone_elses_button_changes_nothing(harness: Harness) -> None:
    owner = await at_themes(harness)
    intruder = harness.person(4242, language_code="en")
    before = await state_of(harness, owner)
    calls = await intruder.press_data("td", owner.keyboard_message())
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "no longer valid" in answers[0].params["text"]
    assert await state_of(harness, owner) == before
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == owner.id))
        assert user is not None and user.themes == []
