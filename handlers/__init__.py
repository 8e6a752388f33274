"""The router tree, assembled in one place and in a deliberate order."""

from aiogram import Router

from handlers import (
    challenges,
    common,
    deliveries,
    group_members,
    group_move,
    initiatives,
    needs,
    profile,
    start,
    surveys,
)
from handlers.challenges.group_flows import group_flows as challenge_group_flows
from handlers.filters import CoordinatorsGroup, PrivateChat
from handlers.flow import coordinators_only
from handlers.initiatives import moderation
from handlers.initiatives import public as initiatives_public
from handlers.privacy import handlers as privacy
from handlers.summary.group_flows import group_flows as summary_group_flows
from handlers.surveys.group_flows import group_flows as survey_group_flows


def build_router() -> Router:
    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.include_routers(
        common.router.router(),
        coordinators_only("coordinators-commands", common.coordinators_commands),
        start.router.router(),
        profile.build_router(),
        privacy.router.router(),
        initiatives.private_router(),
        needs.build_router(),
        *(flow.router() for flow in challenges.private_flows()),
        *(flow.router() for flow in surveys.private_flows()),
        # Last: whatever no flow expected.
        common.fallback.router(),
    )
    group = Router(name="coordinators-group")
    group.message.filter(CoordinatorsGroup())
    group.include_routers(
        group_members.router.router(),
        coordinators_only(
            "coordinators",
            moderation.buttons,
            moderation.group,
            *initiatives_public.group_flows(),
            deliveries.router,
            *challenge_group_flows(),
            *survey_group_flows(),
            *summary_group_flows(),
        ),
    )
    root = Router(name="root")
    # A group turning into a supergroup is news first: its new id is the coordinators' group.
    # The group's router first: its messages are the group's only, but its buttons (moderation)
    # answer wherever they are pressed, so that a forged one is refused, not ignored.
    root.include_routers(group_move.router.router(), group, private)
    return root
