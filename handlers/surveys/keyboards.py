"""Keyboards of the respondents' side: the invitation's, each question's, the Surveys menu."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.menu import MenuAction, MenuCb
from handlers.surveys.callbacks import (
    AnswerCb,
    QuestionAction,
    QuestionCb,
    SurveyAction,
    SurveyCb,
)
from storage.models import QuestionKind, Survey, SurveyQuestion
from storage.surveys import NO, SCALE, YES, option_label, survey_text

# Telegram shows about 64 characters of a button; a survey's title is cut before that.
BUTTON_TITLE_LIMIT = 48


def _survey_button(text: str, survey_id: int, action: SurveyAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=SurveyCb(survey_id=survey_id, action=action).pack()
    )


def _menu_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("Back to the menu"), callback_data=MenuCb(action=MenuAction.start).pack()
    )


def short(text: str, limit: int = BUTTON_TITLE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def invitation_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                # TRANSLATORS: buttons of a survey's invitation: answer it now, or another time.
                _survey_button(_("Start"), survey_id, SurveyAction.start),
                _survey_button(_("Later"), survey_id, SurveyAction.later),
            ]
        ]
    )


def question_keyboard(
    question: SurveyQuestion, locale: str, chosen: Collection[str] = ()
) -> InlineKeyboardMarkup | None:
    """Buttons for a closed question, «Skip» on an optional one; None for a typed answer to a
    required question."""
    rows: list[list[InlineKeyboardButton]] = []

    def answer(text: str, value: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=text, callback_data=AnswerCb(question_id=question.id, value=value).pack()
        )

    def step(text: str, action: QuestionAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=text, callback_data=QuestionCb(question_id=question.id, action=action).pack()
        )

    kind = QuestionKind(question.kind)
    if kind is QuestionKind.scale:
        rows.append([answer(str(n), str(n)) for n in range(SCALE[0], SCALE[1] + 1)])
    elif kind is QuestionKind.yes_no:
        # TRANSLATORS: the answers to a survey's yes/no question.
        rows.append([answer(_("Yes"), YES), answer(_("No"), NO)])
    elif kind in (QuestionKind.single, QuestionKind.multiple):
        for option in question.options:
            code = str(option["code"])
            label = option_label(question, code, locale)
            if kind is QuestionKind.multiple and code in chosen:
                label = f"✅ {label}"
            rows.append([answer(label, code)])
        if kind is QuestionKind.multiple:
            rows.append([step(_("Done"), QuestionAction.done)])
    if not question.required:
        rows.append([step(_("Skip"), QuestionAction.skip)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def surveys_keyboard(
    to_answer: Sequence[tuple[Survey, bool]], published: Sequence[Survey], locale: str
) -> InlineKeyboardMarkup:
    """Open surveys to start (or resume, when `True`), then closed surveys' results."""
    rows = []
    for survey, started in to_answer:
        title = short(survey_text(survey, locale)["title"])
        label = _("Resume: {title}") if started else _("Answer: {title}")
        rows.append([_survey_button(label.format(title=title), survey.id, SurveyAction.start)])
    for survey in published:
        title = short(survey_text(survey, locale)["title"])
        rows.append(
            [
                _survey_button(
                    _("Results: {title}").format(title=title), survey.id, SurveyAction.results
                )
            ]
        )
    rows.append([_menu_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def after_survey_keyboard() -> InlineKeyboardMarkup:
    surveys = InlineKeyboardButton(
        text=_("Surveys"), callback_data=MenuCb(action=MenuAction.surveys).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[surveys], [_menu_button()]])
