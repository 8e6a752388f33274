from aiogram.fsm.state import State, StatesGroup


class SurveySchedule(StatesGroup):
    """A coordinator, in the group, typing when a survey goes out or when its reminder does;
    the dialog's data is a `ScheduleDraft`."""

    typing_send_at = State()
    typing_reminder = State()
