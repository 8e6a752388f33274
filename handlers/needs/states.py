from aiogram.fsm.state import State, StatesGroup


class NeedReport(StatesGroup):
    """Reporting a need: theme, place, description, then an optional location."""

    choosing_theme = State()
    confirming_arrondissement = State()
    choosing_arrondissement = State()
    typing_description = State()
    sharing_location = State()
