"""The summary's flows, for the coordinators."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.summary import stats

coordinators: list[Flow] = [stats.router]
