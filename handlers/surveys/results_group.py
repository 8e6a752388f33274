"""A survey's results in the coordinators' group: the figures, the chart, the exports, and how
the figures moved between the waves of a series. Identities never appear. The figures are those
that may be published (`storage.survey_results` hides whatever would single out fewer than 5
people); the coordinators also read every free-text answer, and the CSV holds the raw ones."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot, F, html
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_percent, get_decimal_symbol
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.flow import Flow
from handlers.surveys import sending
from handlers.surveys.chart_words import chart_words
from handlers.surveys.coordination import answered_line
from handlers.surveys.coordination_callbacks import ManageAction, ManageCb
from handlers.surveys.manage import PRESSED_SURVEY, tell
from handlers.surveys.results_text import number, results_message
from storage.models import QuestionKind, Survey, SurveyQuestion, SurveyStatus
from storage.outbox import cut_caption
from storage.survey_charts import summary_chart, waves_chart
from storage.survey_export import answers_csv, results_json
from storage.survey_results import (
    SurveyResults,
    compare_waves,
    key_figure,
    survey_results,
)
from storage.survey_sending import Counts
from storage.surveys import question_text, questions_of

router = Flow("survey-results", current=[PRESSED_SURVEY])

# Charts of key figures sent at most, within the group's 20 messages a minute.
WAVE_CHARTS = 4
# Free-text answers listed per question, for the same reason: all of them are in the CSV.
GROUP_TEXTS = 30
COMPARED = (QuestionKind.scale, QuestionKind.number, QuestionKind.yes_no)


def _sent(query: CallbackQuery, callback_answer: CallbackAnswer, survey: Survey) -> bool:
    """The survey has been sent (a draft has no answers)."""
    if query.message is None:
        return False
    if survey.status is SurveyStatus.draft:
        callback_answer.text = _("This survey has not been sent yet: there are no answers.")
        callback_answer.show_alert = True
        return False
    return True


@router.callback_query(ManageCb.filter(F.action == ManageAction.results))
async def results_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """The response rate, each question's figures and free-text answers, then the chart."""
    if not _sent(query, callback_answer, survey) or query.message is None:
        return
    results = await survey_results(session, survey.id, coordinators=True)
    questions = await questions_of(session, survey.id)
    locale = settings.group_locale
    await tell(query, results_message(results, survey, locale, questions, max_texts=GROUP_TEXTS))
    if sending.has_chart(results):
        await bot.send_photo(
            query.message.chat.id,
            BufferedInputFile(
                summary_chart(results, chart_words(results, questions, locale)),
                filename=f"survey-{survey.id}.png",
            ),
            caption=cut_caption(sending.chart_caption())[0],
        )


@router.callback_query(ManageCb.filter(F.action == ManageAction.csv))
async def csv_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """The raw answers, one row per complete response, for French Excel."""
    if not _sent(query, callback_answer, survey) or query.message is None:
        return
    data = await answers_csv(session, survey.id)
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(data, filename=f"survey-{survey.id}.csv"),
        caption=_(
            "Raw answers of “{title}”: one row per complete response, one column per question "
            "code, no identity."
        ).format(title=sending.title_of(survey, settings.group_locale)),
    )


@router.callback_query(ManageCb.filter(F.action == ManageAction.json))
async def json_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """The aggregates as computed for publication (small groups suppressed)."""
    if not _sent(query, callback_answer, survey) or query.message is None:
        return
    data = results_json(await survey_results(session, survey.id, coordinators=True))
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(data, filename=f"survey-{survey.id}.json"),
        caption=_("Aggregates of “{title}”, groups of fewer than 5 people suppressed.").format(
            title=sending.title_of(survey, settings.group_locale)
        ),
    )


# -- waves


def figure(value: float | None, kind: str, locale: str) -> str:
    if value is None:
        return "—"
    if kind == QuestionKind.yes_no:
        return format_percent(value / 100, locale=locale)
    return number(value, locale)


def measure_line(
    code: str, kind: str, waves: Sequence[tuple[Survey, SurveyResults]], locale: str
) -> str:
    values = " · ".join(
        _("wave {wave}: {value}").format(
            wave=survey.wave, value=figure(_figure_of(results, code), kind, locale)
        )
        for survey, results in waves
    )
    if kind == QuestionKind.scale:
        return _("Mean per wave: {values}").format(values=values)
    if kind == QuestionKind.number:
        return _("Total per wave: {values}").format(values=values)
    return _("Share of yes per wave: {values}").format(values=values)


def _figure_of(results: SurveyResults, code: str) -> float | None:
    result = results.question(code)
    return key_figure(result) if result is not None else None


def heading(question: SurveyQuestion, locale: str) -> str:
    text = html.quote(question_text(question, locale)["text"])
    return f"<b>{question.position}. {text}</b>"


def waves_text(
    series: str,
    waves: Sequence[tuple[Survey, SurveyResults]],
    questions: Sequence[SurveyQuestion],
    locale: str,
) -> str:
    """Each wave's participation, then the mean, total or share of yes of each question
    (of the latest wave, matched by code) per wave."""
    lines = [_("<b>Waves of “{series}”</b>").format(series=html.quote(series))]
    for survey, results in waves:
        counts = Counts(results.invited or 0, results.started or 0, results.completed)
        lines.append(
            _("Wave {wave} (#{id}): {figures}").format(
                wave=survey.wave, id=survey.id, figures=answered_line(counts)
            )
        )
    for question in questions:
        if question.kind not in COMPARED:
            continue
        lines += ["", heading(question, locale)]
        lines.append(measure_line(question.code, question.kind, waves, locale))
    lines += [
        "",
        _(
            "“—”: not asked in that wave, or not shown so that no group of fewer than 5 people "
            "stands out."
        ),
    ]
    return "\n".join(lines)


@router.callback_query(ManageCb.filter(F.action == ManageAction.waves))
async def waves_pressed(
    query: CallbackQuery,
    survey: Survey,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """The series' waves side by side, and a chart per key figure."""
    if query.message is None:
        return
    waves = await compare_waves(session, survey.series)
    if len(waves) < 2:
        callback_answer.text = _("Only one wave of this series has been sent: nothing to compare.")
        callback_answer.show_alert = True
        return
    locale = settings.group_locale
    latest = waves[-1][0]
    questions = await questions_of(session, latest.id)
    await tell(query, waves_text(survey.series, waves, questions, locale))
    key = [q for q in questions if q.key_figure and q.kind in COMPARED][:WAVE_CHARTS]
    for question in key:
        points = [(wave.wave, _figure_of(results, question.code)) for wave, results in waves]
        png = waves_chart(
            points,
            decimal_mark=get_decimal_symbol(locale),
            title=f"{question.position}. {question_text(question, locale)['text']}",
            # TRANSLATORS: under a chart's wave numbers (1, 2, 3…): the survey's waves.
            axis=_("wave"),
        )
        caption = "\n".join(
            [heading(question, locale), measure_line(question.code, question.kind, waves, locale)]
        )
        await bot.send_photo(
            query.message.chat.id,
            BufferedInputFile(png, filename=f"waves-{latest.id}-{question.code}.png"),
            caption=cut_caption(caption)[0],
        )
