"""/challenges in the coordinators' group: each challenge's card with its figures, and what
coordinators do from it — preview, open (alerting the people it concerns), close, reopen, get a
poster; opening and closing ask to confirm first. Edit is in `create.py`; participants, export
and updates in `coordination_participants.py`.

Coordinators only, by their router's gate (handlers/coordination.py); the buttons answer
wherever pressed, so that a forged one is refused, not ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, F, html
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import format_when, ngettext
from handlers.bidi import isolate_here, isolated
from handlers.challenges import coordination_keyboards as keyboards
from handlers.challenges import coordination_notices as notices
from handlers.challenges.coordination import (
    citizens_card,
    fit,
    list_line,
    management_text,
)
from handlers.challenges.coordination_callbacks import ListCb, ManageAction, ManageCb
from handlers.current import Current, pressed
from handlers.flow import Flow
from handlers.initiatives.cards import shorten
from handlers.ui import show
from storage import challenges
from storage.challenge_alerts import alert_time, count_alert_recipients
from storage.challenges import ChallengeError, InvalidChallenge, challenge_text
from storage.models import Challenge, ChallengeStatus, utcnow
from storage.posters import challenge_poster


async def pressed_challenge(session: AsyncSession, button: ManageCb) -> Challenge | None:
    return await challenges.get_challenge(session, button.challenge_id)


# Its handlers, and the participants', take the challenge a button names as `challenge`.
PRESSED_CHALLENGE = Current("challenge", pressed(pressed_challenge))

router = Flow("challenge-management", current=[PRESSED_CHALLENGE])

LIST_PAGE = 8
EVERY_STATUS = (ChallengeStatus.draft, ChallengeStatus.open, ChallengeStatus.closed)


async def bot_link(bot: Bot, challenge: Challenge) -> str:
    me = await bot.me()
    return challenges.deep_link(me.username or "", challenge)


async def show_card(
    target: Message | CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    challenge: Challenge,
) -> None:
    figures = await challenges.challenge_figures(session, challenge.id)
    text = management_text(challenge, figures, await bot_link(bot, challenge), settings)
    await show(target, text, keyboards.management_keyboard(challenge))


# -- the list


@router.message(Command("challenges"))
async def list_command(message: Message, session: AsyncSession, settings: Settings) -> None:
    await show_list(message, session, settings, 0)


@router.callback_query(ListCb.filter())
async def list_page(
    query: CallbackQuery, callback_data: ListCb, session: AsyncSession, settings: Settings
) -> None:
    await show_list(query, session, settings, callback_data.page)


async def show_list(
    target: Message | CallbackQuery, session: AsyncSession, settings: Settings, page: int
) -> None:
    """Every challenge, drafts included, the latest first; a button opens each one's card."""
    items, total = await challenges.list_challenges(
        session, statuses=EVERY_STATUS, page=page, page_size=LIST_PAGE
    )
    if total == 0:
        await show(target, _("No challenge yet. Send /new_challenge to write the first one."))
        return
    pages = (total + LIST_PAGE - 1) // LIST_PAGE
    if not items:
        page = pages - 1
        items, total = await challenges.list_challenges(
            session, statuses=EVERY_STATUS, page=page, page_size=LIST_PAGE
        )
    locale = settings.group_locale
    lines = [
        ngettext("<b>{count} challenge</b>", "<b>{count} challenges</b>", total).format(
            count=total
        ),
        "",
        *(list_line(challenge, locale) for challenge in items),
    ]
    if pages > 1:
        lines += ["", _("Page {page} of {pages}").format(page=page + 1, pages=pages)]
    await show(target, "\n".join(lines), keyboards.list_keyboard(items, locale, page, pages))


# -- a challenge's card


@router.callback_query(ManageCb.filter(F.action == ManageAction.card))
async def card(
    query: CallbackQuery,
    challenge: Challenge,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    await show_card(query, bot, session, settings, challenge)


@router.callback_query(ManageCb.filter(F.action == ManageAction.preview))
async def preview(
    query: CallbackQuery,
    challenge: Challenge,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """The card as citizens see it, in the group's language."""
    figures = await challenges.challenge_figures(session, challenge.id)
    card = citizens_card(
        challenge,
        settings.group_locale,
        figures.participants + figures.assisted,
        timezone=settings.timezone,
    )
    text = fit("\n".join([_("<b>Preview</b>: citizens will see this card."), "", card]))
    await show(query, text, keyboards.back_to_card_keyboard(challenge.id))


@router.callback_query(ManageCb.filter(F.action == ManageAction.open))
async def open_pressed(
    query: CallbackQuery,
    challenge: Challenge,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Open (or Reopen): says how many people will be alerted, and asks to confirm."""
    await ask_to_open(query, callback_answer, bot, session, settings, challenge, wall_clock())


async def ask_to_open(
    target: CallbackQuery,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    challenge: Challenge,
    now: datetime,
) -> None:
    """The confirmation before a challenge opens: who will be alerted, and when. One already
    open, or past its end date, gets its card and why instead."""
    if challenge.status is ChallengeStatus.open:
        callback_answer.text = _("This challenge is already open.")
        await show_card(target, bot, session, settings, challenge)
        return
    if challenges.has_ended(challenge, now, settings.timezone):
        await show_card(target, bot, session, settings, challenge)
        await _tell(target, ended_text())
        return
    count = await count_alert_recipients(
        session, challenge, now, monthly_cap=settings.alerts_per_month
    )
    title = html.quote(challenge_text(challenge, settings.group_locale)[0])
    text = ngettext(
        "Open “{title}”? {count} person will be alerted now, in their language.",
        "Open “{title}”? {count} people will be alerted now, in their language.",
        count,
    ).format(**isolated(settings.group_locale, title=title, count=count))
    at = alert_time(now, settings.timezone)
    if count and at > now:
        text += "\n\n" + _(
            "It is night: the alerts will wait until {when}, the end of the quiet hours."
        ).format(when=format_when(at, settings.group_locale, settings.timezone))
    await show(target, text, keyboards.confirm_open_keyboard(challenge.id))


def ended_text() -> str:
    return _("Its end date has passed: change the dates (Edit) before opening it.")


@router.callback_query(ManageCb.filter(F.action == ManageAction.open_confirmed))
async def open_confirmed(
    query: CallbackQuery,
    challenge: Challenge,
    callback_answer: CallbackAnswer,
    bot: Bot,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """The challenge opens and the people it concerns are alerted; a second tap finds it open
    and changes nothing."""
    try:
        await open_and_alert(query, bot, i18n, session, settings, challenge.id, wall_clock())
    except ChallengeError:
        callback_answer.text = _("This challenge is already open.")
        await show_card(query, bot, session, settings, challenge)


async def open_and_alert(
    target: CallbackQuery,
    bot: Bot,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    challenge_id: int,
    now: datetime,
) -> None:
    """Opens the challenge, writes the alerts to the outbox, shows the card and tells the
    group how many people were alerted. A challenge whose end has passed stays as it is."""
    try:
        challenge = await challenges.open_challenge(
            session, challenge_id, target.from_user.id, now, timezone=settings.timezone
        )
    except InvalidChallenge:
        stored = await challenges.get_challenge(session, challenge_id)
        assert stored is not None
        await show_card(target, bot, session, settings, stored)
        await _tell(target, ended_text())
        return
    alerted = await notices.alert(session, i18n, settings, challenge, now)
    await show_card(target, bot, session, settings, challenge)
    title = html.quote(challenge_text(challenge, settings.group_locale)[0])
    text = _("“{title}” is open.").format(**isolated(settings.group_locale, title=title)) + " "
    text += ngettext(
        "{count} person has been alerted.", "{count} people have been alerted.", alerted.count
    ).format(count=alerted.count)
    if alerted.delayed and alerted.count:
        text += " " + _(
            "It is night: the alerts wait until {when}, the end of the quiet hours."
        ).format(when=format_when(alerted.at, settings.group_locale, settings.timezone))
    await _tell(target, text)


async def _tell(target: CallbackQuery, text: str) -> None:
    """A new message under the card, in the chat where the button was pressed."""
    if target.message is not None:
        await target.bot.send_message(target.message.chat.id, text)  # type: ignore[union-attr]


@router.callback_query(ManageCb.filter(F.action == ManageAction.close))
async def close_pressed(
    query: CallbackQuery,
    challenge: Challenge,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Asks to confirm: nobody can join afterwards."""
    if challenge.status is not ChallengeStatus.open:
        callback_answer.text = _("This challenge is not open.")
        await show_card(query, bot, session, settings, challenge)
        return
    title = html.quote(challenge_text(challenge, settings.group_locale)[0])
    text = _(
        "Close “{title}”? Nobody will be able to join it any more; its participants and its "
        "figures stay."
    ).format(**isolated(settings.group_locale, title=title))
    await show(query, text, keyboards.confirm_close_keyboard(challenge.id))


@router.callback_query(ManageCb.filter(F.action == ManageAction.close_confirmed))
async def close_confirmed(
    query: CallbackQuery,
    challenge: Challenge,
    callback_answer: CallbackAnswer,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    wall_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Nobody can join any more; participants and figures stay. A second tap finds it closed
    and changes nothing."""
    try:
        challenge = await challenges.close_challenge(
            session, challenge.id, query.from_user.id, wall_clock()
        )
        callback_answer.text = _("Closed: nobody can join it any more.")
    except ChallengeError:
        callback_answer.text = _("This challenge is not open.")
    await show_card(query, bot, session, settings, challenge)


@router.callback_query(ManageCb.filter(F.action == ManageAction.poster))
async def poster_pressed(
    query: CallbackQuery,
    challenge: Challenge,
    bot: Bot,
    session: AsyncSession,
) -> None:
    """A PNG to print, with the title and a QR code of the challenge's link."""
    if query.message is None:
        return
    link = await bot_link(bot, challenge)
    title = challenge_text(challenge, "fr")[0]
    # Drawing takes a few tens of milliseconds: not on the event loop.
    png = await asyncio.to_thread(challenge_poster, title, link)
    await bot.send_photo(
        query.message.chat.id,
        BufferedInputFile(png, filename=f"poster-{challenge.slug}.png"),
        caption=_("A poster to print for “{title}”. Its link: {link}").format(
            title=isolate_here(html.quote(shorten(title, 200))),
            link=isolate_here(html.quote(link)),
        ),
    )
