"""Handlers declared once, at import, and fresh aiogram Routers for each dispatcher.

An aiogram Router can be attached to one parent only, so module-level routers would allow one
dispatcher per process; tests (and a restart in the same process) need several.

The one way to put a flow in the bot: its module declares a `Flow` and registers its handlers
on it; its package's `flows.py` lists its flows for each side (`private`, `coordinators`), in
order; `handlers/__init__.py` builds the tree from those lists with `side` and
`coordinators_only`, the only places a Router is made. (`flows.py` rather than the package's
`__init__`: other flows import a package's modules, and must not import all of its flows.)

Next to its flows, a package's `flows.py` names what runs outside an update: its scheduled
`jobs` (bot/jobs.py) and its `resume_points` — where a person in one of its dialogs goes back
to on /start, and what someone who came by a link sees once onboarding is done. They reach the
scheduler and the handlers through the app (bot/app.py, bot/factory.py), never by a flow
importing another's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram import Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.coordination import Coordinator, Taken, refuse_button, refuse_message
from handlers.current import Current
from storage.models import User

Handler = TypeVar("Handler", bound=Callable[..., Any])

# A dialog picked up where the person left it (after /start, a pause or a restart).
Resumer = Callable[
    [Message | CallbackQuery, FSMContext, AsyncSession, User, Settings], Awaitable[None]
]
# What someone who came by a link (`pending`, as their flow wrote it) sees once onboarding is
# done; False when it is no longer to be seen.
Pending = Callable[[Message | CallbackQuery, AsyncSession, User, Settings, str], Awaitable[bool]]


@dataclass(frozen=True)
class ResumePoints:
    """Every flow's resume points, gathered by the app (handlers/__init__.py `resume_points`)
    and handed to the handlers in the dispatcher's data as `resume_points`."""

    # By the full name of the dialog's StatesGroup.
    dialogs: Mapping[str, Resumer] = field(default_factory=dict)
    after_onboarding: Pending | None = None

    @classmethod
    def of(
        cls, dialogs: Mapping[type[StatesGroup], Resumer], after_onboarding: Pending | None
    ) -> ResumePoints:
        return cls(
            {group.__full_group_name__: resume for group, resume in dialogs.items()},
            after_onboarding,
        )


class Flow:
    def __init__(self, name: str, *, current: Sequence[Current[Any]] = ()) -> None:
        self.name = name
        self.registrations: list[
            tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]]
        ] = []
        # What its buttons are about, handed to the handlers that name it (handlers/current.py).
        self.current = tuple(current)

    def _on(self, event: str, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.registrations.append((event, handler, filters, kwargs))
            return handler

        return register

    def message(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self._on("message", *filters, **kwargs)

    def callback_query(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self._on("callback_query", *filters, **kwargs)

    def my_chat_member(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self._on("my_chat_member", *filters, **kwargs)

    def router(self) -> Router:
        router = Router(name=self.name)
        for event, handler, filters, kwargs in self.registrations:
            router.observers[event].register(handler, *filters, **kwargs)
        for current in self.current:
            for event in current.events:
                router.observers[event].middleware(current)
        return router


def side(
    name: str,
    *parts: Flow | Router,
    messages: Filter | None = None,
    buttons: Filter | None = None,
) -> Router:
    """`parts` in this order, the messages and buttons they hear narrowed to a scope (where
    people write from) once for all of them."""
    router = Router(name=name)
    if messages is not None:
        router.message.filter(messages)
    if buttons is not None:
        router.callback_query.filter(buttons)
    router.include_routers(*(part.router() if isinstance(part, Flow) else part for part in parts))
    return router


def coordinators_only(name: str, *flows: Flow) -> Router:
    """`flows` for coordinators: anyone else gets the refusal wherever one of their handlers
    would have answered (a command, a typed answer, a button, forged or not), and nothing
    else is asked of what no handler here takes."""
    gated = side(f"{name}-gated", *flows, messages=Coordinator(), buttons=Coordinator())
    refused = Router(name=f"{name}-refused")
    refused.message.register(refuse_message)
    refused.callback_query.register(refuse_button)
    return side(
        name,
        gated,
        refused,
        messages=Taken(gated, "message"),
        buttons=Taken(gated, "callback_query"),
    )
