"""«Impact over time» on a challenge's card: how its key figures moved from one survey wave to
the next (before/after, monthly) — how the programme shows what it changes."""

from __future__ import annotations

from aiogram import html
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.challenges.callbacks import ImpactCb
from handlers.challenges.public import unavailable, visible
from handlers.flow import Flow
from handlers.initiatives.cards import shorten
from storage.challenges import challenge_text
from storage.models import User
from storage.survey_charts import waves_chart
from storage.survey_results import key_figure_questions, key_figures_over_time
from storage.surveys import question_text

router = Flow("challenge-impact")

# A picture per key figure, for the first few: a card is not a report. Six leave room for a
# usual survey's (examples/isolation-survey.yaml has four: the loneliness score's three
# questions and the visits).
CHARTS = 6


@router.callback_query(ImpactCb.filter())
async def impact(
    query: CallbackQuery,
    callback_data: ImpactCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    challenge = await visible(session, callback_data.challenge_id)
    if challenge is None or not isinstance(query.message, Message):
        callback_answer.text = unavailable()
        callback_answer.show_alert = True
        return
    waves = await key_figures_over_time(session, challenge.id)
    questions = await key_figure_questions(session, challenge.id)
    if not waves or not questions:
        callback_answer.text = _("No survey results have been published for it yet.")
        callback_answer.show_alert = True
        return
    locale = user.locale
    title, _description = challenge_text(challenge, locale)
    lines = [
        _("<b>Impact over time: {title}</b>").format(title=html.quote(shorten(title, 80))),
        "",
    ]
    charts: list[tuple[str, bytes]] = []
    for code, question in questions.items():
        plain = shorten(question_text(question, locale)["text"] or code, 150)
        label = html.quote(plain)
        points = [(wave, figures.get(code)) for wave, figures in waves]
        values = [
            _("wave {wave}: {value}").format(
                wave=wave,
                value=format_decimal(round(value, 1), locale=locale) if value is not None else "—",
            )
            for wave, value in points
        ]
        lines += [f"<b>{label}</b>", " → ".join(values), ""]
        if len(charts) < CHARTS:
            decimal_mark = format_decimal(0.5, locale=locale)[1]
            # TRANSLATORS: under a chart's wave numbers (1, 2, 3…): the survey's waves.
            chart = waves_chart(points, decimal_mark=decimal_mark, title=plain, axis=_("wave"))
            charts.append((label, chart))
    lines.append(
        _(
            "“—”: not shown, so that no group of fewer than 5 people stands out. Wave 1 is the "
            "first survey."
        )
    )
    await query.message.answer("\n".join(lines)[:4000])
    for label, chart in charts:
        await query.message.answer_photo(
            BufferedInputFile(chart, filename="impact.png"), caption=label[:1000]
        )
