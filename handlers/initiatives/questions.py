"""Each question of the proposal form, and the summary, asked the same way every time."""

from __future__ import annotations

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.initiatives import keyboards
from handlers.initiatives.callbacks import ProposeAction, ProposeCb
from handlers.initiatives.draft import ProposalDraft
from handlers.initiatives.states import Propose
from handlers.profile.callbacks import ArrondissementCb
from handlers.profile.keyboards import contact_keyboard
from handlers.profile.labels import arrondissement_label, theme_label
from handlers.ui import show
from storage import initiatives
from storage.initiatives import DESCRIPTION_LIMITS, TITLE_LIMITS
from storage.models import User
from storage.privacy import shares_contact
from storage.themes import list_themes
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE

# The form's steps in order; the look-alike check after the title is not a step of its own.
# Contact is not a step: it is the person's own answer, given at onboarding
# (storage/privacy.py `shares_contact`); the summary shows it, and «Contact» changes it.
STEPS = [
    Propose.choosing_theme,
    Propose.choosing_arrondissement,
    Propose.typing_title,
    Propose.typing_description,
    Propose.sending_photo,
    Propose.sending_location,
]


def step_after(step: State) -> State:
    index = STEPS.index(step)
    return STEPS[index + 1] if index + 1 < len(STEPS) else Propose.reviewing


def step_before(step: State) -> State | None:
    if step == Propose.reviewing:
        return STEPS[-1]
    if step == Propose.reviewing_similar:
        return Propose.typing_title
    if step not in STEPS:
        return Propose.reviewing
    index = STEPS.index(step)
    return STEPS[index - 1] if index > 0 else None


def home_arrondissement(user: User) -> int | None:
    """The profile's arrondissement, offered in one press when it is one of the city's: to
    someone who lives outside Marseille, «Outside Marseille» in one press would make no sense."""
    return user.arrondissement if user.arrondissement in ARRONDISSEMENTS else None


async def ask(
    target: Message | CallbackQuery,
    step: State,
    *,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    draft: ProposalDraft,
    every_place: bool = False,
) -> None:
    """Puts the dialog on `step` and asks its question: as a step of the form, or — when the
    person came from the summary to change one answer — with what it is now, and /back to the
    summary. `every_place`: the full list of places, not the person's own in one press."""
    await state.set_state(step)
    await draft.save(state)
    if step == Propose.reviewing:
        await show(target, summary(draft, user), keyboards.review_keyboard())
        return
    text, markup = await _question(step, session, user, draft, every_place)
    if draft.editing or step not in STEPS:
        now = current_value(step, draft, user)
        if now is not None:
            text = f"{text}\n\n" + _("Now: {value}").format(value=now)
        hint = _("/back: back to the summary, unchanged · /cancel: stop")
        await show(target, f"{text}\n\n<i>{hint}</i>", markup)
        return
    counter = _("Step {number} of {total}").format(number=STEPS.index(step) + 1, total=len(STEPS))
    hint = _("/back: previous step · /cancel: stop")
    await show(target, f"<i>{counter}</i>\n\n{text}\n\n<i>{hint}</i>", markup)


def current_value(step: State, draft: ProposalDraft, user: User) -> str | None:
    """What the summary says of the answer being changed (HTML, escaped)."""
    yes, no, locale = _("yes"), _("no"), user.locale
    if step == Propose.choosing_theme and draft.theme_code:
        return html.quote(theme_label(draft.theme_code, locale))
    if step == Propose.choosing_arrondissement and draft.arrondissement is not None:
        return html.quote(arrondissement_label(draft.arrondissement))
    if step == Propose.typing_title and draft.title:
        return f"<blockquote>{html.quote(draft.title)}</blockquote>"
    if step == Propose.typing_description and draft.description:
        return f"<blockquote>{html.quote(draft.description)}</blockquote>"
    if step == Propose.sending_photo:
        return yes if draft.photo_file_id else no
    if step == Propose.sending_location:
        return yes if draft.latitude is not None else no
    if step == Propose.choosing_contact:
        return yes if shares_contact(user) else no
    return None


async def _question(
    step: State, session: AsyncSession, user: User, draft: ProposalDraft, every_place: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    if step == Propose.choosing_theme:
        themes = await list_themes(session)
        return (
            _("Which theme does your initiative concern?"),
            keyboards.theme_choice_keyboard(themes, user.locale, draft.theme_code),
        )
    if step == Propose.choosing_arrondissement:
        question = _("Where does it take place?")
        home = home_arrondissement(user)
        if home is not None and not draft.editing and not every_place:
            return question, keyboards.home_place_keyboard(home)
        return question, keyboards.place_keyboard(draft.arrondissement)
    if step == Propose.typing_title:
        return (
            _("What is its title? ({low} to {high} characters)").format(
                low=TITLE_LIMITS[0], high=TITLE_LIMITS[1]
            ),
            None,
        )
    if step == Propose.typing_description:
        return (
            _(
                "Describe it in a few lines: what, for whom, when ({low} to {high} characters). "
                "Please write nothing about anyone's health, religion or political opinions."
            ).format(low=DESCRIPTION_LIMITS[0], high=DESCRIPTION_LIMITS[1]),
            None,
        )
    if step == Propose.sending_photo:
        return _("You may add a photo: send it now, or press “Skip”."), keyboards.skip_keyboard()
    if step == Propose.sending_location:
        return (
            _(
                "You may share where it takes place: attach a location (📎 → Location), or "
                "press “Skip”."
            ),
            keyboards.skip_keyboard(),
        )
    if step == Propose.choosing_contact:
        return (
            _(
                "May the city's coordinators contact you on Telegram? This is your answer for "
                "all your proposals, as in your profile; /settings changes it at any time."
            ),
            contact_keyboard(),
        )
    raise ValueError(step)


def summary(draft: ProposalDraft, user: User) -> str:
    yes, no = _("yes"), _("no")
    lines = [
        _("<b>Your proposal</b>"),
        "",
        _("Title: {value}").format(value=html.quote(draft.title or "")),
        _("Description: {value}").format(value=html.quote(draft.description or "")),
        _("Theme: {value}").format(value=theme_label(draft.theme_code or "", user.locale)),
        _("Where: {value}").format(
            value=arrondissement_label(draft.arrondissement)
            if draft.arrondissement is not None
            else "—"
        ),
        _("Photo: {value}").format(value=yes if draft.photo_file_id else no),
        _("Location: {value}").format(value=yes if draft.latitude is not None else no),
        _("Coordinators may contact you: {value}").format(
            value=yes if shares_contact(user) else no
        ),
        "",
        _("Check it, change what you wish, then send it."),
    ]
    return "\n".join(lines)


def button_options(markup: InlineKeyboardMarkup | None) -> list[tuple[str, str]]:
    """A keyboard's buttons as (label, callback data): what a typed text may name."""
    rows = markup.inline_keyboard if markup else []
    return [(b.text, b.callback_data) for row in rows for b in row if b.callback_data]


async def typed_options(
    step: State, session: AsyncSession, user: User, draft: ProposalDraft
) -> list[tuple[str, str]]:
    """The buttons a text typed at `step` may name, as the person was shown them: where, every
    place too (the person's own by its name, whichever of the two keyboards is shown); at the
    summary, its buttons; elsewhere, the step's."""
    if step == Propose.reviewing:
        return button_options(keyboards.review_keyboard())
    if step == Propose.reviewing_similar:
        look_alikes = await initiatives.similar(
            session, draft.theme_code or "", draft.arrondissement or 0, draft.title or ""
        )
        return button_options(keyboards.similar_keyboard(look_alikes))
    if step == Propose.choosing_arrondissement:
        options = button_options(keyboards.place_keyboard(draft.arrondissement))
        places = [*ARRONDISSEMENTS, OUTSIDE_MARSEILLE]
        options += [(arrondissement_label(n), ArrondissementCb(number=n).pack()) for n in places]
        somewhere_else = ProposeCb(action=ProposeAction.other_arrondissement).pack()
        return [*options, (_("Somewhere else"), somewhere_else)]
    if step in STEPS or step == Propose.choosing_contact:
        return button_options((await _question(step, session, user, draft, True))[1])
    return []
