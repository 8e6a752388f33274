"""/privacy, /mydata and /forget: the person's rights, right in the chat."""

from __future__ import annotations

import json

from aiogram import F
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.flow import Flow
from handlers.menu import MenuAction, MenuCb, menu_keyboard
from handlers.privacy.erasure import dialogs_in, erase_person
from handlers.privacy.my_data import summary_text
from handlers.privacy.notice import notice_text
from handlers.ui import show
from storage.models import User
from storage.my_data import export_user_data

router = Flow("privacy")


class ForgetCb(CallbackData, prefix="fg"):
    confirm: bool


@router.message(Command("privacy"))
@router.callback_query(MenuCb.filter(F.action == MenuAction.privacy))
async def privacy(event: Message | CallbackQuery, settings: Settings) -> None:
    text = notice_text(settings)
    if isinstance(event, CallbackQuery):
        await show(event, text)
    else:
        await event.answer(text)


@router.message(Command("mydata"))
@router.callback_query(MenuCb.filter(F.action == MenuAction.mydata))
async def my_data(
    event: Message | CallbackQuery,
    session: AsyncSession,
    user: User,
    state: FSMContext,
    settings: Settings,
) -> None:
    """A readable summary in the person's language, then everything as a JSON file."""
    message = event.message if isinstance(event, CallbackQuery) else event
    if not isinstance(message, Message):
        return
    dialogs = None
    if user.telegram_id is not None:
        dialogs = await dialogs_in(state.storage, user.telegram_id)
    data = await export_user_data(session, user, dialogs)
    await message.answer(summary_text(user, data, settings))
    # UTF-8 as written: «é» and Arabic letters stay readable, not \u escapes.
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await message.answer_document(
        BufferedInputFile(content, filename="my-data.json"),
        caption=_("The same data, complete, in a file you can keep."),
    )


def forget_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, erase everything"),
                    callback_data=ForgetCb(confirm=True).pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("No, keep my data"), callback_data=ForgetCb(confirm=False).pack()
                )
            ],
        ]
    )


def forget_text() -> str:
    return "\n".join(
        [
            _("<b>Do you want us to erase your data?</b> This is what happens:"),
            _(
                "• your profile, your consents, any dialog in progress, and your organisation's "
                "name unless other members belong to it, are deleted;"
            ),
            _(
                "• your initiatives are withdrawn: their title, description, photo and location "
                "are deleted, and the cards already shown to the coordinators say that they "
                "were withdrawn at your request;"
            ),
            _(
                "• the needs you reported, your participation in challenges and your survey "
                "answers stay only as anonymous counts, without your words or your locations;"
            ),
            _(
                "• the people you registered for a challenge are erased too: they still count "
                "among its participants, anonymously;"
            ),
            _(
                "• the coordinators' records keep their own decisions, without your words. The "
                "messages in this chat stay on your device: Telegram lets you delete them."
            ),
            "",
            _("This cannot be undone."),
        ]
    )


@router.message(Command("forget"))
async def forget(message: Message) -> None:
    await message.answer(forget_text(), reply_markup=forget_keyboard())


@router.callback_query(ForgetCb.filter())
async def forget_answered(
    query: CallbackQuery,
    callback_data: ForgetCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    settings: Settings,
) -> None:
    if not callback_data.confirm:
        await show(query, _("Nothing was erased."), menu_keyboard(user))
        return
    # The dialog may live in Redis rather than in the database.
    await state.clear()
    await erase_person(
        session, user, i18n=i18n, group_locale=settings.group_locale, storage=state.storage
    )
    await show(
        query,
        _(
            "Your data has been erased. Thank you for your time with La Collective; you are "
            "welcome back whenever you wish with /start."
        ),
    )
