"""Scheduled work on surveys: drafts whose time has come are sent, and the one reminder goes
to those who have not finished. Each claims its work in the transaction that writes the
outbox rows, so that it happens once across restarts and workers (`survey_sending.claim_*`)."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.i18n import ngettext
from bot.jobs import JobContext
from handlers.surveys import sending
from storage.models import Survey, User
from storage.surveys import due_reminders, due_to_send

log = logging.getLogger(__name__)


async def send_due_surveys(context: JobContext, now: datetime) -> None:
    """Each draft whose `send_at` has come is opened and its invitations written, in one
    transaction per survey; the group is told how many were invited."""
    async with context.sessionmaker() as session:
        due = [survey.id for survey in await due_to_send(session, now)]
    settings = context.settings
    for survey_id in due:
        try:
            async with context.sessionmaker.begin() as session:
                sent = await sending.send_survey(session, context.i18n, survey_id, None, now)
                if sent is None:
                    continue  # sent meanwhile, by a coordinator or another worker
                with context.i18n.use_locale(settings.group_locale):
                    note = sending.invited_note(sent.survey, sent.invited, settings.group_locale)
                await sending.tell_group(session, context.group_id, note)
        except Exception:
            # The others are still sent; this one is tried again at the next tick.
            log.exception("survey %s could not be sent", survey_id)


async def send_reminders(context: JobContext, now: datetime) -> None:
    """The reminder, once, to each invited person who has not finished after the survey's
    delay and still takes part (`due_reminders`); the group is told how many."""
    settings = context.settings
    async with context.sessionmaker.begin() as session:
        due: dict[int, tuple[Survey, list[User]]] = {}
        for survey, user in await due_reminders(session, now):
            due.setdefault(survey.id, (survey, []))[1].append(user)
        for survey, users in due.values():
            reminded = await sending.remind(session, context.i18n, survey, users, now)
            if not reminded:
                continue
            with context.i18n.use_locale(settings.group_locale):
                note = ngettext(
                    "Reminder sent for “{title}” to {count} person who has not finished.",
                    "Reminder sent for “{title}” to {count} people who have not finished.",
                    reminded,
                ).format(title=sending.title_of(survey, settings.group_locale), count=reminded)
            await sending.tell_group(session, context.group_id, note)
