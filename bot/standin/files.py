"""The files the bot and people sent, kept as Telegram keeps them: by file id, with a download
path, and described by a Document or a PhotoSize."""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from typing import Any


@dataclass
class StoredFile:
    file_id: str
    path: str
    name: str
    content: bytes
    kind: str  # "document" or "photo"

    def as_object(self) -> dict[str, Any]:
        unique = {"file_id": self.file_id, "file_unique_id": self.file_id[-12:]}
        if self.kind == "photo":
            return {**unique, "width": 320, "height": 320, "file_size": len(self.content)}
        mime = mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        return {
            **unique,
            "file_name": self.name,
            "mime_type": mime,
            "file_size": len(self.content),
        }


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}

    def keep(self, bot_id: int, content: bytes, name: str, kind: str) -> StoredFile:
        number = len(self._by_id) + 1
        file_id = f"{kind[:3].upper()}{bot_id}-{number:06d}-{secrets.token_hex(6)}"
        if kind == "photo":
            path = f"photos/file_{number}.jpg"
        else:
            suffix = f".{name.rsplit('.', 1)[1]}" if "." in name else ""
            path = f"documents/file_{number}{suffix}"
        self._by_id[file_id] = stored = StoredFile(file_id, path, name, content, kind)
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def at_path(self, path: str) -> StoredFile | None:
        return next((f for f in self._by_id.values() if f.path == path), None)
