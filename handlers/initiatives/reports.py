"""Reports on published initiatives. A participant flags one; in the coordinators' group it is
hidden or kept; the author may contest a hiding once, and it is restored or kept hidden.

Messages outside the current reply (to the group, to the author) go through the outbox, in the
recipient's language. Every button is checked again here: who pressed, where, and whether the
initiative still allows it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from bot.i18n import format_when, ngettext
from handlers.bidi import isolate_here
from handlers.draft import Draft
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.initiatives.browse import hiding_reasons, reason_label, replace
from handlers.initiatives.callbacks import CardCb, ContestCb, HideCb, ReportCb, RestoreCb
from handlers.initiatives.cards import public_card, shorten
from handlers.initiatives.states import Contest
from handlers.menu import MenuAction, MenuCb, menu_keyboard
from handlers.texts import explain_rejection, stale_button
from handlers.ui import show
from storage import initiatives
from storage.initiative_support import is_carrier
from storage.initiatives import AlreadyDecided, NotAllowed, OwnInitiative, reference
from storage.models import (
    Initiative,
    InitiativeStatus,
    ReportReason,
    User,
    utcnow,
)
from storage.outbox import TextMessage, enqueue
from storage.privacy import has_current_notice, initiative_subject
from storage.texts import TextRejected

router = Flow("initiative-reports")
# The coordinators' decisions on reports and contests. Their buttons answer wherever they are
# pressed, so that a forged one is refused.
decisions = Flow("initiative-report-decisions")

GROUP_CARD_LIMIT = 2500


class Told(enum.StrEnum):
    hidden = "hidden"
    restored = "restored"
    kept_hidden = "kept_hidden"


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def title_of(initiative: Initiative) -> str:
    return isolate_here(html.quote(shorten(initiative.title, 80)))


def no_longer_published() -> str:
    return _("This initiative is no longer published.")


def own_initiative() -> str:
    return _(
        "This initiative is yours: only other people can report it. Its card lets you give "
        "news of it, mark it completed or withdraw it."
    )


# -- A participant reports


def reasons_keyboard(initiative_id: int) -> InlineKeyboardMarkup:
    rows = [
        [_button(reason_label(r), ReportCb(initiative_id=initiative_id, reason=r).pack())]
        for r in ReportReason
    ]
    rows.append([_button(_("Cancel"), CardCb(initiative_id=initiative_id).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def reported_keyboard(initiative_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("← Back to the initiative"), CardCb(initiative_id=initiative_id).pack())],
            [_button(_("Initiatives"), MenuCb(action=MenuAction.browse).pack())],
        ]
    )


@router.callback_query(ReportCb.filter())
async def report_pressed(
    query: CallbackQuery,
    callback_data: ReportCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    user: User,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Without a reason, asks for one; with one, stores the report (once per person) and puts
    it before the coordinators."""
    if not has_current_notice(user):
        callback_answer.text = _(
            "To report an initiative, please join La Collective first: send /start."
        )
        callback_answer.show_alert = True
        return
    initiative = await initiatives.get_initiative(session, callback_data.initiative_id)
    if initiative is None or initiative.status is not InitiativeStatus.approved:
        callback_answer.text = no_longer_published()
        callback_answer.show_alert = True
        return
    if await is_carrier(session, initiative, user):
        # Not offered on their card: an old or forged button.
        callback_answer.text = own_initiative()
        callback_answer.show_alert = True
        return
    if callback_data.reason is None:
        question = _("Why are you reporting “{title}”?").format(title=title_of(initiative))
        await replace(query, question, reasons_keyboard(initiative.id))
        return
    try:
        entry = await initiatives.report(session, initiative.id, user, callback_data.reason)
    except OwnInitiative:
        callback_answer.text = own_initiative()
        callback_answer.show_alert = True
        return
    except NotAllowed:
        callback_answer.text = no_longer_published()
        callback_answer.show_alert = True
        return
    if entry is None:
        text = _(
            "Thank you: you had already reported this initiative. The city's coordinators will "
            "look at it."
        )
    else:
        await tell_group_reported(
            session, i18n, settings, coordinators_chat, initiative, callback_data.reason
        )
        text = _(
            "Thank you for your report. The city's coordinators will look at this initiative."
        )
    await replace(query, text, reported_keyboard(initiative.id))


async def tell_group_reported(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    initiative: Initiative,
    reason: ReportReason,
) -> None:
    if coordinators_chat.id is None:
        return
    count = await initiatives.report_count(session, initiative.id)
    locale = settings.group_locale
    with i18n.use_locale(locale):
        times = ngettext(
            "It has been reported {count} time.", "It has been reported {count} times.", count
        )
        text = "\n".join(
            [
                _("⚠️ <b>Initiative reported</b> ({reference})").format(
                    reference=reference(initiative)
                ),
                _("Reason: {reason}").format(reason=reason_label(reason)),
                times.format(count=count),
                "",
                public_card(initiative, locale, GROUP_CARD_LIMIT, with_reference=False),
            ]
        )
        buttons = [
            _button(_("Hide"), HideCb(initiative_id=initiative.id, hide=True).pack()),
            _button(_("Keep"), HideCb(initiative_id=initiative.id, hide=False).pack()),
        ]
        markup = InlineKeyboardMarkup(inline_keyboard=[buttons])
    await enqueue(
        session,
        TextMessage(
            chat_id=coordinators_chat.id,
            text=text,
            reply_markup=markup.model_dump(exclude_none=True),
            subject=initiative_subject(initiative.id),
        ),
    )


# -- Coordinators decide, in their group


def actor_name(query: CallbackQuery) -> str:
    return query.from_user.full_name


def in_group(
    query: CallbackQuery, callback_answer: CallbackAnswer, coordinators_chat: CoordinatorsChat
) -> bool:
    """Pressed in the coordinators' group (by a coordinator: their router's gate saw to it);
    elsewhere, refused."""
    if query.message is not None and query.message.chat.id == coordinators_chat.id:
        return True
    callback_answer.text = _("This button works only in the coordinators' group.")
    callback_answer.show_alert = True
    return False


def already_handled(callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This has already been handled: nothing was changed.")
    callback_answer.show_alert = True


async def close_message(query: CallbackQuery, line: str) -> None:
    """Says on the group's message who acted and when, and removes its buttons."""
    message = query.message
    if isinstance(message, Message) and message.text is not None:
        await show(query, f"{message.html_text}\n\n{line}")


def signed(template: str, query: CallbackQuery, settings: Settings) -> str:
    when = format_when(utcnow(), settings.group_locale, settings.timezone)
    return template.format(who=html.quote(actor_name(query)), when=when)


@decisions.callback_query(HideCb.filter())
async def reports_settled(
    query: CallbackQuery,
    callback_data: HideCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Hide: out of browsing at once, the author told and offered to contest. Keep: the
    reports set aside. Either way, once."""
    if not in_group(query, callback_answer, coordinators_chat):
        return
    try:
        initiative = await initiatives.settle_reports(
            session,
            callback_data.initiative_id,
            hiding=callback_data.hide,
            actor_id=query.from_user.id,
            actor_name=actor_name(query),
        )
    except (LookupError, AlreadyDecided):
        already_handled(callback_answer)
        return
    if callback_data.hide:
        await tell_author(session, i18n, initiative, Told.hidden)
        await close_message(query, signed(_("🚫 Hidden by {who} on {when}."), query, settings))
        callback_answer.text = _("Done: the author has been told.")
    else:
        line = _("✅ Kept by {who} on {when}: the reports were set aside.")
        await close_message(query, signed(line, query, settings))
        callback_answer.text = _("Done.")


@decisions.callback_query(RestoreCb.filter())
async def contest_settled(
    query: CallbackQuery,
    callback_data: RestoreCb,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    session: AsyncSession,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """After a contest: restored, or kept hidden; the author is told either way."""
    if not in_group(query, callback_answer, coordinators_chat):
        return
    try:
        initiative = await initiatives.settle_contest(
            session,
            callback_data.initiative_id,
            restoring=callback_data.restore,
            actor_id=query.from_user.id,
            actor_name=actor_name(query),
        )
    except (LookupError, AlreadyDecided):
        already_handled(callback_answer)
        return
    if callback_data.restore:
        await tell_author(session, i18n, initiative, Told.restored)
        line = _("↩️ Restored by {who} on {when}.")
    else:
        await tell_author(session, i18n, initiative, Told.kept_hidden)
        line = _("🚫 Kept hidden by {who} on {when}.")
    await close_message(query, signed(line, query, settings))
    callback_answer.text = _("Done: the author has been told.")


def author_text(told: Told, initiative: Initiative) -> str:
    title, ref = title_of(initiative), isolate_here(reference(initiative))
    if told is Told.hidden:
        return _(
            "Your initiative “{title}” ({reference}) has been hidden by the city's coordinators "
            "after reports from participants. Reason: {reason}.\n\nIf you think this is a "
            "mistake, you can contest this decision once: press “Contest” and explain why."
        ).format(title=title, reference=ref, reason=hiding_reasons(initiative.reason or ""))
    if told is Told.restored:
        return _(
            "Good news: after reading your explanation, the coordinators have restored your "
            "initiative “{title}” ({reference}). It is visible to everyone again."
        ).format(title=title, reference=ref)
    return _(
        "After reading your explanation, the coordinators have decided to keep your initiative "
        "“{title}” ({reference}) hidden. Thank you for your understanding."
    ).format(title=title, reference=ref)


async def tell_author(
    session: AsyncSession, i18n: I18n, initiative: Initiative, told: Told
) -> None:
    author = await session.get(User, initiative.proposer_id)
    if author is None or author.telegram_id is None or not author.active:
        return
    markup = None
    with i18n.use_locale(author.locale):
        text = author_text(told, initiative)
        if told is Told.hidden:
            button = _button(_("Contest"), ContestCb(initiative_id=initiative.id).pack())
            markup = InlineKeyboardMarkup(inline_keyboard=[[button]]).model_dump(exclude_none=True)
    await enqueue(
        session,
        TextMessage(chat_id=author.telegram_id, text=text, reply_markup=markup, user_id=author.id),
    )


# -- The author contests a hiding, once


@dataclass
class ContestDraft(Draft, key="contest"):
    initiative_id: int = 0  # none: the dialog is stale


def already_contested() -> str:
    return _("You have already contested this decision: the coordinators have your explanation.")


def explanation_question(initiative: Initiative) -> str:
    return "\n\n".join(
        [
            _(
                "Why should “{title}” ({reference}) be shown again? Please explain in one "
                "message (3 to 500 characters)."
            ).format(title=title_of(initiative), reference=reference(initiative)),
            _(
                "Please do not write sensitive details (health, religion, political opinions) "
                "about yourself or others."
            ),
            _("/cancel to give up."),
        ]
    )


def contestable(initiative: Initiative | None, user: User) -> bool:
    return (
        initiative is not None
        and initiative.proposer_id == user.id
        and initiative.status is InitiativeStatus.hidden
    )


@router.callback_query(ContestCb.filter())
async def contest_pressed(
    query: CallbackQuery,
    callback_data: ContestCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Keeps which initiative is contested, then asks why it should be shown again."""
    initiative = await initiatives.get_initiative(session, callback_data.initiative_id)
    if not contestable(initiative, user):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    assert initiative is not None
    if initiative.contested_at is not None:
        callback_answer.text = already_contested()
        callback_answer.show_alert = True
        return
    await state.set_state(Contest.typing_explanation)
    await ContestDraft(initiative.id).save(state)
    if isinstance(query.message, Message):
        await query.message.answer(explanation_question(initiative))


@router.message(Contest.typing_explanation, NotCommand())
async def explanation_typed(
    message: Message,
    i18n: I18n,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    """Records the contest and puts the explanation before the coordinators, with Restore and
    Keep hidden; the dialog ends. Anything but a fitting text: said, and asked again."""
    draft = await ContestDraft.load(state)
    initiative = await initiatives.get_initiative(session, draft.initiative_id)
    if not contestable(initiative, user):
        await state.clear()
        await message.answer(stale_button(), reply_markup=menu_keyboard(user))
        return
    assert initiative is not None
    if initiative.contested_at is not None:
        await state.clear()
        await message.answer(already_contested(), reply_markup=menu_keyboard(user))
        return
    if message.text is None:
        await message.answer(_("Please type your explanation as a text message."))
        await message.answer(explanation_question(initiative))
        return
    try:
        explanation = initiatives.clean_reason(message.text)
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        return
    try:
        initiative = await initiatives.contest(session, initiative.id, user)
    except NotAllowed:
        await state.clear()
        await message.answer(already_contested(), reply_markup=menu_keyboard(user))
        return
    await tell_group_contested(session, i18n, settings, coordinators_chat, initiative, explanation)
    await state.clear()
    await message.answer(
        _(
            "Thank you. Your explanation has been sent to the city's coordinators; you will be "
            "told of their decision here."
        ),
        reply_markup=menu_keyboard(user),
    )


async def resume_contest(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """After /start or a restart: the question again, or the menu if it no longer applies."""
    draft = await ContestDraft.load(state)
    initiative = await initiatives.get_initiative(session, draft.initiative_id)
    if initiative is None or not contestable(initiative, user) or initiative.contested_at:
        await state.clear()
        await show(target, stale_button(), menu_keyboard(user))
        return
    await show(target, explanation_question(initiative))


async def tell_group_contested(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    initiative: Initiative,
    explanation: str,
) -> None:
    if coordinators_chat.id is None:
        return
    locale = settings.group_locale
    with i18n.use_locale(locale):
        hidden = _("Hidden by {who} on {when}. Reason: {reason}").format(
            who=html.quote(initiative.decided_by_name or "—"),
            when=format_when(initiative.decided_at or utcnow(), locale, settings.timezone),
            reason=hiding_reasons(initiative.reason or ""),
        )
        text = "\n".join(
            [
                _("📣 <b>Hiding contested</b> ({reference})").format(
                    reference=reference(initiative)
                ),
                _("The author asks for “{title}” to be shown again. Their explanation:").format(
                    title=title_of(initiative)
                ),
                f"<i>{html.quote(explanation)}</i>",
                "",
                hidden,
                "",
                public_card(initiative, locale, GROUP_CARD_LIMIT, with_reference=False),
            ]
        )
        buttons = [
            _button(_("Restore"), RestoreCb(initiative_id=initiative.id, restore=True).pack()),
            _button(
                _("Keep hidden"), RestoreCb(initiative_id=initiative.id, restore=False).pack()
            ),
        ]
        markup = InlineKeyboardMarkup(inline_keyboard=[buttons])
    await enqueue(
        session,
        TextMessage(
            chat_id=coordinators_chat.id,
            text=text,
            reply_markup=markup.model_dump(exclude_none=True),
            subject=initiative_subject(initiative.id),
        ),
    )
