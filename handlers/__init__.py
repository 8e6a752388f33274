"""The router tree, assembled in one place and in a deliberate order."""

from aiogram import Router

from handlers import common, deliveries, initiatives, needs, profile, start
from handlers.filters import CoordinatorsGroup, PrivateChat
from handlers.privacy import handlers as privacy


def build_router() -> Router:
    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.include_routers(
        common.router.router(),
        start.router.router(),
        profile.build_router(),
        privacy.router.router(),
        initiatives.private_router(),
        needs.build_router(),
        # Last: whatever no flow expected.
        common.fallback.router(),
    )
    group = Router(name="coordinators-group")
    group.message.filter(CoordinatorsGroup())
    group.include_routers(initiatives.group_router(), deliveries.router.router())
    root = Router(name="root")
    # The group's router first: its messages are the group's only, but its buttons (moderation)
    # answer wherever they are pressed, so that a forged one is refused, not ignored.
    root.include_routers(group, private)
    return root
