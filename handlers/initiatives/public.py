"""Browsing, "my proposals", reports: which flows serve private chats and the group."""

from __future__ import annotations

from handlers.flow import Flow


def private_flows() -> list[Flow]:
    return []


def group_flows() -> list[Flow]:
    return []
