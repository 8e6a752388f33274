from aiogram.fsm.state import State, StatesGroup


class Propose(StatesGroup):
    """A proposal, field by field; «reviewing» shows the summary to check and edit."""

    choosing_theme = State()
    choosing_arrondissement = State()
    typing_title = State()
    reviewing_similar = State()
    typing_description = State()
    sending_photo = State()
    sending_location = State()
    choosing_contact = State()
    reviewing = State()


class Moderation(StatesGroup):
    """A coordinator, in the group, typing why they reject or what should change."""

    typing_reason = State()


class Contest(StatesGroup):
    """An author explaining why their hidden initiative should come back."""

    typing_explanation = State()
