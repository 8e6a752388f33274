"""Browse the published initiatives — open to anyone, even before the notice — by theme, by
arrondissement or all, a page at a time, and read their cards; and «My proposals»."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import ngettext
from bot.replies import later
from handlers.flow import Flow
from handlers.initiatives.callbacks import (
    BrowseBy,
    BrowseCb,
    CardCb,
    ContestCb,
    ReportCb,
    ResubmitCb,
)
from handlers.initiatives.cards import public_card, shorten, status_label
from handlers.initiatives.keyboards import gather_rows
from handlers.menu import MenuAction, MenuCb
from handlers.profile.labels import arrondissement_button, arrondissement_label, theme_label
from handlers.profile.onboarding import resume
from handlers.texts import stale_button
from handlers.ui import in_rows, show
from storage import initiatives
from storage.initiative_support import Standing, is_small, standing
from storage.initiatives import PAGE_SIZE, reference
from storage.models import Initiative, InitiativeStatus, ReportReason, Theme, User
from storage.outbox import CAPTION_LIMIT, TEXT_LIMIT
from storage.privacy import has_current_notice
from storage.themes import known_theme_codes, list_themes
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE

router = Flow("initiatives-browse")

PREVIOUS, NEXT = "◀", "▶"
BUTTON_TITLE = 60


def reason_label(reason: ReportReason) -> str:
    return {
        ReportReason.spam: _("Spam or advertising"),
        ReportReason.offensive: _("Offensive or hateful"),
        ReportReason.off_topic: _("Off-topic"),
    }[reason]


def hiding_reasons(stored: str) -> str:
    """A hiding's reason is stored as the reports' reasons («spam, off_topic»), so that each
    reader reads them in their own language; any other text is shown as written."""
    try:
        return ", ".join(reason_label(ReportReason(part.strip())) for part in stored.split(","))
    except ValueError:
        return html.quote(shorten(stored, 200))


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def _menu_button(text: str, action: MenuAction) -> InlineKeyboardButton:
    return _button(text, MenuCb(action=action).pack())


def _browse(by: BrowseBy, value: str = "", page: int = 0) -> str:
    return BrowseCb(by=by, value=value, page=page).pack()


def ways_keyboard(user: User) -> InlineKeyboardMarkup:
    # «start» would show the notice to someone who has not accepted it; the help shows them
    # the menu they browse from.
    way_out = (
        _menu_button(_("Back to the menu"), MenuAction.start)
        if has_current_notice(user)
        else _menu_button(_("Help"), MenuAction.help)
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(_("By theme"), _browse(BrowseBy.theme)),
                _button(_("By arrondissement"), _browse(BrowseBy.arrondissement)),
            ],
            [_button(_("All initiatives"), _browse(BrowseBy.all))],
            [way_out],
        ]
    )


def _back_up(by: BrowseBy) -> InlineKeyboardButton:
    """From a list to the choice of its theme or arrondissement; from «All» to the ways."""
    if by is BrowseBy.all:
        return _menu_button(_("← Back"), MenuAction.browse)
    return _button(_("← Back"), _browse(by))


def list_keyboard(
    items: Sequence[Initiative], by: BrowseBy, value: str, page: int, pages: int
) -> InlineKeyboardMarkup:
    rows = [
        [_button(shorten(item.title, BUTTON_TITLE), CardCb(initiative_id=item.id).pack())]
        for item in items
    ]
    nav = []
    if page > 0:
        nav.append(_button(PREVIOUS, _browse(by, value, page - 1)))
    if page < pages - 1:
        nav.append(_button(NEXT, _browse(by, value, page + 1)))
    if nav:
        rows.append(nav)
    rows.append([_back_up(by)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(MenuCb.filter(F.action == MenuAction.browse))
async def browse(query: CallbackQuery, user: User) -> None:
    """Asks how to browse: by theme, by arrondissement, or all."""
    await replace(
        query,
        _("<b>Initiatives of La Collective</b>")
        + "\n\n"
        + _("What people and organisations do for Marseille. How would you like to browse them?"),
        ways_keyboard(user),
    )


@router.callback_query(BrowseCb.filter())
async def browse_pressed(
    query: CallbackQuery,
    callback_data: BrowseCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    """A theme or an arrondissement to choose, or a page of a list."""
    by, value = callback_data.by, callback_data.value
    if by is BrowseBy.theme and not value:
        themes = await list_themes(session)
        buttons = [
            _button(theme_label(theme, user.locale), _browse(by, theme.code)) for theme in themes
        ]
        rows = in_rows(buttons, 2)
        rows.append([_back_up(BrowseBy.all)])
        await replace(query, _("Which theme?"), InlineKeyboardMarkup(inline_keyboard=rows))
        return
    if by is BrowseBy.arrondissement and not value:
        numbers = [*ARRONDISSEMENTS, OUTSIDE_MARSEILLE]
        buttons = [_button(arrondissement_button(n), _browse(by, str(n))) for n in numbers]
        rows = [buttons[i : i + 4] for i in range(0, len(ARRONDISSEMENTS), 4)]
        rows += [[buttons[-1]], [_back_up(BrowseBy.all)]]
        await replace(
            query, _("Which arrondissement?"), InlineKeyboardMarkup(inline_keyboard=rows)
        )
        return
    if callback_data.page < 0 or await list_filter(session, by, value) is None:
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    await show_list(query, session, user, callback_data)


async def list_filter(
    session: AsyncSession, by: BrowseBy, value: str
) -> tuple[str | None, int | None] | None:
    """The theme and arrondissement a list keeps to; None for a value no list has."""
    if by is BrowseBy.all:
        return (None, None) if not value else None
    if by is BrowseBy.theme:
        return (value, None) if value in await known_theme_codes(session) else None
    if value.isdigit() and int(value) in (*ARRONDISSEMENTS, OUTSIDE_MARSEILLE):
        return None, int(value)
    return None


async def list_title(session: AsyncSession, by: BrowseBy, value: str, locale: str) -> str:
    if by is BrowseBy.theme:
        return theme_label(await session.get(Theme, value) or value, locale)
    if by is BrowseBy.arrondissement:
        return arrondissement_label(int(value))
    return _("All initiatives")


def nothing_here(by: BrowseBy) -> str:
    if by is BrowseBy.theme:
        text = _("No initiative has been published on this theme yet.")
    elif by is BrowseBy.arrondissement:
        text = _("No initiative has been published in this arrondissement yet.")
    else:
        text = _("No initiative has been published yet.")
    return text + " " + _("Yours could be the first: members can propose one from the menu.")


async def show_list(
    target: CallbackQuery, session: AsyncSession, user: User, wanted: BrowseCb
) -> None:
    """A page of the list; past its end (initiatives hidden meanwhile), its last page."""
    by, value = wanted.by, wanted.value
    theme_code, arrondissement = await list_filter(session, by, value) or (None, None)
    page = wanted.page
    while True:
        items, total = await initiatives.published(
            session, theme_code=theme_code, arrondissement=arrondissement, page=page
        )
        pages = max(1, -(-total // PAGE_SIZE))
        if page < pages:
            break
        page = pages - 1
    label, title = _("Initiatives"), await list_title(session, by, value, user.locale)
    head = f"<b>{label}</b> · {html.quote(title)}"
    if total == 0:
        markup = InlineKeyboardMarkup(inline_keyboard=[[_back_up(by)]])
        await replace(target, f"{head}\n\n{nothing_here(by)}", markup)
        return
    count = ngettext("{count} initiative", "{count} initiatives", total).format(count=total)
    where = _("page {page}/{pages}").format(page=page + 1, pages=pages)
    text = f"{head}\n{count} · {where}\n\n" + _("Choose one to read more.")
    await replace(target, text, list_keyboard(items, by, value, page, pages))


def list_of(message: object, initiative: Initiative) -> BrowseCb | None:
    """The list a card is opened from, read back from that list's own buttons: «◀» and «▶»
    name its neighbours, «Back» its kind; a single page is page 0 of the list of the
    initiative's own theme or arrondissement. None when the message is not a list."""
    markup = message.reply_markup if isinstance(message, Message) else None
    data = [
        b.callback_data or "" for row in (markup.inline_keyboard if markup else []) for b in row
    ]
    up = (f"{BrowseCb.__prefix__}:", MenuCb(action=MenuAction.browse).pack())
    if not any(d.startswith(f"{CardCb.__prefix__}:") for d in data) or not any(
        d.startswith(up[0]) or d == up[1] for d in data
    ):
        return None
    buttons = [b for row in markup.inline_keyboard for b in row] if markup else []
    by = BrowseBy.all
    for button in buttons:
        try:
            target = BrowseCb.unpack(button.callback_data or "")
        except (TypeError, ValueError):
            continue
        if button.text == PREVIOUS:
            return BrowseCb(by=target.by, value=target.value, page=target.page + 1)
        if button.text == NEXT:
            return BrowseCb(by=target.by, value=target.value, page=target.page - 1)
        by = target.by
    value = {
        BrowseBy.theme: initiative.theme_code,
        BrowseBy.arrondissement: str(initiative.arrondissement),
        BrowseBy.all: "",
    }[by]
    return BrowseCb(by=by, value=value, page=0)


def card_keyboard(
    initiative: Initiative, user: User, back: BrowseCb, standing: Standing | None = None
) -> InlineKeyboardMarkup:
    rows = []
    if has_current_notice(user) and standing is not None:
        rows += gather_rows(initiative.id, standing)
    # Reporting abuse is for others: not offered to whoever carries the initiative.
    own = initiative.proposer_id == user.id or (standing is not None and standing.carrier)
    if has_current_notice(user) and not own:
        # TRANSLATORS: flags the initiative to the coordinators; not «report a need».
        report = _("Report abuse")
        rows.append([_button(report, ReportCb(initiative_id=initiative.id).pack())])
    rows.append([_button(_("← Back to the list"), back.pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(CardCb.filter())
async def card_pressed(
    query: CallbackQuery,
    callback_data: CardCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    """The initiative's card, with its photo when it has one; an initiative no longer
    published is said so, and the list it was in is shown again without it."""
    initiative = await initiatives.get_initiative(session, callback_data.initiative_id)
    if initiative is None or initiative.status is not InitiativeStatus.approved:
        callback_answer.text = _("This initiative is no longer published.")
        callback_answer.show_alert = True
        if initiative is not None and (shown_in := list_of(query.message, initiative)):
            await show_list(query, session, user, shown_in)
        return
    back = list_of(query.message, initiative) or BrowseCb(by=BrowseBy.all)
    await show_card(query, initiative, user, back, await standing(session, initiative, user))


def supporters_line(count: int) -> str:
    if is_small(count):
        return _("fewer than 5 supporters")
    return ngettext("{count} supporter", "{count} supporters", count).format(count=count)


async def show_card(
    query: CallbackQuery,
    initiative: Initiative,
    user: User,
    back: BrowseCb,
    standing: Standing | None = None,
) -> None:
    markup = card_keyboard(initiative, user, back, standing)
    message = query.message
    extra = f"\n👍 {supporters_line(standing.supports)}" if standing else ""
    text = public_card(initiative, user.locale, limit=TEXT_LIMIT - 40) + extra
    if initiative.photo_file_id and isinstance(message, Message):
        caption = public_card(initiative, user.locale, limit=CAPTION_LIMIT - 40) + extra
        photo = initiative.photo_file_id

        async def photo_or_text() -> None:
            # After the commit (bot/replies.py): how the photo went decides.
            try:
                await message.answer_photo(photo, caption=caption, reply_markup=markup)
            except TelegramBadRequest:
                # A photo Telegram no longer has: the card goes as text.
                await replace(query, text, markup)
            else:
                await _delete(message)

        await later(photo_or_text)
        return
    await replace(query, text, markup)


async def replace(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Like `show`; a photo card cannot become text, so it is deleted and the text sent."""
    if isinstance(query.message, Message) and query.message.text is None:
        await _delete(query.message)
    await show(query, text, markup)


async def _delete(message: Message) -> None:
    try:
        await message.delete()
    except TelegramBadRequest:
        pass  # Too old to delete (48 h): it stays, harmless.


# -- My proposals


@router.callback_query(MenuCb.filter(F.action == MenuAction.my_proposals))
async def my_proposals(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User, settings: Settings
) -> None:
    """The person's proposals, newest first, with where each stands and why."""
    if not has_current_notice(user):
        await resume(query, state, session, user, settings)
        return
    proposals = await initiatives.proposals_of(session, user)
    await show(query, proposals_text(proposals, user.locale), proposals_keyboard(proposals))


def proposal_reason(initiative: Initiative) -> str | None:
    if not initiative.reason:
        return None
    if initiative.status is InitiativeStatus.hidden:
        return hiding_reasons(initiative.reason)
    if initiative.status in (InitiativeStatus.rejected, InitiativeStatus.changes_requested):
        return html.quote(shorten(initiative.reason, 200))
    return None


def proposals_text(proposals: Sequence[Initiative], locale: str) -> str:
    if not proposals:
        return _("You have not proposed any initiative yet. Why not the first one?")
    lines = [_("<b>Your proposals</b>"), ""]
    room = TEXT_LIMIT - 200
    for shown, initiative in enumerate(proposals):
        title = html.quote(shorten(initiative.title, BUTTON_TITLE))
        entry = f"{reference(initiative)} · <b>{title}</b> — {status_label(initiative.status)}"
        if (reason := proposal_reason(initiative)) is not None:
            entry += "\n" + _("Reason: {reason}").format(reason=reason)
        room -= len(entry) + 2
        if room < 0:
            rest = len(proposals) - shown
            lines.append(
                ngettext("…and {count} more.", "…and {count} more.", rest).format(count=rest)
            )
            break
        lines += [entry, ""]
    return "\n".join(lines).strip()


def proposals_keyboard(proposals: Sequence[Initiative]) -> InlineKeyboardMarkup:
    """Where something can still be done: edit after a request for changes, or contest a
    hiding (once)."""
    rows = []
    for initiative in proposals:
        title = shorten(initiative.title, 40)
        if initiative.status is InitiativeStatus.changes_requested:
            data = ResubmitCb(initiative_id=initiative.id).pack()
            rows.append([_button(_("Edit “{title}”").format(title=title), data)])
        elif initiative.status is InitiativeStatus.hidden and initiative.contested_at is None:
            data = ContestCb(initiative_id=initiative.id).pack()
            rows.append([_button(_("Contest the hiding of “{title}”").format(title=title), data)])
    if not proposals:
        rows.append([_menu_button(_("Propose an initiative"), MenuAction.propose)])
    rows.append([_menu_button(_("Back to the menu"), MenuAction.start)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
