"""Proposing an initiative: the guided form, look-alikes, the summary, sending, resuming."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.initiatives import similar
from storage.models import FsmRecord, Initiative, InitiativeStatus
from storage.users import OUTSIDE_MARSEILLE, find_user
from tests.conversation import STICKER, Harness, Person, texts
from tests.initiatives_setup import GROUP_ID, onboarded, outbox, published, user_row
from tests.texts import t

PHOTO = [
    {"file_id": "AgACphoto-small", "file_unique_id": "p1", "width": 90, "height": 90},
    {"file_id": "AgACphoto-large", "file_unique_id": "p2", "width": 800, "height": 800},
]
TITLE = "Tea afternoons at the Panier"
DESCRIPTION = "Every Thursday, neighbours and older people share tea, games and news."


async def dialog(harness: Harness, person: Person) -> tuple[str | None, dict]:
    async with harness.sessionmaker() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.user_id == person.id))
        return (record.state, record.data) if record else (None, {})


async def fill_form(person: Person, *, photo: bool = True, location: bool = True) -> None:
    """Every step of the form, to its summary. Contact is not asked: the profile answered."""
    await person.press("Propose an initiative")
    assert "Step 1 of 6" in person.last
    await person.press("Older people and isolation")
    assert "Step 2 of 6" in person.last
    await person.press("Arrondissement 3")
    await person.send(TITLE)
    await person.send(DESCRIPTION)
    if photo:
        await person.send(None, photo=PHOTO)
    else:
        await person.press("Skip")
    if location:
        await person.send(None, location={"latitude": 43.2993, "longitude": 5.3670})
    else:
        await person.press("Skip")
    assert "Your proposal" in person.last


async def test_a_proposal_from_form_to_the_coordinators(harness: Harness) -> None:
    person = await onboarded(harness, organisation="Voisins Solidaires", verified=True)
    await fill_form(person)
    # They said no at onboarding; from the summary, they change that one answer.
    assert "Coordinators may contact you: no" in person.last
    await person.press("Contact")
    await person.press("Yes, they may")
    summary = person.last
    for fact in (
        TITLE,
        DESCRIPTION,
        "Older people and isolation",
        "Arrondissement 3",
        "Photo: yes",
        "Location: yes",
        "Coordinators may contact you: yes",
    ):
        assert fact in summary
    await person.press("Send my proposal")
    assert "Its reference is I-1." in person.last

    async with harness.sessionmaker() as session:
        stored = (await session.scalars(select(Initiative))).one()
    assert (stored.title, stored.description, stored.theme_code) == (
        TITLE,
        DESCRIPTION,
        "older_people",
    )
    assert stored.status is InitiativeStatus.pending and stored.photo_file_id == "AgACphoto-large"
    assert (stored.latitude, stored.longitude) == (43.2993, 5.367)
    assert stored.contact_consent and stored.organisation is not None
    assert stored.organisation.name == "Voisins Solidaires"

    ((chat_id, card, payload),) = await outbox(harness)
    assert chat_id == GROUP_ID and payload.get("photo") == "AgACphoto-large"
    assert TITLE in card and "I-1" in card and "Voisins Solidaires" in card
    buttons = [b["text"] for row in payload["reply_markup"]["inline_keyboard"] for b in row]
    assert len(buttons) == 3  # approve, reject, ask for changes — in the group's language
    assert f"tg://user?id={person.id}" in payload["caption"]


async def test_any_field_can_be_changed_from_the_summary(harness: Harness) -> None:
    person = await onboarded(harness)
    await fill_form(person, photo=False, location=False)
    await person.press("Title")
    await person.send("A better title")
    assert "Title: A better title" in person.last
    await person.press("Arrondissement")
    await person.press("16")
    assert "Where: Arrondissement 16" in person.last
    await person.press("Photo")
    await person.send(None, photo=PHOTO)
    assert "Photo: yes" in person.last
    await person.press("Photo")
    await person.press("Skip")
    assert "Photo: no" in person.last
    await person.press("Send my proposal")
    async with harness.sessionmaker() as session:
        stored = (await session.scalars(select(Initiative))).one()
    assert (stored.title, stored.arrondissement, stored.photo_file_id) == (
        "A better title",
        16,
        None,
    )


async def test_back_goes_to_the_previous_step_keeping_answers(harness: Harness) -> None:
    person = await onboarded(harness)
    await person.press("Propose an initiative")
    await person.press("Culture")
    await person.press("Somewhere else")
    await person.press("7")
    await person.send(TITLE)
    calls = await person.send("/back")
    assert "Step 3 of 6" in texts(calls)[-1]
    await person.send("/back")
    assert "Step 2 of 6" in person.last
    await person.press("Somewhere else")
    await person.press("9")
    await person.send("Another title here")
    await person.send(DESCRIPTION)
    await person.press("Skip")
    await person.press("Skip")
    assert "Where: Arrondissement 9" in person.last and "Theme: Culture" in person.last


@pytest.mark.parametrize(
    ("step_actions", "bad", "expected"),
    [
        ([], {"text": "hello"}, "Please answer with one of the buttons below."),
        (["theme", "place"], {"text": "abc"}, "This is too short: at least 5 characters, please."),
        (["theme", "place"], {"text": "x" * 81}, "This is too long: 80 characters at most."),
        (["theme", "place"], {"sticker": STICKER}, "Please type your answer as a text message."),
        (["theme", "place", "title"], {"text": "too short"}, "at least 20 characters"),
        (["theme", "place", "title", "desc"], {"text": "here"}, "Please send a photo"),
        (["theme", "place", "title", "desc", "skip"], {"sticker": STICKER}, "attach a location"),
        # The summary takes buttons only.
        (
            ["theme", "place", "title", "desc", "skip", "skip"],
            {"text": "send it"},
            "one of the buttons",
        ),
    ],
)
async def test_bad_input_at_each_step_keeps_the_draft(
    harness: Harness, step_actions: list[str], bad: dict, expected: str
) -> None:
    person = await onboarded(harness)
    await person.press("Propose an initiative")
    actions = {
        "theme": lambda: person.press("Sport"),
        "place": lambda: person.press("Arrondissement 3"),
        "title": lambda: person.send(TITLE),
        "desc": lambda: person.send(DESCRIPTION),
        "skip": lambda: person.press("Skip"),
    }
    for action in step_actions:
        await actions[action]()
    before = await dialog(harness, person)
    fields = dict(bad)  # the parameter is shared by every backend's run
    calls = await person.send(fields.pop("text", None), **fields)
    assert expected in texts(calls)[0]
    # The dialog is on the same question, and what was entered is kept.
    assert await dialog(harness, person) == before
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Initiative)) == 0


async def test_cancel_drops_the_draft_and_an_old_send_button_sends_nothing(
    harness: Harness,
) -> None:
    person = await onboarded(harness)
    await fill_form(person, photo=False, location=False)
    summary = person.keyboard_message()
    await person.press("Send my proposal")
    assert "Its reference is I-1." in person.last
    # The summary's button, pressed again: nothing is sent twice.
    calls = await person.press("Send my proposal", summary)
    assert "I-2" not in "".join(texts(calls))
    await fill_form(person, photo=False, location=False)
    calls = await person.send("/cancel")
    assert texts(calls) == ["Discard this draft? What you have entered so far will be lost."]
    calls = await person.press("Yes, discard it")
    assert texts(calls)[0].startswith("Cancelled. You can start again whenever you wish.")
    assert await dialog(harness, person) == (None, {})
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Initiative)) == 1
    assert len([row for row in await outbox(harness) if row[0] == GROUP_ID]) == 1


async def test_look_alikes_are_offered_before_a_duplicate(harness: Harness) -> None:
    author = await onboarded(harness, 2001)
    existing = await published(harness, author, "Tea afternoons for older neighbours")
    person = await onboarded(harness, 2002)
    await person.press("Propose an initiative")
    await person.press("Older people and isolation")
    await person.press("Arrondissement 3")
    await person.send("Afternoons of tea with neighbours")
    assert "Similar initiatives already exist" in person.last
    assert f"I-{existing}" in person.last
    await person.press("Support “Tea afternoons")
    assert "Thank you! We have told the people behind" in person.last
    rows = await outbox(harness)
    author_row = await user_row(harness, author.id)
    assert {chat for chat, _, _ in rows} == {author.id, GROUP_ID}
    assert author_row.telegram_id == author.id
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Initiative)) == 1


async def test_look_alikes_share_the_theme_and_the_place_or_words_that_mean_something(
    harness: Harness,
) -> None:
    author = await onboarded(harness, 2001)
    meals = await published(
        harness,
        author,
        "Repas partagés pour les aînés, avec les voisins",
        theme="solidarity",
        arrondissement=3,
        description="Chaque jeudi, un repas partagé avec les voisins du quartier.",
    )

    async def alike(title: str, arrondissement: int, theme: str = "solidarity") -> list[int]:
        async with harness.sessionmaker() as session:
            return [i.id for i in await similar(session, theme, arrondissement, title)]

    assert await alike("Repas entre voisins le dimanche", 13) == [meals]
    assert await alike("Un atelier vélo pour les jeunes, avec un animateur", 13) == []
    assert await alike("Un atelier vélo pour les jeunes, avec un animateur", 3) == [meals]
    assert await alike("Repas entre voisins le dimanche", 13, theme="culture") == []


async def test_look_alikes_can_be_passed_by(harness: Harness) -> None:
    author = await onboarded(harness, 2001)
    await published(harness, author, "Tea afternoons for older neighbours")
    person = await onboarded(harness, 2002)
    await person.press("Propose an initiative")
    await person.press("Older people and isolation")
    await person.press("Arrondissement 3")
    await person.send("Afternoons of tea with neighbours")
    await person.press("Mine is different: continue")
    assert "Step 4 of 6" in person.last


async def test_a_proposal_resumes_after_a_restart(harness: Harness) -> None:
    person = await onboarded(harness)
    await person.press("Propose an initiative")
    await person.press("Sport")
    await person.press("Arrondissement 3")
    await person.send(TITLE)
    await harness.restart()
    await person.send("/start")
    said = person.said(2)
    assert "Welcome back!" in said[0] and "Step 4 of 6" in said[1]
    await person.send(DESCRIPTION)
    await person.press("Skip")
    await person.press("Skip")
    assert f"Title: {TITLE}" in person.last and "Theme: Sport" in person.last


async def test_proposing_needs_the_notice(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("No, thank you")
    await person.press("Join La Collective")
    assert "How La Collective uses your data" in person.last


async def change_profile(harness: Harness, person: Person, **values: object) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, person.id)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
async def test_where_it_takes_place_is_answered_by_a_place(harness: Harness, locale: str) -> None:
    person = await onboarded(harness)
    await change_profile(harness, person, locale=locale)
    await person.send("/start")
    await person.press(t(locale, "Propose an initiative"))
    await person.press(t(locale, "Sport"))
    assert t(locale, "Where does it take place?") in person.last
    home, elsewhere = t(locale, "Arrondissement {number}", number=3), t(locale, "Somewhere else")
    assert person.buttons() == [home, elsewhere]
    assert not any(t(locale, "Yes: {place}", place="") in b for b in person.buttons())
    await person.press(home)
    assert t(locale, "Step {number} of {total}", number=3, total=6) in person.last


async def test_someone_outside_marseille_chooses_from_every_place(harness: Harness) -> None:
    """«Outside Marseille» in one press would answer nothing: the full list straight away."""
    person = await onboarded(harness)
    await change_profile(harness, person, arrondissement=OUTSIDE_MARSEILLE)
    await person.press("Propose an initiative")
    await person.press("Sport")
    assert "Step 2 of 6" in person.last
    assert person.buttons()[:3] == ["1st", "2nd", "3rd"]
    assert person.buttons()[-1] == "Outside Marseille" and len(person.buttons()) == 17
    await person.press("Outside Marseille")
    assert "Step 3 of 6" in person.last


async def test_changing_one_answer_from_the_summary_shows_it_and_comes_back(
    harness: Harness,
) -> None:
    person = await onboarded(harness)
    await fill_form(person, photo=False, location=False)
    summary = person.last

    # The title: what it is now, no step counter; /back returns to the summary unchanged.
    await person.press("Title")
    assert f"Now: {TITLE}" in person.last and "Step" not in person.last
    assert "/back: back to the summary, unchanged" in person.last
    calls = await person.send("/back")
    assert texts(calls) == [summary]
    assert (await dialog(harness, person))[0] == "Propose:reviewing"

    # The place: the current one ticked, every place offered; /back, then a change.
    await person.press("Arrondissement")
    assert "Now: Arrondissement 3" in person.last and "✅ 3rd" in person.buttons()
    await person.send("/back")
    assert person.last == summary
    await person.press("Arrondissement")
    await person.press("16")
    assert "Where: Arrondissement 16" in person.last

    # The theme and the description: each answer back to the summary.
    await person.press("Theme")
    assert "Now: Older people and isolation" in person.last
    assert "✅ Older people and isolation" in person.buttons()
    await person.press("Culture")
    assert "Theme: Culture" in person.last
    await person.press("Description")
    assert DESCRIPTION in person.last
    await person.send("/back")
    assert "Theme: Culture" in person.last and "Where: Arrondissement 16" in person.last

    # From the summary itself, /back is the form's last step, and its answer the summary.
    await person.send("/back")
    assert "Step 6 of 6" in person.last
    await person.press("Skip")
    assert "Your proposal" in person.last


async def test_cancel_asks_before_throwing_a_long_draft_away(harness: Harness) -> None:
    person = await onboarded(harness)
    # One step answered: /cancel leaves at once.
    await person.press("Propose an initiative")
    await person.press("Sport")
    calls = await person.send("/cancel")
    assert texts(calls)[0].startswith("Cancelled.")
    assert await dialog(harness, person) == (None, {})

    # Three answered: asked first, and «No» goes on where the person was.
    await person.send("/start")
    await person.press("Propose an initiative")
    await person.press("Sport")
    await person.press("Arrondissement 3")
    await person.send(TITLE)
    before = await dialog(harness, person)
    calls = await person.send("/cancel")
    assert texts(calls) == ["Discard this draft? What you have entered so far will be lost."]
    assert person.buttons() == ["Yes, discard it", "No, go on"]
    assert await dialog(harness, person) == before
    question = person.keyboard_message()
    await person.press("No, go on")
    assert "Step 4 of 6" in person.last
    await person.send(DESCRIPTION)
    assert "Step 5 of 6" in person.last

    # Asked again, yes: the draft is gone; the old question's «Yes» then changes nothing.
    await person.send("/cancel")
    await person.press("Yes, discard it")
    assert person.last.startswith("Cancelled. You can start again whenever you wish.")
    assert await dialog(harness, person) == (None, {})
    await person.press("Propose an initiative")
    await person.press("Sport")
    await person.press("Arrondissement 3")
    calls = await person.press("Yes, discard it", question)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "no longer valid" in answer.params["text"]
    assert (await dialog(harness, person))[0] == "Propose:typing_title"


async def test_contact_is_not_asked_again_after_a_yes_at_onboarding(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    for label in ("English", "I have read it, continue", "Citizen", "3", "Culture", "Done"):
        await person.press(label)
    await person.press("Yes, they may")
    await person.press("No, thanks")
    await person.press("Propose an initiative")
    asked = []
    await person.press("Sport")
    asked.append(person.last)
    await person.press("Arrondissement 3")
    asked.append(person.last)
    await person.send(TITLE)
    asked.append(person.last)
    await person.send(DESCRIPTION)
    asked.append(person.last)
    await person.press("Skip")
    asked.append(person.last)
    await person.press("Skip")
    contact_question = "May the city's coordinators contact you"
    assert not any(contact_question in text for text in asked)
    assert "Coordinators may contact you: yes" in person.last
    await person.press("Send my proposal")
    async with harness.sessionmaker() as session:
        stored = (await session.scalars(select(Initiative))).one()
    assert stored.contact_consent
    ((_, _, payload),) = await outbox(harness)
    assert f"tg://user?id={person.id}" in payload["text"]


async def test_a_button_typed_rather_than_pressed_is_taken(harness: Harness) -> None:
    """At a button step, a text that names a button is that button (handlers/typed_choice.py);
    anything else is refused with the buttons again."""
    person = await onboarded(harness)
    await change_profile(harness, person, locale="fr")
    await person.send("/start")
    await person.press(t("fr", "Propose an initiative"))
    await person.send("solidarite")
    assert t("fr", "Step {number} of {total}", number=2, total=6) in person.last
    # Where: «13e», though the buttons shown are the person's own 3rd and «Ailleurs».
    await person.send("13e")
    assert t("fr", "Step {number} of {total}", number=3, total=6) in person.last
    await person.send(TITLE)
    await person.send(DESCRIPTION)
    await person.send("passer")
    await person.send("Passer")
    assert t("fr", "Check it, change what you wish, then send it.") in person.last
    await person.send("contact")
    await person.send("oui")
    assert t("fr", "Coordinators may contact you: {value}", value=t("fr", "yes")) in person.last
    calls = await person.send("peut-être")
    assert texts(calls)[0] == t("fr", "Please answer with one of the buttons below.")
    await person.send("envoyer ma proposition")
    async with harness.sessionmaker() as session:
        stored = (await session.scalars(select(Initiative))).one()
    assert (stored.theme_code, stored.arrondissement, stored.contact_consent) == (
        "solidarity",
        13,
        True,
    )
