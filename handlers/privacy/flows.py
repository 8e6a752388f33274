"""The privacy flows, for private chats, and the retention job."""

from bot.jobs import Job
from handlers.flow import Flow
from handlers.privacy import handlers
from handlers.privacy.jobs import enforce_retention

private: list[Flow] = [handlers.router]

jobs: list[tuple[str, Job]] = [("privacy.retention", enforce_retention)]
