"""Alliances: from a challenge's card, a participant sees the other organisations taking part
(never a citizen) and asks to be introduced to one; the one asked accepts or declines, and only
when both agree does each receive the other's contact — through the outbox, each in their own
language. Asking is the requester's consent to share their contact, accepting the target's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import html
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.bidi import isolate_here, isolated, line_start
from handlers.challenges import keyboards
from handlers.challenges.callbacks import AllyAnswerCb, AllyAskCb, AllyListCb
from handlers.challenges.public import (
    answer_below,
    closed_text,
    is_member,
    unavailable,
    visible,
)
from handlers.flow import Flow
from handlers.initiatives.cards import shorten
from handlers.profile.labels import arrondissement_label, role_label
from handlers.texts import contact_link, stale_button
from handlers.ui import show
from storage import alliances, challenges
from storage.challenges import (
    AlreadyAnswered,
    ChallengeClosed,
    ChallengeError,
    ChallengeNotFound,
    NotAllowed,
    NotParticipating,
    activity_label,
    challenge_text,
)
from storage.models import (
    Challenge,
    ChallengeStatus,
    Introduction,
    IntroductionStatus,
    Participation,
    User,
)
from storage.organisations import badged
from storage.outbox import TextMessage, enqueue
from storage.privacy import person_subject

router = Flow("challenges-alliances")

# Five entries of at most ~120 + 200 characters each: a page stays far under 4096.
PAGE_SIZE = 5
BRINGS_LIMIT = 200


# -- who is who


def organisation_name(user: User) -> str:
    return html.quote(badged(user.organisation)) if user.organisation else "—"


def who_label(user: User) -> str:
    """How a participant is named to the other side: their organisation, or only «a citizen»
    and their arrondissement — never a person's name."""
    if user.organisation is not None and user.role is not None and user.role.is_organisation:
        kind = role_label(user.organisation.kind)
        # Isolated in the current (the reader's) locale: a Latin name in an Arabic line.
        return f"<b>{isolate_here(organisation_name(user))}</b> ({kind})"
    if user.arrondissement is None:
        return _("A citizen")
    return _("A citizen ({place})").format(place=arrondissement_label(user.arrondissement))


def brings_lines(participation: Participation, challenge: Challenge, locale: str) -> list[str]:
    """«Skills · Digital help» and what they wrote, escaped and cut."""
    parts = [keyboards.kind_label(participation.kind)]
    activity = next(
        (a for a in challenge.activities if a.get("code") == participation.activity), None
    )
    if activity is not None:
        parts.append(html.quote(activity_label(activity, locale)))
    lines = [_("Brings: {what}").format(what=" · ".join(parts))]
    if participation.text:
        lines.append(f"<i>{html.quote(shorten(participation.text, BRINGS_LIMIT))}</i>")
    return lines


def reachable(user: User | None) -> bool:
    return user is not None and user.telegram_id is not None and user.active


async def standings(
    session: AsyncSession, challenge_id: int, user: User
) -> dict[int, IntroductionStatus]:
    """Where the person stands with each other participant on this challenge: «accepted» when
    they were introduced (whoever asked), else the status of the person's own request."""
    rows = await session.scalars(
        select(Introduction).where(
            Introduction.challenge_id == challenge_id,
            or_(Introduction.requester_id == user.id, Introduction.target_id == user.id),
        )
    )
    found: dict[int, IntroductionStatus] = {}
    for introduction in rows:
        mine = introduction.requester_id == user.id
        other = introduction.target_id if mine else introduction.requester_id
        if introduction.status is IntroductionStatus.accepted:
            found[other] = IntroductionStatus.accepted
        elif mine and found.get(other) != IntroductionStatus.accepted:
            found[other] = introduction.status
    return found


# -- may the person see the organisations


@dataclass
class Standing:
    challenge: Challenge
    participation: Participation


async def taking_part(session: AsyncSession, challenge_id: int, user: User) -> Standing | str:
    """The challenge and the person's participation, or why they may not meet its
    organisations: gone, closed, or not taking part."""
    challenge = await visible(session, challenge_id)
    if challenge is None:
        return unavailable()
    if challenge.status is not ChallengeStatus.open:
        return closed_text()
    mine = await challenges.participation_of(session, challenge.id, user)
    if mine is None or not is_member(user):
        return _("You are not taking part in this challenge.")
    return Standing(challenge, mine)


def refuse(callback_answer: CallbackAnswer, text: str) -> None:
    callback_answer.text = text
    callback_answer.show_alert = True


# -- the list


@router.callback_query(AllyListCb.filter())
async def organisations_pressed(
    query: CallbackQuery,
    callback_data: AllyListCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    """A page of the other organisations taking part, each with a button to ask to meet it."""
    standing = await taking_part(session, callback_data.challenge_id, user)
    if isinstance(standing, str) or callback_data.page < 0:
        refuse(callback_answer, standing if isinstance(standing, str) else stale_button())
        return
    target = answer_below(query) if callback_data.below else query
    await show_organisations(target, session, user, standing.challenge, callback_data.page)


async def show_organisations(
    query: CallbackQuery | Message,
    session: AsyncSession,
    user: User,
    challenge: Challenge,
    page: int,
) -> None:
    others = await alliances.other_organisations(session, challenge.id, user)
    pages = max(1, -(-len(others) // PAGE_SIZE))
    page = min(page, pages - 1)
    shown = others[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    title = html.quote(challenge_text(challenge, user.locale)[0])
    lines = [
        _("<b>Organisations taking part in “{title}”</b>").format(
            **isolated(user.locale, title=title)
        )
    ]
    if not others:
        lines += [
            "",
            _("No other organisation takes part yet. New ones join as the challenge goes on."),
        ]
    else:
        lines.append(
            _(
                "Ask to be introduced to one: if they accept, you each receive the other's "
                "Telegram contact."
            )
        )
        if pages > 1:
            lines.append(_("page {page}/{pages}").format(page=page + 1, pages=pages))
        where = await standings(session, challenge.id, user)
        for number, (participation, other) in enumerate(shown, start=page * PAGE_SIZE + 1):
            lines += ["", f"{line_start(user.locale)}{number}. {who_label(other)}"]
            lines += brings_lines(participation, challenge, user.locale)
            if where.get(other.id) == IntroductionStatus.accepted:
                lines.append(_("🤝 You have been introduced."))
            elif where.get(other.id) == IntroductionStatus.asked:
                lines.append(_("⏳ Request sent: waiting for their answer."))
    await show(query, "\n".join(lines), list_keyboard(challenge.id, shown, page, pages))


def list_keyboard(
    challenge_id: int, shown: Sequence[tuple[Participation, User]], page: int, pages: int
) -> InlineKeyboardMarkup:
    def button(text: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=shorten(text, keyboards.BUTTON_TEXT), callback_data=data)

    rows = [
        [
            button(
                _("Ask to be introduced to {name}").format(
                    name=badged(other.organisation) if other.organisation else "—"
                ),
                AllyAskCb(challenge_id=challenge_id, target=other.id, page=page).pack(),
            )
        ]
        for _participation, other in shown
    ]
    nav = []
    if page > 0:
        nav.append(
            button(keyboards.PREVIOUS, AllyListCb(challenge_id=challenge_id, page=page - 1).pack())
        )
    if page < pages - 1:
        nav.append(
            button(keyboards.NEXT, AllyListCb(challenge_id=challenge_id, page=page + 1).pack())
        )
    if nav:
        rows.append(nav)
    rows.append([keyboards.card_button(challenge_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def back_keyboard(challenge_id: int, page: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("← Back to the organisations"),
                    callback_data=AllyListCb(challenge_id=challenge_id, page=page).pack(),
                )
            ],
            [keyboards.card_button(challenge_id)],
        ]
    )


# -- asking


@router.callback_query(AllyAskCb.filter())
async def ask_pressed(
    query: CallbackQuery,
    callback_data: AllyAskCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    settings: Settings,
) -> None:
    """Says what the other side will see and asks to confirm; on «Yes, ask», records the
    request (once: asking again says where it stands) and sends it to the one asked."""
    standing = await taking_part(session, callback_data.challenge_id, user)
    if isinstance(standing, str):
        refuse(callback_answer, standing)
        return
    challenge, page = standing.challenge, callback_data.page
    others = await alliances.other_organisations(session, challenge.id, user)
    target = next((other for _p, other in others if other.id == callback_data.target), None)
    if target is None:
        refuse(callback_answer, _("This organisation no longer takes part in this challenge."))
        await show_organisations(query, session, user, challenge, page)
        return
    name = organisation_name(target)
    if not callback_data.sure:
        lines = [
            _("Ask to be introduced to <b>{name}</b>?").format(**isolated(user.locale, name=name)),
            "",
            _("They will see:"),
            line_start(user.locale) + who_label(user),
            *brings_lines(standing.participation, challenge, user.locale),
            "",
            _(
                "They may accept or decline. Only if they accept do you each receive the other's "
                "Telegram contact."
            ),
        ]
        text = "\n".join(lines)
        sure = AllyAskCb(challenge_id=challenge.id, target=target.id, page=page, sure=True)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("Yes, ask"), callback_data=sure.pack())],
                *back_keyboard(challenge.id, page).inline_keyboard,
            ]
        )
        await show(query, text, markup)
        return
    before = (await standings(session, challenge.id, user)).get(target.id)
    if before == IntroductionStatus.accepted:
        text = _(
            "You have already been introduced to <b>{name}</b>: their contact was sent to you "
            "here."
        ).format(**isolated(user.locale, name=name))
    else:
        try:
            introduction = await alliances.ask_introduction(
                session, challenge, user, target.id, timezone=settings.timezone
            )
        except ChallengeClosed:
            refuse(callback_answer, closed_text())
            return
        except ChallengeError:
            refuse(callback_answer, stale_button())
            return
        if before == IntroductionStatus.asked:
            text = _(
                "You have already asked to meet <b>{name}</b>: they have not answered yet."
            ).format(**isolated(user.locale, name=name))
        elif before == IntroductionStatus.declined:
            text = _(
                "You have already asked to meet <b>{name}</b>; they could not take it up this "
                "time."
            ).format(**isolated(user.locale, name=name))
        else:
            await request_to_target(
                session, i18n, introduction, challenge, user, standing.participation, target
            )
            text = _(
                "Your request has been sent to <b>{name}</b>. If they accept, you will receive "
                "their contact here."
            ).format(**isolated(user.locale, name=name))
    await show(query, text, back_keyboard(challenge.id, page))


def request_text(
    challenge: Challenge, requester: User, participation: Participation | None, locale: str
) -> str:
    """What the one asked reads, in their language (the caller sets it): who asks, on which
    challenge, what they bring; no contact yet."""
    title = html.quote(challenge_text(challenge, locale)[0])
    lines = [
        _("🤝 <b>A request to meet you</b>"),
        _("Challenge: “{title}”").format(**isolated(locale, title=title)),
        _("From: {who}").format(who=who_label(requester)),
    ]
    if participation is not None:
        lines += brings_lines(participation, challenge, locale)
    lines += [
        "",
        _(
            "If you accept, you each receive the other's Telegram contact. If you decline, "
            "nothing is shared."
        ),
    ]
    return "\n".join(lines)


async def request_to_target(
    session: AsyncSession,
    i18n: I18n,
    introduction: Introduction,
    challenge: Challenge,
    requester: User,
    participation: Participation,
    target: User,
) -> None:
    if not reachable(target):
        return
    assert target.telegram_id is not None
    with i18n.use_locale(target.locale):
        text = request_text(challenge, requester, participation, target.locale)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Accept"),
                        callback_data=AllyAnswerCb(
                            introduction_id=introduction.id, accept=True
                        ).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("Decline"),
                        callback_data=AllyAnswerCb(
                            introduction_id=introduction.id, accept=False
                        ).pack(),
                    ),
                ]
            ]
        ).model_dump(exclude_none=True)
    await enqueue(
        session,
        TextMessage(
            chat_id=target.telegram_id,
            text=text,
            reply_markup=markup,
            user_id=target.id,
            subject=person_subject(requester.id),
        ),
    )


# -- answering


@router.callback_query(AllyAnswerCb.filter())
async def answer_pressed(
    query: CallbackQuery,
    callback_data: AllyAnswerCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    settings: Settings,
) -> None:
    """Only the one asked, once: on «Accept», each side receives the other's contact; on
    «Decline», the requester is told kindly and nothing is shared. The request's message then
    says what was answered, without its buttons."""
    introduction = await alliances.get_introduction(session, callback_data.introduction_id)
    requester = (
        await session.get(User, introduction.requester_id) if introduction is not None else None
    )
    challenge = (
        await challenges.get_challenge(session, introduction.challenge_id)
        if introduction is not None
        else None
    )
    if introduction is None or challenge is None:
        refuse(callback_answer, stale_button())
        return
    if introduction.target_id != user.id:
        refuse(callback_answer, _("This request was not addressed to you."))
        return
    if requester is None or requester.erased_at is not None or requester.telegram_id is None:
        refuse(
            callback_answer, _("This request is no longer valid: the person left La Collective.")
        )
        return
    try:
        await alliances.answer_introduction(
            session, introduction.id, user, callback_data.accept, timezone=settings.timezone
        )
    except AlreadyAnswered:
        refuse(callback_answer, _("You have already answered this request."))
        return
    except (ChallengeClosed, NotParticipating) as error:
        why = closed_request_text() if isinstance(error, ChallengeClosed) else left_request_text()
        refuse(callback_answer, why)
        # The request loses its buttons, which could only be refused again.
        text = request_text(challenge, requester, None, user.locale)
        await show(query, f"{text}\n\n<i>{why}</i>")
        return
    except (NotAllowed, ChallengeNotFound):
        refuse(callback_answer, stale_button())
        return
    participation = await challenges.participation_of(session, challenge.id, requester)
    text = request_text(challenge, requester, participation, user.locale)
    if callback_data.accept:
        await contact_to(
            session, i18n, challenge, to=requester, about=user, username=query.from_user.username
        )
        await contact_to(session, i18n, challenge, to=user, about=requester)
        done = _("✅ You accepted: you will each receive the other's contact.")
    else:
        await declined_to(session, i18n, challenge, requester, user)
        done = _("You declined: nothing was shared.")
    await show(query, f"{text}\n\n<b>{done}</b>")


def closed_request_text() -> str:
    return _(
        "This request can no longer be answered: the challenge is closed. Nothing was shared."
    )


def left_request_text() -> str:
    return _(
        "This request can no longer be answered: the one who asked has left the challenge. "
        "Nothing was shared."
    )


async def contact_to(
    session: AsyncSession,
    i18n: I18n,
    challenge: Challenge,
    *,
    to: User,
    about: User,
    username: str | None = None,
) -> None:
    """`about`'s contact, in `to`'s language: a link to their chat and, when the update that
    accepted gave it, their @username, which works whatever their privacy settings. Only the
    message carries them (/forget empties it)."""
    if not reachable(to) or about.telegram_id is None:
        return
    assert to.telegram_id is not None
    with i18n.use_locale(to.locale):
        title = html.quote(challenge_text(challenge, to.locale)[0])
        text = "\n".join(
            [
                _("🤝 <b>You are introduced!</b>"),
                _("On the challenge “{title}”, you can now write to each other:").format(
                    **isolated(to.locale, title=title)
                ),
                "",
                f"{line_start(to.locale)}{who_label(about)} — {contact_link(about.telegram_id)}"
                + (f" (@{html.quote(username)})" if username else ""),
                "",
                _(
                    "If the link does not open a chat, their Telegram settings may not allow it: "
                    "they have your contact too."
                ),
            ]
        )
    await enqueue(
        session,
        TextMessage(
            chat_id=to.telegram_id, text=text, user_id=to.id, subject=person_subject(about.id)
        ),
    )


async def declined_to(
    session: AsyncSession, i18n: I18n, challenge: Challenge, requester: User, target: User
) -> None:
    """Tells the requester, kindly and without a reason; nothing of the target but the name
    they already saw."""
    if not reachable(requester):
        return
    assert requester.telegram_id is not None
    with i18n.use_locale(requester.locale):
        title = html.quote(challenge_text(challenge, requester.locale)[0])
        text = _(
            "<b>{name}</b> cannot take up your request to meet on “{title}” for now. Thank you "
            "for reaching out: other organisations take part, and you can ask them too."
        ).format(**isolated(requester.locale, name=organisation_name(target), title=title))
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Organisations taking part"),
                        # The notice stays: the list comes under it.
                        callback_data=AllyListCb(challenge_id=challenge.id, below=True).pack(),
                    )
                ]
            ]
        ).model_dump(exclude_none=True)
    await enqueue(
        session,
        TextMessage(
            chat_id=requester.telegram_id,
            text=text,
            reply_markup=markup,
            user_id=requester.id,
            subject=person_subject(target.id),
        ),
    )
