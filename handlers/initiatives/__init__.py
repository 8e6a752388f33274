"""Initiatives: propose, moderate, browse, report."""

from __future__ import annotations

from aiogram import Router

from handlers.initiatives import moderation, propose, public


def private_router() -> Router:
    router = Router(name="initiatives")
    router.include_router(propose.router.router())
    for flow in public.private_flows():
        router.include_router(flow.router())
    return router


def group_router() -> Router:
    router = Router(name="initiatives-group")
    router.include_routers(moderation.buttons.router(), moderation.group.router())
    for flow in public.group_flows():
        router.include_router(flow.router())
    return router
