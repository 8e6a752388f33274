"""A challenge's texts in another language, typed in the coordinators' group: «Add a
translation» on its card → the language → its title → its description, each checked as when
the challenge was written; saved at once (a language it had is replaced), then its card again.
Citizens read the challenge in their language from then on. The texts are the city's, not
personal data. A file does the same for several languages at once (storage/challenge_files.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot, F, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LOCALES, Settings
from bot.group_moves import CoordinatorsChat
from handlers.challenges import coordination_keyboards as keyboards
from handlers.challenges.coordination import fit
from handlers.challenges.coordination_callbacks import ManageAction, ManageCb, TranslateCb
from handlers.challenges.coordination_states import ChallengeTranslation
from handlers.challenges.manage import PRESSED_CHALLENGE, show_card
from handlers.challenges.public import language_name
from handlers.draft import Draft
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.initiatives.cards import shorten
from handlers.texts import explain_rejection, stale_button
from handlers.ui import show
from storage import challenges
from storage.challenges import DESCRIPTION_LIMITS, TITLE_LIMITS, ChallengeError, challenge_text
from storage.models import Challenge
from storage.texts import TextRejected, clean_text

router = Flow("challenge-translation", current=[PRESSED_CHALLENGE])

# The text to translate from, recalled above the question: enough to work from.
SOURCE_DESCRIPTION = 1500


@dataclass
class TranslationDraft(Draft, key="challenge_translation"):
    challenge_id: int = 0  # none: stale
    locale: str = ""
    title: str | None = None


def in_group(query: CallbackQuery, coordinators_chat: CoordinatorsChat) -> bool:
    # The texts are typed in the group: anywhere else they would not be heard.
    return query.message is not None and query.message.chat.id == coordinators_chat.id


@router.callback_query(ManageCb.filter(F.action == ManageAction.add_translation))
async def translate_pressed(
    query: CallbackQuery,
    challenge: Challenge,
    callback_answer: CallbackAnswer,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Asks which language to add; those the challenge has are ticked."""
    if not in_group(query, coordinators_chat):
        callback_answer.text = stale_button()
        return
    title = html.quote(challenge_text(challenge, settings.group_locale)[0])
    text = _(
        "In which language would you like to write “{title}”? Its texts are in the ticked "
        "ones; choosing one of them replaces them."
    ).format(title=title)
    await show(query, text, keyboards.languages_keyboard(challenge))


@router.callback_query(TranslateCb.filter())
async def language_chosen(
    query: CallbackQuery,
    callback_data: TranslateCb,
    challenge: Challenge,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Keeps the language, then asks for the title in it."""
    if callback_data.locale not in LOCALES or not in_group(query, coordinators_chat):
        callback_answer.text = stale_button()
        return
    await state.clear()
    draft = TranslationDraft(challenge_id=challenge.id, locale=callback_data.locale)
    await ask(query, ChallengeTranslation.typing_title, state, settings, challenge, draft)


async def ask(
    target: Message | CallbackQuery,
    step: State,
    state: FSMContext,
    settings: Settings,
    challenge: Challenge,
    draft: TranslationDraft,
) -> None:
    """Puts the dialog on `step` and asks for the title or the description in the chosen
    language, with the group's text to translate from."""
    await state.set_state(step)
    await draft.save(state)
    locale = settings.group_locale
    language = language_name(draft.locale, locale)
    title, description = challenge_text(challenge, locale)
    if step == ChallengeTranslation.typing_title:
        source = f"<blockquote>{html.quote(title)}</blockquote>"
        question = _("Please type the title in {language} ({low} to {high} characters).").format(
            language=language, low=TITLE_LIMITS[0], high=TITLE_LIMITS[1]
        )
    else:
        source = f"<blockquote>{html.quote(shorten(description, SOURCE_DESCRIPTION))}</blockquote>"
        question = _(
            "Please type the description in {language} ({low} to {high} characters)."
        ).format(language=language, low=DESCRIPTION_LIMITS[0], high=DESCRIPTION_LIMITS[1])
    hint = _("/cancel to give up.")
    await show(target, fit(f"{source}\n{question}\n\n<i>{hint}</i>"))


@router.message(Command("cancel"), StateFilter(ChallengeTranslation))
async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.reply(_("Cancelled: the challenge is unchanged."))


@router.message(StateFilter(ChallengeTranslation), NotCommand())
async def text_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Keeps the title, then asks the description; with the description, saves both."""
    draft = await TranslationDraft.load(state)
    challenge = await challenges.get_challenge(session, draft.challenge_id)
    if challenge is None or draft.locale not in LOCALES:
        await state.clear()
        await message.reply(stale_button())
        return
    step = (
        ChallengeTranslation.typing_title
        if await state.get_state() == ChallengeTranslation.typing_title.state
        else ChallengeTranslation.typing_description
    )
    if message.text is None:
        await message.reply(_("Please type your answer as a text message."))
        await ask(message, step, state, settings, challenge, draft)
        return
    low, high = TITLE_LIMITS if step == ChallengeTranslation.typing_title else DESCRIPTION_LIMITS
    try:
        text = clean_text(message.text, min_length=low, max_length=high)
    except TextRejected as rejected:
        await message.reply(explain_rejection(rejected))
        await ask(message, step, state, settings, challenge, draft)
        return
    if step == ChallengeTranslation.typing_title:
        draft.title = " ".join(text.split())
        await ask(
            message, ChallengeTranslation.typing_description, state, settings, challenge, draft
        )
        return
    try:
        challenge = await challenges.set_translation(
            session,
            challenge.id,
            message.from_user.id if message.from_user else 0,
            draft.locale,
            title=draft.title,
            description=text,
        )
    except ChallengeError:
        # The title went missing from the draft (an old dialog): ask it again.
        draft.title = None
        await ask(message, ChallengeTranslation.typing_title, state, settings, challenge, draft)
        return
    await state.clear()
    language = language_name(draft.locale, settings.group_locale)
    await message.reply(
        _("Saved: the challenge can now be read in {language}.").format(language=language)
    )
    await show_card(message, bot, session, settings, challenge)
