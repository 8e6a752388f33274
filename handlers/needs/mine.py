"""«My needs»: the needs a person reported, each with where it stands; they can withdraw one.
And how a need's author is told that it is being answered."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from aiogram import F, html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.challenges.callbacks import ChallengeCb
from handlers.flow import Flow
from handlers.initiatives.callbacks import CardCb
from handlers.initiatives.cards import shorten
from handlers.menu import MenuAction, MenuCb
from handlers.ui import show
from storage import need_answers
from storage.challenges import challenge_text
from storage.models import Challenge, Initiative, Need, NeedStatus, User
from storage.needs import need_reference
from storage.outbox import TextMessage, enqueue
from storage.privacy import has_current_notice

router = Flow("needs-mine")


class MyNeedsAction(enum.StrEnum):
    withdraw = "w"


class MyNeedCb(CallbackData, prefix="nmy"):
    action: MyNeedsAction
    need_id: int


def need_status_label(need: Need) -> str:
    waiting = need.answered_by_initiative_id is not None and not need.link_confirmed
    if need.status is NeedStatus.open and waiting:
        return _("open — an answer waits for the coordinators' confirmation")
    return {
        NeedStatus.open: _("open"),
        NeedStatus.answered: _("being answered"),
        NeedStatus.closed: _("closed"),
        NeedStatus.withdrawn: _("withdrawn"),
    }[need.status]


def my_needs_text(needs: Sequence[Need]) -> str:
    if not needs:
        return _("You have not reported any need yet.")
    lines = [_("<b>Your needs</b>"), ""]
    for need in needs[:20]:
        words = html.quote(shorten(need.text, 80)) if need.text else "—"
        lines.append(f"{need_reference(need)} · {words}\n{need_status_label(need)}")
        lines.append("")
    return "\n".join(lines).strip()


def my_needs_keyboard(needs: Sequence[Need]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=_("Withdraw {reference}").format(reference=need_reference(need)),
                callback_data=MyNeedCb(action=MyNeedsAction.withdraw, need_id=need.id).pack(),
            )
        ]
        for need in needs[:20]
        if need.status in need_answers.LIVE
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("Back to the menu"), callback_data=MenuCb(action=MenuAction.start).pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(MenuCb.filter(F.action == MenuAction.my_needs))
async def my_needs(query: CallbackQuery, session: AsyncSession, user: User) -> None:
    """The person's needs with their status, and a way to withdraw those still open."""
    if not has_current_notice(user):
        return
    needs = await need_answers.needs_of(session, user)
    await show(query, my_needs_text(needs), my_needs_keyboard(needs))


@router.callback_query(MyNeedCb.filter(F.action == MyNeedsAction.withdraw))
async def withdraw(
    query: CallbackQuery,
    callback_data: MyNeedCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    """Withdraws the need (only its author, only while open or being answered)."""
    try:
        await need_answers.withdraw_need(session, callback_data.need_id, user)
    except need_answers.NeedError:
        callback_answer.text = _("This need cannot be withdrawn.")
        callback_answer.show_alert = True
        return
    callback_answer.text = _("Your need is withdrawn.")
    needs = await need_answers.needs_of(session, user)
    await show(query, my_needs_text(needs), my_needs_keyboard(needs))


async def tell_author(
    session: AsyncSession, i18n: I18n, need: Need, target: Initiative | Challenge
) -> None:
    """The need's author learns, in their language, what answers it, with a button to it."""
    author = await session.get(User, need.reporter_id)
    if author is None or author.telegram_id is None or not author.active:
        return
    with i18n.use_locale(author.locale):
        if isinstance(target, Initiative):
            name = html.quote(shorten(target.title, 80))
            button = InlineKeyboardButton(
                text=_("See it, and support it"),
                callback_data=CardCb(initiative_id=target.id).pack(),
            )
        else:
            name = html.quote(shorten(challenge_text(target, author.locale)[0], 80))
            button = InlineKeyboardButton(
                text=_("See it, and join it"),
                # The good news stays: the card comes under it.
                callback_data=ChallengeCb(challenge_id=target.id, below=True).pack(),
            )
        text = _("Good news: your need {reference} is being answered by “{name}”.").format(
            reference=need_reference(need), name=name
        )
    markup = InlineKeyboardMarkup(inline_keyboard=[[button]]).model_dump(exclude_none=True)
    await enqueue(
        session,
        TextMessage(chat_id=author.telegram_id, user_id=author.id, text=text, reply_markup=markup),
    )
