"""A survey's results as text, in the current locale: for respondents in their chat and for the
coordinators in their group. Small groups are already suppressed by `storage.survey_results`;
this only says so in words ("fewer than 5")."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal, format_percent

from bot.i18n import ngettext
from handlers.profile.labels import arrondissement_label
from storage.models import QuestionKind, Survey, SurveyQuestion
from storage.survey_results import SMALL, QuestionResult, SurveyResults
from storage.surveys import MIN_GROUP, NO, SCALE, YES, option_label, question_text, survey_text

# A number question's distribution is listed when it has this many cells at most; beyond, its
# total, mean and median say more than a long list.
NUMBER_CELLS_LISTED = 10


def number(value: float, locale: str) -> str:
    return format_decimal(value, format="#,##0.#", locale=locale)


def results_message(
    results: SurveyResults,
    survey: Survey,
    locale: str,
    questions: Sequence[SurveyQuestion],
    *,
    heading: bool = True,
    yours: bool = False,
    max_texts: int | None = None,
) -> str:
    """The whole survey's results (`results.arrondissement` None), or one arrondissement's:
    the response rate, then per question its figures. `heading`: start with the survey's
    title; `yours`: the arrondissement is the reader's own; `max_texts`: list at most that
    many free-text answers per question. Long results exceed one message: the caller splits
    them (`storage.outbox.split_text`)."""
    by_id = {question.id: question for question in questions}
    lines: list[str] = []
    if heading:
        title = survey_text(survey, locale)["title"]
        lines += [_("📊 <b>Results: {title}</b>").format(title=html.quote(title)), ""]
    if results.arrondissement is not None:
        place = arrondissement_label(results.arrondissement)
        if yours:
            lines.append(_("<b>In your arrondissement ({place})</b>").format(place=place))
        else:
            lines.append(_("<b>In {place}</b>").format(place=place))
        if results.suppressed:
            lines.append(
                ngettext(
                    "Not enough answers here to show them: published figures never show a "
                    "group of fewer than {count} person.",
                    "Not enough answers here to show them: published figures never show a "
                    "group of fewer than {count} people.",
                    MIN_GROUP,
                ).format(count=MIN_GROUP)
            )
            return "\n".join(lines)
    lines.append(_participation(results, locale))
    for result in results.questions:
        question = by_id.get(result.question_id)
        if question is None:
            continue
        lines += ["", *_question_lines(result, question, locale, max_texts)]
    return "\n".join(lines)


def _participation(results: SurveyResults, locale: str) -> str:
    completed = number(results.completed, locale)
    if results.response_rate is None or results.arrondissement is not None:
        return ngettext(
            "{count} person answered the whole survey.",
            "{count} people answered the whole survey.",
            results.completed,
        ).format(count=completed)
    return ngettext(
        "{count} of the {invited} person invited answered the whole survey ({rate}).",
        "{count} of the {invited} people invited answered the whole survey ({rate}).",
        results.invited,
    ).format(
        count=completed,
        invited=number(results.invited, locale),
        rate=format_percent(results.response_rate, locale=locale),
    )


def _question_lines(
    result: QuestionResult, question: SurveyQuestion, locale: str, max_texts: int | None
) -> list[str]:
    texts = question_text(question, locale)
    kind = QuestionKind(question.kind)
    lines = [f"<b>{result.position}. {html.quote(texts['text'])}</b>"]
    counted = ngettext("{count} answer", "{count} answers", result.answered).format(
        count=number(result.answered, locale)
    )
    if result.skipped:
        counted += " · " + ngettext("{count} skipped", "{count} skipped", result.skipped).format(
            count=number(result.skipped, locale)
        )
    lines.append(f"<i>{counted}</i>")
    if result.answered == 0:
        return lines
    if not result.published:
        lines.append(
            ngettext(
                "Fewer than {count} answer: not shown.",
                "Fewer than {count} answers: not shown.",
                MIN_GROUP,
            ).format(count=MIN_GROUP)
        )
        return lines
    if kind is QuestionKind.text:
        shown = result.texts if max_texts is None else result.texts[:max_texts]
        lines += [f"• {html.quote(text)}" for text in shown]
        if len(shown) < len(result.texts):
            more = len(result.texts) - len(shown)
            lines.append(
                ngettext("… and {count} more answer.", "… and {count} more answers.", more).format(
                    count=number(more, locale)
                )
            )
        return lines
    unit = html.quote(texts["unit"])
    if kind is not QuestionKind.number or len(result.distribution) <= NUMBER_CELLS_LISTED:
        if kind is QuestionKind.multiple:
            lines.append(_("Several answers were possible."))
        for key, count in result.distribution.items():
            share = format_percent(count / result.answered, locale=locale)
            label = _cell_label(key, kind, question, texts, locale)
            # TRANSLATORS: one answer's figures, e.g. "Yes: 12 (40 %)".
            lines.append(
                _("• {label}: {count} ({share})").format(
                    label=label, count=number(count, locale), share=share
                )
            )
    figures = []
    if result.total is not None:
        total = number(result.total, locale)
        figures.append(_("total: {value}").format(value=f"{total} {unit}".strip()))
    if result.mean is not None:
        figures.append(_("mean: {value}").format(value=number(result.mean, locale)))
    if result.median is not None:
        figures.append(_("median: {value}").format(value=number(result.median, locale)))
    if figures:
        lines.append(" · ".join(figures))
    return lines


def _cell_label(
    key: str, kind: QuestionKind, question: SurveyQuestion, texts: dict[str, str], locale: str
) -> str:
    if key == SMALL:
        return ngettext(
            "other answers, fewer than {count} each",
            "other answers, fewer than {count} each",
            MIN_GROUP,
        ).format(count=MIN_GROUP)
    if kind is QuestionKind.yes_no:
        return {YES: _("Yes"), NO: _("No")}.get(key, html.quote(key))
    if kind in (QuestionKind.single, QuestionKind.multiple):
        return html.quote(option_label(question, key, locale))
    if kind is QuestionKind.scale:
        ends = {str(SCALE[0]): texts["low"], str(SCALE[1]): texts["high"]}
        end = ends.get(key)
        return f"{key} ({html.quote(end)})" if end else key
    value = key
    try:
        value = number(float(key), locale)
    except ValueError:
        pass
    unit = texts["unit"]
    return html.quote(f"{value} {unit}".strip())
