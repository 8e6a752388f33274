"""The coordinators' flows on surveys, for the group's router: the management, its typed
settings, the results."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.surveys import manage, results_group, scheduling


def group_flows() -> list[Flow]:
    return [manage.router, scheduling.router, results_group.router]
