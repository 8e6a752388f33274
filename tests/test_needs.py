"""Reporting a need and reading the needs map, as a person does it: every step, bad input at
each of them, /back, a restart, forged buttons, and the map's picture with its figures."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.standin import parse_html, utf16_len
from handlers.needs.callbacks import NeedStep, NeedStepCb
from handlers.needs.needs_map import CAPTION_LIMIT
from storage.models import FsmRecord, Need, Theme, User, utcnow
from storage.needs import needs_counts, report_need
from storage.privacy import NOTICE_VERSION
from storage.texts import TextRejected
from tests.conversation import STICKER, Harness, Person, texts
from tests.needs_setup import at_description, needs, reporting
from tests.texts import t, tn

PHOTO = [{"file_id": "AgAC", "file_unique_id": "p1", "width": 90, "height": 90}]
VIEUX_PORT = {"latitude": 43.29512, "longitude": 5.37404}
DESCRIPTION = "No shaded bench near the bus stop for older people waiting in summer."
HOSTILE = '<b>x</b> & <script>alert("x")</script> &amp; needs a ramp'
STALE = "This button is no longer valid. Please use the latest message."


async def state_of(harness: Harness, person: Person) -> tuple[str | None, dict[str, Any]]:
    async with harness.sessionmaker() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.user_id == person.id))
        return (record.state, record.data) if record else (None, {})


async def user_id(harness: Harness, person: Person) -> int:
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        return user.id


async def test_a_full_report(harness: Harness) -> None:
    person = await reporting(harness)
    assert "Step 1 of 4" in person.last
    assert "Which theme is the need about?" in person.last
    assert {"Culture", "Housing", "Older people and isolation"} <= set(person.buttons())

    await person.press("Housing")
    assert "Step 2 of 4" in person.last
    assert person.buttons() == ["Yes: Arrondissement 3", "Another one"]

    await person.press("Yes: Arrondissement 3")
    assert "Step 3 of 4" in person.last
    assert "Housing · Arrondissement 3" in person.last
    assert "(10 to 500 characters)" in person.last
    # PRIVACY.md: free-text prompts warn against special categories of data.
    assert "no names" in person.last and "religion or political opinions" in person.last

    await person.send(f"  {DESCRIPTION}  ")
    assert "Step 4 of 4" in person.last
    assert "not your home" in person.last
    assert person.buttons() == ["Skip"]

    await person.send(None, location=VIEUX_PORT)
    # Nothing is stored before the person has read it all back and pressed «Send».
    assert await needs(harness) == []
    assert person.last == "\n".join(
        [
            "Your need, before it is sent",
            "",
            "Theme: Housing",
            "Where: Arrondissement 3",
            DESCRIPTION,
            "Location: attached, not published",
            "",
            "Send it as it is, or change a field first.",
        ]
    )
    assert person.buttons() == ["Send", "Edit a field", "Cancel"]

    await person.press("Send")
    (need,) = await needs(harness)
    assert person.last.startswith(
        f"Thank you! Your need is recorded under the reference N-{need.id}."
    )
    assert DESCRIPTION in person.last and "Where: Arrondissement 3" in person.last
    assert person.buttons() == ["See the needs map", "Back to the menu"]
    assert (need.theme_code, need.arrondissement, need.text) == ("housing", 3, DESCRIPTION)
    assert need.reporter_id == await user_id(harness, person)
    # Stored to about 100 m: enough for a map, too coarse to point at a door.
    assert (need.latitude, need.longitude) == (43.295, 5.374)
    assert await state_of(harness, person) == (None, {})

    await person.press("Back to the menu")
    assert person.last == "What would you like to do?"


async def test_another_arrondissement(harness: Harness) -> None:
    person = await reporting(harness)
    await person.press("Ecology")
    await person.press("Another one")
    assert "Step 2 of 4" in person.last
    assert "In which arrondissement of Marseille is the need?" in person.last
    assert person.buttons() == ["1st", "2nd", "3rd", *(f"{n}th" for n in range(4, 17))]

    await person.press("13")
    assert "Ecology · Arrondissement 13" in person.last
    # /back returns to the list the person chose from, with their choice ticked.
    await person.send("/back")
    assert "✅ 13th" in person.buttons()
    await person.press("14")
    await person.send(DESCRIPTION)
    await person.press("Skip")
    assert "Location: none" in person.last
    await person.press("Send")
    (need,) = await needs(harness)
    assert (need.arrondissement, need.latitude, need.longitude) == (14, None, None)
    assert "Where: Arrondissement 14" in person.last


async def test_someone_outside_marseille_chooses_an_arrondissement(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    for label in ("English", "I have read it, continue", "Citizen", "Outside Marseille"):
        await person.press(label)
    for label in ("Sport", "Done", "No", "No, thanks", "Report a need", "Sport"):
        await person.press(label)
    # A need is in one of the city's arrondissements: no "yes, where I live" for them.
    assert "In which arrondissement of Marseille is the need?" in person.last
    assert "Outside Marseille" not in person.buttons()


WRONG_KINDS: list[tuple[str | None, dict[str, Any]]] = [
    ("hello", {}),
    (None, {"sticker": STICKER}),
    (None, {"photo": PHOTO}),
    (None, {"location": VIEUX_PORT}),
    ("   ", {}),
]


async def test_buttons_steps_ask_again(harness: Harness) -> None:
    person = await reporting(harness)
    for press in (None, "Culture", "Another one"):
        if press:
            await person.press(press)
        question, buttons = person.last, person.buttons()
        before = await state_of(harness, person)
        for message, fields in WRONG_KINDS:
            calls = await person.send(message, **fields)
            said = texts(calls)
            assert said == ["Please answer with one of the buttons below.", question]
            assert person.buttons() == buttons
            assert await state_of(harness, person) == before


async def test_a_typed_text_that_names_a_button_does_what_it_does(harness: Harness) -> None:
    person = await reporting(harness)
    await person.send("  housing ")
    assert "Where is the need? In your arrondissement?" in person.last
    await person.send("another one")
    assert "In which arrondissement of Marseille is the need?" in person.last
    await person.send("١٣")  # Arabic-Indic digits
    assert "Housing · Arrondissement 13" in person.last
    await person.send(DESCRIPTION)
    await person.send("skip")
    assert "Location: none" in person.last
    calls = await person.send("hello")
    assert texts(calls)[0] == "Please answer with one of the buttons below."
    assert await needs(harness) == []
    await person.send("edit")
    assert person.last == "Which field would you like to change?"
    await person.send("Send")
    (need,) = await needs(harness)
    assert (need.theme_code, need.arrondissement, need.text) == ("housing", 13, DESCRIPTION)
    assert person.last.startswith(
        f"Thank you! Your need is recorded under the reference N-{need.id}."
    )

    # «Yes» for the person's own arrondissement; «keep this description» as the button.
    await person.press("Back to the menu")
    await person.press("Report a need")
    await person.send("Culture")
    await person.send("yes")
    assert "Culture · Arrondissement 3" in person.last
    await person.send(DESCRIPTION)
    await person.send("/back")
    await person.send("Keep this description")
    assert "Step 4 of 4" in person.last
    await person.send("skip")
    await person.send("send")
    assert [n.text for n in await needs(harness)] == [DESCRIPTION, DESCRIPTION]


async def test_bad_descriptions_and_locations(harness: Harness) -> None:
    person = await at_description(harness)
    question = person.last
    before = await state_of(harness, person)
    too_long = tn(
        "en",
        "This is too long: {limit} character at most. Please shorten it and send it again.",
        "This is too long: {limit} characters at most. Please shorten it and send it again.",
        500,
        limit=500,
    )
    too_short = tn(
        "en",
        "This is too short: at least {limit} character, please.",
        "This is too short: at least {limit} characters, please.",
        10,
        limit=10,
    )
    wrong: list[tuple[str | None, dict[str, Any], str]] = [
        (None, {"sticker": STICKER}, "Please type the description as a text message."),
        (None, {"photo": PHOTO}, "Please type the description as a text message."),
        (None, {"location": VIEUX_PORT}, "Please type the description as a text message."),
        ("x" * 501, {}, too_long),
        ("too short", {}, too_short),
        (" \n\u200b\n ", {}, "This is empty. Please type your answer as a text message."),
    ]
    for message, fields, explanation in wrong:
        calls = await person.send(message, **fields)
        assert texts(calls) == [explanation, question]
        assert await state_of(harness, person) == before

    await person.send(HOSTILE)
    question = person.last
    assert "Step 4 of 4" in question
    before = await state_of(harness, person)
    assert before[1] == {
        "need": {
            "theme": "housing",
            "arrondissement": 3,
            "text": HOSTILE,
            "located": False,
            "latitude": None,
            "longitude": None,
            "editing": False,
        }
    }
    for message, fields in [("by the school", {}), (None, {"sticker": STICKER})]:
        calls = await person.send(message, **fields)
        assert texts(calls) == [
            "Please attach a location (📎 → Location), or press “Skip” to go without.",
            question,
        ]
        assert await state_of(harness, person) == before

    await person.press("Skip")
    # Shown back as typed in the review too.
    assert HOSTILE in person.last
    await person.press("Send")
    (need,) = await needs(harness)
    assert need.text == HOSTILE
    # Shown back as typed: the stand-in refuses HTML that Telegram would refuse.
    assert HOSTILE in person.last


async def test_back_keeps_everything_entered(harness: Harness) -> None:
    person = await at_description(harness)
    await person.send(DESCRIPTION)
    await person.send("/back")
    assert "Step 3 of 4" in person.last
    assert f"You wrote:\n{DESCRIPTION}" in person.last
    assert person.buttons() == ["Keep this description"]
    await person.send("/back")
    assert "Step 2 of 4" in person.last
    await person.send("/back")
    assert "Step 1 of 4" in person.last and "✅ Housing" in person.buttons()
    calls = await person.send("/back")
    assert texts(calls)[0] == "This is the first step. Send /cancel to stop."
    assert "Step 1 of 4" in person.last

    await person.press("Culture")
    await person.press("Yes: Arrondissement 3")
    await person.press("Keep this description")
    assert "Culture · Arrondissement 3" in person.last
    await person.press("Skip")
    await person.press("Send")
    (need,) = await needs(harness)
    assert (need.theme_code, need.arrondissement, need.text) == ("culture", 3, DESCRIPTION)

    calls = await person.send("/back")
    assert texts(calls) == ["I do not know this command. Send /help to see what I can do."]
    await person.press("See the needs map")
    await person.press("Report a need")
    calls = await person.send("/cancel")
    assert texts(calls)[0].startswith("Cancelled.")
    assert await state_of(harness, person) == (None, {})


async def test_a_restart_in_the_middle(harness: Harness) -> None:
    person = await at_description(harness)
    await harness.restart()
    await person.send(DESCRIPTION)
    assert "Housing · Arrondissement 3" in person.last and "Step 4 of 4" in person.last
    await harness.restart()
    await person.press("Skip")
    await harness.restart()
    await person.press("Send")
    (need,) = await needs(harness)
    assert (need.theme_code, need.arrondissement, need.text) == ("housing", 3, DESCRIPTION)


async def test_the_review_changes_one_field_at_a_time_and_cancels_only_when_sure(
    harness: Harness,
) -> None:
    person = await at_description(harness)
    await person.send(DESCRIPTION)
    await person.send(None, location=VIEUX_PORT)
    review = person.last
    assert review.startswith("Your need, before it is sent")

    # The description: its current text, no step counter, and back to the review after it.
    await person.press("Edit a field")
    assert person.last == "Which field would you like to change?"
    assert person.buttons() == [
        "Theme",
        "Arrondissement",
        "Description",
        "Location",
        "← Back to the review",
    ]
    await person.press("Description")
    assert person.last.startswith("Changing one field; the others stay as they are.")
    assert f"You wrote:\n{DESCRIPTION}" in person.last
    assert "Step " not in person.last
    assert "/back: back to the review" in person.last
    assert person.buttons() == ["Keep this description"]
    changed = "No shaded bench near the bus stop of the Canebière, for anyone waiting."
    await person.send(changed)
    assert person.last == review.replace(DESCRIPTION, changed)

    # The theme, the current one ticked; the arrondissement from the full list, ticked.
    await person.press("Edit a field")
    await person.press("Theme")
    assert "✅ Housing" in person.buttons()
    await person.press("Culture")
    assert "Theme: Culture" in person.last and changed in person.last
    await person.press("Edit a field")
    await person.press("Arrondissement")
    assert "✅ 3rd" in person.buttons() and "Step " not in person.last
    # /back while changing a field: the review, unchanged.
    await person.send("/back")
    assert person.last == review.replace(DESCRIPTION, changed).replace("Housing", "Culture")
    await person.press("Edit a field")
    await person.press("Arrondissement")
    await person.press("13")
    assert "Where: Arrondissement 13" in person.last

    # The location: kept, or removed.
    await person.press("Edit a field")
    await person.press("Location")
    assert "A location is attached. Send another one, keep it, or remove it." in person.last
    assert person.buttons() == ["Keep this location", "Remove the location"]
    await person.press("Keep this location")
    assert "Location: attached, not published" in person.last
    await person.press("Edit a field")
    await person.press("Location")
    await person.press("Remove the location")
    assert "Location: none" in person.last
    assert await needs(harness) == []

    # «Cancel» asks; its «Yes» is not where «Cancel» was (a double tap does not discard).
    review_message = person.keyboard_message()
    await person.press("Cancel")
    assert person.last == "Discard this need? What you entered will not be kept."
    assert person.buttons() == ["Yes, discard this need", "No, back to the review"]
    confirm = person.keyboard_message()
    rows = [row[0]["text"] for row in confirm["reply_markup"]["inline_keyboard"]]
    old_rows = [row[0]["text"] for row in review_message["reply_markup"]["inline_keyboard"]]
    cancel_at = old_rows.index("Cancel")
    assert rows[cancel_at - len(old_rows)] != "Yes, discard this need"
    assert cancel_at >= len(rows) or rows[cancel_at] != "Yes, discard this need"
    await person.press("No, back to the review")
    assert "Theme: Culture" in person.last and "Where: Arrondissement 13" in person.last
    await person.press("Cancel")
    await person.press("Yes, discard this need")
    assert person.last == "Your need was not sent. You can report one whenever you wish."
    assert await needs(harness) == []
    assert await state_of(harness, person) == (None, {})

    # Reported again, changed from the review, then sent: stored once, as changed.
    await person.press("Back to the menu")
    await person.press("Report a need")
    await person.press("Housing")
    await person.press("Yes: Arrondissement 3")
    await person.send(DESCRIPTION)
    await person.press("Skip")
    await person.press("Edit a field")
    await person.press("Description")
    await person.send(changed)
    calls = await person.press("Send")
    (need,) = await needs(harness)
    assert (need.theme_code, need.arrondissement, need.text) == ("housing", 3, changed)
    assert (need.latitude, need.longitude) == (None, None)
    # A second «Send» (a double tap) stores nothing more.
    await person.press_data(NeedStepCb(step=NeedStep.send).pack(), review_message)
    assert len(await needs(harness)) == 1 and calls


FORGED = {
    "theme": ["nth:unknown", "nth:", "nst:l", "nar:3", "zz:forged", "m:zz"],
    "place": ["nar:99", "nar:0", "nar:x", "nth:culture", "nst:zz", "nst:d"],
    "description": ["nst:d", "nst:l", "nst:a", "nar:3", "nth:housing"],
}


async def test_forged_and_stale_buttons_change_nothing(harness: Harness) -> None:
    person = await reporting(harness)
    for step, press in (("theme", None), ("place", "Housing"), ("description", "Yes: ")):
        if press:
            await person.press(press)
        before = await state_of(harness, person)
        for data in FORGED[step]:
            calls = await person.press_data(data, person.bot_messages()[-1])
            answers = [c for c in calls if c.method == "answerCallbackQuery"]
            assert [a.params["text"] for a in answers] == [STALE], (step, data)
            assert await state_of(harness, person) == before
    assert await needs(harness) == []


async def test_someone_not_onboarded_is_taken_to_onboarding(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("No, thank you")
    assert "Report a need" not in person.buttons()
    # Pressed anyway, from a forged or old menu.
    await person.press_data("m:n")
    assert "How La Collective uses your data" in person.last
    assert (await state_of(harness, person))[0] == "Profile:reading_notice"


async def test_french(harness: Harness) -> None:
    """The flow through the catalogs; only the step counter is already translated."""
    person = harness.person(language_code="fr")
    await person.send("/start")
    await person.press("Français")
    for label in ("I have read it, continue", "Citizen"):
        await person.press(t("fr", label))
    await person.press("3")
    for label in ("Culture", "Done", "No", "No, thanks", "Report a need"):
        await person.press(t("fr", label))
    assert t("fr", "Step {number} of {total}", number=1, total=4) in person.last
    assert "Step 1 of 4" not in person.last
    await person.press(t("fr", "Culture"))
    await person.press(t("fr", "Yes: {place}", place=t("fr", "Arrondissement {number}", number=3)))
    await person.send("Il manque une boîte à livres près de la mairie.")
    await person.press(t("fr", "Skip"))
    await person.press(t("fr", "Send"))
    (need,) = await needs(harness)
    assert f"N-{need.id}" in person.last


# -- the needs map


async def citizens(session: AsyncSession, count: int) -> list[User]:
    people = [
        User(
            telegram_id=5000 + n,
            locale="en",
            notice_version=NOTICE_VERSION,
            notice_accepted_at=utcnow(),
            organisation=None,
            theme_links=[],
        )
        for n in range(count)
    ]
    session.add_all(people)
    await session.flush()
    return people


REPORTED = [
    (3, "housing"),
    (3, "housing"),
    (3, "culture"),
    (13, "older_people"),
    (13, "housing"),
    (1, "solidarity"),
    (16, "culture"),
]


async def test_the_needs_map(harness: Harness) -> None:
    async with harness.sessionmaker.begin() as session:
        (reporter,) = await citizens(session, 1)
        for arrondissement, theme in REPORTED[1:]:
            await report_need(session, reporter, theme, arrondissement, DESCRIPTION)
    person = await at_description(harness)  # REPORTED[0], through the dialog
    await person.send(DESCRIPTION)
    await person.press("Skip")
    await person.press("Send")

    calls = await person.press("See the needs map")
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert photo.ok
    name, content = photo.files["photo"]
    assert name.endswith(".png") and content.startswith(b"\x89PNG\r\n\x1a\n")
    caption = photo.result["caption"]
    assert utf16_len(caption) <= CAPTION_LIMIT
    assert person.last == caption
    assert "Needs map" in person.buttons()  # the menu, under the picture

    by_place = Counter(arrondissement for arrondissement, _ in REPORTED)
    by_theme = Counter(theme for _, theme in REPORTED)
    lines = caption.splitlines()
    assert lines[:2] == ["Needs map", f"{len(REPORTED)} needs reported"]
    place_lines = lines[lines.index("By arrondissement") + 1 : lines.index("By theme") - 1]

    # Published figures of 1 to 4 read "fewer than 5", as on the picture.
    def shown(count: int) -> str:
        return "fewer than 5" if count < 5 else str(count)

    assert place_lines == [f"Arrondissement {n}: {shown(by_place[n])}" for n in sorted(by_place)]
    key = lines[lines.index("By theme") + 1 :]
    # In the programme's order, numbered as in the chart, each with its colour.
    labels = {
        "solidarity": "Solidarity",
        "older_people": "Older people and isolation",
        "housing": "Housing",
        "culture": "Culture",
    }
    assert [line.split(" ", 1)[1] for line in key] == [
        f"{i}. {labels[code]}: {shown(by_theme[code])}" for i, code in enumerate(labels, start=1)
    ]
    markers = [line.split(" ", 1)[0] for line in key]
    assert len(set(markers)) == len(markers) == 4

    async with harness.sessionmaker() as session:
        assert await needs_counts(session) == Counter(REPORTED)


async def test_the_map_is_open_to_anyone_and_says_when_it_is_empty(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("No, thank you")
    calls = await person.press("Needs map")
    assert [c.method for c in calls if c.method == "sendPhoto"] == []
    assert person.last == "No need has been reported yet: there is no map to show."
    assert "Join La Collective" in person.buttons()

    async with harness.sessionmaker.begin() as session:
        (reporter,) = await citizens(session, 1)
        await report_need(session, reporter, "culture", 2, DESCRIPTION)
    calls = await person.press("Needs map")
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert photo.result["caption"].splitlines()[1] == "fewer than 5 needs reported"


async def test_a_long_key_is_cut_from_the_caption_and_sent_in_full(harness: Harness) -> None:
    labels = [f"Theme added by the coordinators of the city, number {n}" for n in range(16)]
    try:
        async with harness.sessionmaker.begin() as session:
            (reporter,) = await citizens(session, 1)
            for n, label in enumerate(labels):
                code = f"added_{n}"
                session.add(Theme(code=code, position=200 + n, labels={"en": label}))
                await session.flush()
                await report_need(session, reporter, code, n + 1, DESCRIPTION)
        person = await reporting(harness)
        calls = await person.press_data("m:nm")
    finally:
        # PostgreSQL keeps the themes table between tests (conftest): leave it as it was.
        async with harness.sessionmaker.begin() as session:
            await session.execute(delete(Need).where(Need.theme_code.like("added_%")))
            await session.execute(delete(Theme).where(Theme.code.like("added_%")))
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    caption = photo.result["caption"]
    assert utf16_len(caption) <= CAPTION_LIMIT
    assert caption.endswith("…\nAll the figures follow in the next message.")
    assert "reply_markup" not in photo.result
    follow = [c for c in calls if c.method == "sendMessage"]
    full = "\n".join(parse_html(c.params["text"])[0] for c in follow)
    assert "16 needs reported" in full
    for n, label in enumerate(labels):
        # One need each: published as «fewer than 5», as on the picture.
        assert f"Arrondissement {n + 1}: fewer than 5" in full
        assert f"{n + 1}. {label}: fewer than 5" in full
    assert follow[-1].params.get("reply_markup")


# -- the rules, without a bot


async def test_report_need_rules(harness: Harness) -> None:
    async with harness.sessionmaker.begin() as session:
        reporter, newcomer = await citizens(session, 2)
        newcomer.notice_accepted_at = None
        with pytest.raises(PermissionError):
            await report_need(session, newcomer, "culture", 3, DESCRIPTION)
        with pytest.raises(ValueError, match="theme"):
            await report_need(session, reporter, "astrology", 3, DESCRIPTION)
        for arrondissement in (0, 17, -1):
            with pytest.raises(ValueError, match="arrondissement"):
                await report_need(session, reporter, "culture", arrondissement, DESCRIPTION)
        with pytest.raises(TextRejected):
            await report_need(session, reporter, "culture", 3, "\x00 short \x07")
        with pytest.raises(ValueError, match="latitude"):
            await report_need(session, reporter, "culture", 3, DESCRIPTION, latitude=43.0)
        need = await report_need(session, reporter, "culture", 3, f"\n {DESCRIPTION}\x07 ")
        assert need.text == DESCRIPTION
        assert await needs_counts(session) == {(3, "culture"): 1}
