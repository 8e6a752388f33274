"""The coordinators' flows on challenges, for the group's router: the form first (its Edit
button is a management button), then the management and the participants."""

from __future__ import annotations

from handlers.challenges import coordination_participants, create, manage
from handlers.flow import Flow


def group_flows() -> list[Flow]:
    return [create.router, manage.router, coordination_participants.router]
