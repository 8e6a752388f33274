"""Impact surveys, the respondents' side: the invitation, answering one question at a time,
the Surveys menu and the published results. The coordinators' side lives beside them."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.surveys import published, respond


def private_flows() -> list[Flow]:
    """The respondents' flows, for the private chats' router."""
    return [respond.router, published.router]
