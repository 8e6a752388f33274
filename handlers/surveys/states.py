"""Answering a survey: the dialog's states and what it keeps between two answers. The answers
themselves are stored as they come (`storage.surveys.answer`), so a pause, /cancel or a restart
loses none of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.fsm.state import State, StatesGroup

from handlers.draft import Draft


class SurveyAnswering(StatesGroup):
    """One question at a time: buttons for closed questions, a typed answer for the others."""

    choosing = State()  # scale, yes/no, single or multiple choice
    typing = State()  # number or free text


@dataclass
class SurveyDialog(Draft, key="survey"):
    response_id: int = 0
    question_id: int = 0
    # A multiple choice's ticks, until «Done» stores them.
    chosen: list[str] = field(default_factory=list)
