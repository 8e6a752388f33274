"""The weekly digest of new needs, for the members of the organisations that opted in
(storage/needs_digest.py): the job, and the text each member reads in their language."""

from __future__ import annotations

import logging
from datetime import datetime, time

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs import JobContext
from handlers.organisations.texts import organisation_label
from handlers.profile.labels import arrondissement_label, theme_label
from storage import needs_digest
from storage.job_runs import claim_day
from storage.models import User
from storage.outbox import NEWS, QuietHours, TextMessage, enqueue_many, to_each
from storage.summary import local_date, local_moment

log = logging.getLogger(__name__)

# The digest goes out each Monday from this hour (or at the first tick after, the bot being
# down then); the quiet hours hold it anyway.
DIGEST_AT = time(9, 0)
# A need's text in the digest: its beginning; the whole digest is split past Telegram's limit.
NEED_CHARS = 300


def _short(text: str) -> str:
    return text if len(text) <= NEED_CHARS else text[: NEED_CHARS - 1].rstrip() + "…"


def digest_text(digest: needs_digest.Digest, locale: str) -> str:
    lines = [
        _("📬 <b>New needs this week where {name} acts</b>").format(
            name=organisation_label(digest.organisation)
        ),
    ]
    for need in digest.needs:
        place = arrondissement_label(need.arrondissement)
        theme = html.quote(theme_label(need.theme_code, locale))
        lines.append(f"\n• <b>{place} — {theme}</b>\n{html.quote(_short(need.text))}")
    lines.append(
        "\n"
        + _(
            "You receive this digest because your organisation opted in to it: /organisation to "
            "stop it, STOP to receive nothing unasked."
        )
    )
    return "\n".join(lines)


async def send_digests(
    session: AsyncSession, i18n: I18n, now: datetime, *, monthly_cap: int, timezone: str
) -> int:
    """Writes this week's digests to the outbox; how many people they go to."""
    told = 0
    due = QuietHours(timezone).end_after(now)
    for digest in await needs_digest.digests(session, now, monthly_cap=monthly_cap):
        if digest.capped:
            log.info(
                "needs digest of organisation %s: %s member(s) skipped, monthly cap reached",
                digest.organisation.id,
                digest.capped,
            )

        messages = _messages(i18n, digest)
        await enqueue_many(session, messages, now=now, not_before=due)
        told += len(messages)
    return told


def _messages(i18n: I18n, digest: needs_digest.Digest) -> list[TextMessage]:
    made: dict[str, str] = {}  # the same text object for the members of one language

    def message(user: User) -> tuple[str, None]:
        if user.locale not in made:
            with i18n.context(), i18n.use_locale(user.locale):
                made[user.locale] = digest_text(digest, user.locale)
        return made[user.locale], None

    return to_each(digest.people, message, kind=NEWS, subject=needs_digest.SUBJECT)


def due_week(now: datetime, timezone: str) -> datetime | None:
    """The moment this week's digest is due from, when it has come."""
    monday = needs_digest.week_of(local_date(now, timezone))
    start = local_moment(monday, DIGEST_AT, timezone)
    return start if now >= start else None


async def weekly_needs_digest(context: JobContext, now: datetime) -> None:
    """The scheduler's job: the week's digests, once across workers (the week's Monday)."""
    settings = context.settings
    if due_week(now, settings.timezone) is None:
        return
    monday = needs_digest.week_of(local_date(now, settings.timezone))
    async with context.sessionmaker.begin() as session:
        if not await claim_day(session, needs_digest.JOB, monday, now=now):
            return
        told = await send_digests(
            session,
            context.i18n,
            now,
            monthly_cap=settings.alerts_per_month,
            timezone=settings.timezone,
        )
    log.info("needs digest of the week of %s: %s people", monday, told)
