"""The Surveys menu: open surveys the person may answer or resume, and the published results
of closed surveys — the whole picture, the chart, and for those who answered, the figures of
the arrondissement they answered from (whatever their profile says today)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiogram import Bot, F, html
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.flow import Flow
from handlers.menu import MenuAction, MenuCb
from handlers.surveys.callbacks import SurveyAction, SurveyCb
from handlers.surveys.chart_words import chart_words
from handlers.surveys.keyboards import after_survey_keyboard, surveys_keyboard
from handlers.surveys.results_text import results_message
from handlers.texts import stale_button
from handlers.ui import show
from storage import surveys
from storage.models import Survey, SurveyStatus, User
from storage.outbox import split_text
from storage.survey_charts import summary_chart
from storage.survey_results import (
    CLOSED_KINDS,
    SMALL,
    answered_from,
    survey_views,
)
from storage.surveys import published_surveys, questions_of
from storage.users import ARRONDISSEMENTS

router = Flow("survey-published")

# Closed surveys listed in the menu, the most recently closed first.
PUBLISHED_LISTED = 10
# Free-text answers listed per question in a person's chat (the group sees them all).
TEXTS_LISTED = 10


@router.callback_query(MenuCb.filter(F.action == MenuAction.surveys))
async def surveys_menu(query: CallbackQuery, session: AsyncSession, user: User) -> None:
    """Lists what the person can answer or resume, then the results anyone may read."""
    to_answer = await surveys.surveys_to_answer(session, user)
    published = list(await published_surveys(session))[:PUBLISHED_LISTED]
    lines = [_("<b>Surveys</b>"), ""]
    if to_answer:
        lines.append(_("Waiting for your answers:"))
    elif not published:
        lines.append(
            _("No survey is waiting for your answers, and no results have been published yet.")
        )
    if published:
        lines.append(_("Results of closed surveys, for anyone to read:"))
    await show(query, "\n".join(lines), surveys_keyboard(to_answer, published, user.locale))


@router.callback_query(SurveyCb.filter(F.action == SurveyAction.results))
async def published_results(
    query: CallbackQuery,
    callback_data: SurveyCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    bot: Bot,
) -> None:
    """A closed survey's results: the whole picture, then — for a respondent — the
    arrondissement they answered from, then the summary chart when there is one. Free texts
    only of the questions whose answers were announced as published."""
    survey = await session.get(Survey, callback_data.survey_id)
    if survey is None or survey.status is not SurveyStatus.closed:
        callback_answer.text = (
            _("Its results will be published here when the survey closes.")
            if survey is not None
            else stale_button()
        )
        callback_answer.show_alert = True
        return
    questions = await questions_of(session, survey.id)
    place = await answered_from(session, survey.id, user.id)
    mine = [place] if place in ARRONDISSEMENTS else []
    views = await survey_views(session, survey.id, mine)
    whole = views[None]
    parts = [results_message(whole, survey, user.locale, questions, max_texts=TEXTS_LISTED)]
    if place in ARRONDISSEMENTS:
        local = views[place]
        parts.append(
            results_message(
                local,
                survey,
                user.locale,
                questions,
                heading=False,
                yours=True,
                max_texts=TEXTS_LISTED,
            )
        )
    charted = any(r.kind in CLOSED_KINDS and r.published for r in whole.questions)
    words = chart_words(whole, questions, user.locale)
    chart = await asyncio.to_thread(summary_chart, whole, words) if charted else None
    await send_results(query, bot, split_text("\n\n".join(parts)), chart)


async def send_results(
    query: CallbackQuery, bot: Bot, chunks: Sequence[str], chart: bytes | None
) -> None:
    """The text in place of the menu (more messages if it is long), then the chart; the
    buttons on the last message."""
    markup = after_survey_keyboard()
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    for number, chunk in enumerate(chunks, start=1):
        last = number == len(chunks) and chart is None
        if number == 1:
            await show(query, chunk, markup if last else None)
        else:
            await bot.send_message(chat_id, chunk, reply_markup=markup if last else None)
    if chart is not None:
        caption = _(
            "The answers to each question with buttons, by its number above; “{small}”: "
            "answers put together so that no group of fewer than 5 people stands out."
        ).format(small=html.quote(SMALL))
        await bot.send_photo(
            chat_id,
            BufferedInputFile(chart, filename="survey-results.png"),
            caption=caption,
            reply_markup=markup,
        )
