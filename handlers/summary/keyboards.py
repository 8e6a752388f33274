"""Buttons under the summary and /stats: act on what waits, see the rest of a cut list, reach
the challenges' and surveys' own figures."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.summary.callbacks import Section, SummaryAction, SummaryCb
from handlers.summary.texts import truncated
from storage.summary import SummaryFigures


def _button(text: str, data: SummaryCb) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def section_label(section: Section) -> str:
    return {
        Section.themes: _("All themes"),
        Section.arrondissements: _("All arrondissements"),
        Section.challenges: _("All challenges"),
        Section.surveys: _("All surveys"),
    }[section]


def figures_keyboard(
    figures: SummaryFigures, *, daily: bool, reach_others: bool
) -> InlineKeyboardMarkup | None:
    """What needs a decision first, then the rest of cut lists; with `reach_others`, the
    challenges' and surveys' figures."""
    window = figures.window
    where = {"first": window.first_day.toordinal(), "last": window.last_day.toordinal()}
    rows: list[list[InlineKeyboardButton]] = []
    waiting = figures.waiting
    if waiting.proposals:
        rows.append(
            [
                _button(
                    _("Decide on the proposals ({count})").format(count=waiting.proposals),
                    SummaryCb(action=SummaryAction.pending),
                )
            ]
        )
    if waiting.reported:
        rows.append(
            [
                _button(
                    _("See the reported initiatives ({count})").format(count=waiting.reported),
                    SummaryCb(action=SummaryAction.reports),
                )
            ]
        )
    if figures.counts.failed:
        rows.append(
            [
                _button(
                    _("Failed deliveries ({count})").format(count=figures.counts.failed),
                    SummaryCb(action=SummaryAction.failed),
                )
            ]
        )
    more = [
        _button(
            section_label(section),
            SummaryCb(action=SummaryAction.more, section=section, daily=daily, **where),
        )
        for section in truncated(figures.counts)
    ]
    rows += [more[i : i + 2] for i in range(0, len(more), 2)]
    if reach_others:
        rows.append(
            [
                _button(_("Challenge figures"), SummaryCb(action=SummaryAction.challenges)),
                _button(_("Survey results"), SummaryCb(action=SummaryAction.surveys)),
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
