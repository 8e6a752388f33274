"""The summary's and /stats' buttons. A button names its window by its days (ordinals) and
whether they are summary days, so that it can be pressed again later."""

from __future__ import annotations

import enum
from datetime import date

from aiogram.filters.callback_data import CallbackData


class SummaryAction(enum.StrEnum):
    pending = "p"  # /pending's cards
    reports = "r"  # the reported initiatives' cards
    failed = "f"  # /failed
    more = "m"  # the rest of a long list
    challenges = "c"  # the challenges' figures
    surveys = "s"  # the surveys' figures


class Section(enum.StrEnum):
    none = ""
    themes = "t"
    arrondissements = "a"
    challenges = "c"
    surveys = "s"


class SummaryCb(CallbackData, prefix="sm"):
    action: SummaryAction
    section: Section = Section.none
    first: int = 0  # date.toordinal()
    last: int = 0
    # Summary days (from one summary time to the next) rather than calendar days.
    daily: bool = False

    @property
    def first_day(self) -> date:
        return date.fromordinal(self.first)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.last)
