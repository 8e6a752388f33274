"""Which surveys' flows serve private chats, and which the coordinators."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.surveys import manage, published, respond, results_group, scheduling

private: list[Flow] = [respond.router, published.router]
coordinators: list[Flow] = [manage.router, scheduling.router, results_group.router]
