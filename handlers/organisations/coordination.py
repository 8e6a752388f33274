"""The coordinators' side: verify or refuse an organisation (its members are told), look-alike
names to merge or keep apart (/organisations), and the map of gaps (/gaps). Behind the
coordinators' gate: no right is checked here."""

from __future__ import annotations

import asyncio

from aiogram import html
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.bidi import isolate_here
from handlers.flow import Flow
from handlers.organisations.callbacks import MergeCb, VerifyCb
from handlers.organisations.texts import organisation_label
from handlers.profile.labels import arrondissement_label, arrondissement_short, theme_label
from handlers.ui import show
from storage import organisations
from storage.gaps_chart import GapsTexts, gaps_png
from storage.organisations import AlreadyDecided, NotAsked
from storage.outbox import TextMessage, cut_caption, enqueue

router = Flow("organisations-coordination")


def actor_name(query: CallbackQuery | Message) -> str:
    return query.from_user.full_name if query.from_user else "?"


@router.callback_query(VerifyCb.filter())
async def verify_pressed(
    query: CallbackQuery,
    callback_data: VerifyCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """Decides once; the members are told in their language; the card says who decided."""
    actor = query.from_user.id if query.from_user else 0
    try:
        organisation = await organisations.decide(
            session,
            callback_data.organisation_id,
            callback_data.verify,
            actor_id=actor,
            actor_name=actor_name(query),
        )
    except NotAsked:
        callback_answer.text = _("This organisation no longer exists.")
        return
    except AlreadyDecided as decided:
        callback_answer.text = _("Already decided: {name}").format(
            name=organisation_label(decided.organisation)
        )
        return
    for member in await organisations.members(session, organisation.id):
        if member.telegram_id is None or not member.active:
            continue
        with i18n.use_locale(member.locale):
            text = (
                _("✓ {name} is verified by the city's coordinators: you now act on its behalf.")
                if organisation.verified
                else _(
                    "The coordinators could not verify {name}. You go on acting in your own name; "
                    "you may ask again from /organisation."
                )
            ).format(name=organisation_label(organisation))
        await enqueue(
            session, TextMessage(chat_id=member.telegram_id, text=text, user_id=member.id)
        )
    line = (_("✓ Verified by {who}.") if organisation.verified else _("Refused by {who}.")).format(
        who=isolate_here(html.quote(actor_name(query)))
    )
    if isinstance(query.message, Message):
        await show(query, f"{query.message.html_text}\n\n<b>{line}</b>")


# -- look-alikes


@router.message(Command("organisations"))
async def organisations_command(message: Message, session: AsyncSession) -> None:
    """Organisations waiting for verification, then names typed alike, each group with Merge /
    Keep apart."""
    waiting = await organisations.waiting(session)
    groups = await organisations.look_alikes(session)
    lines = [_("<b>Organisations</b>")]
    if waiting:
        lines.append(_("Waiting for verification:"))
        lines += [f"• {html.quote(o.name)}" for o in waiting]
    if not groups:
        lines.append(_("No organisations share a name."))
        await message.answer("\n".join(lines))
        return
    await message.answer("\n".join(lines))
    for group in groups[:10]:
        counts = [await organisations.member_count(session, o.id) for o in group]
        text = "\n".join(
            [_("These organisations have the same name:")]
            + [
                f"• {organisation_label(o)} — " + _("{count} member(s)").format(count=count)
                for o, count in zip(group, counts, strict=True)
            ]
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Merge them"),
                        callback_data=MergeCb(organisation_id=group[0].id, merge=True).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("Keep apart"),
                        callback_data=MergeCb(organisation_id=group[0].id, merge=False).pack(),
                    ),
                ]
            ]
        )
        await message.answer(text, reply_markup=markup)


@router.callback_query(MergeCb.filter())
async def merge_pressed(
    query: CallbackQuery,
    callback_data: MergeCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
) -> None:
    group = await organisations.group_of(session, callback_data.organisation_id)
    if len(group) < 2:
        callback_answer.text = _("Already decided.")
        return
    actor = query.from_user.id if query.from_user else 0
    if callback_data.merge:
        kept = await organisations.merge(
            session, group, actor_id=actor, actor_name=actor_name(query)
        )
        text = _("Merged into {name}: its members are together now.").format(
            name=organisation_label(kept)
        )
    else:
        organisations.keep_apart(session, group, actor_id=actor)
        text = _("Kept apart: they will not be offered again.")
    await show(query, text)


# -- the map of gaps


@router.message(Command("gaps"))
async def gaps_command(message: Message, session: AsyncSession, i18n: I18n) -> None:
    """Where needs were reported, against the initiatives and organisations acting there; the
    places with no answer first."""
    found = await organisations.gaps(session)
    if not found:
        await message.answer(_("No open need reported: no gap to show."))
        return
    lines = [
        _("<b>Map of gaps</b>"),
        _(
            "Open needs · published initiatives · active organisations, by arrondissement "
            "and theme."
        ),
        "",
    ]
    locale = i18n.current_locale
    for gap in found[:40]:
        mark = "🔴" if gap.answered == 0 else "🟢"
        place = arrondissement_label(gap.arrondissement)
        lines.append(
            f"{mark} {place} · {html.quote(theme_label(gap.theme, locale))}: "
            + _(
                "{needs} need(s) · {initiatives} initiative(s) · {organisations} organisation(s)"
            ).format(needs=gap.needs, initiatives=gap.initiatives, organisations=gap.organisations)
        )
    await message.answer("\n".join(lines))
    order = sorted({gap.theme for gap in found})
    words = GapsTexts(
        title=_("Map of gaps"),
        cell=_("In each cell: open needs / initiatives and organisations acting there"),
        key=(_("no answer"), _("fewer answers than needs"), _("answered")),
        places={number: arrondissement_short(number) for number in range(17)},
        themes=[theme_label(theme, locale) for theme in order],
    )
    picture = await asyncio.to_thread(gaps_png, found, order, words)
    key = [
        _(
            "In each cell: open needs / initiatives and organisations acting there. Red: no "
            "answer; orange: fewer answers than needs; green: answered. Rows: arrondissements."
        )
    ]
    await message.answer_photo(
        BufferedInputFile(picture, filename="gaps.png"), caption=cut_caption("\n".join(key))[0]
    )
