"""Which organisations' flows serve private chats, and which the coordinators."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.organisations import coordination, directory, member

private: list[Flow] = [member.router, directory.router]
coordinators: list[Flow] = [coordination.router]
