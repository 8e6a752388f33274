"""The invitation to answer a survey and the thanks at its end. The invitation is sent by the
coordinators' side through the outbox (in the recipient's language: they call this inside
`i18n.use_locale`) and shown again from the menu."""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.surveys.keyboards import invitation_keyboard
from storage.models import Survey
from storage.surveys import survey_text


def invitation_text(survey: Survey, locale: str) -> str:
    texts = survey_text(survey, locale)
    lines = [
        _("📋 <b>A short survey from La Collective</b>"),
        "",
        f"<b>{html.quote(texts['title'])}</b>",
    ]
    if texts["intro"]:
        lines.append(html.quote(texts["intro"]))
    lines += [
        "",
        _(
            "Your answers count only in anonymous figures: no published figure ever shows a "
            "group of fewer than 5 people. You can stop at any time and go on later."
        ),
    ]
    return "\n".join(lines)


def invitation(survey: Survey, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    """The invitation's text and its «Start» / «Later» buttons, in the current locale."""
    return invitation_text(survey, locale), invitation_keyboard(survey.id)


def thanks_text(survey: Survey, locale: str) -> str:
    """The survey's own thanks (or the bot's), then when and where the results come: said
    once, here (examples/isolation-survey.yaml asks files not to say it in their thanks)."""
    thanks = survey_text(survey, locale)["thanks"]
    first = html.quote(thanks) if thanks else _("Thank you for your answers!")
    shared = _(
        "Your answers are recorded. When the survey closes, you will receive its results here, "
        "in this chat — for the whole city and, when enough people answered there, for your "
        "arrondissement, never singling out a group of fewer than 5 people. They will also "
        "stay in the menu, under “Surveys”."
    )
    return f"{first}\n\n{shared}"
