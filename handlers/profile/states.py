from aiogram.fsm.state import State, StatesGroup


class Profile(StatesGroup):
    """Onboarding walks these in order; /settings opens one of them alone."""

    choosing_language = State()
    reading_notice = State()
    choosing_role = State()
    typing_organisation = State()
    choosing_arrondissement = State()
    choosing_themes = State()
    choosing_contact = State()
    choosing_alerts = State()
