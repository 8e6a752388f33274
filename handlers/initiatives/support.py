"""What a published initiative's card lets people do: support it, follow it, offer their help
(the carriers accept or decline; contacts are exchanged only then, offering being the helper's
consent and accepting the carrier's), and share it; and what its carriers do: post news to its
followers and helpers, read the offers of help, mark it completed, withdraw it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import format_when, ngettext
from handlers.draft import Draft
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.initiatives.browse import card_keyboard, show_card, supporters_line
from handlers.initiatives.callbacks import (
    BrowseBy,
    BrowseCb,
    GatherAction,
    GatherCb,
    HelpAnswerCb,
    HelpKindCb,
)
from handlers.initiatives.cards import public_card
from handlers.initiatives.keyboards import help_answer_keyboard, help_kinds_keyboard
from handlers.initiatives.notices import quote
from handlers.menu import menu_keyboard
from handlers.texts import contact_link, explain_rejection, stale_button
from handlers.ui import show
from storage import initiative_support as gather
from storage.challenges import CONTRIBUTION_KINDS
from storage.initiatives import reference
from storage.models import (
    HelpStatus,
    Initiative,
    InitiativeFollow,
    InitiativeStatus,
    InitiativeSupport,
    User,
)
from storage.outbox import NEWS, TEXT_LIMIT, TextMessage, enqueue, enqueue_many
from storage.privacy import has_current_notice, initiative_subject, person_subject
from storage.texts import TextRejected

router = Flow("initiatives-support")


class Gathering(StatesGroup):
    typing_help = State()
    typing_news = State()


@dataclass
class GatheringDraft(Draft, key="gathering"):
    """The initiative helped or given news of, and the kind of help offered."""

    initiative_id: int = 0  # none: refused, as for an initiative gone
    kind: str = ""


def back_of(message: object) -> BrowseCb:
    """The list a card was opened from, read back from its «Back to the list» button."""
    markup = message.reply_markup if isinstance(message, Message) else None
    for row in markup.inline_keyboard if markup else []:
        for button in row:
            try:
                return BrowseCb.unpack(button.callback_data or "")
            except (TypeError, ValueError):
                continue
    return BrowseCb(by=BrowseBy.all)


def refusal(error: gather.SupportError) -> str:
    if isinstance(error, gather.OwnInitiative):
        return _("This is your own initiative.")
    if isinstance(error, gather.NotCarrier):
        return _("Only the people who carry this initiative can do this.")
    if isinstance(error, gather.AlreadyOffered):
        return _("You have already offered your help to this initiative.")
    if isinstance(error, gather.AlreadyAnswered):
        return _("This offer has already been answered.")
    return _("This initiative is no longer published.")


async def card_again(
    query: CallbackQuery, session: AsyncSession, user: User, initiative_id: int
) -> None:
    initiative = await session.get(Initiative, initiative_id)
    assert initiative is not None
    standing = await gather.standing(session, initiative, user)
    await show_card(query, initiative, user, back_of(query.message), standing)


@router.callback_query(GatherCb.filter())
async def gather_pressed(
    query: CallbackQuery,
    callback_data: GatherCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """One of the card's buttons: done at once (support, follow, complete, withdraw), or a
    question asked (which help, which news)."""
    initiative_id, action = callback_data.initiative_id, callback_data.action
    if not has_current_notice(user):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    try:
        if action in (GatherAction.support, GatherAction.follow):
            model = InitiativeSupport if action is GatherAction.support else InitiativeFollow
            now = await gather.toggle(session, model, initiative_id, user)
            callback_answer.text = {
                (GatherAction.support, True): _("Thank you for your support!"),
                (GatherAction.support, False): _("Your support is withdrawn."),
                (GatherAction.follow, True): _("You will receive its news."),
                (GatherAction.follow, False): _("You will no longer receive its news."),
            }[(action, now)]
            await card_again(query, session, user, initiative_id)
        elif action is GatherAction.help:
            await ask_help(query, session, user, initiative_id)
        elif action is GatherAction.news:
            initiative = await gather.carried(session, initiative_id, user)
            await state.set_state(Gathering.typing_news)
            await GatheringDraft(initiative.id).save(state)
            await show(query, news_question(initiative))
        elif action is GatherAction.offers:
            initiative = await gather.carried(session, initiative_id, user)
            await show_offers(query, session, initiative)
        elif action is GatherAction.complete:
            initiative = await gather.complete(session, initiative_id, user)
            await show(
                query,
                _("“{title}” is marked as completed. Thank you for what you did!").format(
                    title=quote(initiative.title)
                ),
                menu_keyboard(user),
            )
        elif action is GatherAction.withdraw:
            initiative = await gather.withdraw(session, initiative_id, user)
            await show(
                query,
                _("“{title}” is withdrawn: it is no longer shown to anyone.").format(
                    title=quote(initiative.title)
                ),
                menu_keyboard(user),
            )
        else:
            await share(query, session, initiative_id)
    except gather.SupportError as error:
        callback_answer.text = refusal(error)
        callback_answer.show_alert = True


# -- help


async def ask_help(
    query: CallbackQuery, session: AsyncSession, user: User, initiative_id: int
) -> None:
    initiative = await session.get(Initiative, initiative_id)
    standing = await gather.standing(session, initiative, user) if initiative else None
    if initiative is None or standing is None or standing.carrier:
        raise gather.OwnInitiative(initiative_id)
    if standing.offered:
        raise gather.AlreadyOffered(initiative_id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("How would you like to help “{title}”?").format(title=quote(initiative.title)),
            reply_markup=help_kinds_keyboard(initiative.id),
        )


@router.callback_query(HelpKindCb.filter())
async def help_kind_chosen(
    query: CallbackQuery,
    callback_data: HelpKindCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Keeps the kind of help, then asks for a few words about it."""
    if not has_current_notice(user) or callback_data.kind not in CONTRIBUTION_KINDS:
        callback_answer.text = stale_button()
        return
    await state.set_state(Gathering.typing_help)
    await GatheringDraft(callback_data.initiative_id, callback_data.kind).save(state)
    await show(
        query,
        _(
            "In a few words, what would you offer? If they accept, the people who carry the "
            "initiative will receive a link to write to you, and you one to write to them."
        ),
    )


@router.message(Gathering.typing_help, NotCommand())
async def help_typed(
    message: Message,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Records the offer and sends it to the carriers, with Accept and Decline."""
    draft = await GatheringDraft.load(state)
    try:
        text = gather.clean_help_text(message.text)
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        return
    await state.clear()
    try:
        offer = await gather.offer_help(session, draft.initiative_id, user, draft.kind, text)
    except gather.SupportError as error:
        await message.answer(refusal(error), reply_markup=menu_keyboard(user))
        return
    initiative = await session.get(Initiative, offer.initiative_id)
    assert initiative is not None
    for carrier in await gather.carriers_of(session, initiative):
        if carrier.telegram_id is None:
            continue
        with i18n.use_locale(carrier.locale):
            notice = _(
                "Someone offers to help “{title}” ({reference}): {kind}\n“{text}”\n\n"
                "If you accept, you will each receive a link to write to the other."
            ).format(
                title=quote(initiative.title),
                reference=reference(initiative),
                kind=_(CONTRIBUTION_KINDS[offer.kind]),
                text=html.quote(text),
            )
            markup = help_answer_keyboard(offer.id).model_dump(exclude_none=True)
        await enqueue(
            session,
            TextMessage(
                chat_id=carrier.telegram_id,
                user_id=carrier.id,
                text=notice,
                reply_markup=markup,
                subject=person_subject(user.id),
            ),
        )
    await message.answer(
        _("Thank you! Your offer is sent; you will be told their answer."),
        reply_markup=menu_keyboard(user),
    )


@router.callback_query(HelpAnswerCb.filter())
async def help_answered(
    query: CallbackQuery,
    callback_data: HelpAnswerCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    user: User,
) -> None:
    """A carrier accepts (both receive the other's contact) or declines (the helper is told)."""
    try:
        offer, initiative, helper = await gather.answer_help(
            session, callback_data.offer_id, user, callback_data.accept
        )
    except gather.SupportError as error:
        callback_answer.text = refusal(error)
        callback_answer.show_alert = True
        return
    accepted = offer.status is HelpStatus.accepted
    if helper.telegram_id is not None:
        with i18n.use_locale(helper.locale):
            title = quote(initiative.title)
            if accepted and user.telegram_id is not None:
                text = _(
                    "Your offer to help “{title}” is accepted! You can {link} to agree on what "
                    "comes next."
                ).format(title=title, link=contact_link(user.telegram_id))
            else:
                text = _("Your offer to help “{title}” was declined, with thanks.").format(
                    title=title
                )
        await enqueue(
            session,
            TextMessage(
                chat_id=helper.telegram_id,
                user_id=helper.id,
                text=text,
                subject=person_subject(user.id) if accepted else None,
            ),
        )
    if accepted and helper.telegram_id is not None:
        answer = _("Accepted. You can {link}.").format(link=contact_link(helper.telegram_id))
    else:
        answer = _("Declined: they will be told, kindly.")
    message = query.message
    if not isinstance(message, Message):
        await show(query, answer)
        return
    # The offer (or the list of offers) stays readable, without this offer's buttons; the
    # answer comes below it.
    rows = message.reply_markup.inline_keyboard if message.reply_markup else []
    kept = [row for row in rows if not any(answers_offer(b, offer.id) for b in row)]
    await message.edit_reply_markup(
        reply_markup=InlineKeyboardMarkup(inline_keyboard=kept) if kept else None
    )
    await message.answer(answer)


def answers_offer(button: InlineKeyboardButton, offer_id: int) -> bool:
    try:
        return HelpAnswerCb.unpack(button.callback_data or "").offer_id == offer_id
    except (TypeError, ValueError):
        return False


async def show_offers(query: CallbackQuery, session: AsyncSession, initiative: Initiative) -> None:
    offers = await gather.offers_of(session, initiative)
    if not offers:
        await show(query, _("Nobody has offered help yet."))
        return
    states = {
        HelpStatus.offered: _("waiting for your answer"),
        HelpStatus.accepted: _("accepted"),
        HelpStatus.declined: _("declined"),
    }
    lines = [_("<b>Offers of help</b> · “{title}”").format(title=quote(initiative.title)), ""]
    rows = []
    for offer in offers[:20]:
        kind = _(CONTRIBUTION_KINDS.get(offer.kind, offer.kind))
        words = html.quote(offer.text or "")
        lines.append(f"• {kind} — {states[offer.status]}\n  «{words}»")
        if offer.status is HelpStatus.offered:
            rows += help_answer_keyboard(offer.id).inline_keyboard
    await show(query, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) or None)


# -- news


def news_question(initiative: Initiative) -> str:
    return _(
        "Type the news to send to the people who follow or help “{title}”. "
        "You can post news once a day."
    ).format(title=quote(initiative.title))


@router.message(Gathering.typing_news, NotCommand())
async def news_typed(
    message: Message,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Sends the news through the outbox to followers and helpers, each in their language;
    they wait for the end of the quiet hours, and STOP withholds them."""
    draft = await GatheringDraft.load(state)
    try:
        text = gather.clean_news(message.text)
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        return
    await state.clear()
    initiative_id = draft.initiative_id
    try:
        people = await gather.news_recipients(session, initiative_id, user)
    except gather.TooSoon as soon:
        await message.answer(
            _("You can post news again from {when}.").format(
                when=format_when(soon.next_at, user.locale, settings.timezone)
            ),
            reply_markup=menu_keyboard(user),
        )
        return
    except gather.SupportError as error:
        await message.answer(refusal(error), reply_markup=menu_keyboard(user))
        return
    initiative = await session.get(Initiative, initiative_id)
    assert initiative is not None
    heads: dict[str, str] = {}
    for person in people:
        if person.locale not in heads:
            with i18n.use_locale(person.locale):
                heads[person.locale] = _("News from “{title}”:").format(
                    title=quote(initiative.title)
                )
    await enqueue_many(
        session,
        (
            TextMessage(
                chat_id=person.telegram_id,
                user_id=person.id,
                kind=NEWS,
                subject=initiative_subject(initiative.id),
                text=f"{heads[person.locale]}\n\n{html.quote(text)}",
            )
            for person in people
            if person.telegram_id is not None
        ),
    )
    await message.answer(
        ngettext(
            "Your news is on its way to {count} person.",
            "Your news is on its way to {count} people.",
            len(people),
        ).format(count=len(people))
        if people
        else _("Nobody follows this initiative yet: your news was not sent."),
        reply_markup=menu_keyboard(user),
    )


# -- share


async def share(query: CallbackQuery, session: AsyncSession, initiative_id: int) -> None:
    """The initiative's link, to forward or copy, and a poster to print with its QR code."""
    initiative = await session.get(Initiative, initiative_id)
    if initiative is None or query.bot is None or not isinstance(query.message, Message):
        raise gather.NotPublished(initiative_id)
    me = await query.bot.me()
    link = gather.deep_link(me.username or "", initiative)
    title = quote(initiative.title)
    await query.message.answer(
        _(
            "Share “{title}”: whoever opens this link sees its card in La Collective.\n{link}"
        ).format(title=title, link=html.quote(link)),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    # Drawing loads Pillow and segno, and takes tens of milliseconds: only when asked, and
    # not on the event loop.
    from storage.posters import challenge_poster

    png = await asyncio.to_thread(challenge_poster, initiative.title, link)
    await query.message.answer_photo(
        BufferedInputFile(png, filename=f"initiative-{initiative.id}.png"),
        caption=_("A poster to print for “{title}”.").format(title=title),
    )


async def open_from_link(
    message: Message, session: AsyncSession, user: User, payload: str
) -> bool:
    """`/start i_<id>` (a shared link or poster): the published initiative's card. False when
    the payload names no published initiative."""
    initiative_id = gather.parse_start_payload(payload)
    initiative = await session.get(Initiative, initiative_id) if initiative_id else None
    if initiative is None or initiative.status is not InitiativeStatus.approved:
        return False
    standing = await gather.standing(session, initiative, user)
    markup = card_keyboard(initiative, user, BrowseCb(by=BrowseBy.all), standing)
    text = public_card(initiative, user.locale, limit=TEXT_LIMIT - 40)
    await message.answer(f"{text}\n👍 {supporters_line(standing.supports)}", reply_markup=markup)
    return True
