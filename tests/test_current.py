"""What a button is about is found once, before its handler (handlers/current.py): a
coordinators' button naming a challenge or a survey that is not there gets the stale answer,
once, and nothing else happens; the handler never runs."""

from __future__ import annotations

import pytest

from handlers.challenges.coordination_callbacks import ManageAction as ChallengeAction
from handlers.challenges.coordination_callbacks import ManageCb as ChallengeCb
from handlers.surveys.coordination_callbacks import ManageAction as SurveyAction
from handlers.surveys.coordination_callbacks import ManageCb as SurveyCb
from tests.challenges_setup import alert_of
from tests.conversation import Harness
from tests.initiatives_setup import group_person
from tests.texts import t

GONE = 999

BUTTONS = [
    ("/challenges", ChallengeCb(action=action, challenge_id=GONE).pack())
    for action in ChallengeAction
] + [("/surveys", SurveyCb(action=action, survey_id=GONE).pack()) for action in SurveyAction]


@pytest.mark.parametrize(("listing", "data"), BUTTONS)
async def test_a_button_naming_what_is_gone_is_told_so_once(
    harness: Harness, listing: str, data: str
) -> None:
    coordinator = group_person(harness)
    await coordinator.send(listing)
    (shown,) = coordinator.bot_messages()

    calls = await coordinator.press_data(data, shown)

    assert alert_of(calls)["text"] == t(
        "fr", "This button is no longer valid. Please use the latest message."
    )
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert harness.failures == []
