"""Answering a survey: the dialog's states and what it keeps between two answers. The answers
themselves are stored as they come (`storage.surveys.answer`), so a pause, /cancel or a restart
loses none of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup


class SurveyAnswering(StatesGroup):
    """One question at a time: buttons for closed questions, a typed answer for the others."""

    choosing = State()  # scale, yes/no, single or multiple choice
    typing = State()  # number or free text


@dataclass
class SurveyDialog:
    response_id: int = 0
    question_id: int = 0
    # A multiple choice's ticks, until «Done» stores them.
    chosen: list[str] = field(default_factory=list)


async def load_dialog(state: FSMContext) -> SurveyDialog:
    data = (await state.get_data()).get("survey", {})
    known = SurveyDialog.__dataclass_fields__
    return SurveyDialog(**{k: v for k, v in data.items() if k in known})


async def save_dialog(state: FSMContext, dialog: SurveyDialog) -> None:
    await state.set_data({"survey": asdict(dialog)})
