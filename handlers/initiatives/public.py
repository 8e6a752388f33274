"""Browsing, "my proposals", reports: which flows serve private chats and the group."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.initiatives import browse, reports


def private_flows() -> list[Flow]:
    return [browse.router, reports.router]


def group_flows() -> list[Flow]:
    # Buttons only (Hide / Keep, Restore / Keep hidden): they answer wherever they are pressed,
    # so that a forged one is refused.
    return [reports.group_router]
