"""A survey's results as text, in the current locale: for respondents in their chat and for the
coordinators in their group. What may be shown is decided by `storage.survey_results`; this
only says so in words."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

from bot.i18n import ngettext
from handlers.profile.labels import arrondissement_label, role_label
from storage.models import QuestionKind, Role, Survey, SurveyQuestion
from storage.survey_results import SMALL, QuestionResult, SurveyResults
from storage.surveys import (
    MIN_GROUP,
    NO,
    SCALE,
    YES,
    option_label,
    question_roles,
    question_text,
    survey_text,
)

# A number question's distribution is listed when it has this many cells at most; beyond, its
# total, mean and median say more than a long list.
NUMBER_CELLS_LISTED = 10


def number(value: float, locale: str) -> str:
    return format_decimal(value, format="#,##0.#", locale=locale)


def roles_text(roles: Sequence[Role], locale: str) -> str:
    """ "Citizen and Association", in the locale's way of joining a list."""
    return format_list([role_label(role) for role in roles], locale=locale)


def roles_line(question: SurveyQuestion, locale: str) -> str | None:
    """Said of a question asked only to some roles."""
    roles = question_roles(question)
    if not roles:
        return None
    return _("Asked only to: {roles}.").format(roles=roles_text(roles, locale))


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
                _(
                    "Not shown separately, so that no group of fewer than {count} people can "
                    "be singled out: these answers count in the figures for the whole city."
                ).format(count=MIN_GROUP)
            )
            return "\n".join(lines)
    elif results.suppressed:
        lines.append(
            _(
                "Too few people answered to show any figure: published figures never show a "
                "group of fewer than {count} people."
            ).format(count=MIN_GROUP)
        )
        return "\n".join(lines)
    lines.append(_participation(results, locale))
    hidden: list[int] = []
    for result in results.questions:
        question = by_id.get(result.question_id)
        if question is None:
            continue
        question_lines, figures_hidden = _question_lines(result, question, locale, max_texts)
        lines += ["", *question_lines]
        if figures_hidden:
            hidden.append(result.position)
    if hidden:
        lines += ["", f"<i>{_hidden_note(hidden, len(results.questions), locale)}</i>"]
    return "\n".join(lines)


def _hidden_note(hidden: Sequence[int], questions: int, locale: str) -> str:
    """Why some questions have no figures: said once, under them all."""
    if len(hidden) == questions:
        return _(
            "The figures of every question are hidden, so that no group of fewer than "
            "{count} people can be singled out."
        ).format(count=MIN_GROUP)
    return ngettext(
        "The figures of question {numbers} are not shown, so that no group of fewer than "
        "{count} people can be singled out.",
        "The figures of questions {numbers} are not shown, so that no group of fewer than "
        "{count} people can be singled out.",
        len(hidden),
    ).format(
        numbers=format_list([str(number) for number in hidden], locale=locale), count=MIN_GROUP
    )


def _participation(results: SurveyResults, locale: str) -> str:
    completed = number(results.completed, locale)
    if results.response_rate is None or results.invited is None:
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


def _counted(result: QuestionResult, locale: str) -> list[str]:
    counted = []
    if result.answered is not None:
        counted.append(
            ngettext("{count} answer", "{count} answers", result.answered).format(
                count=number(result.answered, locale)
            )
        )
    if result.skipped:
        counted.append(
            ngettext("{count} skipped", "{count} skipped", result.skipped).format(
                count=number(result.skipped, locale)
            )
        )
    return [f"<i>{' · '.join(counted)}</i>"] if counted else []


def _question_lines(
    result: QuestionResult, question: SurveyQuestion, locale: str, max_texts: int | None
) -> tuple[list[str], bool]:
    """The question's lines, and whether its figures are hidden (said once for all questions,
    `_hidden_note`)."""
    texts = question_text(question, locale)
    kind = QuestionKind(question.kind)
    lines = [f"<b>{result.position}. {html.quote(texts['text'])}</b>"]
    for_roles = roles_line(question, locale)
    if for_roles:
        lines.append(f"<i>{for_roles}</i>")
    lines += _counted(result, locale)
    if result.asked == 0 or result.answered == 0:
        return lines, False
    if kind is QuestionKind.text:
        if result.texts:  # the coordinators' (every text), or a published question's
            return [*lines, *_text_lines(result.texts, locale, max_texts)], False
        if result.published:
            return [*lines, _("The written answers are read by the coordinators only.")], False
        return lines, True
    if not result.published:
        return lines, True
    # Shares of the people counted: a multiple choice's cells overlap, so of those who
    # answered (or were asked, when skips are hidden); other cells add up to their base.
    if kind is QuestionKind.multiple:
        base = result.answered if result.answered is not None else result.asked or 0
    else:
        base = sum(result.distribution.values())
    if kind is not QuestionKind.number or len(result.distribution) <= NUMBER_CELLS_LISTED:
        if kind is QuestionKind.multiple:
            lines.append(_("Several answers were possible."))
        for key, count in result.distribution.items():
            share = format_percent(count / base if base else 0, locale=locale)
            label = _cell_label(key, kind, question, texts, locale, result.skipped is None)
            # TRANSLATORS: one answer's figures, e.g. "Yes: 12 (40 %)".
            lines.append(
                _("• {label}: {count} ({share})").format(
                    label=label, count=number(count, locale), share=share
                )
            )
    unit = html.quote(texts["unit"])
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
    return lines, False


def _text_lines(texts: Sequence[str], locale: str, max_texts: int | None) -> list[str]:
    shown = texts if max_texts is None else texts[:max_texts]
    lines = [f"• {html.quote(text)}" for text in shown]
    if len(shown) < len(texts):
        more = len(texts) - len(shown)
        lines.append(
            ngettext("… and {count} more answer.", "… and {count} more answers.", more).format(
                count=number(more, locale)
            )
        )
    return lines


def _cell_label(
    key: str,
    kind: QuestionKind,
    question: SurveyQuestion,
    texts: dict[str, str],
    locale: str,
    with_skips: bool,
) -> str:
    if key == SMALL:
        if with_skips:
            return _("other answers and skips, put together so that no small group stands out")
        return _("other answers, put together so that no small group stands out")
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
