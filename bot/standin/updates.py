"""Telegram objects as the Bot API serialises them: users, chats, and the updates people cause.

The update builders take the stand-in, which hands out update ids and per-chat message ids,
learns the chats and keeps the messages, so that the bot can answer and edit them afterwards.
"""

from __future__ import annotations

import re
import time
from typing import Any, Protocol

from bot.standin.html import utf16_len


class StandIn(Protocol):
    """What the builders ask of the stand-in (bot/standin/server.py)."""

    @property
    def bot_user(self) -> dict[str, Any]: ...

    def add_chat(self, chat: dict[str, Any], *, started: bool = True) -> None: ...

    def move_chat(
        self, group_id: int, supergroup_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]: ...

    def block(self, chat_id: int) -> None: ...

    def unblock(self, chat_id: int) -> None: ...

    def new_update_id(self) -> int: ...

    def next_message_id(self, chat_id: int) -> int: ...

    def store_message(self, message: dict[str, Any]) -> None: ...

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None: ...

    def open_callback_query(self) -> str: ...


_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?(?=\s|$)")


def make_user(
    user_id: int, first_name: str = "Test", language_code: str | None = "fr"
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def make_group(chat_id: int, title: str = "Coordinators") -> dict[str, Any]:
    # Supergroup ids are written -100…; plain groups are smaller negative numbers.
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": title}


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    chat.update({k: user[k] for k in ("last_name", "username") if k in user})
    return chat


def command_entities(text: str | None) -> list[dict[str, Any]]:
    """The bot_command entity Telegram adds to a message that starts with a command."""
    match = _COMMAND.match(text or "")
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match[0])}]


def chat_member(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember of that status, with every field aiogram requires of it."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        rights = (
            "manage_chat delete_messages manage_video_chats restrict_members promote_members "
            "change_info invite_users post_stories edit_stories delete_stories "
            "send_welcome_messages"
        )
        member.update({f"can_{right}": True for right in rights.split()})
        member.update(can_be_edited=False, is_anonymous=False)
    elif status == "restricted":
        rights = (
            "send_messages send_audios send_documents send_photos send_videos "
            "send_video_notes send_voice_notes send_polls send_other_messages "
            "add_web_page_previews react_to_messages edit_tag change_info invite_users "
            "pin_messages manage_topics"
        )
        member.update({f"can_{right}": False for right in rights.split()})
        member.update(is_member=True, until_date=0)
    elif status == "kicked":
        member["until_date"] = 0
    return member


def message_update(
    standin: StandIn,
    user: dict[str, Any],
    text: str | None = None,
    *,
    chat: dict[str, Any] | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """A message from `user`, by default in the private chat with the bot."""
    chat = chat or private_chat(user)
    standin.add_chat(chat)
    if chat["type"] != "private":
        # Seen in a group: known, but the bot may not write first to them privately.
        standin.add_chat(private_chat(user), started=False)
    message: dict[str, Any] = {
        "message_id": standin.next_message_id(chat["id"]),
        "from": user,
        "chat": chat,
        "date": int(time.time()),
    }
    if text is not None:
        message["text"] = text
        if entities := command_entities(text):
            message["entities"] = entities
    message.update(message_fields)
    standin.store_message(message)
    return {"update_id": standin.new_update_id(), "message": message}


def callback_update(
    standin: StandIn, user: dict[str, Any], message: dict[str, Any], data: str
) -> dict[str, Any]:
    """`user` pressing a button with this callback data under the bot's `message`."""
    chat = message["chat"]
    current = standin.message(chat["id"], message["message_id"]) or message
    query = {
        "id": standin.open_callback_query(),
        "from": user,
        "message": current,
        "chat_instance": str(abs(hash((chat["id"], standin.bot_user["id"])))),
        "data": data,
    }
    return {"update_id": standin.new_update_id(), "callback_query": query}


def my_chat_member_update(standin: StandIn, user: dict[str, Any], status: str) -> dict[str, Any]:
    """`user` blocking ("kicked") or unblocking ("member") the bot in their private chat.

    The stand-in follows: a blocked chat answers 403 until it is unblocked.
    """
    chat = private_chat(user)
    standin.add_chat(chat, started=True)
    old = "member" if status == "kicked" else "kicked"
    if status == "kicked":
        standin.block(chat["id"])
    else:
        standin.unblock(chat["id"])
    event = {
        "chat": chat,
        "from": user,
        "date": int(time.time()),
        "old_chat_member": chat_member(standin.bot_user, old),
        "new_chat_member": chat_member(standin.bot_user, status),
    }
    return {"update_id": standin.new_update_id(), "my_chat_member": event}


def group_upgrade_updates(
    standin: StandIn, user: dict[str, Any], group_id: int, supergroup_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`user` turning the group into a supergroup, as Telegram does it: the stand-in moves the
    chat (see StandIn.move_chat), and each chat gets a service message naming the other — the
    two updates, the old chat's first."""
    group, supergroup = standin.move_chat(group_id, supergroup_id)
    old = message_update(standin, user, chat=group, migrate_to_chat_id=supergroup_id)
    new = message_update(standin, user, chat=supergroup, migrate_from_chat_id=group_id)
    return old, new
