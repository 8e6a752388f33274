"""Surveys for some roles (issue 13): a survey meant for associations reaches associations only,
its card says so, and the response rate counts only them; a question for some roles is asked
to them only, and the preview says so."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from storage.models import AuditEntry, Role, Survey, SurveyInvitation, SurveyQuestion, User
from tests.conversation import Harness, texts
from tests.initiatives_setup import group_person, outbox
from tests.surveys_setup import MORNING, TITLES, city, imported
from tests.texts import t, tn

ASSOCIATIONS = (2001, 2003)


@pytest.fixture
def clock(harness: Harness) -> dict[str, datetime]:
    moment = {"now": MORNING}
    harness.dp["wall_clock"] = lambda: moment["now"]
    return moment


async def with_associations(harness: Harness) -> dict:
    """The city's six participants, two of them associations' members."""
    setup = await city(harness)
    async with harness.sessionmaker.begin() as session:
        await session.execute(
            update(User).where(User.telegram_id.in_(ASSOCIATIONS)).values(role=Role.association)
        )
    return setup


async def test_a_survey_for_associations_reaches_associations_only(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await with_associations(harness)
    survey_id = await imported(harness, setup["challenge"], audience={"roles": ["association"]})
    coordinator = group_person(harness)
    await coordinator.send("/surveys")
    await coordinator.press(f"#{survey_id} ")
    card = coordinator.last
    challenge_line = t(
        "fr", "For: the participants of the challenge “{title}”", title="Rompre l'isolement"
    )
    assert f"{challenge_line} · {t('fr', 'Association')}" in card

    await coordinator.press(t("fr", "Send now"))
    assert coordinator.last == tn(
        "fr",
        "Send “{title}” now to {count} person? Each receives it in their language.",
        "Send “{title}” now to {count} people? Each receives it in their language.",
        2,
        title=TITLES["fr"],
        count=2,
    )
    await coordinator.press(t("fr", "Yes, send it"))
    invited = sorted(chat for chat, _text, _markup in await outbox(harness) if chat > 0)
    assert invited == list(ASSOCIATIONS)
    async with harness.sessionmaker() as session:
        rows = await session.scalars(
            select(User.telegram_id).join(SurveyInvitation, SurveyInvitation.user_id == User.id)
        )
        assert sorted(rows) == list(ASSOCIATIONS)
    # The response rate's denominator is the associations invited, not the six participants.
    await coordinator.send("/surveys")
    await coordinator.press(f"#{survey_id} ")
    answers = tn(
        "fr",
        "{completed} completed, {started} started, of {invited} person invited",
        "{completed} completed, {started} started, of {invited} people invited",
        2,
        completed=0,
        started=0,
        invited=2,
    )
    assert t("fr", "Answers: {figures}", figures=answers) in coordinator.last


async def test_the_preview_names_the_roles_a_question_is_asked_to(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await with_associations(harness)
    survey_id = await imported(harness, setup["challenge"])
    async with harness.sessionmaker.begin() as session:
        await session.execute(
            update(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey_id, SurveyQuestion.code == "how")
            .values(roles=["association", "company"])
        )
    coordinator = group_person(harness)
    await coordinator.send("/surveys")
    await coordinator.press(f"#{survey_id} ")
    preview = "\n".join(texts(await coordinator.press(t("fr", "Preview"))))
    roles = f"{t('fr', 'Association')} et {t('fr', 'Company')}"
    assert t("fr", "Asked only to: {roles}.", roles=roles) in preview
    assert preview.count(t("fr", "Asked only to: {roles}.", roles=roles)) == 1


async def test_coordinators_choose_the_roles_on_a_drafts_card(
    harness: Harness, clock: dict[str, datetime]
) -> None:
    setup = await with_associations(harness)
    survey_id = await imported(harness, setup["challenge"])
    async with harness.sessionmaker.begin() as session:
        await session.execute(
            update(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey_id, SurveyQuestion.code == "how")
            .values(roles=["association"])
        )
    coordinator = group_person(harness)
    await coordinator.send("/surveys")
    await coordinator.press(f"#{survey_id} ")
    await coordinator.press(t("fr", "Who it is for…"))
    labels = [t("fr", role) for role in ("Citizen", "Association", "Company", "Institution")]
    assert coordinator.buttons()[:4] == labels

    # Question 4 is for associations: ticking companies alone would leave it to nobody.
    calls = await coordinator.press(t("fr", "Company"))
    assert answer_of(calls) == t(
        "fr",
        "Question {number} is asked only to: {roles}. Keep them ticked, or tick none.",
        number=4,
        roles=t("fr", "Association"),
    )
    assert coordinator.buttons()[:4] == labels
    await coordinator.press(t("fr", "Association"))
    await coordinator.press(t("fr", "Company"))
    assert coordinator.buttons()[1:3] == [f"✅ {label}" for label in labels[1:3]]
    roles = f"{t('fr', 'Association')} et {t('fr', 'Company')}"
    assert f"· {roles}" in coordinator.last

    await coordinator.press(t("fr", "← Back to the survey"))
    await coordinator.press(t("fr", "Send now"))
    assert coordinator.last == tn(
        "fr",
        "Send “{title}” now to {count} person? Each receives it in their language.",
        "Send “{title}” now to {count} people? Each receives it in their language.",
        2,
        title=TITLES["fr"],
        count=2,
    )
    async with harness.sessionmaker() as session:
        stored = await session.get(Survey, survey_id)
        assert stored is not None and stored.audience == {"roles": ["association", "company"]}
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions == ["survey.roles", "survey.roles"]


def answer_of(calls: list) -> str:
    return next(c for c in calls if c.method == "answerCallbackQuery").params.get("text") or ""
