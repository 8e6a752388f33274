"""The summary and /stats as coordinators read them, in the group's language (the caller sets
the locale): what needs a decision first, then the figures with their comparison, then the
caption of the dashboard. Lists longer than FIRST_ITEMS show their first items; a button
(keyboards.py) sends the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.dates import format_time, format_timedelta, get_datetime_format
from babel.numbers import format_decimal

from bot.config import Settings
from bot.i18n import ngettext
from handlers.bidi import isolate, line_start
from handlers.initiatives.cards import shorten
from handlers.profile.labels import arrondissement_label, role_label, theme_label
from handlers.summary.callbacks import Section
from handlers.texts import format_day
from storage.dashboard import DashboardTexts, series_marker
from storage.initiative_support import MIN_GROUP
from storage.models import Role, Theme
from storage.summary import (
    FIRST_ITEMS,
    Activity,
    Counts,
    DayActivity,
    SummaryFigures,
    Waiting,
    Window,
)

TITLE_LIMIT = 60


class Labels:
    """What names the figures' keys in one locale: themes, challenges, surveys."""

    def __init__(
        self, locale: str, themes: Iterable[Theme] = (), today: date | None = None
    ) -> None:
        self.locale = locale
        self.themes = {theme.code: theme for theme in themes}
        self.today = today

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def theme(self, code: str) -> str:
        return theme_label(self.themes.get(code, code), self.locale)

    def title(self, texts: Mapping[str, Any], fallback: str) -> str:
        """A challenge's or a survey's title in the locale, else French, else any."""
        found = texts.get(self.locale) or texts.get("fr") or next(iter(texts.values()), None)
        title = str((found or {}).get("title") or "") or fallback
        return isolate(html.quote(shorten(title, TITLE_LIMIT)), self.locale)


def signed(delta: int, labels: Labels) -> str:
    if delta > 0:
        return "+" + labels.number(delta)
    if delta < 0:
        return "−" + labels.number(-delta)
    return "±0"


def compared(value: int, before: int, window_end: date, days: int, labels: Labels) -> str:
    """The value and how it moved, as in "12 (+3 vs yesterday)"."""
    delta = signed(value - before, labels)
    if days == 1 and window_end == labels.today:
        versus = _("({delta} vs yesterday)").format(delta=delta)
    elif days == 1:
        versus = _("({delta} vs the day before)").format(delta=delta)
    else:
        versus = ngettext(
            "({delta} vs the previous {days} day)",
            "({delta} vs the previous {days} days)",
            days,
        ).format(delta=delta, days=days)
    return f"<b>{labels.number(value)}</b> {versus}"


def listed(items: Sequence[str], rest: int, labels: Labels) -> str:
    line = " · ".join(items)
    if rest:
        line += " " + _("…and {count} more").format(count=labels.number(rest))
    return line


def first_of(counts: Mapping[Any, int], name: Callable[[Any], str], labels: Labels) -> str:
    shown = [f"{name(key)} {labels.number(count)}" for key, count in counts.items()]
    return listed(shown[:FIRST_ITEMS], max(len(shown) - FIRST_ITEMS, 0), labels)


def age(delta: timedelta, locale: str) -> str:
    return format_timedelta(delta, threshold=1.5, locale=locale)


# -- what needs a decision


def waiting_lines(waiting: Waiting, failed: int, labels: Labels) -> list[str]:
    lines: list[str] = []
    if waiting.proposals:
        lines.append(
            ngettext(
                "⏳ {count} proposal is waiting for a decision, for {age}.",
                "⏳ {count} proposals are waiting for a decision, the oldest for {age}.",
                waiting.proposals,
            ).format(
                count=labels.number(waiting.proposals),
                age=age(waiting.oldest_age or timedelta(0), labels.locale),
            )
        )
        for proposal in waiting.first:
            reference = isolate(f"I-{proposal.id}", labels.locale)
            title = isolate(html.quote(shorten(proposal.title, TITLE_LIMIT)), labels.locale)
            lines.append(
                f"{line_start(labels.locale)}• {reference} {title} "
                f"({age(waiting.at - proposal.submitted_at, labels.locale)})"
            )
        if waiting.proposals > len(waiting.first):
            lines.append(
                _("…and {count} more").format(
                    count=labels.number(waiting.proposals - len(waiting.first))
                )
            )
    if waiting.reported:
        lines.append(
            ngettext(
                "🚩 {count} published initiative was reported and waits for a look.",
                "🚩 {count} published initiatives were reported and wait for a look.",
                waiting.reported,
            ).format(count=labels.number(waiting.reported))
        )
    if failed:
        lines.append(
            ngettext(
                "⚠️ {count} message could not be delivered.",
                "⚠️ {count} messages could not be delivered.",
                failed,
            ).format(count=labels.number(failed))
        )
    if lines:
        lines.insert(0, _("<b>To decide</b>"))
    return lines


# -- the figures


def few(count: int, labels: Labels) -> str:
    """A count of people: 1 to 4 is «fewer than 5», so that nobody is singled out."""
    return _("fewer than 5") if 0 < count < MIN_GROUP else labels.number(count)


def figure_lines(counts: Counts, previous: Counts, labels: Labels) -> list[str]:
    days = counts.window.days
    lines = [_("<b>Figures</b>")]

    def headline(template: str, value: int, before: int) -> None:
        lines.append(
            template.format(count=compared(value, before, counts.window.last_day, days, labels))
        )

    headline(_("👥 New people: {count}"), counts.people, previous.people)
    if counts.people_by_role:
        lines.append(
            "    " + first_of(counts.people_by_role, lambda r: role_label(Role(r)), labels)
        )
    headline(_("📍 Needs reported: {count}"), counts.needs, previous.needs)
    if counts.needs:
        lines.append("    " + first_of(counts.needs_by_theme, labels.theme, labels))
        lines.append(
            "    " + first_of(counts.needs_by_arrondissement, arrondissement_label, labels)
        )
    headline(
        _("💡 Proposals received: {count}"), counts.proposals_received, previous.proposals_received
    )
    headline(_("⚖️ Decisions: {count}"), counts.decided, previous.decided)
    if counts.decided:
        lines.append(
            "    "
            + _("approved {approved} · declined {rejected} · changes asked {changes}").format(
                approved=labels.number(counts.decisions.get("approve", 0)),
                rejected=labels.number(counts.decisions.get("reject", 0)),
                changes=labels.number(counts.decisions.get("changes", 0)),
            )
        )
    if counts.reports:
        lines.append(
            _("🚩 New reports: {count}").format(count=f"<b>{labels.number(counts.reports)}</b>")
        )
    headline(_("🤝 Challenge joins: {count}"), counts.joined, previous.joined)
    if counts.challenges:
        lines.append(
            "    "
            + _("left: {count}").format(count=labels.number(counts.left))
            + " · "
            + challenge_items(counts.challenges, labels, FIRST_ITEMS)
        )
    lines.append(
        _("🔗 Introductions: {asked} asked, {made} accepted").format(
            asked=f"<b>{labels.number(counts.introductions_asked)}</b>",
            made=f"<b>{labels.number(counts.introductions_made)}</b>",
        )
    )
    if counts.supports or counts.helpers or counts.followers:
        lines.append(
            _(
                "🙌 Initiatives: {supports} supports · {helpers} offers of help · "
                "{followers} follows"
            ).format(
                supports=f"<b>{few(counts.supports, labels)}</b>",
                helpers=f"<b>{few(counts.helpers, labels)}</b>",
                followers=f"<b>{few(counts.followers, labels)}</b>",
            )
        )
    headline(_("📝 Survey responses: {count}"), counts.responses, previous.responses)
    if counts.surveys:
        lines.append("    " + survey_items(counts.surveys, labels, FIRST_ITEMS))
    headline(_("📬 Messages delivered: {count}"), counts.delivered, previous.delivered)
    lines.append(
        "    "
        + _("failed: {failed} · challenge alerts: {alerts}").format(
            failed=labels.number(counts.failed), alerts=labels.number(counts.alerts)
        )
    )
    return lines


def challenge_items(items: Sequence[Activity], labels: Labels, limit: int | None) -> str:
    shown = [
        f"{labels.title(item.texts, f'#{item.id}')} +{labels.number(item.count)}"
        + (f" −{labels.number(item.other)}" if item.other else "")
        for item in items
    ]
    return _cut(shown, limit, labels)


def survey_items(items: Sequence[Activity], labels: Labels, limit: int | None) -> str:
    shown = [
        f"{labels.title(item.texts, f'#{item.id}')} {labels.number(item.count)}" for item in items
    ]
    return _cut(shown, limit, labels)


def _cut(shown: list[str], limit: int | None, labels: Labels) -> str:
    if limit is None:
        return "\n".join(f"• {item}" for item in shown)
    return listed(shown[:limit], max(len(shown) - limit, 0), labels)


def truncated(counts: Counts) -> list[Section]:
    """The sections whose lists were cut, each getting a button for the rest."""
    sizes = {
        Section.themes: len(counts.needs_by_theme),
        Section.arrondissements: len(counts.needs_by_arrondissement),
        Section.challenges: len(counts.challenges),
        Section.surveys: len(counts.surveys),
    }
    return [section for section, size in sizes.items() if size > FIRST_ITEMS]


def section_text(counts: Counts, section: Section, labels: Labels) -> str:
    """A whole list the summary cut, one item a line."""
    if section is Section.themes:
        head = _("<b>Needs by theme</b>")
        body = [
            f"• {labels.theme(k)}: {labels.number(v)}" for k, v in counts.needs_by_theme.items()
        ]
    elif section is Section.arrondissements:
        head = _("<b>Needs by arrondissement</b>")
        body = [
            f"• {arrondissement_label(k)}: {labels.number(v)}"
            for k, v in counts.needs_by_arrondissement.items()
        ]
    elif section is Section.challenges:
        head = _("<b>Challenge joins</b> (+ joined, − left)")
        body = [challenge_items(counts.challenges, labels, None)]
    else:
        head = _("<b>Survey responses</b>")
        body = [survey_items(counts.surveys, labels, None)]
    return "\n".join([head, period_line(counts, labels), "", *(body or [_("Nothing.")])])


def period_line(counts: Counts, labels: Labels) -> str:
    return period_text(counts.window, labels.locale)


def whole_days(window: Window) -> bool:
    """Whether the window runs from a midnight to a midnight, in the city's time."""
    zone = ZoneInfo(window.timezone)
    return window.start.astimezone(zone).time() == window.end.astimezone(zone).time() == time(0)


def period_text(window: Window, locale: str) -> str:
    """A period as the summary and /stats write it everywhere: days as "5 Dec 2026", a time
    only where the period does not start or end at midnight, and whole days by the last day
    they include ("from 1 Dec 2026 to 5 Dec 2026", never "to 6 Dec 2026, 00:00")."""
    zone = ZoneInfo(window.timezone)
    start, end = window.start.astimezone(zone), window.end.astimezone(zone)

    def day(moment: date) -> str:
        return format_day(moment, locale)

    def clock(moment: datetime) -> str:
        return format_time(moment, "short", locale=locale)

    if whole_days(window):
        last = end.date() - timedelta(days=1)
        if last <= start.date():
            return day(start.date())
        return _("From {start} to {end}").format(start=day(start.date()), end=day(last))
    if start.date() == end.date():
        return _("{day}, from {start} to {end}").format(
            day=day(start.date()), start=clock(start), end=clock(end)
        )
    # A pattern such as "{1}, {0}" (Babel's annotation also names a DateTimePattern, whose
    # str() is that pattern).
    moment = str(get_datetime_format("medium", locale=locale))
    return _("From {start} to {end}").format(
        start=moment.format(clock(start), day(start.date())),
        end=moment.format(clock(end), day(end.date())),
    )


# -- whole messages


def summary_text(
    figures: SummaryFigures, labels: Labels, settings: Settings, *, late: bool
) -> str:
    """The daily summary: title, what needs a decision, the figures."""
    counts = figures.counts
    lines = [
        _("📊 <b>Daily summary</b> — {day}").format(
            day=format_day(counts.window.last_day, labels.locale, "full")
        ),
        period_line(counts, labels),
    ]
    if late:
        lines.append(
            _("⏰ Posted late: the bot was not running at {time}.").format(
                time=settings.summary_time.strftime("%H:%M")
            )
        )
    lines.append("")
    decide = waiting_lines(figures.waiting, counts.failed, labels)
    if decide:
        lines += [*decide, ""]
    lines += figure_lines(counts, figures.previous, labels)
    return "\n".join(lines)


def stats_title(first: date, last: date, today: date, labels: Labels) -> str:
    if first == last == today:
        return _("📊 <b>Figures for today so far</b>")
    if first == last:
        return _("📊 <b>Figures for {day}</b>").format(
            day=format_day(first, labels.locale, "full")
        )
    if last == today:
        return _("📊 <b>Figures for the last {days} days</b>").format(
            days=labels.number((last - first).days + 1)
        )
    return _("📊 <b>Figures from {first} to {last}</b>").format(
        first=format_day(first, labels.locale),
        last=format_day(last, labels.locale),
    )


def stats_text(figures: SummaryFigures, title: str, labels: Labels) -> str:
    counts = figures.counts
    # Whole days are named by the title already (stats_title), in the same words.
    lines = [title] if whole_days(counts.window) else [title, period_line(counts, labels)]
    lines.append("")
    decide = waiting_lines(figures.waiting, counts.failed, labels)
    if decide:
        lines += [*decide, ""]
    lines += figure_lines(counts, figures.previous, labels)
    return "\n".join(lines)


def _series_names() -> tuple[str, ...]:
    return (
        _("new people"),
        _("needs reported"),
        _("proposals"),
        _("challenge joins"),
        _("survey responses"),
    )


def dashboard_texts(days: Sequence[DayActivity], labels: Labels) -> DashboardTexts:
    """The dashboard picture's words in the current language."""
    return DashboardTexts(
        title=_("Activity of the last {days} days").format(days=labels.number(len(days))),
        series=_series_names(),
        days=_("day of the month"),
    )


def dashboard_caption(days: Sequence[DayActivity], labels: Labels) -> str:
    lines = [
        _("The last {days} days, one bar a day (the day of the month below):").format(
            days=labels.number(len(days))
        )
    ]
    lines += [f"{series_marker(i)} {name}" for i, name in enumerate(_series_names())]
    return "\n".join(lines)
