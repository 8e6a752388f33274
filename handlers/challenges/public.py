"""Browse the open challenges — open to anyone, even before the notice — by theme or all, a
page at a time; read a challenge's card; share its link; open it from a deep link
(`/start c_<slug>`), after onboarding for a newcomer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from aiogram import Bot, F, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, LinkPreviewOptions, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from babel import Locale, UnknownLocaleError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import ngettext
from handlers.bidi import current_locale, isolate, line_start
from handlers.challenges import keyboards
from handlers.challenges.callbacks import (
    ChallengeCb,
    ChallengeListCb,
    ChallengeThemesCb,
    ShareCb,
)
from handlers.flow import Flow
from handlers.initiatives.cards import shorten
from handlers.menu import MenuAction, MenuCb
from handlers.profile.labels import arrondissement_label, theme_label
from handlers.profile.onboarding import resume
from handlers.profile.steps import AfterOnboarding
from handlers.texts import format_day, join_list, quoted, stale_button
from handlers.ui import show
from storage import challenges
from storage.challenges import activity_label, challenge_text, deep_link, text_language
from storage.initiative_support import partners_of
from storage.models import Challenge, ChallengeStatus, Participation, Theme, User
from storage.organisations import acting_for
from storage.outbox import TEXT_LIMIT, utf16_len
from storage.privacy import has_current_notice
from storage.summary import local_date
from storage.survey_results import key_figures_over_time
from storage.themes import known_theme_codes, list_themes
from storage.users import is_onboarded

router = Flow("challenges-public")

PAGE_SIZE = 5
# PRIVACY.md: published figures never show a group smaller than this.
SMALLEST_GROUP = 5


# -- who may do what


def is_member(user: User) -> bool:
    """Joining and the quiz need the current notice and a complete profile."""
    return has_current_notice(user) and is_onboarded(user)


def may_assist(user: User) -> bool:
    """Registering someone one accompanies is for organisations' members."""
    return is_member(user) and acting_for(user) is not None


async def profile_first(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    challenge: Challenge,
) -> None:
    """The notice and onboarding first; their last answer brings the person back to this
    challenge's card (`handlers/profile/steps.go_on`)."""
    await resume(target, state, session, user, settings)
    await AfterOnboarding(challenge.slug).save(state)


async def visible(session: AsyncSession, challenge_id: int) -> Challenge | None:
    """A challenge people may see: open or closed, never a draft."""
    challenge = await challenges.get_challenge(session, challenge_id)
    if challenge is None or challenge.status is ChallengeStatus.draft:
        return None
    return challenge


def unavailable() -> str:
    return _("This challenge is not available.")


def closed_text() -> str:
    return _("This challenge is closed: it can no longer be joined.")


def closed_on(challenge: Challenge, locale: str, timezone: str) -> str:
    """The closed card's line: since when (a local date)."""
    if challenge.closed_at is None:
        return closed_text()
    return _("This challenge closed on {date}: it can no longer be joined.").format(
        date=day(local_date(challenge.closed_at, timezone), locale)
    )


# -- the list


@router.callback_query(MenuCb.filter(F.action == MenuAction.challenges))
async def challenges_menu(query: CallbackQuery, session: AsyncSession, user: User) -> None:
    """The first page of all open challenges."""
    await show_list(query, session, user, ChallengeListCb())


@router.callback_query(ChallengeListCb.filter())
async def list_pressed(
    query: CallbackQuery,
    callback_data: ChallengeListCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    """A page of the list, all themes or one."""
    theme = callback_data.theme
    if callback_data.page < 0 or (theme and theme not in await known_theme_codes(session)):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    await show_list(query, session, user, callback_data)


@router.callback_query(ChallengeThemesCb.filter())
async def themes_pressed(query: CallbackQuery, session: AsyncSession, user: User) -> None:
    """Asks which theme to keep to."""
    themes = await list_themes(session)
    await show(query, _("Which theme?"), keyboards.themes_keyboard(themes, user.locale))


def way_out(user: User) -> InlineKeyboardButton:
    # «start» would show the notice to someone who has not accepted it; the help shows them
    # the menu they browse from.
    if has_current_notice(user):
        return keyboards.menu_button(_("Back to the menu"), MenuAction.start)
    return keyboards.menu_button(_("Help"), MenuAction.help)


async def show_list(
    target: CallbackQuery, session: AsyncSession, user: User, wanted: ChallengeListCb
) -> None:
    """A page of the list; past its end (challenges closed meanwhile), its last page."""
    theme_code = wanted.theme or None
    page = wanted.page
    while True:
        items, total = await challenges.list_challenges(
            session, theme_code=theme_code, page=page, page_size=PAGE_SIZE
        )
        pages = max(1, -(-total // PAGE_SIZE))
        if page < pages:
            break
        page = pages - 1
    head = _("<b>Challenges of La Collective</b>")
    if theme_code is not None:
        theme = await session.get(Theme, theme_code)
        head += " · " + html.quote(theme_label(theme or theme_code, user.locale))
    if total == 0:
        text = (
            head
            + "\n\n"
            + (
                _("No challenge is open on this theme at the moment.")
                if theme_code
                else _("No challenge is open at the moment. Come back soon!")
            )
        )
    else:
        count = ngettext("{count} open challenge", "{count} open challenges", total).format(
            count=total
        )
        where = _("page {page}/{pages}").format(page=page + 1, pages=pages)
        text = "\n".join(
            [
                head,
                _("The city's challenges, taken on together: join one with what you can bring."),
                "",
                f"{count} · {where}",
                _("Choose one to read more."),
            ]
        )
    markup = keyboards.list_keyboard(items, user.locale, wanted.theme, page, pages, way_out(user))
    await show(target, text, markup)


# -- the card


@router.callback_query(ChallengeCb.filter())
async def card_pressed(
    query: CallbackQuery,
    callback_data: ChallengeCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """The challenge's card; one no longer shown (back to draft, gone) is said so."""
    challenge = await visible(session, callback_data.challenge_id)
    if challenge is None:
        callback_answer.text = unavailable()
        callback_answer.show_alert = True
        return
    back = ChallengeListCb(theme=callback_data.theme, page=callback_data.page)
    target = answer_below(query) if callback_data.below else query
    await show_card(target, session, user, challenge, back, timezone=settings.timezone)


def answer_below(query: CallbackQuery) -> Message | CallbackQuery:
    """Where to answer a button whose message is worth keeping (an alert, news, a notice): a
    new message under it, rather than in its place."""
    return query.message if isinstance(query.message, Message) else query


async def show_card(
    target: Message | CallbackQuery,
    session: AsyncSession,
    user: User,
    challenge: Challenge,
    back: ChallengeListCb | None = None,
    *,
    timezone: str,
) -> None:
    mine = (
        await challenges.participation_of(session, challenge.id, user) if is_member(user) else None
    )
    figures = await challenges.challenge_figures(session, challenge.id)
    text = card_text(
        challenge,
        user.locale,
        people=figures.participants + figures.assisted,
        mine=mine,
        timezone=timezone,
        partners=[item.title for item in await partners_of(session, challenge.id)],
    )
    impact = bool(await key_figures_over_time(session, challenge.id))
    markup = keyboards.card_keyboard(
        challenge,
        back or ChallengeListCb(),
        mine=mine,
        assists=may_assist(user),
        impact=impact,
        timezone=timezone,
    )
    await show(target, text, markup)


def day(value: date, locale: str) -> str:
    return format_day(value, locale, "long")


def period_label(challenge: Challenge, locale: str) -> str | None:
    start, end = challenge.starts_on, challenge.ends_on
    if start and end:
        return _("From {start} to {end}").format(start=day(start, locale), end=day(end, locale))
    if start:
        return _("From {start}").format(start=day(start, locale))
    if end:
        return _("Until {end}").format(end=day(end, locale))
    return None


def where_label(arrondissements: Sequence[int], locale: str | None = None) -> str:
    """The arrondissements, listed as `locale` (by default the current one) lists them."""
    if not arrondissements:
        return _("Whole city")
    return join_list(
        (arrondissement_label(n) for n in sorted(arrondissements)),
        locale or current_locale() or "fr",
    )


def activity_line(activity: dict[str, Any], locale: str) -> str:
    """«Visits — on site · 4 h a month»."""
    on_site, remote = bool(activity.get("on_site")), bool(activity.get("remote"))
    how = (
        _("on site or remotely")
        if on_site and remote
        else _("on site")
        if on_site
        else _("remotely")
        if remote
        else ""
    )
    hours = int(activity.get("hours_per_month") or 0)
    parts = [how] if how else []
    if hours:
        parts.append(
            ngettext("about {hours} hour a month", "about {hours} hours a month", hours).format(
                hours=hours
            )
        )
    label = html.quote(activity_label(activity, locale))
    return f"• {label}" + (f" — {' · '.join(parts)}" if parts else "")


def people_line(people: int) -> str:
    if people == 0:
        return _("Nobody has joined yet: be the first!")
    if people < SMALLEST_GROUP:
        return _("Fewer than {count} participants so far.").format(count=SMALLEST_GROUP)
    return ngettext("{count} participant", "{count} participants", people).format(count=people)


def mine_lines(mine: Participation, challenge: Challenge, locale: str) -> list[str]:
    lines = ["", _("<b>You take part</b>: {kind}").format(kind=keyboards.kind_label(mine.kind))]
    activity = next((a for a in challenge.activities if a.get("code") == mine.activity), None)
    if activity is not None:
        lines.append(
            _("Activity: {value}").format(value=html.quote(activity_label(activity, locale)))
        )
    if mine.text:
        lines.append(f"<blockquote>{html.quote(shorten(mine.text, 300))}</blockquote>")
    return lines


def language_name(code: str, locale: str) -> str:
    """A language's name as `locale` writes it: «anglais», "French", «الفرنسية»."""
    try:
        return Locale.parse(code).get_display_name(locale) or code
    except (ValueError, UnknownLocaleError):
        return code


def other_language_note(challenge: Challenge, locale: str) -> str | None:
    """«(text in French)» when the reader's language is not among the challenge's texts and
    another is shown instead; None when they read their own."""
    shown = text_language(challenge, locale)
    if shown is None or shown == locale:
        return None
    return _("(text in {language})").format(language=language_name(shown, locale))


def card_text(
    challenge: Challenge,
    locale: str,
    *,
    people: int,
    mine: Participation | None = None,
    timezone: str,
    partners: Sequence[str] = (),
) -> str:
    """Title, theme, where, when, what is sought, the ways to help, how many take part — in
    `locale` where the challenge has it, else saying in which language it is; user text
    escaped; the whole within a message."""
    title, description = challenge_text(challenge, locale)
    head = [line_start(locale) + f"<b>{html.quote(isolate(title, locale))}</b>"]
    if (note := other_language_note(challenge, locale)) is not None:
        head.append(f"<i>{note}</i>")
    if challenge.status is ChallengeStatus.closed:
        head.append("<i>" + closed_on(challenge, locale, timezone) + "</i>")
    head += [
        _("Theme: {value}").format(value=html.quote(theme_label(challenge.theme_code, locale))),
        _("Where: {value}").format(value=where_label(challenge.arrondissements, locale)),
    ]
    if (period := period_label(challenge, locale)) is not None:
        head.append(period)
    tail = [
        "",
        _("Sought: {kinds}").format(
            kinds=join_list(
                (keyboards.kind_label(code) for code in challenge.contribution_kinds), locale
            )
        ),
    ]
    if challenge.activities:
        tail.append(_("Ways to help:"))
        activities = [activity_line(activity, locale) for activity in challenge.activities]
        room = TEXT_LIMIT // 3
        for line in activities:
            room -= len(line) + 1
            if room < 0:
                tail.append("…")
                break
            tail.append(line)
    tail += ["", people_line(people)]
    if partners:
        tail.append(
            _("Partner initiatives: {titles}").format(
                titles=join_list(
                    (
                        quoted(html.quote(isolate(shorten(title, 60), locale)), locale)
                        for title in partners[:5]
                    ),
                    locale,
                )
            )
        )
    if mine is not None:
        tail += mine_lines(mine, challenge, locale)
    # Telegram counts the text as shown, after the tags are parsed: the raw length is more.
    room = TEXT_LIMIT - sum(utf16_len(line) + 1 for line in (*head, *tail)) - 20
    body = html.quote(shorten(description, max(room, 100)))
    return "\n".join([*head, "", body, *tail])


@router.callback_query(ShareCb.filter())
async def share_pressed(
    query: CallbackQuery,
    callback_data: ShareCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    bot: Bot,
) -> None:
    """The challenge's link as text, in a message of its own, to forward or copy."""
    challenge = await visible(session, callback_data.challenge_id)
    if challenge is None or challenge.status is not ChallengeStatus.open:
        callback_answer.text = unavailable() if challenge is None else closed_text()
        callback_answer.show_alert = True
        return
    me = await bot.me()
    link = deep_link(me.username or "", challenge)
    title = challenge_text(challenge, user.locale)[0]
    text = "\n".join(
        [
            _("Share this challenge: whoever opens the link sees its card in La Collective."),
            "",
            f"<b>{html.quote(title)}</b>",
            html.quote(link),
        ]
    )
    if isinstance(query.message, Message):
        await query.message.answer(text, link_preview_options=LinkPreviewOptions(is_disabled=True))


# -- deep links and the way back after onboarding


async def open_from_link(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    slug: str,
) -> bool:
    """`/start c_<slug>`: the card, or onboarding first and then the card. False when the link
    leads to no challenge people may see."""
    challenge = await challenges.challenge_by_slug(session, slug)
    if challenge is None or challenge.status is ChallengeStatus.draft:
        return False
    if not is_member(user):
        await profile_first(message, state, session, user, settings, challenge)
        return True
    await show_card(message, session, user, challenge, timezone=settings.timezone)
    return True


async def show_pending(
    target: Message | CallbackQuery,
    session: AsyncSession,
    user: User,
    settings: Settings,
    slug: str,
) -> bool:
    """At the end of onboarding, the card of the challenge the person came for; False when it
    is no longer to be seen."""
    challenge = await challenges.challenge_by_slug(session, slug)
    if challenge is None or challenge.status is ChallengeStatus.draft:
        return False
    # Below the welcome, as a message of its own.
    if isinstance(target, CallbackQuery) and isinstance(target.message, Message):
        target = target.message
    await show_card(target, session, user, challenge, timezone=settings.timezone)
    return True
