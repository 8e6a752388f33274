"""/start: back to where the person was — a dialog in progress, an unfinished onboarding, or
the menu — after a pause or a restart of the bot."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.challenges.public import open_from_link
from handlers.flow import Flow, ResumePoints
from handlers.initiatives.support import open_from_link as open_initiative
from handlers.menu import MenuAction, MenuCb
from handlers.organisations.member import open_invitation
from handlers.profile.onboarding import resume
from handlers.ui import show
from storage.challenges import parse_start_payload
from storage.models import User
from storage.organisations import parse_invite
from storage.privacy import has_current_notice
from storage.users import is_onboarded

router = Flow("start")


@router.message(CommandStart(deep_link=True))
async def start_with_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    """`/start c_<slug>` (a challenge's link or poster): its card, after onboarding for a
    newcomer; `/start i_<id>` (an initiative's): its card, open to anyone like browsing; any
    other payload is a plain /start."""
    code = parse_invite(command.args or "")
    if code is not None and await open_invitation(message, session, user, code):
        return
    if await open_initiative(message, session, user, command.args or ""):
        return
    slug = parse_start_payload(command.args or "")
    if slug is not None and await open_from_link(message, state, session, user, settings, slug):
        return
    if slug is not None:
        await message.answer(_("This link leads to no challenge any more."))
    await start(message, state, session, user, settings, resume_points)


@router.message(CommandStart())
@router.callback_query(MenuCb.filter(F.action == MenuAction.start))
async def start(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    resume_points: ResumePoints,
) -> None:
    current = (await state.get_state() or "").split(":")[0]
    dialog = resume_points.dialogs.get(current)
    if dialog is not None and has_current_notice(user) and is_onboarded(user):
        await show(event, _("Welcome back! Let's go on where you left off."))
        await dialog(event, state, session, user, settings)
        return
    await resume(event, state, session, user, settings)
