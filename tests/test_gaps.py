"""The map of gaps in the coordinators' group: the text as before, then a picture."""

from __future__ import annotations

from storage.models import Need
from storage.users import find_user
from tests.conversation import Harness
from tests.initiatives_setup import group_person, onboarded
from tests.texts import t


async def test_gaps_answers_with_the_text_and_a_picture(harness: Harness) -> None:
    await onboarded(harness, 1001)
    async with harness.sessionmaker.begin() as session:
        reporter = await find_user(session, 1001)
        assert reporter is not None
        session.add(
            Need(
                reporter_id=reporter.id,
                theme_code="housing",
                arrondissement=13,
                text="Logements insalubres",
            )
        )
    coordinator = group_person(harness)
    calls = await coordinator.send("/gaps")
    (text,) = [c for c in calls if c.method == "sendMessage"]
    assert t("fr", "<b>Map of gaps</b>") in text.params["text"]
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    _name, content = photo.files["photo"]
    assert content.startswith(b"\x89PNG")
    assert "1. " in photo.params["caption"]


async def test_the_weekly_stats_end_with_the_gaps(harness: Harness) -> None:
    await onboarded(harness, 1001)
    async with harness.sessionmaker.begin() as session:
        reporter = await find_user(session, 1001)
        assert reporter is not None
        session.add(
            Need(reporter_id=reporter.id, theme_code="housing", arrondissement=13, text="Toits")
        )
    coordinator = group_person(harness)
    await coordinator.send("/stats week")
    line = t("fr", "Places and themes with open needs and no answer: {count} — /gaps", count=1)
    assert coordinator.last.rstrip().endswith(line)
    await coordinator.send("/stats")
    assert "/gaps" not in coordinator.last
