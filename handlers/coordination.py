"""The coordinators' gate: who may act, and the one refusal everyone else gets.

It stands on the coordinators' routers (`handlers.flow.coordinators_only`), never in a handler:
a handler placed there runs for coordinators only, and anyone else is refused wherever one of
those handlers would have answered.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.coordinators import Coordinators


def refusal() -> str:
    return _("Only the city's coordinators can do this.")


def command_not_taken() -> str:
    """Said in the coordinators' group to a coordinator whose answer in a dialog (a reason, a
    request for changes, a text, a date) starts with "/": Telegram makes it a command, which
    the dialog does not take (handlers/filters.py NotCommand). The dialog goes on."""
    return _(
        "A message starting with “/” is a command, not an answer: I did not take it. "
        "Please send your answer again without the “/” at the start, or /cancel to give up."
    )


class Coordinator(Filter):
    """The sender is a coordinator: listed in COORDINATOR_IDS, or a member of their group
    (bot/coordinators.py asks Telegram, and remembers the answer for a minute)."""

    async def __call__(
        self, event: Message | CallbackQuery, bot: Bot, coordinators: Coordinators
    ) -> bool:
        return event.from_user is not None and await coordinators(bot, event.from_user.id)


class Taken(Filter):
    """A handler of `router` takes the event, whoever sent it. Asked before `Coordinator`, so
    that membership is asked only for what a coordinators' handler answers: never for a
    citizen's button in a private chat, nor for a chat in the group.

    The flows' routers below carry no filter of their own (`Flow.router`): their handlers'
    filters are all there is to ask."""

    def __init__(self, router: Router, event: str) -> None:
        self.router = router
        self.event = event

    async def __call__(self, event: Message | CallbackQuery, **data: Any) -> bool:
        for router in self.router.chain_tail:
            for handler in router.observers[self.event].handlers:
                taken, _data = await handler.check(event, **data)
                if taken:
                    return True
        return False


async def refuse_message(message: Message, state: FSMContext, raw_state: str | None) -> None:
    """In the group, a reply (several people write there), and out of any dialog: every dialog
    there is a coordinators'. In a private chat, an answer, and the person's dialog goes on."""
    if message.chat.type == "private":
        await message.answer(refusal())
        return
    if raw_state is not None:
        await state.clear()
    await message.reply(refusal())


async def refuse_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A coordinators' button pressed by anyone else, forged or not: nothing changes."""
    callback_answer.text = refusal()
    callback_answer.show_alert = True
