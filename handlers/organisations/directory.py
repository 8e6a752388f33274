"""«Who acts near me?»: organisations and published initiatives by theme and arrondissement, a
page at a time, each with what it does and its verified badge; and the way to reach an
organisation that respects consent — a request its members answer (to be put in touch, or to
join it). Contacts are exchanged only once a member accepts, as introductions do: asking is the
requester's consent, accepting the member's."""

from __future__ import annotations

from aiogram import F, html
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.bidi import isolate, isolate_here, line_start
from handlers.flow import Flow
from handlers.initiatives.callbacks import CardCb
from handlers.initiatives.cards import shorten
from handlers.menu import MenuAction, MenuCb
from handlers.organisations.callbacks import (
    AnswerCb,
    AskCb,
    AskKind,
    DirCb,
    DirStep,
    EntryCb,
)
from handlers.organisations.texts import organisation_label
from handlers.profile.labels import arrondissement_button, arrondissement_label, theme_label
from handlers.texts import contact_link, join_list, stale_button
from handlers.ui import show
from storage import organisations
from storage.models import Organisation, OrganisationRequest, User
from storage.organisations import ACCEPTED, CONTACT, JOIN, AlreadyAnswered, NotAMember
from storage.outbox import TextMessage, enqueue
from storage.privacy import has_current_notice, person_subject
from storage.themes import list_themes
from storage.users import ARRONDISSEMENTS, OUTSIDE_MARSEILLE, is_onboarded

router = Flow("organisations-directory")

PAGE = 5
WHAT_LIMIT = 160
ANY_THEME = "*"
ANY_PLACE = -1


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def in_rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def reachable(user: User | None) -> bool:
    return user is not None and user.telegram_id is not None and user.active


def member_of(user: User, organisation_id: int) -> bool:
    return user.organisation_id == organisation_id


# -- finding who acts where


@router.callback_query(MenuCb.filter(F.action == MenuAction.directory))
async def directory_pressed(query: CallbackQuery, session: AsyncSession, i18n: I18n) -> None:
    await show_themes(query, session, i18n)


async def show_themes(query: CallbackQuery, session: AsyncSession, i18n: I18n) -> None:
    locale = i18n.current_locale
    buttons = [
        _button(
            theme_label(theme, locale),
            DirCb(step=DirStep.places, theme=theme.code).pack(),
        )
        for theme in await list_themes(session)
    ]
    rows = [
        *in_rows(buttons, 2),
        [_button(_("All themes"), DirCb(step=DirStep.places, theme=ANY_THEME).pack())],
    ]
    await show(
        query,
        _(
            "<b>Who acts near me?</b>\nOrganisations and initiatives of the city, by theme and "
            "arrondissement. Which theme?"
        ),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


def places_keyboard(theme: str) -> InlineKeyboardMarkup:
    buttons = [
        _button(arrondissement_button(n), DirCb(step=DirStep.list, theme=theme, arr=n).pack())
        for n in ARRONDISSEMENTS
    ]
    outside = _button(
        arrondissement_label(OUTSIDE_MARSEILLE),
        DirCb(step=DirStep.list, theme=theme, arr=OUTSIDE_MARSEILLE).pack(),
    )
    anywhere = _button(
        _("The whole city"), DirCb(step=DirStep.list, theme=theme, arr=ANY_PLACE).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[*in_rows(buttons, 4), [outside], [anywhere]])


def search_label(theme: str, arrondissement: int, locale: str) -> str:
    what = _("All themes") if theme == ANY_THEME else theme_label(theme, locale)
    where = (
        _("The whole city")
        if arrondissement == ANY_PLACE
        else arrondissement_label(arrondissement)
    )
    return f"{html.quote(what)} · {where}"


def entry_lines(number: int, actor: organisations.Actor, locale: str) -> list[str]:
    kind = _("Organisation") if actor.kind == "organisation" else _("Initiative")
    name = html.quote(actor.name) + (f" {organisations.BADGE}" if actor.verified else "")
    lines = [f"{line_start(locale)}<b>{number}. {isolate(name, locale)}</b> — {kind}"]
    what = " · ".join(w for w in actor.what if w)
    if what:
        lines.append(f"<i>{html.quote(shorten(what, WHAT_LIMIT))}</i>")
    places = sorted(actor.arrondissements)
    if places:
        lines.append("📍 " + join_list((arrondissement_label(n) for n in places), locale))
    return lines


@router.callback_query(DirCb.filter())
async def directory_step(
    query: CallbackQuery,
    callback_data: DirCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if callback_data.step is DirStep.themes:
        await show_themes(query, session, i18n)
        return
    if callback_data.step is DirStep.places:
        await show(
            query,
            _("<b>Who acts near me?</b>\nIn which arrondissement?"),
            places_keyboard(callback_data.theme),
        )
        return
    await show_page(query, session, i18n, callback_data)


async def show_page(query: CallbackQuery, session: AsyncSession, i18n: I18n, where: DirCb) -> None:
    locale = i18n.current_locale
    theme = None if where.theme == ANY_THEME else where.theme
    arrondissement = None if where.arr == ANY_PLACE else where.arr
    found = await organisations.actors(session, theme, arrondissement)
    pages = max(1, -(-len(found) // PAGE))
    page = min(max(where.page, 0), pages - 1)
    shown = found[page * PAGE : (page + 1) * PAGE]
    lines = [
        _("<b>Who acts near me?</b>"),
        search_label(where.theme, where.arr, locale),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if not found:
        lines.append(
            _(
                "Nobody is listed here yet. Try the whole city, or another theme — and if you "
                "act here, propose your initiative!"
            )
        )
    for number, actor in enumerate(shown, start=page * PAGE + 1):
        lines += [*entry_lines(number, actor, locale), ""]
        if actor.kind == "organisation":
            data = EntryCb(
                organisation_id=actor.id, theme=where.theme, arr=where.arr, page=page
            ).pack()
        else:
            data = CardCb(initiative_id=actor.id).pack()
        rows.append([_button(f"{number}. {shorten(actor.name, 40)}", data)])
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
        nav = []
        if page > 0:
            nav.append(
                _button(
                    _("← Previous"),
                    DirCb(
                        step=DirStep.list, theme=where.theme, arr=where.arr, page=page - 1
                    ).pack(),
                )
            )
        if page < pages - 1:
            nav.append(
                _button(
                    _("Next →"),
                    DirCb(
                        step=DirStep.list, theme=where.theme, arr=where.arr, page=page + 1
                    ).pack(),
                )
            )
        rows.append(nav)
    rows.append([_button(_("Another search"), DirCb(step=DirStep.themes).pack())])
    await show(query, "\n".join(lines).rstrip(), InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(EntryCb.filter())
async def entry_pressed(
    query: CallbackQuery,
    callback_data: EntryCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    i18n: I18n,
) -> None:
    """An organisation: what it does, whether it is verified, and how to reach it."""
    organisation = await session.get(Organisation, callback_data.organisation_id)
    if organisation is None:
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    count = await organisations.member_count(session, organisation.id)
    lines = [f"<b>{organisation_label(organisation)}</b>"]
    if organisation.verified:
        lines.append(_("✓ Verified by the city's coordinators."))
    else:
        lines.append(_("Not verified by the city's coordinators yet."))
    if organisation.description:
        lines.append(f"<i>{html.quote(shorten(organisation.description, WHAT_LIMIT))}</i>")
    lines.append(_("Members on La Collective: {count}").format(count=count))
    rows: list[list[InlineKeyboardButton]] = []
    if member_of(user, organisation.id):
        lines.append(_("This is your organisation."))
    elif count:
        lines.append(
            _(
                "You can ask its members to be put in touch, or to join it: if a member accepts, "
                "you each receive the other's Telegram contact. Nothing is shared before."
            )
        )
        rows.append(
            [
                _button(
                    _("Ask to be put in touch"),
                    AskCb(organisation_id=organisation.id, kind=AskKind.contact).pack(),
                )
            ]
        )
        rows.append(
            [
                _button(
                    _("Ask to join it"),
                    AskCb(organisation_id=organisation.id, kind=AskKind.join_).pack(),
                )
            ]
        )
    back = DirCb(
        step=DirStep.list,
        theme=callback_data.theme,
        arr=callback_data.arr,
        page=callback_data.page,
    )
    rows.append([_button(_("← Back"), back.pack())])
    await show(query, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


# -- asking an organisation's members


def refuse(callback_answer: CallbackAnswer, text: str) -> None:
    callback_answer.text = text
    callback_answer.show_alert = True


def status_text(request: OrganisationRequest) -> str:
    if request.status == ACCEPTED:
        return _("a member accepted it.")
    if request.status == organisations.DECLINED:
        return _("it was declined.")
    return _("it waits for a member's answer.")


@router.callback_query(AskCb.filter())
async def ask_pressed(
    query: CallbackQuery,
    callback_data: AskCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    i18n: I18n,
) -> None:
    """First a confirmation saying what will be shared; then the request, once, to every member
    through the outbox. Refused: one's own organisation, one that is gone or has nobody left,
    and asking twice."""
    if not has_current_notice(user) or not is_onboarded(user):
        refuse(callback_answer, _("Please join La Collective first (/start)."))
        return
    organisation = await session.get(Organisation, callback_data.organisation_id)
    if organisation is None:
        refuse(callback_answer, stale_button())
        return
    name = organisation_label(organisation)
    if member_of(user, organisation.id):
        refuse(callback_answer, _("You are already a member of {name}.").format(name=name))
        return
    members = [m for m in await organisations.members(session, organisation.id) if reachable(m)]
    if not members:
        refuse(
            callback_answer,
            _("Nobody can answer for {name} on La Collective for now.").format(name=name),
        )
        return
    kind = CONTACT if callback_data.kind is AskKind.contact else JOIN
    if not callback_data.sure:
        if kind == CONTACT:
            text = _(
                "Ask {name} to be put in touch with you? Its members will see that a person "
                "from the directory asks; if one accepts, you each receive the other's Telegram "
                "contact."
            ).format(name=name)
        else:
            text = _(
                "Ask to join {name}? Its members will see your Telegram name so that they "
                "recognise you; if one accepts, you become a member and act for it once it is "
                "verified."
            ).format(name=name)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        _("Yes, ask"),
                        AskCb(
                            organisation_id=organisation.id, kind=callback_data.kind, sure=True
                        ).pack(),
                    )
                ],
                [_button(_("← Back"), EntryCb(organisation_id=organisation.id).pack())],
            ]
        )
        await show(query, text, markup)
        return
    request, created = await organisations.ask(session, user, organisation, kind)
    if not created:
        refuse(
            callback_answer,
            _("You already asked {name}: {status}").format(
                name=badged_plain(organisation), status=status_text(request)
            ),
        )
        return
    full_name = query.from_user.full_name if query.from_user else ""
    for member in members:
        await request_to_member(session, i18n, request, organisation, user, member, full_name)
    await show(
        query,
        _("Your request was sent to {name}. You will be told here when a member answers.").format(
            name=name
        ),
    )


def badged_plain(organisation: Organisation) -> str:
    """For an alert, which is plain text."""
    return organisations.badged(organisation)


def requester_label(requester: User) -> str:
    """How the one who asks a contact is named: their organisation, or «a citizen» and their
    arrondissement — no name before the member accepts."""
    if requester.organisation is not None:
        return f"<b>{organisation_label(requester.organisation)}</b>"
    if requester.arrondissement is None:
        return _("A citizen")
    return _("A citizen ({place})").format(place=arrondissement_label(requester.arrondissement))


async def request_to_member(
    session: AsyncSession,
    i18n: I18n,
    request: OrganisationRequest,
    organisation: Organisation,
    requester: User,
    member: User,
    full_name: str,
) -> None:
    assert member.telegram_id is not None
    with i18n.use_locale(member.locale):
        name = organisation_label(organisation)
        if request.kind == CONTACT:
            text = _(
                "📇 <b>Someone asks to be put in touch with {name}</b>\n{who} found {name} in the "
                "directory of La Collective. If you accept, you each receive the other's Telegram "
                "contact; if you decline, nothing is shared."
            ).format(name=name, who=requester_label(requester))
        else:
            text = _(
                "🏷 <b>{who} asks to join {name}</b>\nIf you accept, they become a member of "
                "{name} on La Collective. Decline if you do not know them."
            ).format(name=name, who=isolate_here(html.quote(full_name or "?")))
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(_("Accept"), AnswerCb(request_id=request.id, accept=True).pack()),
                    _button(_("Decline"), AnswerCb(request_id=request.id, accept=False).pack()),
                ]
            ]
        ).model_dump(exclude_none=True)
    await enqueue(
        session,
        TextMessage(
            chat_id=member.telegram_id,
            text=text,
            reply_markup=markup,
            user_id=member.id,
            subject=person_subject(requester.id),
        ),
    )


@router.callback_query(AnswerCb.filter())
async def answer_pressed(
    query: CallbackQuery,
    callback_data: AnswerCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    i18n: I18n,
) -> None:
    """A member answers, once for all of them: accepting a contact sends each side the other's
    contact; accepting a join makes the requester a member; a decline is told kindly."""
    request = await session.get(OrganisationRequest, callback_data.request_id)
    organisation = (
        await session.get(Organisation, request.organisation_id) if request is not None else None
    )
    if request is None or organisation is None:
        refuse(callback_answer, stale_button())
        return
    try:
        await organisations.answer(session, request.id, user, callback_data.accept)
    except NotAMember:
        refuse(callback_answer, _("Only the members of this organisation can answer."))
        return
    except AlreadyAnswered:
        refuse(callback_answer, _("Another member has already answered this request."))
        return
    requester = await session.get(User, request.user_id)
    if request.status == ACCEPTED and requester is not None:
        if request.kind == CONTACT:
            await contact_to(session, i18n, organisation, to=requester, about=user, member=True)
            await contact_to(session, i18n, organisation, to=user, about=requester, member=False)
            done = _("✅ You accepted: you will each receive the other's contact.")
        else:
            await joined_to(session, i18n, organisation, requester)
            done = _("✅ You accepted: they are now a member of {name}.").format(
                name=organisation_label(organisation)
            )
    else:
        if requester is not None:
            await declined_to(session, i18n, organisation, requester, request.kind)
        done = _("You declined. The person is told kindly, without a reason.")
    if isinstance(query.message, Message):
        await show(query, f"{query.message.html_text}\n\n<b>{done}</b>")


async def contact_to(
    session: AsyncSession,
    i18n: I18n,
    organisation: Organisation,
    *,
    to: User,
    about: User,
    member: bool,
) -> None:
    """`about`'s contact, in `to`'s language (only the message carries it)."""
    if not reachable(to) or about.telegram_id is None:
        return
    assert to.telegram_id is not None
    with i18n.use_locale(to.locale):
        name = organisation_label(organisation)
        if member:
            head = _(
                "🤝 <b>{name} accepted your request.</b> You can write to the member who answered:"
            ).format(name=name)
            who = f"<b>{name}</b>"
        else:
            head = _("🤝 <b>You are put in touch</b> with the person who asked {name}:").format(
                name=name
            )
            who = requester_label(about)
        text = "\n".join(
            [
                head,
                f"{who} — {contact_link(about.telegram_id)}",
                "",
                _(
                    "If the link does not open a chat, their Telegram settings may not allow it: "
                    "they have your contact too."
                ),
            ]
        )
    await enqueue(
        session,
        TextMessage(
            chat_id=to.telegram_id, text=text, user_id=to.id, subject=person_subject(about.id)
        ),
    )


async def joined_to(
    session: AsyncSession, i18n: I18n, organisation: Organisation, requester: User
) -> None:
    if not reachable(requester):
        return
    assert requester.telegram_id is not None
    with i18n.use_locale(requester.locale):
        text = _("🏷 Welcome to {name}! A member accepted your request: see /organisation.").format(
            name=organisation_label(organisation)
        )
    await enqueue(
        session, TextMessage(chat_id=requester.telegram_id, text=text, user_id=requester.id)
    )


async def declined_to(
    session: AsyncSession, i18n: I18n, organisation: Organisation, requester: User, kind: str
) -> None:
    if not reachable(requester):
        return
    assert requester.telegram_id is not None
    with i18n.use_locale(requester.locale):
        text = (
            _(
                "{name} cannot take up your request to be put in touch for now. Thank you for "
                "reaching out: others act near you too, see “Who acts near me?” in the menu."
            )
            if kind == CONTACT
            else _("{name} did not accept your request to join it. Thank you for asking.")
        ).format(name=organisation_label(organisation))
    await enqueue(
        session, TextMessage(chat_id=requester.telegram_id, text=text, user_id=requester.id)
    )
