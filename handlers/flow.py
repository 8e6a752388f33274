"""Handlers declared once, at import, and a fresh aiogram Router for each dispatcher.

An aiogram Router can be attached to one parent only, so module-level routers would allow one
dispatcher per process; tests (and a restart in the same process) need several.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiogram import Router

Handler = TypeVar("Handler", bound=Callable[..., Any])


class Flow:
    def __init__(self, name: str) -> None:
        self.name = name
        self.registrations: list[
            tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]]
        ] = []

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
        return router
