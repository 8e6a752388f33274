"""A survey chart's words in the reader's language: each question's text and its options'
labels, for `storage.survey_charts.summary_chart`."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.utils.i18n import gettext as _

from storage.models import QuestionKind, SurveyQuestion
from storage.survey_charts import SurveyChartWords
from storage.survey_results import SurveyResults
from storage.surveys import NO, YES, option_label, question_text


def chart_words(
    results: SurveyResults, questions: Sequence[SurveyQuestion], locale: str
) -> SurveyChartWords:
    """The words of `results`' chart in `locale` (the catalogs' current language for yes/no)."""
    by_id = {question.id: question for question in questions}
    texts: dict[int, str] = {}
    keys: dict[int, dict[str, str]] = {}
    for result in results.questions:
        question = by_id.get(result.question_id)
        if question is None:
            continue
        texts[result.position] = question_text(question, locale)["text"]
        if result.kind == QuestionKind.yes_no:
            keys[result.position] = {YES: _("Yes"), NO: _("No")}
        elif result.kind in (QuestionKind.single, QuestionKind.multiple):
            keys[result.position] = {
                code: option_label(question, code, locale) for code in result.options
            }
    return SurveyChartWords(questions=texts, keys=keys)
