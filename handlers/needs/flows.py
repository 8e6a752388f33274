"""The needs' flows, for private chats."""

from handlers.flow import Flow
from handlers.needs import needs_map, report

private: list[Flow] = [report.router, needs_map.router]
