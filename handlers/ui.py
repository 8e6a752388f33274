"""Helpers every flow uses to reply: one place for Telegram's limits and quirks."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.replies import later


async def show(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replaces the pressed message when there is one (its old buttons go with it, so they
    cannot be pressed again); otherwise sends a new message. After the update's commit, like
    every reply: whether the edit worked decides (bot/replies.py)."""
    await later(lambda: _show(target, text, markup), reads_answers=False)


async def _show(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    if isinstance(target, CallbackQuery):
        message = target.message
        if isinstance(message, Message) and message.text is not None:
            try:
                await message.edit_text(text, reply_markup=markup)
                return
            except TelegramBadRequest as error:
                if "not modified" in error.message:
                    return
                # Too old to edit, or gone: say it in a new message instead.
        if message is not None:
            await target.bot.send_message(message.chat.id, text, reply_markup=markup)  # type: ignore[union-attr]
        return
    await target.answer(text, reply_markup=markup)


def in_rows(
    buttons: Sequence[InlineKeyboardButton], width: int
) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out `width` to a row."""
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def ticked(text: str, on: bool) -> str:
    """A multi-select button's label, ticked when chosen."""
    return f"✅ {text}" if on else text
