"""What a flow's update is about — the challenge or the survey a button names, the challenge a
dialog is on — found once, before the handler, and handed to each handler that takes it as an
argument.

A `Current` stands on a flow's router (`Flow(..., current=[...])`), as a middleware of its
buttons (and of its messages, for a dialog): it runs once the handler is chosen (its filters
passed), and only for a handler that names the argument. Its `find` returns the object, or
None having given the flow's answer for a stale button or a dialog whose object is gone — once,
there, and the handler does not run. A handler never looks its object up itself. `find` may
leave in the handler's data what it read on the way (a dialog's draft, as `draft`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.texts import stale_button

# A dialog's object is asked for by its typed answers as by its buttons.
DIALOG = ("message", "callback_query")

Found = TypeVar("Found")
Data = dict[str, Any]
Find = Callable[[TelegramObject, Data], Awaitable[Found | None]]


class Current(BaseMiddleware, Generic[Found]):
    def __init__(
        self, name: str, find: Find[Found], *, events: Sequence[str] = ("callback_query",)
    ) -> None:
        self.name = name
        self.find = find
        self.events = tuple(events)

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
            return None
        data[self.name] = found
        return await handler(event, data)


def pressed(
    lookup: Callable[[AsyncSession, Any], Awaitable[Found | None]],
) -> Find[Found]:
    """For buttons: what `lookup` finds from the pressed button's callback data; when it is
    gone, the button's answer says it no longer leads anywhere."""

    async def find(event: TelegramObject, data: Data) -> Found | None:
        callback_data: CallbackData = data["callback_data"]
        found = await lookup(data["session"], callback_data)
        if found is None:
            callback_answer: CallbackAnswer = data["callback_answer"]
            callback_answer.text = stale_button()
        return found

    return find
