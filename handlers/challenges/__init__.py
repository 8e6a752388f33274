"""Challenges: browse, join, find where to help, register someone one accompanies, meet the
other organisations taking part (the citizens' and organisations' side); the coordinators'
side lives beside them."""

from __future__ import annotations

from handlers.challenges import alliances, impact, join, on_behalf, public, quiz
from handlers.flow import Flow


def private_flows() -> list[Flow]:
    """The citizens' flows on challenges, for the private chats' router."""
    return [
        public.router,
        join.router,
        quiz.router,
        on_behalf.router,
        alliances.router,
        impact.router,
    ]
