"""«Impact over time» on a challenge's card: its key figures from one survey wave to the next."""

from __future__ import annotations

from handlers.challenges.callbacks import ChallengeCb
from storage.surveys import close_survey, open_survey
from tests.conversation import Harness, texts
from tests.surveys_setup import MORNING, answered, city, imported


async def wave(harness: Harness, challenge_id: int, users: dict[int, int], lonely: int) -> None:
    survey_id = await imported(harness, challenge_id)
    async with harness.sessionmaker.begin() as session:
        await open_survey(session, survey_id, 42, MORNING)
    for user_id in users.values():
        await answered(harness, survey_id, user_id, lonely=lonely)
    async with harness.sessionmaker.begin() as session:
        await close_survey(session, survey_id, 42, MORNING)


async def test_the_card_shows_how_key_figures_moved_between_waves(harness: Harness) -> None:
    setup = await city(harness)
    person = harness.person(2002, language_code="en")  # an English-speaking participant
    opened = harness.standin.message_update(person.user, "(a list)")["message"]
    await person.press_data(ChallengeCb(challenge_id=setup["challenge"]).pack(), opened)
    assert "Impact over time" not in person.buttons()  # no published wave yet

    await wave(harness, setup["challenge"], setup["users"], lonely=4)
    await wave(harness, setup["challenge"], setup["users"], lonely=2)
    await person.press_data(ChallengeCb(challenge_id=setup["challenge"]).pack(), opened)
    calls = await person.press("Impact over time")
    said = texts(calls)[0]
    assert "Do you feel lonely?" in said and "wave 1: 4 → wave 2: 2" in said
    photos = [c for c in calls if c.method == "sendPhoto"]
    # Two key figures in the survey: the loneliness score, and the visits (a total: 6 × 4).
    assert "How many visits?" in said and "wave 1: 24 → wave 2: 24" in said
    assert len(photos) == 2 and all(p.files["photo"][1][:4] == b"\x89PNG" for p in photos)


async def test_a_figure_that_would_single_someone_out_shows_as_a_dash(harness: Harness) -> None:
    setup = await city(harness)
    person = harness.person(2002, language_code="en")
    opened = harness.standin.message_update(person.user, "(a list)")["message"]
    await wave(harness, setup["challenge"], setup["users"], lonely=4)
    # Five answer 3 and one 5: the mean (3.3) would tell what the one answered.
    survey_id = await imported(harness, setup["challenge"])
    async with harness.sessionmaker.begin() as session:
        await open_survey(session, survey_id, 42, MORNING)
    for number, user_id in enumerate(setup["users"].values()):
        await answered(harness, survey_id, user_id, lonely=5 if number == 0 else 3)
    async with harness.sessionmaker.begin() as session:
        await close_survey(session, survey_id, 42, MORNING)
    await person.press_data(ChallengeCb(challenge_id=setup["challenge"]).pack(), opened)
    said = texts(await person.press("Impact over time"))[0]
    assert "wave 1: 4 → wave 2: —" in said and "3.3" not in said
    assert "“—”: not shown, so that no group of fewer than 5 people stands out." in said
