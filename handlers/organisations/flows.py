"""Which organisations' flows serve private chats, and which the coordinators; the weekly
digest of new needs."""

from __future__ import annotations

from bot.jobs import Job
from handlers.flow import Flow
from handlers.organisations import coordination, digest, directory, member

private: list[Flow] = [member.router, directory.router]
coordinators: list[Flow] = [coordination.router]

jobs: list[tuple[str, Job]] = [("organisations.needs_digest", digest.weekly_needs_digest)]
