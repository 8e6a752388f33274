"""The summary's flows, for the coordinators' group's router."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.summary import stats


def group_flows() -> list[Flow]:
    return [stats.router]
