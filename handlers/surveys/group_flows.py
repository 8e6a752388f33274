"""The coordinators' flows on surveys, for the group's router: the management (with its typed
dialogs), then the results."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.surveys import manage, results_group


def group_flows() -> list[Flow]:
    return [manage.router, results_group.router]
