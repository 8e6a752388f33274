"""The router tree, assembled in one place and in a deliberate order."""

from aiogram import Router

from handlers import common, profile
from handlers.filters import CoordinatorsGroup, PrivateChat
from handlers.privacy import handlers as privacy


def build_router() -> Router:
    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.include_routers(
        common.router.router(),
        profile.build_router(),
        privacy.router.router(),
        # Last: whatever no flow expected.
        common.fallback.router(),
    )
    group = Router(name="coordinators-group")
    group.message.filter(CoordinatorsGroup())
    root = Router(name="root")
    root.include_routers(private, group)
    return root
