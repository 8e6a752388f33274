"""«Find where I can help»: «Where could you go?» is answered by a place, and asked only when
the answer decides something (on site, for a challenge that takes place in some
arrondissements)."""

from __future__ import annotations

import pytest

from storage.users import OUTSIDE_MARSEILLE, find_user
from tests.challenges_setup import make_challenge, open_card
from tests.conversation import Harness, Person, texts
from tests.initiatives_setup import onboarded
from tests.texts import t


async def speaking(harness: Harness, person: Person, locale: str, **profile: object) -> Person:
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, person.id)
        assert user is not None
        user.locale = locale
        for name, value in profile.items():
            setattr(user, name, value)
    person.user["language_code"] = locale
    return person


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
async def test_where_could_you_go_is_answered_by_a_place(harness: Harness, locale: str) -> None:
    await make_challenge(harness, arrondissements=[1, 2, 3])
    person = await speaking(harness, await onboarded(harness), locale)
    await open_card(person)
    await person.press(t(locale, "Find where I can help"))
    assert t(locale, "Question {number} of {total}", number=1, total=4) in person.last
    await person.press(t(locale, "On site"))
    assert t(locale, "Where could you go? Choose the arrondissement.") in person.last
    home = t(locale, "Arrondissement {number}", number=3)
    assert person.buttons() == [home, t(locale, "Another one")]
    assert not any(t(locale, "Yes: {place}", place="").strip() in b for b in person.buttons())
    await person.press(home)
    assert t(locale, "How much time could you give each month?") in person.last
    assert t(locale, "Question {number} of {total}", number=3, total=4) in person.last


async def test_someone_outside_marseille_gets_the_list_of_arrondissements(
    harness: Harness,
) -> None:
    await make_challenge(harness, arrondissements=[1, 2, 3])
    person = await speaking(
        harness, await onboarded(harness), "en", arrondissement=OUTSIDE_MARSEILLE
    )
    await open_card(person)
    await person.press("Find where I can help")
    await person.press("On site")
    assert person.buttons()[:3] == ["1st", "2nd", "3rd"] and len(person.buttons()) == 16
    assert "Outside Marseille" not in person.buttons()


async def test_where_is_not_asked_when_the_challenge_takes_place_anywhere(
    harness: Harness,
) -> None:
    await make_challenge(harness)
    person = await onboarded(harness)
    await open_card(person)
    await person.press("Find where I can help")
    await person.press("On site")
    assert "How much time could you give each month?" in person.last
    assert "Question 2 of 3" in person.last
    # /back returns to the question before, which is on site or remotely.
    await person.send("/back")
    assert "Would you rather help on site, or remotely" in person.last
    await person.press("Remotely")
    assert "Question 2 of 3" in person.last


async def test_the_quiz_takes_buttons_typed_rather_than_pressed(harness: Harness) -> None:
    await make_challenge(harness, arrondissements=[1, 2, 13])
    person = await speaking(harness, await onboarded(harness), "fr")
    await open_card(person)
    await person.press(t("fr", "Find where I can help"))
    await person.send("sur place")
    assert t("fr", "Where could you go? Choose the arrondissement.") in person.last
    # «13e» though the buttons shown are the person's own 3rd and «another one».
    await person.send("13e")
    assert t("fr", "How much time could you give each month?") in person.last
    await person.send("3 à 5 h")
    assert t("fr", "Question {number} of {total}", number=4, total=4) in person.last
    # Several activities on one line, then «Done» typed.
    await person.send("visits (fr), help with errands (fr)")
    assert "✅ Visits (fr)" in person.buttons() and "✅ Help with errands (fr)" in person.buttons()
    calls = await person.send("peut-être")
    assert texts(calls)[0] == t("fr", "Please answer with one of the buttons below.")
    await person.send(t("fr", "Done"))
    assert t("fr", "Here is where you can help:") in person.last
    joins = [b for b in person.buttons() if "Visits" in b or "errands" in b]
    assert len(joins) == 2
