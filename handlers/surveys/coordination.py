"""What coordinators read about surveys, in the group's language: the list, a survey's card,
its preview as respondents will see it. The actions live in `manage.py` (sending, scheduling,
closing) and `results_group.py` (results, exports, waves)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.lists import format_list

from bot.config import Settings
from bot.i18n import format_when, ngettext
from handlers.bidi import isolate_here, isolated
from handlers.initiatives.cards import shorten
from handlers.profile.labels import theme_label
from handlers.surveys.invitation import invitation_text, thanks_text
from handlers.surveys.results_text import number, roles_line, roles_text
from handlers.texts import join_list
from storage.challenges import challenge_text
from storage.models import Challenge, QuestionKind, Survey, SurveyQuestion, SurveyStatus
from storage.survey_sending import Counts
from storage.surveys import (
    NO,
    TEXT_ANSWER_LIMITS,
    YES,
    option_label,
    question_text,
    survey_roles,
    survey_text,
)


def title_line(survey: Survey, locale: str) -> str:
    return f"<b>#{survey.id} {html.quote(survey_text(survey, locale)['title'])}</b>"


def series_line(survey: Survey) -> str:
    return _("series “{series}”, wave {wave}").format(
        series=isolate_here(html.quote(survey.series)), wave=survey.wave
    )


def status_icon(survey: Survey) -> str:
    if survey.status is SurveyStatus.draft:
        return "⏰" if survey.send_at else "📝"
    return "🟢" if survey.status is SurveyStatus.open else "🔒"


def status_line(survey: Survey, settings: Settings) -> str:
    locale, zone = settings.group_locale, settings.timezone
    if survey.status is SurveyStatus.open and survey.opened_at:
        return _("Status: open since {when}").format(
            when=format_when(survey.opened_at, locale, zone)
        )
    if survey.status is SurveyStatus.closed and survey.closed_at:
        return _("Status: closed on {when}").format(
            when=format_when(survey.closed_at, locale, zone)
        )
    if survey.send_at:
        return _("Status: draft, to be sent on {when}").format(
            when=format_when(survey.send_at, locale, zone)
        )
    return _("Status: draft, not sent yet")


def answered_line(counts: Counts) -> str:
    return ngettext(
        "{completed} completed, {started} started, of {invited} person invited",
        "{completed} completed, {started} started, of {invited} people invited",
        counts.invited,
    ).format(completed=counts.completed, started=counts.started, invited=counts.invited)


def audience_line(survey: Survey, challenge: Challenge | None, locale: str) -> str:
    """Who the survey goes to: a challenge's participants or a theme audience, of the roles
    it names (the invitations, and so the response rate, count these people only)."""
    roles = survey_roles(survey)
    if challenge is not None:
        title = html.quote(challenge_text(challenge, locale)[0])
        line = _("For: the participants of the challenge “{title}”").format(
            **isolated(locale, title=title)
        )
        return f"{line} · {roles_text(roles, locale)}" if roles else line
    themes = [theme_label(code, locale) for code in (survey.audience or {}).get("themes") or []]
    if not roles and not themes:
        return _("For: everyone")
    parts = []
    if roles:
        parts.append(roles_text(roles, locale))
    if themes:
        themes_listed = format_list(themes, locale=locale)
        parts.append(_("following {themes}").format(themes=themes_listed))
    return _("For: {who}").format(who=" · ".join(parts))


def list_text(
    surveys: Sequence[Survey],
    counts: dict[int, Counts],
    challenges: dict[int, Challenge],
    locale: str,
    page: int,
    pages: int,
    total: int,
) -> str:
    lines = [
        ngettext("<b>{count} survey</b>", "<b>{count} surveys</b>", total).format(count=total),
        _("📝 draft · ⏰ scheduled · 🟢 open · 🔒 closed"),
        "",
    ]
    for survey in surveys:
        details = [series_line(survey)]
        challenge = challenges.get(survey.challenge_id or 0)
        if challenge is not None:
            title = html.quote(shorten(challenge_text(challenge, locale)[0], 60))
            details.append(_("challenge “{title}”").format(**isolated(locale, title=title)))
        details.append(answered_line(counts.get(survey.id, Counts())))
        lines.append(
            f"{status_icon(survey)} {title_line(survey, locale)}\n    " + " · ".join(details)
        )
    if pages > 1:
        lines += ["", _("Page {page} of {pages}").format(page=page + 1, pages=pages)]
    return "\n".join(lines)


def card_text(
    survey: Survey,
    challenge: Challenge | None,
    questions: int,
    counts: Counts,
    settings: Settings,
) -> str:
    """The card coordinators manage a survey from."""
    locale = settings.group_locale
    if survey.reminder_after_hours:
        reminder = ngettext(
            "Reminder: {hours} hour after the invitation, to those who have not finished",
            "Reminder: {hours} hours after the invitation, to those who have not finished",
            survey.reminder_after_hours,
        ).format(hours=survey.reminder_after_hours)
    else:
        reminder = _("Reminder: none")
    return "\n".join(
        [
            title_line(survey, locale),
            series_line(survey),
            status_line(survey, settings),
            audience_line(survey, challenge, locale),
            ngettext("{count} question", "{count} questions", questions).format(count=questions)
            + " · "
            + _("languages: {languages}").format(
                languages=join_list(sorted(survey.texts), locale, "unit")
            ),
            reminder,
            _("Answers: {figures}").format(figures=answered_line(counts)),
        ]
    )


# -- the preview


def answer_line(question: SurveyQuestion, locale: str) -> list[str]:
    """How the question is answered, as respondents are offered it."""
    texts = question_text(question, locale)
    kind = QuestionKind(question.kind)
    if kind is QuestionKind.scale:
        return [
            _("Scale from 1 ({low}) to 5 ({high})").format(
                low=html.quote(texts["low"]), high=html.quote(texts["high"])
            )
        ]
    if kind is QuestionKind.yes_no:
        return [_("Yes or no")]
    if kind in (QuestionKind.single, QuestionKind.multiple):
        head = _("One answer among:") if kind is QuestionKind.single else _("Any answers among:")
        options = [
            f"   {index}. {html.quote(option_label(question, str(option['code']), locale))}"
            for index, option in enumerate(question.options, 1)
        ]
        return [head, *options]
    if kind is QuestionKind.number:
        parts = [_("A number")]
        if question.min_value is not None:
            parts.append(_("at least {value}").format(value=number(question.min_value, locale)))
        if question.max_value is not None:
            parts.append(_("at most {value}").format(value=number(question.max_value, locale)))
        if texts["unit"]:
            parts.append(_("in {unit}").format(unit=html.quote(texts["unit"])))
        return [" · ".join(parts)]
    limit = TEXT_ANSWER_LIMITS[1]
    return [
        ngettext(
            "Free text, up to {limit} character",
            "Free text, up to {limit} characters",
            limit,
        ).format(limit=limit)
    ]


def condition_line(
    question: SurveyQuestion, questions: Sequence[SurveyQuestion], locale: str
) -> str | None:
    if not question.show_if:
        return None
    source = next((q for q in questions if q.code == question.show_if["question"]), None)
    if source is None:
        return None
    expected = question.show_if["equals"]
    if expected in (YES, NO) and source.kind == QuestionKind.yes_no:
        value = _("Yes") if expected == YES else _("No")
    elif source.kind in (QuestionKind.single, QuestionKind.multiple):
        value = html.quote(option_label(source, str(expected), locale))
    else:
        value = number(float(expected), locale)
    return _("Asked only if the answer to question {number} is “{value}”.").format(
        number=source.position, value=value
    )


def question_preview(
    question: SurveyQuestion, questions: Sequence[SurveyQuestion], locale: str
) -> str:
    text = html.quote(question_text(question, locale)["text"])
    lines = [f"<b>{question.position}. {text}</b>"]
    lines += [f"<i>{line}</i>" for line in answer_line(question, locale)]
    lines.append(_("Required") if question.required else _("Optional: can be skipped"))
    for_roles = roles_line(question, locale)
    if for_roles:
        lines.append(f"↳ {for_roles}")
    condition = condition_line(question, questions, locale)
    if condition:
        lines.append(f"↳ {condition}")
    return "\n".join(lines)


def preview_text(survey: Survey, questions: Sequence[SurveyQuestion], locale: str) -> str:
    """The invitation, every question with how it is answered, and the thanks, in `locale`.
    Long surveys exceed a message: the caller splits it."""
    parts = [
        _("<b>Preview</b>: respondents whose language is this one will see the following."),
        invitation_text(survey, locale),
        *(question_preview(question, questions, locale) for question in questions),
    ]
    # The thanks as respondents read it, the bot's paragraph included: a file's thanks that
    # says it again shows here.
    parts.append(_("At the end: {thanks}").format(thanks=thanks_text(survey, locale)))
    return "\n\n".join(parts)
