"""What a scheduled job is: a function of the context it runs in and the moment it runs at.

Below both the scheduler (bot/scheduler.py), which runs jobs it is given, and the jobs
themselves (handlers/*/jobs.py, bot/backup_job.py), which the app hands to it (bot/app.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot
from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.group_moves import CoordinatorsChat


@dataclass(frozen=True)
class JobContext:
    bot: Bot
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    i18n: I18n
    # The dispatcher's dialog storage: a person erased by a job loses their Redis dialogs too.
    storage: BaseStorage | None = None
    # The dispatcher's too (bot/group_moves.py), so that jobs write where the group is now; by
    # default, where the settings say it is.
    coordinators_chat: CoordinatorsChat | None = None

    def __post_init__(self) -> None:
        if self.coordinators_chat is None:
            chat = CoordinatorsChat(self.settings.coordinator_chat_id)
            object.__setattr__(self, "coordinators_chat", chat)

    @property
    def group_id(self) -> int | None:
        """The coordinators' group's id now."""
        assert self.coordinators_chat is not None
        return self.coordinators_chat.id


# A job does whatever is due at `now`, in its own transaction(s), and returns quickly.
Job = Callable[[JobContext, datetime], Awaitable[None]]
