"""What coordinators did: one row per action, written in the transaction of the action."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


def audit(
    session: AsyncSession,
    actor_id: int,
    action: str,
    object_type: str,
    object_id: int,
    details: dict[str, Any] | None = None,
) -> None:
    """`actor_id` is the coordinator's Telegram id; `action` reads `object.verb`."""
    session.add(
        AuditEntry(
            actor_telegram_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=details or {},
        )
    )
