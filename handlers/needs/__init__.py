"""Needs: report one, and see them all on the needs map."""

from aiogram import Router

from handlers.needs import needs_map, report


def build_router() -> Router:
    router = Router(name="needs")
    router.include_routers(report.router.router(), needs_map.router.router())
    return router
