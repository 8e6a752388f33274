from aiogram.fsm.state import State, StatesGroup


class ChallengeForm(StatesGroup):
    """A coordinator, in the group, writing a challenge (or changing one) field by field;
    «previewing» shows the card as citizens will see it, to check, edit, save or open."""

    typing_title = State()
    typing_description = State()
    choosing_theme = State()
    choosing_arrondissements = State()
    typing_start = State()
    typing_end = State()
    choosing_kinds = State()
    previewing = State()


class ChallengeNews(StatesGroup):
    """A coordinator typing an update for everyone who joined a challenge."""

    typing_update = State()


class ChallengeTranslation(StatesGroup):
    """A coordinator typing a challenge's title, then its description, in another language."""

    typing_title = State()
    typing_description = State()
