"""The router tree, assembled in one place and in a deliberate order.

Each flow package lists its flows for each side in its `flows.py` (`private`, `coordinators`),
and its `jobs` and resume points; a flow of one module is named here itself. See
handlers/flow.py.
"""

from aiogram import Router

from bot.jobs import Job
from handlers import (
    common,
    deliveries,
    dialog_commands,
    discard,
    group_members,
    group_move,
    start,
)
from handlers.challenges import flows as challenges
from handlers.filters import CoordinatorsGroup, PrivateChat
from handlers.flow import ResumePoints, coordinators_only, side
from handlers.initiatives import flows as initiatives
from handlers.needs import flows as needs
from handlers.organisations import flows as organisations
from handlers.privacy import flows as privacy
from handlers.profile import flows as profile
from handlers.summary import flows as summary
from handlers.surveys import flows as surveys


def build_router() -> Router:
    private = side(
        "private",
        # Before common's /cancel: a long draft is not thrown away without asking.
        discard.router,
        common.router,
        coordinators_only("coordinators-private", common.coordinators_commands),
        start.router,
        *profile.private,
        *privacy.private,
        *initiatives.private,
        *needs.private,
        *organisations.private,
        *challenges.private,
        *surveys.private,
        # Last: whatever no flow expected.
        common.fallback,
        messages=PrivateChat(),
        buttons=PrivateChat(),
    )
    group = side(
        "coordinators-group",
        group_members.router,
        coordinators_only(
            "coordinators",
            *initiatives.coordinators,
            deliveries.router,
            *challenges.coordinators,
            *surveys.coordinators,
            *summary.coordinators,
            *organisations.coordinators,
            # Last: a command no handler took, sent as a dialog's answer, is not ignored.
            dialog_commands.router,
        ),
        messages=CoordinatorsGroup(),
    )
    # A group turning into a supergroup is news first: its new id is the coordinators' group.
    # The group's router first: its messages are the group's only, but its buttons (moderation)
    # answer wherever they are pressed, so that a forged one is refused, not ignored.
    return side("root", group_move.router, group, private)


def jobs() -> list[tuple[str, Job]]:
    """The flows' scheduled jobs, in the order they run."""
    return [*surveys.jobs, *summary.jobs, *challenges.jobs, *privacy.jobs, *organisations.jobs]


def resume_points() -> ResumePoints:
    return ResumePoints.of(
        {**initiatives.dialogs, **needs.dialogs, **challenges.dialogs, **surveys.dialogs},
        after_onboarding=challenges.after_onboarding,
    )
