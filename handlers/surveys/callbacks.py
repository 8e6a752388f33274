"""Callback data of the respondents' side of surveys. Ids and codes only, never labels: the
longest, an option code of 40 characters on a large question id, stays within 64 bytes."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class SurveyAction(enum.StrEnum):
    start = "s"  # start, or resume, answering
    later = "l"  # not now: answer from the Surveys menu
    results = "r"  # a closed survey's published results


class SurveyCb(CallbackData, prefix="sv"):
    survey_id: int
    action: SurveyAction


class AnswerCb(CallbackData, prefix="sva"):
    """A closed answer to one question: a scale's digit, "yes"/"no", an option's code (for a
    multiple choice, ticks or unticks it)."""

    question_id: int
    value: str


class QuestionAction(enum.StrEnum):
    skip = "k"  # an optional question left unanswered
    done = "d"  # a multiple choice's ticks are final


class QuestionCb(CallbackData, prefix="svq"):
    question_id: int
    action: QuestionAction
