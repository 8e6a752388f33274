"""Messages about initiatives sent outside the current reply — to the coordinators' group and
to authors — each in its recipient's language, through the outbox."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from bot.i18n import format_when
from handlers.bidi import isolate_here
from handlers.initiatives.cards import public_card, shorten
from handlers.initiatives.keyboards import moderation_keyboard, resubmit_keyboard
from handlers.profile.labels import arrondissement_label, role_label
from handlers.texts import contact_link
from storage.initiatives import reference
from storage.models import Initiative, InitiativeStatus, User
from storage.outbox import CAPTION_LIMIT, PhotoMessage, TextMessage, enqueue, utf16_len
from storage.privacy import initiative_subject, proposal_shares_contact, shares_contact


def quote(text: str, limit: int = 80) -> str:
    """What someone typed, shortened, escaped, and isolated in the locale being written
    (handlers/bidi.py): write it where that locale is set."""
    return isolate_here(html.quote(shorten(text, limit)))


def look_alikes_text(look_alikes: Sequence[Initiative]) -> str:
    lines = [
        f"• {quote(initiative.title)} ({reference(initiative)})" for initiative in look_alikes
    ]
    intro = _(
        "Similar initiatives already exist. Rather than starting a new one, you could support "
        "one of them:"
    )
    return "\n".join([intro, "", *lines])


def proposer_line(initiative: Initiative, proposer: User) -> str:
    """Who proposed it, as coordinators see it; their Telegram contact only with consent."""
    who = role_label(proposer.role) if proposer.role else "—"
    if proposer.arrondissement is not None:
        who = f"{who}, {arrondissement_label(proposer.arrondissement)}"
    line = _("Proposed by: {who}").format(who=who)
    shared = proposal_shares_contact(proposer.contact_consent_at, initiative.contact_consent)
    if shared and proposer.telegram_id is not None:
        link = contact_link(proposer.telegram_id)
        line = f"{line} — {link}"
    return line


def moderation_text(initiative: Initiative, proposer: User, locale: str, limit: int) -> str:
    """The card coordinators decide from; its reference once, in its first line. A revised
    proposal says what the coordinators had asked."""
    head = _("<b>New proposal to review</b> ({reference})").format(reference=reference(initiative))
    asked: list[str] = []
    if initiative.status is InitiativeStatus.pending and initiative.decided_at is not None:
        head = _("<b>Revised proposal to review</b> ({reference})").format(
            reference=reference(initiative)
        )
        if initiative.reason:
            asked = [_("Changes asked: {reason}").format(reason=quote(initiative.reason, 300))]
    extra = [proposer_line(initiative, proposer)]
    if initiative.latitude is not None:
        extra.append(
            _("Location: {lat:.5f}, {lon:.5f}").format(
                lat=initiative.latitude, lon=initiative.longitude
            )
        )
    room = limit - 300 - sum(utf16_len(line) for line in asked)
    card = public_card(initiative, locale, room, with_reference=False)
    return "\n".join([head, *asked, "", card, "", *extra])


async def moderation_card(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    initiative: Initiative,
    proposer: User,
) -> None:
    """The card coordinators decide from, in the group's language."""
    if coordinators_chat.id is None:
        return
    locale = settings.group_locale
    with i18n.use_locale(locale):
        markup = moderation_keyboard(initiative.id).model_dump(exclude_none=True)
        if initiative.photo_file_id:
            await enqueue(
                session,
                PhotoMessage(
                    chat_id=coordinators_chat.id,
                    picture=initiative.photo_file_id,
                    caption=moderation_text(initiative, proposer, locale, CAPTION_LIMIT),
                    reply_markup=markup,
                    subject=initiative_subject(initiative.id),
                ),
            )
        else:
            await enqueue(
                session,
                TextMessage(
                    chat_id=coordinators_chat.id,
                    text=moderation_text(initiative, proposer, locale, 4096),
                    reply_markup=markup,
                    subject=initiative_subject(initiative.id),
                ),
            )


def decided_line(
    initiative: Initiative, locale: str, settings: Settings, reason_limit: int = 500
) -> str:
    """The line added to a card once it is decided, so that nobody decides it twice."""
    moment = initiative.decided_at
    when = format_when(moment, locale, settings.timezone) if moment else ""
    who = html.quote(initiative.decided_by_name or "")
    text = {
        InitiativeStatus.approved: _("✅ Approved by {who} on {when}"),
        InitiativeStatus.rejected: _("❌ Rejected by {who} on {when}"),
        InitiativeStatus.changes_requested: _("✏️ Changes asked by {who} on {when}"),
        InitiativeStatus.hidden: _("🚫 Hidden by {who} on {when}"),
        InitiativeStatus.pending: _("⏳ Waiting again since {when}"),
        InitiativeStatus.withdrawn: _("Withdrawn at its author's request"),
    }[initiative.status].format(who=who, when=when)
    if initiative.reason and initiative.status is not InitiativeStatus.approved:
        text += "\n" + _("Reason: {reason}").format(reason=quote(initiative.reason, reason_limit))
    return text


async def decision_to_author(
    session: AsyncSession, i18n: I18n, initiative: Initiative, author: User
) -> None:
    """Tells the author what was decided, in their language; after a request for changes,
    with a button to edit and send again."""
    if author.telegram_id is None or not author.active:
        return
    markup = None
    with i18n.use_locale(author.locale):
        title, ref = quote(initiative.title), isolate_here(reference(initiative))
        reason = quote(initiative.reason or "", 500)
        if initiative.status is InitiativeStatus.approved:
            text = _(
                "Good news: your initiative “{title}” ({reference}) has been approved. It is now "
                "visible to everyone on La Collective."
            ).format(title=title, reference=ref)
        elif initiative.status is InitiativeStatus.rejected:
            text = _(
                "Your proposal “{title}” ({reference}) was not accepted. The coordinators "
                "explain: {reason}"
            ).format(title=title, reference=ref, reason=reason)
        else:
            text = _(
                "The coordinators ask for changes to your proposal “{title}” ({reference}): "
                "{reason}\n\nYou can edit it and send it again."
            ).format(title=title, reference=ref, reason=reason)
            markup = resubmit_keyboard(initiative.id).model_dump(exclude_none=True)
    await enqueue(
        session,
        TextMessage(chat_id=author.telegram_id, text=text, reply_markup=markup, user_id=author.id),
    )


async def support_offered(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    initiative: Initiative,
    supporter: User,
) -> None:
    """Someone backs an existing initiative rather than proposing a look-alike."""
    author = await session.get(User, initiative.proposer_id)
    if author is not None and author.telegram_id is not None and author.active:
        with i18n.use_locale(author.locale):
            text = _(
                "Someone who was about to propose a similar initiative would like to support "
                "“{title}” ({reference}). The city's coordinators can put you in touch."
            ).format(title=quote(initiative.title), reference=reference(initiative))
        await enqueue(
            session, TextMessage(chat_id=author.telegram_id, text=text, user_id=author.id)
        )
    if coordinators_chat.id is not None:
        with i18n.use_locale(settings.group_locale):
            who = role_label(supporter.role) if supporter.role else "—"
            text = _(
                "A participant ({who}) would like to support “{title}” ({reference}) instead of "
                "proposing a similar initiative."
            ).format(who=who, title=quote(initiative.title), reference=reference(initiative))
            if shares_contact(supporter) and supporter.telegram_id is not None:
                text += "\n" + contact_link(supporter.telegram_id)
        await enqueue(
            session,
            TextMessage(
                chat_id=coordinators_chat.id,
                text=text,
                subject=initiative_subject(initiative.id),
            ),
        )
