"""A challenge's participants, for coordinators: who takes part and what they bring (a page
at a time), the CSV export, and updates posted to all of them through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import Bot, F, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from bot.i18n import ngettext
from handlers.challenges import coordination_keyboards as keyboards
from handlers.challenges import coordination_notices as notices
from handlers.challenges.coordination import figures_text, kind_label
from handlers.challenges.coordination_callbacks import ManageAction, ManageCb
from handlers.challenges.coordination_states import ChallengeNews
from handlers.challenges.manage import PRESSED_CHALLENGE
from handlers.draft import Draft
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.initiatives.cards import shorten
from handlers.profile.labels import arrondissement_label
from handlers.texts import explain_rejection, stale_button
from handlers.ui import show
from storage import challenges
from storage.challenges import activity_label, challenge_text
from storage.models import Challenge, Participation, User
from storage.organisations import badged
from storage.outbox import utf16_len
from storage.texts import TextRejected, clean_text

router = Flow("challenge-participants", current=[PRESSED_CHALLENGE])

CONTRIBUTION_TEXT = 200
# Room for a page of participants within Telegram's 4096, with its header and buttons' text.
PARTICIPANTS_ROOM = 3500
UPDATE_LIMITS = (3, 1000)


# -- participants


def who(user: User) -> str:
    """An organisation by its name; a citizen never by theirs."""
    if user.organisation is not None:
        return f"<b>{html.quote(badged(user.organisation))}</b>"
    if user.arrondissement is not None:
        return _("A citizen ({place})").format(place=arrondissement_label(user.arrondissement))
    return _("A citizen")


def participant_line(
    participation: Participation, user: User, challenge: Challenge, locale: str
) -> str:
    line = f"• {who(user)} — {kind_label(participation.kind)}"
    if participation.text:
        line += f": {html.quote(shorten(participation.text, CONTRIBUTION_TEXT))}"
    activity = next((a for a in challenge.activities if a["code"] == participation.activity), None)
    if activity is not None:
        line += f" ({html.quote(activity_label(activity, locale))})"
    return line


def pages_of(lines: Sequence[str], room: int) -> list[list[str]]:
    """Lines grouped in pages of at most `room` UTF-16 units, never splitting a line."""
    pages: list[list[str]] = [[]]
    used = 0
    for line in lines:
        size = utf16_len(line) + 1
        if pages[-1] and used + size > room:
            pages.append([])
            used = 0
        pages[-1].append(line)
        used += size
    return pages


@router.callback_query(ManageCb.filter(F.action == ManageAction.participants))
async def participants_pressed(
    query: CallbackQuery,
    callback_data: ManageCb,
    challenge: Challenge,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Who takes part and what they bring, a page at a time, under the counts."""
    locale = settings.group_locale
    rows = await challenges.participants(session, challenge.id)
    figures = await challenges.challenge_figures(session, challenge.id)
    title = html.quote(shorten(challenge_text(challenge, locale)[0], 100))
    head = [_("<b>Participants of “{title}”</b>").format(title=title), *figures_text(figures)[1:]]
    lines = [participant_line(p, u, challenge, locale) for p, u in rows]
    if not lines:
        lines = [_("Nobody has joined yet.")]
    pages = pages_of(lines, PARTICIPANTS_ROOM - utf16_len("\n".join(head)))
    page = min(max(callback_data.page, 0), len(pages) - 1)
    text = "\n".join([*head, "", *pages[page]])
    if len(pages) > 1:
        text += "\n\n" + _("Page {page} of {pages}").format(page=page + 1, pages=len(pages))
    await show(query, text, keyboards.participants_keyboard(challenge.id, page, len(pages)))


@router.callback_query(ManageCb.filter(F.action == ManageAction.export))
async def export_pressed(
    query: CallbackQuery,
    challenge: Challenge,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """The participants as a CSV file that opens in French Excel."""
    if query.message is None:
        return
    rows = await challenges.participants(session, challenge.id)
    assisted = await challenges.assisted_of(session, challenge.id)
    data = challenges.participants_csv(rows, assisted, timezone=settings.timezone)
    title = html.quote(shorten(challenge_text(challenge, settings.group_locale)[0], 100))
    caption = _("Participants of “{title}”: {count}, and {assisted} assisted.").format(
        title=title, count=len(rows), assisted=len(assisted)
    )
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(data, filename=f"participants-{challenge.slug}.csv"),
        caption=caption,
    )


# -- updates to the participants


@dataclass
class NewsDraft(Draft, key="challenge_news"):
    challenge_id: int = 0  # none: stale


@router.callback_query(ManageCb.filter(F.action == ManageAction.update))
async def update_pressed(
    query: CallbackQuery,
    challenge: Challenge,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Asks for the update's text, in the group."""
    if query.message is None:
        return
    if query.message.chat.id != coordinators_chat.id:
        callback_answer.text = stale_button()
        return
    count = len([u for _p, u in await challenges.participants(session, challenge.id) if u.active])
    if count == 0:
        callback_answer.text = _("Nobody has joined yet.")
        callback_answer.show_alert = True
        return
    await state.set_state(ChallengeNews.typing_update)
    await NewsDraft(challenge.id).save(state)
    title = html.quote(shorten(challenge_text(challenge, settings.group_locale)[0], 100))
    name = html.quote(query.from_user.full_name)
    ask = ngettext(
        "{name}, please send in one message the update for the {count} participant of "
        "“{title}” ({low} to {high} characters).",
        "{name}, please send in one message the update for the {count} participants of "
        "“{title}” ({low} to {high} characters).",
        count,
    ).format(name=name, count=count, title=title, low=UPDATE_LIMITS[0], high=UPDATE_LIMITS[1])
    await query.message.answer(ask + "\n" + _("/cancel to give up."))


@router.message(ChallengeNews.typing_update, NotCommand())
async def update_typed(
    message: Message, i18n: I18n, state: FSMContext, session: AsyncSession
) -> None:
    """Sends the update, as typed, to each participant through the outbox."""
    if message.text is None:
        await message.reply(_("Please type the update as a text message."))
        return
    try:
        update = clean_text(message.text, min_length=UPDATE_LIMITS[0], max_length=UPDATE_LIMITS[1])
    except TextRejected as rejected:
        await message.reply(explain_rejection(rejected))
        return
    draft = await NewsDraft.load(state)
    await state.clear()
    challenge = await challenges.get_challenge(session, draft.challenge_id)
    if challenge is None:
        await message.reply(stale_button())
        return
    sent = await notices.post_update(session, i18n, challenge, update)
    await message.reply(
        ngettext(
            "Update sent to {count} participant.", "Update sent to {count} participants.", sent
        ).format(count=sent)
    )


@router.message(Command("cancel"), ChallengeNews.typing_update)
async def cancel_update(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.reply(_("Cancelled: no update was sent."))
