"""A survey's chart in the reader's language: each panel writes its question and names its
options (yes and no from the catalogs), from the right in Arabic; without words it is the
numbered chart the caption explains."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageChops

from bot.i18n import create_i18n
from handlers.surveys.chart_words import chart_words
from storage.models import QuestionKind, SurveyQuestion
from storage.survey_charts import (
    PANEL_SIZE,
    WAVES_SIZE,
    WORDED_PANEL_SIZE,
    SurveyChartWords,
    summary_chart,
    waves_chart,
    worded_labels,
)
from storage.survey_results import SMALL, QuestionResult, SurveyResults

I18N = create_i18n()


def question(
    number: int, kind: QuestionKind, text: dict[str, str], **extra: Any
) -> SurveyQuestion:
    return SurveyQuestion(
        id=number,
        survey_id=1,
        position=number,
        code=f"q{number}",
        kind=kind,
        texts={locale: {"text": value} for locale, value in text.items()},
        **extra,
    )


QUESTIONS = [
    question(1, QuestionKind.scale, {"fr": "Êtes-vous satisfait·e ?", "ar": "هل أنتم راضون؟"}),
    question(2, QuestionKind.yes_no, {"fr": "Reviendrez-vous ?", "ar": "هل ستعودون؟"}),
    question(
        3,
        QuestionKind.single,
        {"fr": "Qui vous a accompagné·e ?", "ar": "من رافقكم؟"},
        options=[
            {"code": "club", "texts": {"fr": "Le club", "ar": "النادي"}},
            {"code": "city", "texts": {"fr": "La mairie", "ar": "البلدية"}},
        ],
    ),
]


def result(
    number: int, kind: QuestionKind, distribution: dict[str, int], **extra: Any
) -> QuestionResult:
    fields: dict[str, Any] = {
        "question_id": number,
        "code": f"q{number}",
        "kind": kind.value,
        "answered": sum(distribution.values()),
        "skipped": 0,
        "distribution": distribution,
        "mean": None,
        "median": None,
        "total": None,
        "texts": [],
        "position": number,
        "options": [],
    }
    return QuestionResult(**{**fields, **extra})


RESULTS = SurveyResults(
    1,
    60,
    55,
    50,
    50 / 60,
    [
        result(1, QuestionKind.scale, {"1": 5, "2": 10, "3": 20}),
        result(2, QuestionKind.yes_no, {"yes": 33, "no": 17}),
        result(
            3, QuestionKind.single, {"club": 8, "city": 25, SMALL: 6}, options=["club", "city"]
        ),
    ],
    None,
)


def words(locale: str) -> SurveyChartWords:
    with I18N.context(), I18N.use_locale(locale):
        return chart_words(RESULTS, QUESTIONS, locale)


def picture(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_the_words_come_from_the_survey_and_the_catalogs() -> None:
    french, arabic = words("fr"), words("ar")
    assert french.questions == {
        1: "Êtes-vous satisfait·e ?",
        2: "Reviendrez-vous ?",
        3: "Qui vous a accompagné·e ?",
    }
    assert french.keys[2] == {"yes": "Oui", "no": "Non"}
    assert arabic.keys[3] == {"club": "النادي", "city": "البلدية"}
    assert arabic.rtl and not french.rtl
    # Scales keep their values; the bucket stays "<5".
    assert worded_labels(RESULTS.questions[0], french) == ["1", "2", "3"]
    assert worded_labels(RESULTS.questions[2], french) == ["Le club", "La mairie", SMALL]


def test_the_chart_is_written_in_the_readers_language() -> None:
    plain = picture(summary_chart(RESULTS))
    assert plain.size == (3 * PANEL_SIZE[0], PANEL_SIZE[1])
    french = picture(summary_chart(RESULTS, words("fr")))
    arabic = picture(summary_chart(RESULTS, words("ar")))
    assert french.size == arabic.size == (3 * WORDED_PANEL_SIZE[0], WORDED_PANEL_SIZE[1])
    assert ImageChops.difference(french, arabic).getbbox() is not None
    assert summary_chart(RESULTS, words("fr")) == summary_chart(RESULTS, words("fr"))


def test_an_arabic_chart_starts_from_the_right() -> None:
    # The first question's panel is on the left in French, on the right in Arabic.
    width = WORDED_PANEL_SIZE[0]
    french = picture(summary_chart(RESULTS, words("fr")))
    arabic = picture(summary_chart(RESULTS, words("ar")))
    french_first = french.crop((0, 0, width, WORDED_PANEL_SIZE[1]))
    arabic_first = arabic.crop((2 * width, 0, 3 * width, WORDED_PANEL_SIZE[1]))

    # The scale's three bars, in the same place mirrored: 5, 10, 20 read from the right.
    def bar_tops(panel: Image.Image) -> list[int]:
        row = panel.height - 70
        pixels = panel.load()
        xs = [x for x in range(panel.width) if pixels[x, row] == (0, 114, 178)]
        runs: list[list[int]] = []
        for x in xs:
            if runs and x == runs[-1][-1] + 1:
                runs[-1].append(x)
            else:
                runs.append([x])
        tops = []
        for run in runs:
            x = run[len(run) // 2]
            y = row
            while y > 0 and pixels[x, y - 1] == (0, 114, 178):
                y -= 1
            tops.append(y)
        return tops

    french_tops, arabic_tops = bar_tops(french_first), bar_tops(arabic_first)
    assert len(french_tops) == 3 and french_tops == sorted(french_tops, reverse=True)
    assert arabic_tops == french_tops[::-1]


def test_a_waves_chart_writes_its_question_and_what_its_numbers_are() -> None:
    points = [(1, 3.4), (2, None), (3, 2.1)]
    plain = picture(waves_chart(points))
    french = picture(waves_chart(points, title="1. Êtes-vous satisfait·e ?", axis="vague"))
    arabic = picture(waves_chart(points, title="1. هل أنتم راضون؟", axis="الموجة"))
    assert plain.size == french.size == arabic.size == WAVES_SIZE
    title_band = (0, 0, WAVES_SIZE[0], 40)
    french_title = ImageChops.difference(
        french.crop(title_band), Image.new("RGB", (WAVES_SIZE[0], 40), "white")
    ).getbbox()
    arabic_title = ImageChops.difference(
        arabic.crop(title_band), Image.new("RGB", (WAVES_SIZE[0], 40), "white")
    ).getbbox()
    assert french_title is not None and arabic_title is not None
    assert french_title[0] < 30 and arabic_title[2] > WAVES_SIZE[0] - 30
    assert plain.crop(title_band).getextrema() == ((255, 255), (255, 255), (255, 255))
    # The axis' name under the wave numbers.
    bottom = (0, WAVES_SIZE[1] - 28, WAVES_SIZE[0], WAVES_SIZE[1])
    assert ImageChops.difference(french.crop(bottom), arabic.crop(bottom)).getbbox() is not None
