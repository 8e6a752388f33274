"""Routers let in only what one of their handlers could take (bot/routing.py): what a handler
is read to want is what aiogram's own filters let through, for every handler of the tree."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace
from typing import Any

from aiogram import Bot
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Message
from aiogram.types import User as TelegramUser

from bot.routing import EVENTS, UNKNOWN, Index, Key, Wants, wants
from handlers import build_router
from handlers.filters import NotCommand

PERSON = TelegramUser(id=5, is_bot=False, first_name="Léa")
CHAT = Chat(id=5, type="private")
BOT = Bot("100000:ROUTING")


def message(text: str | None = None, caption: str | None = None) -> Message:
    return Message(
        message_id=1, date=0, chat=CHAT, from_user=PERSON, text=text, caption=caption
    ).as_(BOT)


def pressed(data: str) -> CallbackQuery:
    return CallbackQuery(id="1", from_user=PERSON, chat_instance="c", data=data)


def handlers_of_tree() -> list[Any]:
    root = build_router()
    return [
        handler
        for router in root.chain_tail
        for event in EVENTS
        for handler in router.observers[event].handlers
    ]


async def passes(callback: Any, event: Any, raw_state: str | None) -> bool:
    """aiogram's own answer for one filter, as its dispatcher would ask it."""
    if isinstance(callback, Command):
        return bool(await callback(event, bot=BOT))
    if isinstance(callback, CallbackQueryFilter):
        return bool(await callback(event))
    if isinstance(callback, NotCommand):
        return bool(await callback(event))
    result = callback(event, raw_state=raw_state)
    if hasattr(result, "__await__"):
        result = await result
    return bool(result)


def state_filters(handler: Any) -> list[Any]:
    return [
        check.callback
        for check in handler.filters or ()
        if not isinstance(check.callback, CallbackQueryFilter | Command | NotCommand)
        and wants_of_one(check.callback).states is not None
    ]


def wants_of_one(callback: Any) -> Wants:
    class One:
        filters = [SimpleNamespace(callback=callback)]

    return wants(One())  # type: ignore[arg-type]


async def test_each_handlers_states_are_those_its_filters_let_through() -> None:
    handlers = handlers_of_tree()
    every_state: set[str | None] = {None, "Elsewhere:nowhere"}
    for handler in handlers:
        for check in handler.filters or ():
            found = wants_of_one(check.callback).states
            every_state |= set(found or ())
    probe = message("hello")
    checked = 0
    for handler in handlers:
        read = wants(handler).states
        filters = state_filters(handler)
        for state in every_state:
            let_through = all([await passes(f, probe, state) for f in filters])
            taken = read is None or state in read
            assert let_through == taken, (handler.callback, state)
        checked += bool(filters)
    # The tree's dialogs are registered by state: most handlers are told apart that way.
    assert checked > 50


async def test_each_buttons_prefix_is_that_of_its_callback_data() -> None:
    for handler in handlers_of_tree():
        prefixes = [
            check.callback.callback_data.__prefix__
            for check in handler.filters or ()
            if isinstance(check.callback, CallbackQueryFilter)
        ]
        read = wants(handler).prefixes
        assert read == (frozenset(prefixes) if prefixes else None), handler.callback


class PickCb(CallbackData, prefix="pick"):
    code: str = "x"


class PickMoreCb(CallbackData, prefix="pickmore"):
    code: str = "x"


class Steps(StatesGroup):
    first = State()
    second = State()


async def test_an_index_never_turns_away_what_a_handler_takes() -> None:
    """Each filter kind the index reads, against events of every kind: wherever aiogram's
    filters let an event through, the index offers the handler; wherever they do not, a
    filter it reads turned the event away."""
    kinds: list[list[Any]] = [
        [PickCb.filter()],
        [PickMoreCb.filter(), Steps.first],
        [Steps.second, NotCommand()],
        [Command("start")],
        [Command("go", prefix="!/")],
        [StateFilter(Steps)],
        [State("*")],
    ]

    class Handler:
        def __init__(self, filters: list[Any]) -> None:
            self.filters = [SimpleNamespace(callback=f) for f in filters]

    handlers = [Handler(filters) for filters in kinds]
    index = Index(
        [(h, wants(h)) for h in handlers],  # type: ignore[arg-type]
        {"pick", "pickmore"},
        {Steps.first.state, Steps.second.state},
    )
    buttons = [
        pressed(PickCb(code="a").pack()),
        pressed(PickMoreCb(code="b").pack()),
        pressed("pick"),
        pressed("pickles:1"),
        pressed("forged"),
    ]
    texts = [message("/start"), message("!go"), message("hello"), message(caption="/start")]
    states = [None, Steps.first.state, Steps.second.state, "Other:state"]
    for event, state in product([*buttons, *texts], states):
        offered = index.candidates(index.key(event, state))
        for handler, filters in zip(handlers, kinds, strict=True):
            applicable = [
                f
                for f in filters
                if not (isinstance(f, CallbackQueryFilter) and isinstance(event, Message))
                and not (isinstance(f, Command | NotCommand) and isinstance(event, CallbackQuery))
            ]
            if len(applicable) < len(filters):
                continue  # a filter of the other kind of event: aiogram never asks it
            let_through = all([await passes(f, event, state) for f in filters])
            if let_through:
                assert handler in offered, (filters, event, state)
    # And it tells them apart: a forged button and an unknown state reach no dialog handler.
    assert index.key(pressed("forged:1"), "Other:state") == Key(UNKNOWN, UNKNOWN, "", False)
    assert index.candidates(index.key(pressed("forged"), None)) == (handlers[6],)
