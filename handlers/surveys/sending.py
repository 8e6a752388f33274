"""What surveys send outside the current reply — invitations, the reminder, the results when a
survey closes, and notes to the coordinators' group — each in its recipient's language,
through the outbox, in the transaction of the change that causes it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import ngettext
from handlers.bidi import isolate
from handlers.profile.keyboards import stop_button
from handlers.surveys.chart_words import chart_words
from handlers.surveys.invitation import invitation
from handlers.surveys.results_text import results_message
from storage import survey_sending
from storage.attention import has_stopped
from storage.models import Survey, User
from storage.outbox import (
    INVITATION,
    REMINDER,
    PhotoMessage,
    TextMessage,
    enqueue,
    enqueue_many,
    to_each,
)
from storage.survey_charts import summary_chart
from storage.survey_results import (
    CLOSED_KINDS,
    SMALL,
    SurveyResults,
    survey_views,
)
from storage.surveys import mark_reminded, open_survey, questions_of, survey_text

# Free-text answers listed in each respondent's copy of the results (all of them in the group).
RESPONDENT_TEXTS = 10

Message = tuple[str, InlineKeyboardMarkup | None]


@dataclass(frozen=True)
class Sent:
    survey: Survey
    invited: int


def title_of(survey: Survey, locale: str) -> str:
    """The survey's title in `locale`, escaped, isolated for a sentence of that locale (a
    Latin title inside an Arabic one keeps its place)."""
    return isolate(html.quote(survey_text(survey, locale)["title"]), locale)


async def fan_out(
    session: AsyncSession,
    i18n: I18n,
    users: Sequence[User],
    message: Callable[[str], Message],
    kind: str,
) -> int:
    """Writes `message(locale)` — made once per language, in it, with «Stop these messages»
    below — to each person's chat in one bulk insert (`enqueue_many`), marked with its
    unsolicited `kind` (INVITATION, REMINDER: they wait for the end of the quiet hours, and
    STOP withdraws them). People who said STOP are left out. How many people."""
    made: dict[str, tuple[str, dict[str, Any]]] = {}

    def in_language(user: User) -> tuple[str, dict[str, Any]]:
        if user.locale not in made:
            with i18n.use_locale(user.locale):
                text, markup = message(user.locale)
                buttons = [*(markup.inline_keyboard if markup else []), [stop_button()]]
            keyboard = InlineKeyboardMarkup(inline_keyboard=buttons)
            made[user.locale] = text, keyboard.model_dump(exclude_none=True)
        return made[user.locale]

    willing = [user for user in users if not has_stopped(user)]
    messages = to_each(willing, in_language, kind=kind)
    await enqueue_many(session, messages)
    return len(messages)


async def send_survey(
    session: AsyncSession, i18n: I18n, survey_id: int, actor_id: int | None, now: datetime
) -> Sent | None:
    """Opens a draft and invites its audience, each in their language; None when the survey
    is no longer a draft or another worker is sending it (it is sent once)."""
    if not await survey_sending.claim_draft(session, survey_id):
        return None
    survey, invitees = await open_survey(session, survey_id, actor_id, now)
    invited = await fan_out(
        session, i18n, invitees, lambda locale: invitation(survey, locale), INVITATION
    )
    return Sent(survey, invited)


def invited_note(survey: Survey, invited: int, locale: str) -> str:
    """The group's note once a survey went out (in the group's locale)."""
    return ngettext(
        "“{title}” has been sent: {count} person invited.",
        "“{title}” has been sent: {count} people invited.",
        invited,
    ).format(title=title_of(survey, locale), count=invited)


async def tell_group(session: AsyncSession, group_id: int | None, text: str) -> None:
    """`text` to the coordinators' group (`group_id`, the id it has now), if there is one."""
    if group_id is not None:
        await enqueue(session, TextMessage(chat_id=group_id, text=text))


def reminder(survey: Survey, locale: str) -> Message:
    text, markup = invitation(survey, locale)
    head = _(
        "⏰ A reminder: your answers to this survey are still awaited. If you started it, "
        "you will go on where you stopped."
    )
    return f"{head}\n\n{text}", markup


async def remind(
    session: AsyncSession, i18n: I18n, survey: Survey, users: Sequence[User], now: datetime
) -> int:
    """The one reminder to those of `users` no other worker is reminding; how many."""
    claimed = set(await survey_sending.claim_reminders(session, survey.id, [u.id for u in users]))
    chosen = [user for user in users if user.id in claimed]
    sent = await fan_out(session, i18n, chosen, lambda locale: reminder(survey, locale), REMINDER)
    await mark_reminded(session, survey.id, claimed, now)
    return sent


def chart_caption() -> str:
    return _(
        "The figures in one picture: a panel per question with answers to choose from, "
        "numbered as in the survey; “{small}”: answers put together so that no group of "
        "fewer than 5 people stands out."
    ).format(small=html.quote(SMALL))


def has_chart(results: SurveyResults) -> bool:
    return any(result.kind in CLOSED_KINDS and result.published for result in results.questions)


async def results_to_respondents(session: AsyncSession, i18n: I18n, survey: Survey) -> int:
    """Once the survey is closed: each person who completed it receives, in their language,
    the whole picture, the figures of the arrondissement they answered from and the chart, in
    one bulk insert. How many people."""
    people = await survey_sending.respondents(session, survey.id)
    if not people:
        return 0
    questions = await questions_of(session, survey.id)
    # Counted once for the city and every arrondissement answered from.
    local = await survey_views(session, survey.id, {place for _, place in people})
    whole = local[None]
    charted = has_chart(whole)
    charts: dict[str, bytes] = {}  # one per language
    texts: dict[tuple[str, int | None], str] = {}
    captions: dict[str, str] = {}
    messages: list[TextMessage | PhotoMessage] = []
    for user, arrondissement in people:
        assert user.telegram_id is not None
        key = (user.locale, arrondissement)
        if key not in texts:
            with i18n.use_locale(user.locale):
                parts = [
                    _(
                        "The survey “{title}” is closed. Thank you for taking part: here is "
                        "what everyone answered."
                    ).format(title=title_of(survey, user.locale)),
                    results_message(
                        whole, survey, user.locale, questions, max_texts=RESPONDENT_TEXTS
                    ),
                ]
                if arrondissement is not None:
                    parts.append(
                        results_message(
                            local[arrondissement],
                            survey,
                            user.locale,
                            questions,
                            heading=False,
                            yours=True,
                            max_texts=RESPONDENT_TEXTS,
                        )
                    )
                texts[key] = "\n\n".join(parts)
        messages.append(TextMessage(chat_id=user.telegram_id, text=texts[key], user_id=user.id))
        if charted:
            if user.locale not in captions:
                with i18n.use_locale(user.locale):
                    captions[user.locale] = chart_caption()
                    words = chart_words(whole, questions, user.locale)
                    charts[user.locale] = summary_chart(whole, words)
            messages.append(
                PhotoMessage(
                    chat_id=user.telegram_id,
                    picture=charts[user.locale],
                    caption=captions[user.locale],
                    user_id=user.id,
                )
            )
    await enqueue_many(session, messages)
    return len(people)
