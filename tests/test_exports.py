"""Exports for the data team: CSV files French Excel opens as they are, a ZIP of them from
/export, the same files and the summary's figures from the CLI; a person's Telegram id only
with their consent to share contact details."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from storage.db import create_engine, create_sessionmaker
from storage.exports import export_files, zip_bytes
from storage.migrate import upgrade
from storage.models import (
    AssistedParticipation,
    Challenge,
    ChallengeStatus,
    Initiative,
    InitiativeStatus,
    Need,
    Organisation,
    Participation,
    QuestionKind,
    Role,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
    User,
    UserTheme,
)
from tests.conversation import Harness, texts
from tests.initiatives_setup import group_person
from tests.texts import t

SHARED, PRIVATE, ERASED, NEWCOMER = 111_111_111, 222_222_222, 333_333_333, 444_444_444
WHEN = datetime(2026, 11, 14, 23, 30, tzinfo=UTC)  # the 15th in Paris
FILES = [
    "people.csv",
    "needs.csv",
    "initiatives.csv",
    "participations.csv",
    "surveys.csv",
    "survey_1_answers.csv",
]


async def populate(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """One person who shares their contact, one who does not (an association), one erased,
    one who never finished joining; their needs, proposals, participations, answers."""
    async with sessionmaker.begin() as session:
        organisation = Organisation(name="Les Petits Frères", kind=Role.association)
        session.add(organisation)
        await session.flush()
        shared = User(
            telegram_id=SHARED,
            locale="fr",
            role=Role.citizen,
            arrondissement=3,
            onboarded_at=WHEN,
            contact_consent_at=WHEN,
        )
        private = User(
            telegram_id=PRIVATE,
            locale="ar",
            role=Role.association,
            organisation_id=organisation.id,
            arrondissement=13,
            onboarded_at=WHEN,
        )
        erased = User(telegram_id=None, locale="fr", erased_at=WHEN)
        newcomer = User(telegram_id=NEWCOMER, locale="en")
        session.add_all([shared, private, erased, newcomer])
        await session.flush()
        session.add_all(
            [
                UserTheme(user_id=private.id, theme_code="older_people"),
                UserTheme(user_id=private.id, theme_code="housing"),
            ]
        )
        session.add_all(
            [
                Need(
                    reporter_id=private.id,
                    theme_code="housing",
                    arrondissement=13,
                    text='=HYPERLINK("http://x") logements insalubres; rue Félix-Pyat',
                    latitude=43.312,
                    longitude=5.372,
                    created_at=WHEN,
                ),
                Need(
                    reporter_id=erased.id,
                    theme_code="older_people",
                    arrondissement=1,
                    text="Personnes âgées seules au Panier",
                    created_at=WHEN,
                ),
            ]
        )
        session.add_all(
            [
                Initiative(
                    proposer_id=private.id,
                    organisation_id=organisation.id,
                    title="Visites du jeudi",
                    description="Des visites chaque jeudi aux personnes âgées du 13e.",
                    theme_code="older_people",
                    arrondissement=13,
                    status=InitiativeStatus.approved,
                    submitted_at=WHEN,
                    decided_at=WHEN,
                ),
                Initiative(
                    proposer_id=shared.id,
                    title="Repair café",
                    description="Un atelier de réparation chaque samedi matin.",
                    theme_code="ecology",
                    arrondissement=3,
                    status=InitiativeStatus.pending,
                    submitted_at=WHEN,
                ),
                Initiative(
                    proposer_id=private.id,
                    title="Jardin partagé",
                    description="Un jardin pour le quartier, contact accepté ici.",
                    theme_code="ecology",
                    arrondissement=13,
                    contact_consent=True,
                    status=InitiativeStatus.pending,
                    submitted_at=WHEN,
                ),
                Initiative(
                    proposer_id=shared.id,
                    title="Cours de vélo",
                    description="Apprendre le vélo aux adultes, le dimanche matin.",
                    theme_code="ecology",
                    arrondissement=3,
                    contact_consent=True,
                    status=InitiativeStatus.pending,
                    submitted_at=WHEN,
                ),
            ]
        )
        challenge = Challenge(
            slug="iso1",
            texts={"fr": {"title": "Rompre l'isolement", "description": "…"}},
            theme_code="older_people",
            status=ChallengeStatus.open,
        )
        session.add(challenge)
        await session.flush()
        session.add_all(
            [
                Participation(
                    challenge_id=challenge.id,
                    user_id=shared.id,
                    kind="time",
                    text="Je peux passer le mardi",
                    joined_at=WHEN,
                ),
                Participation(
                    challenge_id=challenge.id,
                    user_id=private.id,
                    organisation_id=organisation.id,
                    kind="premises",
                    joined_at=WHEN,
                    left_at=WHEN,
                ),
                AssistedParticipation(
                    challenge_id=challenge.id,
                    registered_by=private.id,
                    name="Mme Rinaldi",
                    arrondissement=13,
                    created_at=WHEN,
                ),
            ]
        )
        survey = Survey(
            series="isolement",
            texts={"fr": {"title": "Comment allez-vous ?"}},
            status=SurveyStatus.open,
            challenge_id=challenge.id,
        )
        session.add(survey)
        await session.flush()
        question = SurveyQuestion(
            survey_id=survey.id,
            position=1,
            code="mood",
            kind=QuestionKind.scale,
            texts={"fr": {"text": "Votre moral ?"}},
        )
        session.add(question)
        await session.flush()
        for user, value in ((shared, 4.0), (private, 2.0)):
            response = SurveyResponse(
                survey_id=survey.id, user_id=user.id, arrondissement=13, completed_at=WHEN
            )
            session.add(response)
            await session.flush()
            session.add(
                SurveyAnswer(response_id=response.id, question_id=question.id, value_number=value)
            )
        # A draft is not exported.
        session.add(Survey(series="brouillon", texts={"fr": {"title": "Brouillon"}}))


def table(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "a BOM, so that Excel reads UTF-8"
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def no_private_ids(files: dict[str, bytes]) -> None:
    for name, content in files.items():
        for telegram_id in (PRIVATE, NEWCOMER):
            assert str(telegram_id).encode() not in content, name


async def test_the_files_and_what_they_hold(harness: Harness) -> None:
    await populate(harness.sessionmaker)
    async with harness.sessionmaker() as session:
        files = await export_files(session)
    assert list(files) == FILES
    no_private_ids(files)

    people = table(files["people.csv"])
    assert people == [
        {
            "role": "citizen",
            "organisation": "",
            "arrondissement": "3",
            "themes": "",
            "locale": "fr",
            "joined_on": "2026-11-15",
            "contact_shared": "yes",
            "telegram_id": str(SHARED),
        },
        {
            "role": "association",
            "organisation": "Les Petits Frères",
            "arrondissement": "13",
            "themes": "housing,older_people",
            "locale": "ar",
            "joined_on": "2026-11-15",
            "contact_shared": "no",
            "telegram_id": "",
        },
    ]

    needs = table(files["needs.csv"])
    assert [n["reference"] for n in needs] == ["N-1", "N-2"]
    # A formula is written as text; decimals with a comma; no reporter.
    assert needs[0]["text"].startswith("'=HYPERLINK")
    assert (needs[0]["latitude"], needs[0]["longitude"]) == ("43,312", "5,372")
    assert "reporter" not in needs[0]

    initiatives = table(files["initiatives.csv"])
    # Shared only when the answer that applied to the proposal was yes and still is: a «no»
    # for I-2 holds though its author shares their contact now; I-3's author no longer does.
    assert [
        (i["reference"], i["status"], i["contact_shared"], i["telegram_id"]) for i in initiatives
    ] == [
        ("I-1", "approved", "no", ""),
        ("I-2", "pending", "no", ""),
        ("I-3", "pending", "no", ""),
        ("I-4", "pending", "yes", str(SHARED)),
    ]
    assert initiatives[0]["organisation"] == "Les Petits Frères"

    participations = table(files["participations.csv"])
    assert [
        (p["type"], p["role"], p["kind"], p["left_on"], p["telegram_id"]) for p in participations
    ] == [
        ("participant", "citizen", "time", "", str(SHARED)),
        ("participant", "association", "premises", "2026-11-15", ""),
        ("assisted", "", "", "", ""),
    ]
    assert all(p["challenge_code"] == "iso1" for p in participations)
    assert b"Je peux passer" not in files["participations.csv"]
    assert b"Rinaldi" not in files["participations.csv"]

    [survey] = table(files["surveys.csv"])
    assert (survey["invited"], survey["started"], survey["completed"]) == ("0", "2", "2")
    assert survey["answers_file"] == "survey_1_answers.csv"
    answers = table(files["survey_1_answers.csv"])
    assert sorted(a["mood"] for a in answers) == ["2", "4"]
    # Fewer than 5 answers in the 13th: its arrondissement is not given.
    assert {a["arrondissement"] for a in answers} == {""}


def test_the_zip_holds_every_file_and_is_stable() -> None:
    files = {"a.csv": b"\xef\xbb\xbfx;y\r\n", "b.csv": b"\xef\xbb\xbfz\r\n"}
    first = zip_bytes(files, WHEN)
    assert first == zip_bytes(files, WHEN)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == files


async def test_export_sends_a_zip_to_coordinators(harness: Harness) -> None:
    await populate(harness.sessionmaker)
    harness.dp["wall_clock"] = lambda: WHEN
    coordinator = group_person(harness)
    calls = await coordinator.send("/export")
    [document] = [c for c in calls if c.method == "sendDocument"]
    name, content = document.files["document"]
    assert name == "la-collective-2026-11-15.zip"
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == FILES
        files = {n: archive.read(n) for n in archive.namelist()}
    no_private_ids(files)
    assert str(SHARED).encode() in files["people.csv"]

    stranger = group_person(harness, 777)
    calls = await stranger.send("/export")
    assert texts(calls) == [t("fr", "Only the city's coordinators can do this.")]
    assert len(harness.standin.calls_of("sendDocument")) == 1


# -- the CLI, for the data team


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        await upgrade(url)
        engine = create_engine(url)
        await populate(create_sessionmaker(engine))
        await engine.dispose()

    asyncio.run(prepare())
    monkeypatch.chdir(tmp_path)  # no .env of the repository
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_cli_export_writes_the_files(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(FILES)
    assert capsys.readouterr().out.splitlines()[0].endswith("people.csv")
    for name in written:
        content = (tmp_path / "out" / name).read_bytes()
        assert str(PRIVATE).encode() not in content


def test_cli_summary_prints_the_figures(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The summary of the 15th runs from the 14th at 18:00 to the 15th at 18:00.
    assert main(["summary", "--date", "2026-11-15"]) == 0
    out = capsys.readouterr().out
    assert "summary of 2026-11-15" in out
    assert "from 2026-11-14 18:00 to 2026-11-15 18:00 (Europe/Paris)" in out
    assert "people: 2 (before: 0)" in out and "needs: 2 (before: 0)" in out
    assert "proposals_received: 4 (before: 0)" in out
    assert "waiting_proposals" in out
    assert main(["summary", "--date", "2026-11-15", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["current"]["totals"]["joined"] == 2
    assert data["current"]["totals"]["left"] == 1
    assert data["current"]["totals"]["responses"] == 2
    assert data["waiting"]["proposals"] == 3
    assert main(["summary", "--date", "15/11/2026"]) == 2
    assert main(["summary", "--date", "2026-11-16", "--calendar"]) == 0
    assert "people: 0 (before: 2)" in capsys.readouterr().out


async def test_a_no_to_being_contacted_is_what_the_export_says(harness: Harness) -> None:
    """Yes at onboarding: the proposal does not ask again. No from the proposal's summary
    (the same answer, changed): the export says not shared, for the proposal and the person."""
    person = harness.person(5005, language_code="en")
    await person.send("/start")
    for label in ("English", "I have read it, continue", "Citizen", "3", "Culture", "Done"):
        await person.press(label)
    await person.press("Yes, they may")
    await person.press("No, thanks")

    async def propose(title: str, contact: str | None) -> None:
        await person.send("/start")
        await person.press("Propose an initiative")
        await person.press("Sport")
        await person.press("Arrondissement 3")
        await person.send(title)
        await person.send("Football for the children of the neighbourhood, every Wednesday.")
        await person.press("Skip")
        await person.press("Skip")
        if contact is not None:
            await person.press("Contact")
            assert "Now: yes" in person.last
            await person.press(contact)
        await person.press("Send my proposal")

    await propose("Football on Wednesdays", None)
    async with harness.sessionmaker() as session:
        files = await export_files(session)
    [first] = table(files["initiatives.csv"])
    assert (first["contact_shared"], first["telegram_id"]) == ("yes", "5005")

    await propose("Football on Saturdays", "No")
    async with harness.sessionmaker() as session:
        files = await export_files(session)
    shared = [
        (i["reference"], i["contact_shared"], i["telegram_id"])
        for i in table(files["initiatives.csv"])
    ]
    assert shared == [("I-1", "no", ""), ("I-2", "no", "")]
    [row] = table(files["people.csv"])
    assert (row["contact_shared"], row["telegram_id"]) == ("no", "")
