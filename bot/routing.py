"""Routing without asking every handler: each router lets in only the events one of its
handlers could take.

aiogram offers an event to the routers in turn, and in each to every handler, asking its
filters: a button pressed in a private chat was asked of some 90 handlers (and of the
coordinators' gate, `handlers.coordination.Taken`, which asks every coordinators' handler once
more) before reaching its own. Most filters say at once what they want: a button's callback
data prefix (`SomeCb.filter()`), the dialog's state (a `State`, a `StateFilter`), a command
(`Command`) or anything but one (`NotCommand`). From those, read once when the dispatcher is
built, each router gets a first filter that lets through only an event some handler below it
could take, and the coordinators' gate asks only those handlers.

An event is summed up by a `Key`: the callback data's prefix, the dialog's state, whether its
text reads as a command. A handler's filters say which keys it could take; a filter this
module does not know says nothing (any key). So the routers' gates never turn away an event a
handler would have taken: they only spare the asking of handlers that could not. Answers are
remembered per router and key (keys are bounded: an unknown prefix or state is one key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from handlers.coordination import Taken
from handlers.filters import NotCommand

EVENTS = ("message", "callback_query")
SEPARATOR = ":"  # every CallbackData of the bot keeps aiogram's default
UNKNOWN = "\x00unknown"  # a prefix or a state no handler names


class Key(NamedTuple):
    prefix: str | None  # the callback data's prefix (buttons)
    state: str | None  # the dialog's raw state
    lead: str  # the first character of a message's text or caption ("" for buttons)
    slash: bool  # the message's text starts with "/" (NotCommand's test)


@dataclass(frozen=True)
class Wants:
    """What a handler's own filters require; None: anything."""

    prefixes: frozenset[str] | None = None
    states: frozenset[str | None] | None = None
    leads: frozenset[str] | None = None
    slash: bool | None = None

    def takes(self, key: Key) -> bool:
        return (
            (self.prefixes is None or key.prefix in self.prefixes)
            and (self.states is None or key.state in self.states)
            and (self.leads is None or key.lead in self.leads)
            and (self.slash is None or key.slash == self.slash)
        )


def _group_states(value: Any) -> frozenset[str | None] | None:
    group = type(value) if isinstance(value, StatesGroup) else value
    if isinstance(group, type) and issubclass(group, StatesGroup):
        return frozenset(group.__all_states_names__)
    return None


def _states(value: Any) -> frozenset[str | None] | None:
    """The raw states a state filter lets through; None for any (or a filter not known)."""
    if isinstance(value, State):
        return None if value.state == "*" else frozenset({value.state})
    if isinstance(value, StateFilter):
        found: set[str | None] = set()
        for allowed in value.states:
            if allowed is None or isinstance(allowed, str):
                if allowed == "*":
                    return None
                found.add(allowed)
                continue
            some = _states(allowed)
            if some is None:
                return None
            found |= some
        return frozenset(found)
    return _group_states(value)


def _both(first: frozenset[Any] | None, second: frozenset[Any] | None) -> frozenset[Any] | None:
    """Two filters of one handler: both must pass."""
    if first is None:
        return second
    return first if second is None else first & second


def wants(handler: HandlerObject) -> Wants:
    """What `handler`'s filters (as registered, before any wrapping) require of an event."""
    prefixes = states = leads = None
    slash = None
    for check in handler.filters or ():
        callback = check.callback
        if isinstance(callback, CallbackQueryFilter):
            if callback.callback_data.__separator__ == SEPARATOR:
                prefixes = _both(prefixes, frozenset({callback.callback_data.__prefix__}))
        elif isinstance(callback, Command):
            leads = _both(leads, frozenset(callback.prefix))
        elif isinstance(callback, NotCommand):
            slash = False
        else:
            states = _both(states, _states(callback))
    return Wants(prefixes, states, leads, slash)


class Index:
    """The handlers under one router for one event, and which of them could take a key."""

    def __init__(
        self, handlers: Iterable[tuple[HandlerObject, Wants]], prefixes: set[str], states: set[Any]
    ) -> None:
        self.handlers = list(handlers)
        self.prefixes, self.states = prefixes, states
        self.leads = {lead for _h, w in self.handlers if w.leads for lead in w.leads}
        self._known: dict[Key, tuple[HandlerObject, ...]] = {}

    def key(self, event: Any, raw_state: Any) -> Key:
        if isinstance(event, CallbackQuery):
            prefix = (event.data or "").split(SEPARATOR, 1)[0]
            return Key(
                prefix if prefix in self.prefixes else UNKNOWN,
                raw_state if raw_state in self.states else UNKNOWN,
                "",
                False,
            )
        text = event.text if isinstance(event, Message) else None
        caption = event.caption if isinstance(event, Message) else None
        lead = (text or caption or "")[:1]
        return Key(
            None,
            raw_state if raw_state in self.states else UNKNOWN,
            lead if lead in self.leads else "",
            (text or "").startswith("/"),
        )

    def candidates(self, key: Key) -> tuple[HandlerObject, ...]:
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = tuple(h for h, w in self.handlers if w.takes(key))
        return found


def _gate(index: Index) -> Callable[..., Awaitable[bool]]:
    async def could_take(event: Any, raw_state: Any = None, **_data: Any) -> bool:
        return bool(index.candidates(index.key(event, raw_state)))

    return could_take


def _taken(index: Index) -> Callable[..., Awaitable[bool]]:
    """`Taken`'s answer, asking only the handlers that could take the event."""

    async def taken(event: Any, **data: Any) -> bool:
        for handler in index.candidates(index.key(event, data.get("raw_state"))):
            took, _data = await handler.check(event, **data)
            if took:
                return True
        return False

    return taken


def index_routes(root: Router) -> None:
    """Reads every handler's filters under `root`, then gives each router (and each
    coordinators' gate) its index. To run once the tree is complete (a router included
    afterwards would not be let in) and before the filters are wrapped (bot/factory.py)."""
    all_wants = {
        id(handler): wants(handler)
        for router in root.chain_tail
        for event in EVENTS
        for handler in router.observers[event].handlers
    }
    prefixes = {p for w in all_wants.values() if w.prefixes for p in w.prefixes}
    states = {s for w in all_wants.values() if w.states for s in w.states}

    def index_of(router: Router, event: str) -> Index:
        return Index(
            (
                (handler, all_wants[id(handler)])
                for each in router.chain_tail
                for handler in each.observers[event].handlers
            ),
            prefixes,
            states,
        )

    for router in root.chain_tail:
        for event in EVENTS:
            observer = router.observers[event]
            root_filters = observer._handler.filters
            assert root_filters is not None
            for position, check in enumerate(root_filters):
                if isinstance(check.callback, Taken):
                    taken = index_of(check.callback.router, check.callback.event)
                    root_filters[position] = FilterObject(callback=_taken(taken))
            index = index_of(router, event)
            if all(w == Wants() for _h, w in index.handlers) and index.handlers:
                continue  # nothing to tell apart: no gate
            root_filters.insert(0, FilterObject(callback=_gate(index)))
