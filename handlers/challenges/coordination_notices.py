"""Messages coordinators' actions cause outside the group — the alert when a challenge opens,
the updates they post — each in its recipient's language, through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.bidi import isolate, isolated
from handlers.challenges.callbacks import ChallengeCb, JoinCb
from handlers.challenges.coordination import kind_label, period_label, where_label
from handlers.challenges.public import other_language_note
from handlers.initiatives.cards import shorten
from handlers.profile.keyboards import stop_button
from handlers.profile.labels import arrondissement_label, theme_label
from handlers.texts import join_list
from storage.attention import has_stopped
from storage.challenge_alerts import alert_recipients, alert_time, enqueue_alerts
from storage.challenges import challenge_text, participants
from storage.models import Challenge, User
from storage.outbox import NEWS, TextMessage, enqueue

ALERT_DESCRIPTION = 300


@dataclass(frozen=True)
class Alerted:
    count: int
    # When the alerts go out: later than the opening when it fell in the quiet hours.
    at: datetime
    delayed: bool


def alert_text(challenge: Challenge, user: User, locale: str) -> str:
    title, description = challenge_text(challenge, locale)
    where = [where_label(challenge.arrondissements, locale)]
    period = period_label(challenge, locale)
    if period:
        where.append(period)
    theme = theme_label(challenge.theme_code, locale)
    if challenge.arrondissements and user.arrondissement is not None:
        why = _(
            "You receive this alert because you follow the theme “{theme}” and act in {place}."
        ).format(theme=theme, place=arrondissement_label(user.arrondissement))
    else:
        why = _("You receive this alert because you follow the theme “{theme}”.").format(
            theme=theme
        )
    kinds = join_list((kind_label(code) for code in challenge.contribution_kinds), locale)
    head = [
        _("🔔 <b>A new challenge for the city: {title}</b>").format(
            title=html.quote(isolate(title, locale))
        )
    ]
    if (note := other_language_note(challenge, locale)) is not None:
        head.append(f"<i>{note}</i>")
    return "\n".join(
        [
            *head,
            " · ".join(where),
            "",
            html.quote(shorten(description, ALERT_DESCRIPTION)),
            "",
            _("Sought: {kinds}").format(kinds=kinds),
            "",
            f"<i>{why}</i>",
        ]
    )


def alert_keyboard(challenge_id: int) -> InlineKeyboardMarkup:
    def button(text: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=data)

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                # The alert stays as it is: what these buttons show comes under it.
                button(_("Join"), JoinCb(challenge_id=challenge_id, below=True).pack()),
                button(
                    _("See the challenge"),
                    ChallengeCb(challenge_id=challenge_id, below=True).pack(),
                ),
            ],
            [stop_button()],
        ]
    )


async def alert(
    session: AsyncSession, i18n: I18n, settings: Settings, challenge: Challenge, now: datetime
) -> Alerted:
    """The challenge just opened: everyone it concerns is alerted once, in their language,
    at the permitted time (after 08:00 when it opens at night)."""
    recipients = await alert_recipients(
        session, challenge, now, monthly_cap=settings.alerts_per_month
    )
    reachable = [user for user in recipients if user.telegram_id is not None]
    if not reachable:
        at = alert_time(now, settings.timezone)
        return Alerted(0, at, at > now)
    # The same text for everyone of a language (and an arrondissement): made once.
    made: dict[tuple[str, int | None], tuple[str, dict[str, Any]]] = {}

    def message(user: User) -> tuple[str, dict[str, Any]]:
        key = (user.locale, user.arrondissement if challenge.arrondissements else None)
        if key not in made:
            with i18n.use_locale(user.locale):
                made[key] = (
                    alert_text(challenge, user, user.locale),
                    alert_keyboard(challenge.id).model_dump(exclude_none=True),
                )
        return made[key]

    at = await enqueue_alerts(
        session,
        challenge,
        reachable,
        message,
        now=now,
        timezone=settings.timezone,
        rate=settings.delivery_rate,
    )
    return Alerted(len(reachable), at, at > now)


async def post_update(session: AsyncSession, i18n: I18n, challenge: Challenge, update: str) -> int:
    """A coordinator's update, as typed, to everyone who joined and can be reached, unless
    they said STOP; how many. News waits for the end of the quiet hours."""
    sent = 0
    for _participation, user in await participants(session, challenge.id):
        if user.telegram_id is None or not user.active or has_stopped(user):
            continue
        with i18n.use_locale(user.locale):
            title, _description = challenge_text(challenge, user.locale)
            text = "\n\n".join(
                [
                    _("📣 <b>News of the challenge “{title}”</b>").format(
                        **isolated(user.locale, title=html.quote(title))
                    ),
                    html.quote(update),
                ]
            )
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("See the challenge"),
                            # The news stays: the card comes under it.
                            callback_data=ChallengeCb(
                                challenge_id=challenge.id, below=True
                            ).pack(),
                        )
                    ],
                    [stop_button()],
                ]
            ).model_dump(exclude_none=True)
        await enqueue(
            session,
            TextMessage(
                chat_id=user.telegram_id,
                text=text,
                reply_markup=markup,
                user_id=user.id,
                kind=NEWS,
            ),
        )
        sent += 1
    return sent
