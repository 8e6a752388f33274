"""/start: back to where the person was — a dialog in progress, an unfinished onboarding, or
the menu — after a pause or a restart of the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.flow import Flow
from handlers.initiatives.propose import resume_proposal
from handlers.initiatives.reports import resume_contest
from handlers.menu import MenuAction, MenuCb
from handlers.needs.report import resume_report
from handlers.profile.onboarding import resume
from handlers.ui import show
from storage.models import User
from storage.privacy import has_current_notice
from storage.users import is_onboarded

router = Flow("start")

Resumer = Callable[[Message | CallbackQuery, FSMContext, AsyncSession, User], Awaitable[None]]

# Dialogs that pick up where they stopped, by the name of their StatesGroup.
DIALOGS: dict[str, Resumer] = {
    "Propose": resume_proposal,
    "NeedReport": resume_report,
    "Contest": resume_contest,
}


@router.message(CommandStart())
@router.callback_query(MenuCb.filter(F.action == MenuAction.start))
async def start(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    current = (await state.get_state() or "").split(":")[0]
    if current in DIALOGS and has_current_notice(user) and is_onboarded(user):
        await show(event, _("Welcome back! Let's go on where you left off."))
        await DIALOGS[current](event, state, session, user)
        return
    await resume(event, state, session, user, settings)
