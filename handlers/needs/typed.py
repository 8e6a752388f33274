"""What a typed message names at a button step of reporting a need: "13e", "logement",
"envoyer" read as the button they name (handlers/typed_choice.py), so that report.py does what
pressing it does, and asks again only when it names none."""

from __future__ import annotations

from aiogram.fsm.state import State
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.needs import keyboards
from handlers.needs.callbacks import NeedStep
from handlers.needs.states import NeedReport
from handlers.needs.steps import NeedDraft, home_arrondissement
from handlers.profile.labels import arrondissement_button, arrondissement_label, theme_label
from handlers.typed_choice import normalise, typed_choice
from storage.models import User
from storage.themes import list_themes
from storage.users import ARRONDISSEMENTS

# «Another one» at the question «In your arrondissement?»: no arrondissement of its own.
ANOTHER = 0


async def named_theme(session: AsyncSession, user: User, text: str) -> str | None:
    themes = await list_themes(session)
    return typed_choice(text, [(theme_label(theme, user.locale), theme.code) for theme in themes])


def named_arrondissement(step: State, user: User, text: str) -> int | None:
    """One of the sixteen, as its button or its name says it; at «In your arrondissement?»,
    also «Yes» (theirs) and «Another one» (`ANOTHER`)."""
    options = [(arrondissement_button(n), n) for n in ARRONDISSEMENTS]
    options += [(arrondissement_label(n), n) for n in ARRONDISSEMENTS]
    home = home_arrondissement(user)
    if step == NeedReport.confirming_arrondissement and home is not None:
        yes = keyboards.confirm_arrondissement_keyboard(home).inline_keyboard[0][0].text
        options += [(yes, home), (_("Another one"), ANOTHER)]
    return typed_choice(text, options)


def named_review_button(text: str) -> NeedStep | None:
    return typed_choice(
        text,
        [
            (_("Send"), NeedStep.send),
            (_("Edit a field"), NeedStep.edit),
            (_("Cancel"), NeedStep.cancel),
        ],
    )


def named_location_button(text: str, draft: NeedDraft) -> NeedStep | None:
    """«Skip» (or, with a location attached, «Keep this location» / «Remove the location»)
    typed as it reads."""
    if draft.latitude is None:
        options = [(_("Skip"), NeedStep.skip_location)]
    else:
        options = [
            (_("Keep this location"), NeedStep.keep_location),
            (_("Remove the location"), NeedStep.skip_location),
        ]
    return typed_choice(text, options)


def names_keep_description(text: str) -> bool:
    """At the description, only the very words of «Keep this description» stand for the
    button: any other text is a description."""
    return normalise(text) == normalise(_("Keep this description"))
