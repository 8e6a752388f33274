"""The privacy flows, for private chats."""

from handlers.flow import Flow
from handlers.privacy import handlers

private: list[Flow] = [handlers.router]
