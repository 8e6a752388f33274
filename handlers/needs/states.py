from aiogram.fsm.state import State, StatesGroup


class NeedReport(StatesGroup):
    """Reporting a need: theme, place, description, an optional location, then «reviewing»:
    what was entered, to send, change field by field, or cancel."""

    choosing_theme = State()
    confirming_arrondissement = State()
    choosing_arrondissement = State()
    typing_description = State()
    sharing_location = State()
    reviewing = State()
