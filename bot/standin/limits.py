"""Telegram's rate limits: a global rate, and one per chat that is slower for groups."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any


class Window:
    """At most `limit` events in any `seconds`-long sliding window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds, self.times = limit, seconds, deque[float]()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return 0.0 if len(self.times) < self.limit else self.times[0] + self.seconds - now


def per_second(rate: float) -> tuple[int, float]:
    return (int(rate), 1.0) if rate >= 1 else (1, 1 / rate)


@dataclass
class Limits:
    global_window: Window
    private: tuple[int, float]
    group: tuple[int, float]
    chats: dict[int, Window] = field(default_factory=dict)

    def windows(self, chat_id: Any) -> list[Window]:
        if not isinstance(chat_id, int):
            return [self.global_window]
        limit, seconds = self.private if chat_id > 0 else self.group
        return [self.global_window, self.chats.setdefault(chat_id, Window(limit, seconds))]
