"""Which challenges' flows serve private chats, and which the coordinators."""

from __future__ import annotations

from handlers.challenges import (
    alliances,
    coordination_participants,
    create,
    impact,
    join,
    manage,
    on_behalf,
    public,
    quiz,
)
from handlers.flow import Flow

private: list[Flow] = [
    public.router,
    join.router,
    quiz.router,
    on_behalf.router,
    alliances.router,
    impact.router,
]
# The form first (its Edit button is a management button), then the management and the
# participants.
coordinators: list[Flow] = [create.router, manage.router, coordination_participants.router]
