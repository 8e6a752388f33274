"""What a flow's update is about — the challenge or the survey a button names — found once,
before the handler, and handed to each handler that takes it as an argument.

A `Current` stands on a flow's router (`Flow(..., current=[...])`), as a middleware of its
buttons: it runs once the handler is chosen (its filters passed), and only for a handler that
names the argument. When the object is no longer there (a stale or forged button), the flow's
stale answer is given here, once, and the handler does not run; a handler never looks its
object up itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.types import TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.texts import stale_button

Found = TypeVar("Found")
Data = dict[str, Any]


class Current(BaseMiddleware, Generic[Found]):
    def __init__(
        self,
        name: str,
        find: Callable[[TelegramObject, Data], Awaitable[Found | None]],
        stale: Callable[[TelegramObject, Data], Awaitable[None]],
    ) -> None:
        self.name = name
        self.find = find
        self.stale = stale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, Data], Awaitable[Any]],
        event: TelegramObject,
        data: Data,
    ) -> Any:
        chosen: HandlerObject | None = data.get("handler")
        if chosen is None or self.name not in chosen.params:
            return await handler(event, data)
        found = await self.find(event, data)
        if found is None:
            await self.stale(event, data)
            return None
        data[self.name] = found
        return await handler(event, data)


async def stale_button_answer(event: TelegramObject, data: Data) -> None:
    """The button's answer: it no longer leads anywhere."""
    callback_answer: CallbackAnswer = data["callback_answer"]
    callback_answer.text = stale_button()
