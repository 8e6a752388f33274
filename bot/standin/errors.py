"""Telegram's error answers: a refused call, and the faults a test injects to imitate one."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

# What Telegram says for these statuses, so that an injected fault reads like the real one.
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def parameters(self) -> dict[str, int]:
        """The ResponseParameters Telegram adds to some refusals."""
        found = {"retry_after": self.retry_after, "migrate_to_chat_id": self.migrate_to_chat_id}
        return {name: value for name, value in found.items() if value is not None}


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass
class Fault:
    """The answer the next `times` matching calls get; status 0 only delays them."""

    method: str | None
    chat_id: int | None
    status: int
    description: str | None
    retry_after: int | None
    times: int
    delay: float

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or chat_id == self.chat_id

    def error(self) -> ApiError:
        if self.description:
            description = self.description
        elif self.status == 429:
            description = f"Too Many Requests: retry after {self.retry_after}"
        else:
            description = _DESCRIPTIONS.get(self.status) or _phrase(self.status)
        return ApiError(self.status, description, self.retry_after)
