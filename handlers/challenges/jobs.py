"""Scheduled work on challenges: one whose end date (a local date) has passed closes by itself.

The status change is the claim (`challenges.close_ended`): with several workers, or after a
restart, a challenge is closed once and the coordinators told once. Their note waits for the
end of the quiet hours, like any message written at night.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import html
from aiogram.utils.i18n import gettext as _

from bot.jobs import JobContext
from storage import challenges
from storage.challenges import challenge_text
from storage.models import Challenge
from storage.outbox import QuietHours, TextMessage, enqueue

log = logging.getLogger(__name__)


def closed_note(challenge: Challenge, locale: str) -> str:
    title = html.quote(challenge_text(challenge, locale)[0])
    return _(
        "“{title}” is now closed: its end date has passed. Nobody can join it any more; its "
        "figures and participants stay available."
    ).format(title=title)


async def close_ended_challenges(context: JobContext, now: datetime) -> None:
    """Closes every open challenge past its end date, in one transaction, and tells the
    coordinators' group."""
    settings = context.settings
    # A cheap look first: most ticks find nothing to close.
    async with context.sessionmaker() as session:
        if not await challenges.ended_challenges(session, now, settings.timezone):
            return
    async with context.sessionmaker.begin() as session:
        closed = await challenges.close_ended(session, now, settings.timezone)
        if closed and context.group_id is not None:
            with context.i18n.use_locale(settings.group_locale):
                text = "\n\n".join(
                    closed_note(challenge, settings.group_locale) for challenge in closed
                )
            await enqueue(
                session,
                TextMessage(
                    chat_id=context.group_id,
                    text=text,
                    not_before=QuietHours(settings.timezone).end_after(now),
                ),
            )
    for challenge in closed:
        log.info("challenge %s closed: its end date %s passed", challenge.id, challenge.ends_on)
