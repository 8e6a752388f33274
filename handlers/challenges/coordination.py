"""What coordinators see of a challenge, and the challenge being written in the group's form.

The form and the management live in `create.py` and `manage.py`; messages sent outside the
reply (alerts, updates) in `coordination_notices.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.lists import format_list

from bot.config import Settings
from bot.i18n import format_when
from handlers.challenges.keyboards import kind_label
from handlers.challenges.public import card_text, language_name, period_label, where_label
from handlers.draft import Draft
from handlers.initiatives.cards import shorten
from handlers.profile.labels import arrondissement_label, theme_label
from handlers.texts import join_list
from storage.challenges import CONTRIBUTION_KINDS, ChallengeFigures, activity_label, challenge_text
from storage.models import Challenge, ChallengeStatus
from storage.outbox import TEXT_LIMIT, cut_caption

SUMMARY_DESCRIPTION = 600
SUMMARY_ACTIVITIES = 10


def status_label(status: ChallengeStatus) -> str:
    # TRANSLATORS: a challenge's status, after "Status:" (draft, open, closed).
    return {
        ChallengeStatus.draft: _("draft"),
        ChallengeStatus.open: _("open"),
        ChallengeStatus.closed: _("closed"),
    }[status]


def citizens_card(challenge: Challenge, locale: str, people: int = 0, *, timezone: str) -> str:
    """The challenge exactly as citizens read its card."""
    return card_text(challenge, locale, people=people, timezone=timezone)


def summary(challenge: Challenge, locale: str) -> str:
    """The challenge in a few lines, for its management card."""
    title, description = challenge_text(challenge, locale)
    lines = [
        f"<b>{html.quote(title)}</b>",
        f"{theme_label(challenge.theme_code, locale)} · "
        f"{where_label(challenge.arrondissements, locale)}",
    ]
    period = period_label(challenge, locale)
    if period:
        lines.append(period)
    lines += [
        _("Sought: {kinds}").format(
            kinds=join_list((kind_label(code) for code in challenge.contribution_kinds), locale)
        ),
        "",
        html.quote(shorten(description, SUMMARY_DESCRIPTION)),
    ]
    if challenge.activities:
        shown = challenge.activities[:SUMMARY_ACTIVITIES]
        lines += [
            "",
            _("Ways to help:"),
            *(f"• {html.quote(activity_label(a, locale))}" for a in shown),
        ]
        if len(challenge.activities) > len(shown):
            lines.append("…")
    return "\n".join(lines)


def fit(text: str) -> str:
    """Within a message's 4096 characters, cut cleanly (tags closed) if it had to be."""
    return cut_caption(text, TEXT_LIMIT)[0]


def no_activities_note() -> str:
    return _(
        "No activities yet: they come from a challenge file "
        "(<code>collective challenges import FILE</code>)."
    )


def figures_text(figures: ChallengeFigures) -> list[str]:
    lines = [
        _("<b>Figures</b>"),
        _("Participants: {count} ({recent} in the last 7 days; {left} left)").format(
            count=figures.participants, recent=figures.joined_last_7_days, left=figures.left
        ),
        _("Assisted participations (people without Telegram): {count}").format(
            count=figures.assisted
        ),
    ]
    if figures.by_kind:
        lines.append(
            _("By contribution: {counts}").format(
                counts=" · ".join(
                    f"{kind_label(code)} {count}"
                    for code, count in sorted(figures.by_kind.items())
                )
            )
        )
    if figures.by_arrondissement:
        lines.append(
            _("By arrondissement: {counts}").format(
                counts=" · ".join(
                    f"{arrondissement_label(number)} {count}"
                    for number, count in sorted(figures.by_arrondissement.items())
                )
            )
        )
    lines.append(
        _("Introductions asked: {asked}; alliances made: {made}").format(
            asked=figures.introductions_asked, made=figures.introductions_made
        )
    )
    return lines


def management_text(
    challenge: Challenge, figures: ChallengeFigures, link: str, settings: Settings
) -> str:
    """The card coordinators manage a challenge from, in the group's language."""
    locale = settings.group_locale
    status = status_label(challenge.status)
    if challenge.status is ChallengeStatus.open and challenge.opened_at:
        status = _("open since {when}").format(
            when=format_when(challenge.opened_at, locale, settings.timezone)
        )
    elif challenge.status is ChallengeStatus.closed and challenge.closed_at:
        status = _("closed on {when}").format(
            when=format_when(challenge.closed_at, locale, settings.timezone)
        )
    languages = format_list(
        [language_name(code, locale) for code in challenge.texts], locale=locale
    )
    lines = [
        _("Status: {status}").format(status=status),
        _("Texts in: {languages}").format(languages=languages),
        "",
        summary(challenge, locale),
    ]
    if not challenge.activities:
        lines += ["", no_activities_note()]
    lines += ["", *figures_text(figures), "", _("Link: {link}").format(link=html.quote(link))]
    return fit("\n".join(lines))


def list_line(challenge: Challenge, locale: str) -> str:
    title, _description = challenge_text(challenge, locale)
    return f"• {html.quote(shorten(title, 80))} — {status_label(challenge.status)}"


# -- the form's draft


@dataclass
class ChallengeDraft(Draft, key="challenge"):
    """The challenge being written. Texts are in the group's language; dates ISO strings
    (the dialog's data is JSON); no arrondissement means the whole city."""

    title: str | None = None
    description: str | None = None
    theme_code: str | None = None
    arrondissements: list[int] = field(default_factory=list)
    starts_on: str | None = None
    ends_on: str | None = None
    kinds: list[str] = field(default_factory=list)
    # Came from the preview: after the answer, back to the preview.
    editing: bool = False
    # The challenge being changed (Edit on its card); None for a new one.
    challenge_id: int | None = None

    @property
    def start(self) -> date | None:
        return date.fromisoformat(self.starts_on) if self.starts_on else None

    @property
    def end(self) -> date | None:
        return date.fromisoformat(self.ends_on) if self.ends_on else None

    def texts(self, existing: Challenge | None, locale: str) -> dict[str, dict[str, str]]:
        """The challenge's texts with the group's language's replaced; other languages (from
        a file) are kept. A challenge without texts in the group's language (the form showed
        another one's) gets some only when they were changed."""
        if existing is None:
            return {locale: {"title": self.title or "", "description": self.description or ""}}
        texts = {lang: dict(values) for lang, values in existing.texts.items()}
        typed = (self.title or "", self.description or "")
        if locale in texts or typed != challenge_text(existing, locale):
            texts[locale] = {"title": typed[0], "description": typed[1]}
        return texts

    def stored_fields(self, existing: Challenge | None, locale: str) -> dict[str, Any]:
        """What `create_challenge` / `update_challenge` take."""
        return {
            "texts": self.texts(existing, locale),
            "theme_code": self.theme_code or "",
            "arrondissements": sorted(self.arrondissements),
            "starts_on": self.start,
            "ends_on": self.end,
            "contribution_kinds": [code for code in CONTRIBUTION_KINDS if code in self.kinds],
        }

    def as_challenge(self, existing: Challenge | None, locale: str) -> Challenge:
        """A challenge never stored, to show the preview with the citizens' card."""
        return Challenge(
            **self.stored_fields(existing, locale),
            activities=list(existing.activities) if existing else [],
            status=existing.status if existing else ChallengeStatus.draft,
        )

    @classmethod
    def of(cls, challenge: Challenge, locale: str) -> ChallengeDraft:
        title, description = challenge_text(challenge, locale)
        return cls(
            title=title,
            description=description,
            theme_code=challenge.theme_code,
            arrondissements=list(challenge.arrondissements),
            starts_on=challenge.starts_on.isoformat() if challenge.starts_on else None,
            ends_on=challenge.ends_on.isoformat() if challenge.ends_on else None,
            kinds=list(challenge.contribution_kinds),
            editing=True,
            challenge_id=challenge.id,
        )
