"""The router tree, assembled in one place and in a deliberate order."""

from aiogram import Router

from handlers import common, profile
from handlers.filters import PrivateChat
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
    root = Router(name="root")
    root.include_router(private)
    return root
