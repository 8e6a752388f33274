"""A person meets the bot: language, notice, who, where, themes, contact — in each locale."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import FsmRecord, Role, User
from storage.privacy import NOTICE_VERSION
from tests.conversation import Harness, plain
from tests.people import onboard
from tests.texts import t

LANGUAGE_BUTTON = {"fr": "Français", "en": "English", "ar": "العربية"}


async def stored(harness: Harness, telegram_id: int) -> User:
    async with harness.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        return user


async def dialog(harness: Harness, telegram_id: int) -> FsmRecord | None:
    async with harness.sessionmaker() as session:
        return await session.scalar(select(FsmRecord).where(FsmRecord.user_id == telegram_id))


@pytest.mark.parametrize("locale", ["fr", "en", "ar"])
async def test_a_person_completes_onboarding_in_their_language(
    harness: Harness, locale: str
) -> None:
    person = harness.person(language_code="fr")
    await person.send("/start")
    assert t("fr", "Step {number} of {total}", number=1, total=7) in person.last
    assert person.buttons() == ["Français", "English", "العربية"]

    await person.press(LANGUAGE_BUTTON[locale])
    assert t(locale, "Step {number} of {total}", number=2, total=7) in person.last
    heading = "<b>How La Collective uses your data</b> (notice version {version})"
    assert plain(t(locale, heading, version=NOTICE_VERSION)) in person.last
    await person.press(t(locale, "I have read it, continue"))

    assert t(locale, "Who are you?") in person.last
    await person.press(t(locale, "Association"))
    assert t(locale, "Step {number} of {total}", number=3, total=7) in person.last
    await person.send("Les Petits Frères des Pauvres")

    assert t(locale, "In which arrondissement of Marseille do you live or act?") in person.last
    await person.press("13")

    await person.press(t(locale, "Older people and isolation"))
    assert "✅ " + t(locale, "Older people and isolation") in person.buttons()
    await person.press(t(locale, "Solidarity"))
    await person.press(t(locale, "Done"))

    assert t(locale, "Step {number} of {total}", number=6, total=7) in person.last
    await person.press(t(locale, "Yes, they may"))
    assert t(locale, "Step {number} of {total}", number=7, total=7) in person.last
    await person.press(t(locale, "Yes, alert me"))
    assert t(locale, "Thank you, you are all set! Welcome to La Collective.") in person.last
    assert t(locale, "My profile and settings") in person.buttons()

    user = await stored(harness, person.id)
    assert user.locale == locale
    assert user.notice_version == NOTICE_VERSION and user.notice_accepted_at is not None
    assert user.role is Role.association
    assert user.organisation is not None
    assert user.organisation.name == "Les Petits Frères des Pauvres"
    assert user.arrondissement == 13
    assert user.themes == ["older_people", "solidarity"]
    assert user.contact_consent_at is not None and user.onboarded_at is not None
    assert user.alerts_consent_at is not None
    assert await dialog(harness, person.id) is None


async def test_the_language_is_guessed_from_telegram_and_french_is_the_default(
    harness: Harness,
) -> None:
    arabic = harness.person(2001, language_code="ar-MA")
    await arabic.send("/start")
    assert t("ar", "Which language do you prefer?") in arabic.last
    unknown = harness.person(2002, language_code="de")
    await unknown.send("/start")
    assert t("fr", "Which language do you prefer?") in unknown.last
    assert (await stored(harness, 2001)).locale == "ar"
    assert (await stored(harness, 2002)).locale == "fr"


async def test_nothing_but_id_and_language_is_stored_before_the_notice(harness: Harness) -> None:
    person = harness.person()
    await person.send("/start")
    await person.press("English")
    user = await stored(harness, person.id)
    assert (user.telegram_id, user.locale) == (person.id, "en")
    assert user.role is None and user.arrondissement is None and user.themes == []
    assert user.notice_accepted_at is None and user.contact_consent_at is None
    record = await dialog(harness, person.id)
    assert record is not None and record.state == "Profile:reading_notice"
    draft = record.data.get("profile", {})
    assert set(record.data) <= {"profile"} and set(draft) <= {"mode", "role", "themes"}
    assert not draft.get("themes")


async def test_declining_the_notice_leaves_anonymous_browsing(harness: Harness) -> None:
    person = harness.person()
    await person.send("/start")
    await person.press("English")
    await person.press("No, thank you")
    assert "we keep nothing about you but your Telegram id and your language" in person.last
    assert person.buttons()[0] == "Join La Collective"
    user = await stored(harness, person.id)
    assert user.notice_accepted_at is None and user.notice_declined_at is not None
    assert user.role is None

    # Coming back later shows the notice again, not the language question.
    await person.press("Join La Collective")
    assert "How La Collective uses your data" in person.last
    await person.press("I have read it, continue")
    assert "Who are you?" in person.last


async def test_onboarding_resumes_after_a_restart(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await person.send("/start")
    await person.press("English")
    await person.press("I have read it, continue")
    await person.press("Company")
    assert "What is the name of your organisation?" in person.last

    await harness.restart()
    await person.send("/start")
    messages = person.said(2)
    assert "Welcome back! Let's go on where you left off." in messages[0]
    assert "What is the name of your organisation?" in messages[1]
    # The draft (the chosen role) survived the restart too.
    await person.send("Boulangerie du Panier")
    user = await stored(harness, person.id)
    assert user.role is Role.company and user.organisation is not None
    assert user.organisation.name == "Boulangerie du Panier"
    assert "In which arrondissement" in person.last


async def test_a_changed_notice_is_shown_again_at_the_next_visit(harness: Harness) -> None:
    person = harness.person(language_code="en")
    await onboard(person)
    async with harness.sessionmaker.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None
        user.notice_version = NOTICE_VERSION - 1
    await person.send("/start")
    texts = person.said(2)
    assert "Our privacy notice has changed" in texts[0]
    assert "How La Collective uses your data" in texts[1]
    await person.press("I have read it, continue")
    assert "What would you like to do?" in person.last
    assert (await stored(harness, person.id)).notice_version == NOTICE_VERSION


# What people type instead of pressing, step by step (issue 13): each names a button.
TYPED_ANSWERS = {
    "fr": {
        "language": "francais",
        "notice": "j'ai lu, continuer",
        "role": "ASSOCIATION",
        "arrondissement": "13ème",
        "themes": "solidarite, personnes agees",
        "done": "Terminé !",
        "contact": "oui",
        "alerts": "non merci",
    },
    "ar": {
        "language": "العربيه",
        "notice": "قرأته، أريد المتابعة",
        "role": "جمعيه",
        "arrondissement": "الدائرة ١٣",
        "themes": "التضامن، كبار السن",
        "done": "تم",
        "contact": "نعم",
        "alerts": "لا شكرا",
    },
    "en": {
        "language": "english",
        "notice": "I have read it",
        "role": "association",
        "arrondissement": "13th",
        "themes": "Solidarity + older people",
        "done": "done",
        "contact": "yes",
        "alerts": "no thanks",
    },
}


@pytest.mark.parametrize("locale", ["fr", "ar", "en"])
async def test_a_typed_text_that_names_a_button_is_that_button(
    harness: Harness, locale: str
) -> None:
    typed = TYPED_ANSWERS[locale]
    person = harness.person(language_code="fr")
    await person.send("/start")
    await person.send(typed["language"])
    assert t(locale, "Step {number} of {total}", number=2, total=7) in person.last
    await person.send(typed["notice"])
    assert t(locale, "Who are you?") in person.last
    await person.send(typed["role"])
    await person.send("Les Petits Frères des Pauvres")
    await person.send(typed["arrondissement"])
    assert t(locale, "Step {number} of {total}", number=5, total=7) in person.last

    # Themes typed are ticked, and the question stays until «Done».
    await person.send(typed["themes"])
    assert t(locale, "Step {number} of {total}", number=5, total=7) in person.last
    assert "✅ " + t(locale, "Solidarity") in person.buttons()
    assert "✅ " + t(locale, "Older people and isolation") in person.buttons()
    await person.send(typed["done"])

    assert t(locale, "Step {number} of {total}", number=6, total=7) in person.last
    await person.send(typed["contact"])
    assert t(locale, "Step {number} of {total}", number=7, total=7) in person.last
    await person.send(typed["alerts"])
    assert t(locale, "Thank you, you are all set! Welcome to La Collective.") in person.last

    user = await stored(harness, person.id)
    assert user.locale == locale and user.notice_accepted_at is not None
    assert user.role is Role.association and user.arrondissement == 13
    assert user.themes == ["older_people", "solidarity"]
    assert user.contact_consent_at is not None and user.onboarded_at is not None
    assert user.alerts_consent_at is None


async def test_a_typed_text_that_names_no_button_is_asked_again(harness: Harness) -> None:
    person = harness.person(language_code="fr")
    await person.send("/start")
    await person.press("Français")
    await person.press(t("fr", "I have read it, continue"))
    await person.press(t("fr", "Citizen"))
    question, buttons = person.last, person.buttons()
    for unclear in ("17e", "Paris", "oui"):
        await person.send(unclear)
        explanation, again = person.said(2)
        assert explanation == t("fr", "Please answer with one of the buttons below.")
        assert (again, person.buttons()) == (question, buttons)
    # «Terminé» with no theme ticked says so, and the question stays.
    await person.send("hors de marseille")
    await person.send("terminé")
    said, again = person.said(2)
    assert said == t("fr", "Please choose at least one theme, then press “Done”.")
    assert t("fr", "Step {number} of {total}", number=5, total=7) in again
    assert (await stored(harness, person.id)).arrondissement == 0
