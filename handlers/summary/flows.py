"""The summary's flows, for the coordinators, and the daily summary's job."""

from __future__ import annotations

from bot.jobs import Job
from handlers.flow import Flow
from handlers.summary import stats
from handlers.summary.jobs import daily_summary

coordinators: list[Flow] = [stats.router]

jobs: list[tuple[str, Job]] = [("summary.daily", daily_summary)]
