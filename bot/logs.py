"""Log lines as an operator reads them: one line per event (a traceback included), plain text
or JSON lines (LOG_FORMAT=json: time, level, logger, message, and update_id while an update is
handled), and never a person's words, name or username — log calls name ids, not contents."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

# The update being handled in this task (set by bot/polling.py and bot/webhook.py around it).
current_update: ContextVar[int | None] = ContextVar("current_update", default=None)


@contextmanager
def handling_update(update_id: int) -> Iterator[None]:
    """Every line logged meanwhile, in this task and those it starts, carries the update's id."""
    token = current_update.set(update_id)
    try:
        yield
    finally:
        current_update.reset(token)


class UpdateFilter(logging.Filter):
    """Gives each record the current update's id (None outside an update)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "update_id", None) is None:
            record.update_id = current_update.get()
        return True


def _details(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The traceback and stack, if any, on one line."""
    parts = []
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return " | ".join(p.replace("\n", " | ") for p in parts) if parts else None


class TextFormatter(logging.Formatter):
    """`2026-12-07 15:00:00,123 INFO bot.app [update 42] message | traceback…`, one line."""

    def format(self, record: logging.LogRecord) -> str:
        update_id = getattr(record, "update_id", None)
        line = (
            f"{self.formatTime(record)} {record.levelname} {record.name} "
            f"{'' if update_id is None else f'[update {update_id}] '}"
            f"{record.getMessage().replace(chr(10), ' | ')}"
        )
        details = _details(self, record)
        return f"{line} | {details}" if details else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is not None:
            entry["update_id"] = update_id
        details = _details(self, record)
        if details:
            entry["exception"] = details
        return json.dumps(entry, ensure_ascii=False, default=str)


def handler_for(log_format: str) -> logging.Handler:
    """A handler writing to stderr in `log_format` ("text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(UpdateFilter())
    return handler


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """The root logger writes one line per event to stderr, in `log_format`."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler_for(log_format))
    root.setLevel(level)
    # Alembic lists its plugins when imported: of no use to anyone running the bot.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
