"""Which initiatives' flows serve private chats, and which the coordinators."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.initiatives import browse, moderation, propose, reports

private: list[Flow] = [propose.router, browse.router, reports.router]
coordinators: list[Flow] = [moderation.router, reports.decisions]
