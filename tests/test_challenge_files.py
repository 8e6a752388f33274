"""Files in and out of challenges: challenge files (YAML, JSON) imported as drafts, by function
and by `collective challenges import`; and the QR code poster."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import segno
import yaml
from PIL import Image, ImageFont
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main as collective
from storage import posters
from storage.challenge_files import ChallengeFileError, import_challenges, load_challenge_file
from storage.challenges import CONTRIBUTION_KINDS, challenge_text
from storage.models import Challenge, ChallengeStatus
from tests.challenges_setup import EXAMPLE

TRANSLATION_EXAMPLE = EXAMPLE.parent / "challenge-translation.yaml"

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = "Des visites et des appels pour les personnes âgées isolées du quartier."
LINK = "https://t.me/LaCollectiveBot?start=c_ab23cd45"


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        yield session


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


def one_language(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "theme": "older_people",
        "title": "Appeler nos aînés",
        "description": DESCRIPTION,
        "contribution_kinds": ["time"],
    }
    return item | changes


# -- reading and importing


async def test_the_isolation_challenge_imports_in_three_languages(session: AsyncSession) -> None:
    items = load_challenge_file(EXAMPLE)
    [challenge] = await import_challenges(session, items, author_telegram_id=42)
    assert challenge.status is ChallengeStatus.draft and challenge.author_telegram_id == 42
    assert challenge.theme_code == "older_people" and challenge.arrondissements == []
    assert set(challenge.texts) == {"fr", "en", "ar"}
    assert challenge_text(challenge, "fr")[0] == "Rompre l’isolement des personnes âgées"
    assert challenge_text(challenge, "ar")[0] == "كسر عزلة كبار السن"
    assert challenge.contribution_kinds == [
        "time",
        "skills",
        "premises",
        "equipment",
        "funding",
        "communication",
    ]
    assert set(challenge.contribution_kinds) <= set(CONTRIBUTION_KINDS)
    codes = [activity["code"] for activity in challenge.activities]
    assert codes == ["home_visits", "phone_calls", "outings", "errands", "digital_help"]
    for activity in challenge.activities:
        assert set(activity["texts"]) == {"fr", "en", "ar"}
        assert activity["on_site"] or activity["remote"]
        assert activity["hours_per_month"] > 0
    assert [a["remote"] for a in challenge.activities] == [False, True, False, False, True]


async def test_the_example_reads_in_paragraphs(session: AsyncSession) -> None:
    """Written on short lines in the file, read in Telegram as whole paragraphs."""
    [challenge] = await import_challenges(session, load_challenge_file(EXAMPLE))
    for locale, entry in challenge.texts.items():
        paragraphs = entry["description"].split("\n\n")
        assert len(paragraphs) == 2, locale
        assert all("\n" not in paragraph for paragraph in paragraphs), locale
        assert all(paragraph.endswith(".") for paragraph in paragraphs), locale


def test_a_text_written_on_several_lines_reads_as_paragraphs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lines.yaml",
        """\
theme: older_people
contribution_kinds: [time]
title: |
  Appeler
  nos aînés
description: |
  Un appel par semaine
  suffit à rompre
  la solitude.


  Ce qu’il faut\u202f:
  - un téléphone,
  - une heure par semaine.
activities:
  - code: calls
    label: |
      Appels
      de convivialité
""",
    )
    [item] = load_challenge_file(path)
    assert item["title"] == "Appeler nos aînés"
    assert item["description"] == (
        "Un appel par semaine suffit à rompre la solitude.\n\n"
        "Ce qu’il faut\u202f:\n- un téléphone,\n- une heure par semaine."
    )
    assert item["activities"][0]["label"] == "Appels de convivialité"

    # What YAML folds itself, a quoted line break and JSON's are taken as written.
    folded = write(tmp_path, "folded.yaml", 'description: >\n  a\n  b\n\n  c\ntitle: "d\\ne"\n')
    [item] = load_challenge_file(folded)
    assert (item["description"], item["title"]) == ("a b\nc\n", "d\ne")
    [item] = load_challenge_file(write(tmp_path, "lines.json", one_language(description="a\nb")))
    assert item["description"] == "a\nb"


async def test_json_with_one_language_and_every_shape_of_file(
    session: AsyncSession, tmp_path: Path
) -> None:
    activity = {"code": "calls", "label": "Phone calls", "remote": True, "hours_per_month": 2}
    english = one_language(
        language="en",
        title="Calling our elders",
        arrondissements=[3, 1],
        starts_on="2027-01-04",
        ends_on="2027-06-30",
        activities=[activity],
    )
    listed = write(tmp_path, "list.json", [english])
    wrapped = write(tmp_path, "wrapped.yml", {"challenges": [one_language(title="Deuxième défi")]})
    alone = write(
        tmp_path, "alone.YAML", one_language(title="Troisième défi", contribution_kinds="funding")
    )
    items = [
        *load_challenge_file(listed),
        *load_challenge_file(wrapped),
        *load_challenge_file(alone),
    ]
    first, second, third = await import_challenges(session, items)
    assert first.texts == {"en": {"title": "Calling our elders", "description": DESCRIPTION}}
    assert first.arrondissements == [1, 3]
    assert (str(first.starts_on), str(first.ends_on)) == ("2027-01-04", "2027-06-30")
    assert first.activities == [
        {
            "code": "calls",
            "texts": {"en": "Phone calls"},
            "on_site": False,
            "remote": True,
            "hours_per_month": 2,
        }
    ]
    assert set(second.texts) == {"fr"} and second.activities == []
    assert third.contribution_kinds == ["funding"]


BROKEN = [
    # (what the challenge says, the field named, the reason)
    ({"arrondissement": [1]}, "arrondissement", "unknown"),
    (
        {"texts": {"fr": {"title": "Un titre", "description": DESCRIPTION}}},
        "title",
        "both_texts_and_title",
    ),
    ({"theme": "astrology"}, "theme", "unknown"),
    ({"theme": None}, "theme", "unknown"),
    ({"title": None}, "title", "missing"),
    ({"title": "Abc"}, "title", "too_short"),
    ({"description": 42}, "description", "invalid"),
    ({"starts_on": "15/01/2027"}, "starts_on", "invalid"),
    ({"arrondissements": "le Panier"}, "arrondissements", "invalid"),
    ({"contribution_kinds": ["money"]}, "contribution_kinds", "unknown"),
    (
        {"activities": [{"code": "calls", "label": "x", "remote": True, "hours_per_month": 2}]},
        "activities[0].label",
        "too_short",
    ),
    (
        {"activities": [{"code": "calls", "label": "Appels", "remote": True}]},
        "activities[0].hours_per_month",
        "missing",
    ),
    (
        {"activities": [{"code": "calls", "label": "Appels", "remote": True, "hours": 2}]},
        "activities[0].hours",
        "unknown",
    ),
]


@pytest.mark.parametrize(("changes", "field", "reason"), BROKEN)
async def test_a_bad_challenge_names_its_number_and_field_and_nothing_is_kept(
    engine: AsyncEngine, tmp_path: Path, changes: dict[str, Any], field: str, reason: str
) -> None:
    path = write(
        tmp_path,
        "challenges.yaml",
        [one_language(), one_language(title="Un autre défi") | changes],
    )
    sessionmaker = async_sessionmaker(engine)
    with pytest.raises(ChallengeFileError) as raised:
        async with sessionmaker.begin() as session:
            await import_challenges(session, load_challenge_file(path))
    error = raised.value
    assert (error.item, error.field, error.reason) == (2, field, reason)
    assert str(error).startswith("challenge 2") and f": {field}: " in str(error)
    if "title" not in changes and "texts" not in changes:
        assert str(error).startswith(f"challenge 2 ('Un autre défi'): {field}: ")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Challenge)) == 0


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("c.yaml", "challenges: [\n  {theme: older_people,\n", "not_yaml"),
        ("c.json", '[{"theme": "older_people",}]', "not_json"),
        ("c.txt", "theme: older_people", "unsupported_format"),
        ("c.yaml", "", "no_challenge"),
        ("c.json", "[]", "no_challenge"),
        ("c.yaml", "- theme: older_people\n- just a line\n", "not_a_mapping"),
        ("c.yaml", "challenges: []\nversion: 2\n", "unknown"),
    ],
)
def test_an_unreadable_file_says_why_in_one_line(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    with pytest.raises(ChallengeFileError) as raised:
        load_challenge_file(write(tmp_path, name, content))
    assert raised.value.reason == reason
    assert "\n" not in str(raised.value)
    if reason == "not_yaml":
        assert "line 3" in str(raised.value)
    if reason == "not_a_mapping":
        assert raised.value.item == 2
    with pytest.raises(ChallengeFileError) as raised:
        load_challenge_file(tmp_path / "missing.yaml")
    assert raised.value.reason == "unreadable"


async def test_importing_the_same_challenge_twice_is_refused(session: AsyncSession) -> None:
    await import_challenges(session, load_challenge_file(EXAMPLE))
    with pytest.raises(ChallengeFileError) as raised:
        await import_challenges(session, load_challenge_file(EXAMPLE))
    assert (raised.value.item, raised.value.field, raised.value.reason) == (
        1,
        "texts.fr.title",
        "duplicate",
    )
    twice = [one_language(), one_language(title="APPELER NOS AÎNÉS")]
    with pytest.raises(ChallengeFileError) as raised:
        await import_challenges(session, twice)
    assert (raised.value.item, raised.value.field) == (2, "title")


async def test_a_file_adds_languages_to_a_challenge_named_by_its_slug(
    session: AsyncSession, tmp_path: Path
) -> None:
    [challenge] = await import_challenges(session, [one_language()])
    assert set(challenge.texts) == {"fr"}
    path = write(
        tmp_path,
        "translation.yaml",
        f"""slug: {challenge.slug}
texts:
  en:
    title: Calling our elders
    description: |
      Visits and calls for the isolated older
      people of the neighbourhood.
""",
    )
    [same] = await import_challenges(session, load_challenge_file(path), author_telegram_id=42)
    assert same.id == challenge.id and same.status is ChallengeStatus.draft
    assert same.texts == {
        "fr": {"title": "Appeler nos aînés", "description": DESCRIPTION},
        "en": {
            "title": "Calling our elders",
            "description": "Visits and calls for the isolated older people of the neighbourhood.",
        },
    }
    assert challenge_text(same, "en")[0] == "Calling our elders"
    assert await session.scalar(select(func.count()).select_from(Challenge)) == 1

    # The example: each of its languages added; one given again is replaced, not doubled.
    [example] = load_challenge_file(TRANSLATION_EXAMPLE)
    [same] = await import_challenges(session, [{**example, "slug": challenge.slug}])
    assert set(same.texts) == {"fr", "en", "ar"}
    assert challenge_text(same, "en")[0] == "Fighting the isolation of older people"
    assert challenge_text(same, "ar")[0] == "كسر عزلة كبار السن"
    assert "\n" not in challenge_text(same, "ar")[1].split("\n\n")[0]
    assert challenge_text(same, "fr")[0] == "Appeler nos aînés"

    # Only texts, of a challenge that exists, checked as every challenge's texts.
    wrong: list[tuple[dict[str, Any], tuple[str, str | None]]] = [
        (
            {"slug": "nosuchone", "title": "Calling", "description": DESCRIPTION},
            ("unknown", "slug"),
        ),
        ({"slug": challenge.slug, "theme": "culture"}, ("not_with_slug", "theme")),
        (
            {"slug": challenge.slug, "language": "en", "title": "Hi", "description": DESCRIPTION},
            ("too_short", "title"),
        ),
        (
            {"slug": challenge.slug, "texts": {"en": {"title": "Calling", "summary": "x"}}},
            ("unknown", "texts.en.summary"),
        ),
        (
            {"slug": challenge.slug, "texts": {"en": {"title": "Calling"}}},
            ("missing", "texts.en.description"),
        ),
    ]
    for number, (item, (reason, field)) in enumerate(wrong):
        # After a new challenge in the same file: the error names the second item.
        first = one_language(title=f"Autre défi {number}")
        with pytest.raises(ChallengeFileError) as raised:
            await import_challenges(session, [first, item])
        assert (raised.value.item, raised.value.reason, raised.value.field) == (2, reason, field)


def test_the_cli_imports_a_file_in_one_transaction(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    assert collective(["challenges", "import", str(EXAMPLE)]) == 0
    out, _err = capsys.readouterr()
    [line, database] = out.splitlines()
    assert database == f"Saved in the database {tmp_path / 'cli.db'}."
    number, slug, status, title = line.split("\t")
    assert (number, status, title) == ("1", "draft", "Rompre l’isolement des personnes âgées")
    assert len(slug) == 8

    bad = write(tmp_path, "bad.json", [one_language(title="Un bon défi"), one_language(theme="x")])
    assert collective(["challenges", "import", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"{bad}: challenge 2 ('Appeler nos aînés'): theme: unknown"]

    broken = write(tmp_path, "broken.yaml", "challenges: [")
    assert collective(["challenges", "import", str(broken)]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    # The good challenge of the bad file was not kept.
    assert (
        collective(
            [
                "challenges",
                "import",
                str(write(tmp_path, "ok.json", [one_language(title="Un bon défi")])),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("2\t")


# -- the poster


def _qr_found(image: Image.Image) -> tuple[int, int, int]:
    """(left, top, module size) of the QR code, found from the picture alone: the first row
    with a long run of pure black is the top edge of the top-left finder pattern (7 modules)."""
    pixels = image.convert("RGB").load()
    width, height = image.size
    for y in range(height):
        run = start = 0
        for x in range(width):
            if pixels[x, y] == (0, 0, 0):
                if not run:
                    start = x
                run += 1
            elif run:
                if run >= 70:
                    return start, y, run // 7
                run = 0
    raise AssertionError("no QR code in the picture")


@pytest.mark.parametrize(
    "title",
    [
        "Rompre l'isolement des personnes âgées",
        "Un défi au titre très long " * 8,  # wrapped, then cut
        "Anticonstitutionnellementdéraisonnablementinterminable",
    ],
)
def test_the_poster_is_an_a4_png_whose_qr_code_is_the_link(title: str) -> None:
    data = posters.challenge_poster(title, LINK)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.01
    left, top, module = _qr_found(image)
    expected = segno.make(LINK, error="q", micro=False, boost_error=False)
    matrix = [list(row) for row in expected.matrix]
    size = len(matrix)
    # Big: at least 8 px a module and half the page's width.
    assert module >= 8 and size * module >= width / 2
    pixels = image.convert("L").load()
    drawn = [
        [
            int(pixels[left + c * module + module // 2, top + r * module + module // 2] < 128)
            for c in range(size)
        ]
        for r in range(size)
    ]
    assert drawn == matrix
    # The quiet zone (4 modules) is white all around.
    for r in range(-4, size + 4):
        for c in range(-4, size + 4):
            if 0 <= r < size and 0 <= c < size:
                continue
            assert pixels[left + c * module + module // 2, top + r * module + module // 2] > 200


def test_titles_wrap_within_the_page_and_letters_the_font_lacks_lose_their_accent() -> None:
    font, lines = posters._title_lines("Un défi au titre très long " * 8, 1000)
    assert 1 < len(lines) <= posters.TITLE_MAX_LINES and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 1000 for line in lines)
    # Pillow's own font has no "â" nor "é": with a font that lacks them, the title stays readable.
    bundled = ImageFont.load_default(size=60)
    assert posters.drawable("Rompre l'isolement des personnes âgées œ", bundled) == (
        "Rompre l'isolement des personnes agees oe"
    )
    assert posters.challenge_poster("Personnes âgées", LINK).startswith(b"\x89PNG")
