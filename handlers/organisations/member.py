"""A member's organisation: who it is, its invitation link, asking the coordinators to verify
it, leaving it; joining one by its link (`/start o_<code>`)."""

from __future__ import annotations

from aiogram import Bot, F, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.group_moves import CoordinatorsChat
from handlers.flow import Flow
from handlers.menu import MenuAction, MenuCb
from handlers.organisations.callbacks import JoinCb, OrgAction, OrgCb, VerifyCb
from handlers.organisations.texts import not_verified_yet, organisation_label
from handlers.ui import show
from storage import needs_digest, organisations
from storage.models import Organisation, User, utcnow
from storage.outbox import TextMessage, enqueue
from storage.privacy import has_current_notice
from storage.users import is_onboarded

router = Flow("organisations")


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def no_organisation() -> str:
    return _(
        "You are not a member of an organisation. A member can send you their organisation's "
        "invitation link."
    )


async def screen(
    session: AsyncSession, organisation: Organisation
) -> tuple[str, InlineKeyboardMarkup]:
    count = await organisations.member_count(session, organisation.id)
    lines = [
        _("<b>Your organisation: {name}</b>").format(name=organisation_label(organisation)),
        _("Members on La Collective: {count}").format(count=count),
    ]
    rows = [[_button(_("Invite a member"), OrgCb(action=OrgAction.invite).pack())]]
    if organisation.verified:
        lines.append(_("✓ Verified by the city's coordinators."))
        if needs_digest.opted_in(organisation):
            lines.append(_("Your members receive each week the new needs where you act."))
            digest = _("Stop the weekly digest of needs")
        else:
            digest = _("Receive each week the new needs where we act")
        rows.append([_button(digest, OrgCb(action=OrgAction.digest).pack())])
    elif organisations.pending_verification(organisation):
        lines.append(_("Waiting for the coordinators' verification."))
        lines.append(not_verified_yet())
    else:
        lines.append(not_verified_yet())
        rows.append(
            [
                _button(
                    _("Ask the coordinators to verify it"), OrgCb(action=OrgAction.verify).pack()
                )
            ]
        )
    rows.append([_button(_("Leave this organisation"), OrgCb(action=OrgAction.leave).pack())])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(Command("organisation"))
@router.callback_query(MenuCb.filter(F.action == MenuAction.organisation))
async def organisation_command(
    event: Message | CallbackQuery, session: AsyncSession, user: User
) -> None:
    if user.organisation is None:
        await show(event, no_organisation())
        return
    text, markup = await screen(session, user.organisation)
    await show(event, text, markup)


@router.callback_query(OrgCb.filter())
async def organisation_pressed(
    query: CallbackQuery,
    callback_data: OrgCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    organisation = user.organisation
    if organisation is None:
        callback_answer.text = no_organisation()
        callback_answer.show_alert = True
        return
    action = callback_data.action
    if action is OrgAction.invite:
        me = await bot.me()
        code = await organisations.invite_code(session, organisation)
        link = f"https://t.me/{me.username}?start=o_{code}"
        text = _(
            "Share this link with the people of {name}: opening it, they join your organisation "
            "on La Collective.\n{link}"
        ).format(name=organisation_label(organisation), link=html.quote(link))
        back = OrgCb(action=OrgAction.show).pack()
        await show(
            query, text, InlineKeyboardMarkup(inline_keyboard=[[_button(_("← Back"), back)]])
        )
        return
    if action is OrgAction.leave:
        text = _("Leave {name}? You will then act on La Collective as a citizen.").format(
            name=organisation_label(organisation)
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(_("Yes, leave"), OrgCb(action=OrgAction.leave_sure).pack())],
                [_button(_("← Back"), OrgCb(action=OrgAction.show).pack())],
            ]
        )
        await show(query, text, markup)
        return
    if action is OrgAction.leave_sure:
        name = organisation_label(organisation)
        orphan = await organisations.leave(session, user)
        if orphan is not None:
            await tell_group_orphaned(session, i18n, settings, coordinators_chat, orphan)
        await show(query, _("You have left {name}.").format(name=name))
        return
    if action is OrgAction.digest:
        if not organisation.verified:
            callback_answer.text = not_verified_yet()
            callback_answer.show_alert = True
            return
        needs_digest.set_digest(organisation, not needs_digest.opted_in(organisation), utcnow())
    if action is OrgAction.verify:
        if organisations.ask_verification(organisation):
            await verification_card(session, i18n, settings, coordinators_chat, organisation)
            callback_answer.text = _("Your request was sent to the coordinators.")
    text, markup = await screen(session, organisation)
    await show(query, text, markup)


async def verification_card(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    organisation: Organisation,
) -> None:
    """The coordinators' card, in their group's language: Verify / Refuse."""
    if coordinators_chat.id is None:
        return
    count = await organisations.member_count(session, organisation.id)
    alike = await organisations.group_of(session, organisation.id)
    with i18n.use_locale(settings.group_locale):
        lines = [
            _("🏷 <b>An organisation asks to be verified</b>"),
            f"<b>{html.quote(organisation.name)}</b> — {organisation.kind.value}",
            _("Members on La Collective: {count}").format(count=count),
        ]
        if len(alike) > 1:
            lines.append(_("Same name as others: see /organisations to merge them."))
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        _("Verify"), VerifyCb(organisation_id=organisation.id, verify=True).pack()
                    ),
                    _button(
                        _("Refuse"), VerifyCb(organisation_id=organisation.id, verify=False).pack()
                    ),
                ]
            ]
        ).model_dump(exclude_none=True)
    await enqueue(
        session,
        TextMessage(
            chat_id=coordinators_chat.id,
            text="\n".join(lines),
            reply_markup=markup,
            subject=f"organisation:{organisation.id}",
        ),
    )


async def tell_group_orphaned(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
    organisation: Organisation,
) -> None:
    if coordinators_chat.id is None:
        return
    with i18n.use_locale(settings.group_locale):
        text = _(
            "🏷 The last member of <b>{name}</b> left it: it is now in your hands (its initiatives "
            "stay listed)."
        ).format(name=organisation_label(organisation))
    await enqueue(session, TextMessage(chat_id=coordinators_chat.id, text=text))


# -- joining by an invitation link


async def open_invitation(message: Message, session: AsyncSession, user: User, code: str) -> bool:
    """`/start o_<code>`: asks to confirm joining; False when the link leads nowhere."""
    organisation = await organisations.by_invite(session, code)
    if organisation is None:
        return False
    if not has_current_notice(user) or not is_onboarded(user):
        await message.answer(
            _(
                "This link invites you to join {name}. Please join La Collective first (/start), "
                "then open the link again."
            ).format(name=organisation_label(organisation))
        )
        return True
    if user.organisation_id == organisation.id:
        await message.answer(
            _("You are already a member of {name}.").format(name=organisation_label(organisation))
        )
        return True
    await message.answer(
        _("Join {name} on La Collective?").format(name=organisation_label(organisation)),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[_button(_("Yes, join"), JoinCb(code=code).pack())]]
        ),
    )
    return True


@router.callback_query(JoinCb.filter())
async def join_pressed(
    query: CallbackQuery,
    callback_data: JoinCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    settings: Settings,
    coordinators_chat: CoordinatorsChat,
) -> None:
    organisation = await organisations.by_invite(session, callback_data.code)
    if organisation is None or not has_current_notice(user) or not is_onboarded(user):
        callback_answer.text = _("This invitation is no longer valid.")
        callback_answer.show_alert = True
        return
    orphan = await organisations.join(session, user, organisation)
    if orphan is not None:
        await tell_group_orphaned(session, i18n, settings, coordinators_chat, orphan)
    text, markup = await screen(session, organisation)
    await show(
        query,
        _("Welcome to {name}!").format(name=organisation_label(organisation)) + "\n\n" + text,
        markup,
    )
