"""/mydata gives everything the bot holds about the person, readably: a summary in their
language with how many of each kind, and a UTF-8 JSON file with keys a person can read."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage.alliances import ask_introduction
from storage.challenges import register_assisted
from storage.initiatives import Proposal, report, submit
from storage.models import Challenge, ChallengeAlert, ReportReason, Role, SurveyQuestion
from storage.needs import report_need
from storage.survey_files import import_surveys
from storage.surveys import answer, open_survey, start_response
from storage.users import find_user
from tests.challenges_setup import make_challenge, participant
from tests.conversation import Harness, texts
from tests.initiatives_setup import published
from tests.surveys_setup import NOW, SURVEY
from tests.texts import t, tn

PERSON, OTHER = 8_880_001, 8_880_002
WORDS = {
    "fr": ("Association des Voisins d'Endoume", "Ascenseur en panne à côté de l'école"),
    "ar": ("جمعية جيران الحي", "المصعد معطّل منذ أسابيع في عمارتنا"),
}
PHOTO = "AgACphoto-of-the-garden"
TIMEZONE = "Europe/Paris"


async def everything(harness: Harness, locale: str) -> None:
    """Every kind of thing the bot keeps about a person, made through storage, and a dialog
    left halfway through the bot."""
    organisation, need = WORDS[locale]
    challenge = await make_challenge(harness)
    person = await participant(
        harness,
        PERSON,
        challenge,
        locale=locale,
        role=Role.association,
        organisation=organisation,
        text=need,
    )
    other = await participant(
        harness, OTHER, challenge, role=Role.company, organisation="Boulangerie Martin"
    )
    others = await published(harness, other, "Boulangerie solidaire du Panier")
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, PERSON)
        assert user is not None
        found = await session.get(Challenge, challenge.id)
        assert found is not None
        for latitude in (43.271, 43.281):
            await report_need(session, user, "housing", 5, need, latitude, 5.402)
        await submit(
            session,
            user,
            Proposal(
                "Jardin partagé d'Endoume",
                "Un jardin au pied de l'immeuble, ouvert à tous les voisins.",
                "older_people",
                5,
                photo_file_id=PHOTO,
                latitude=43.2871,
                longitude=5.3812,
            ),
        )
        await register_assisted(
            session, found, user, name="Zoubida", arrondissement=5, wishes=need,
            activity=None, agreed=True, timezone=TIMEZONE,
        )  # fmt: skip
        target = await find_user(session, OTHER)
        assert target is not None
        await ask_introduction(session, found, user, target.id, timezone=TIMEZONE)
        await report(session, others, user, ReportReason.spam)
        session.add(ChallengeAlert(challenge_id=challenge.id, user_id=user.id))
        (survey,) = await import_surveys(session, [SURVEY], 42)
        await open_survey(session, survey.id, 42, NOW)
        response = await start_response(session, survey, user, NOW)
        question = await session.scalar(
            select(SurveyQuestion).where(SurveyQuestion.code == "comment")
        )
        assert question is not None
        await answer(session, response, question, value_text=need)
    # A proposal begun and left at its title.
    await person.send("/start")
    await person.press(t(locale, "Propose an initiative"))
    await person.press(t(locale, "Older people and isolation"))
    await person.press(person.buttons()[0])
    await person.send("Goûter des voisins du dimanche")


@pytest.mark.parametrize("locale", ["fr", "ar"])
async def test_mydata_counts_each_kind_and_the_file_holds_it_readably(
    harness: Harness, locale: str
) -> None:
    await everything(harness, locale)
    person = harness.person(PERSON, language_code=locale)
    calls = await person.send("/mydata")
    summary = texts(calls)[0]
    assert t(locale, "Everything we store about you") in summary
    assert t(locale, "Privacy notice (version {version}) read on {when}").split("{")[0] in summary
    for singular, plural, count in (
        ("{count} need reported", "{count} needs reported", 2),
        ("{count} initiative proposed", "{count} initiatives proposed", 1),
        ("{count} challenge joined", "{count} challenges joined", 1),
        ("{count} person you registered", "{count} people you registered", 1),
        ("{count} introduction", "{count} introductions", 1),
        ("{count} initiative you reported", "{count} initiatives you reported", 1),
        ("{count} survey answered", "{count} surveys answered", 1),
        ("{count} challenge alert received", "{count} challenge alerts received", 1),
        ("{count} survey invitation received", "{count} survey invitations received", 1),
        ("{count} dialog in progress", "{count} dialogs in progress", 1),
    ):
        assert "• " + tn(locale, singular, plural, count, count=count) in summary

    document = next(c for c in calls if c.method == "sendDocument")
    content = document.files["document"][1]
    organisation, need = WORDS[locale]
    # UTF-8 as written, not \u escapes.
    assert b"\\u" not in content and need.encode() in content
    data = json.loads(content.decode("utf-8"))
    assert data["about you"]["organisation"] == organisation
    consents = data["your consents"]
    assert consents["privacy notice"]["read and acknowledged"] is not None
    needs = data["needs you reported"]
    assert [(n["text"], n["latitude"]) for n in needs] == [(need, 43.271), (need, 43.281)]
    (initiative,) = data["initiatives you proposed"]
    assert initiative["photo (Telegram file)"] == PHOTO
    assert (initiative["latitude"], initiative["longitude"]) == (43.2871, 5.3812)
    assert data["challenges you joined"][0]["what you wrote"] == need
    assert data["people you registered"][0]["first name or initials"] == "Zoubida"
    assert data["people you registered"][0]["what they would like"] == need
    assert data["introductions"][0]["asked by you"] is True
    assert data["initiatives you reported"][0]["reason"] == "spam"
    (survey,) = data["your survey answers"]
    assert [a["text"] for a in survey["answers"]] == [need]
    assert len(data["challenge alerts you received"]) == 1
    assert len(data["survey invitations you received"]) == 1
    (dialog,) = data["what you were in the middle of"]
    assert "Goûter des voisins du dimanche" in json.dumps(dialog, ensure_ascii=False)
