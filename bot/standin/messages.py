"""The Bot API methods that write in chats: messages sent, edited and deleted, files, chat
actions and answers to button presses, each refused where Telegram refuses it."""

from __future__ import annotations

import copy
import json
import time
from typing import TYPE_CHECKING, Any

from bot.standin.errors import ApiError, bad
from bot.standin.files import FileStore, StoredFile
from bot.standin.params import Files, Params
from bot.standin.rules import CHAT_ACTIONS, formatted, inline_markup

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


class Messages:
    """A part of StandIn, which holds this state; its router finds the methods by name."""

    bot_id: int
    _chats: dict[int, dict[str, Any]]
    _users_seen: set[int]
    _blocked: set[int]
    _moved: dict[int, int]
    _messages: dict[int, dict[int, dict[str, Any]]]
    _queries: set[str]
    _files: FileStore

    if TYPE_CHECKING:

        @property
        def bot_user(self) -> dict[str, Any]: ...

        def next_message_id(self, chat_id: int) -> int: ...

        def store_message(self, message: dict[str, Any]) -> None: ...

    # -- helpers of the methods

    def _chat(self, params: Params, *, writing: bool = True) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise bad("chat_id is empty")
        if isinstance(chat_id, str):
            named = [c for c in self._chats.values() if f"@{c.get('username')}" == chat_id]
            chat_id = named[0]["id"] if named else chat_id
        if chat_id in self._moved:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self._moved[chat_id],
            )
        if writing and chat_id in self._blocked:
            if isinstance(chat_id, int) and chat_id < 0:
                raise ApiError(403, "Forbidden: bot was kicked from the group chat")
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self._chats:
            return self._chats[chat_id]
        if writing and chat_id in self._users_seen:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise bad("chat not found")

    def _reply_to(self, params: Params, chat_id: int) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        message = self._messages.get(chat_id, {}).get(message_id)
        lenient = reply.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply")
        )
        if message is None and not lenient:
            raise bad("message to be replied not found")
        return {k: v for k, v in (message or {}).items() if k != "reply_to_message"} or None

    def _post(self, chat: dict[str, Any], params: Params, content: dict[str, Any]) -> Any:
        """A new message from the bot in that chat; its Message as Telegram returns it."""
        # Checked before a message id is taken: a refused message leaves no gap.
        reply, markup = self._reply_to(params, chat["id"]), inline_markup(params)
        message = {
            "message_id": self.next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "reply_to_message": reply,
            "reply_markup": markup,
            **content,
        }
        message = {k: v for k, v in message.items() if v not in (None, [], "")}
        self.store_message(message)
        return copy.deepcopy(message)

    def _editable(self, params: Params) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        chat = self._chat(params)
        # No message_id: no such message (ids start at 1).
        message = self._messages.get(chat["id"], {}).get(params.get("message_id", 0))
        if message is None:
            raise bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad("message can't be edited")
        return message

    def _edit(self, message: dict[str, Any], changes: dict[str, Any]) -> Any:
        if all((message.get(k) or None) == (v or None) for k, v in changes.items()):
            raise bad(_NOT_MODIFIED)
        for key, value in changes.items():
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _input_file(self, params: Params, files: Files, kind: str) -> StoredFile:
        if kind in files:
            name, content = files[kind]
            if not content:
                raise bad("file must be non-empty")
            return self._files.keep(self.bot_id, content, name, kind)
        value = params.get(kind)
        if not value:
            raise bad(f"there is no {kind} in the request")
        if str(value).startswith(("http://", "https://")):
            raise bad("failed to get HTTP URL content")
        stored = self._files.get(str(value))
        if stored is None:
            raise bad("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad("type of file mismatch")
        return stored

    def _send_file(self, params: Params, files: Files, kind: str) -> Any:
        chat = self._chat(params)
        caption, entities = formatted(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
            caption=True,
        )  # fmt: skip
        media = self._input_file(params, files, kind).as_object()
        content = {kind: [media] if kind == "photo" else media}
        return self._post(
            chat, params, {**content, "caption": caption, "caption_entities": entities}
        )

    # -- the methods, as Telegram answers them

    def _sendMessage(self, params: Params, files: Files) -> Any:
        chat = self._chat(params)
        text, entities = formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        return self._post(chat, params, {"text": text, "entities": entities})

    def _editMessageText(self, params: Params, files: Files) -> Any:
        message = self._editable(params)
        if "text" not in message:
            raise bad("there is no text in the message to edit")
        text, entities = formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        changes = {"text": text, "entities": entities, "reply_markup": inline_markup(params)}
        return self._edit(message, changes)

    def _editMessageReplyMarkup(self, params: Params, files: Files) -> Any:
        return self._edit(self._editable(params), {"reply_markup": inline_markup(params)})

    def _editMessageCaption(self, params: Params, files: Files) -> Any:
        message = self._editable(params)
        if "text" in message:
            raise bad("there is no caption in the message to edit")
        caption, entities = formatted(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
            caption=True,
        )  # fmt: skip
        changes = {"caption": caption, "caption_entities": entities}
        return self._edit(message, {**changes, "reply_markup": inline_markup(params)})

    def _editMessageMedia(self, params: Params, files: Files) -> Any:
        message = self._editable(params)
        raw = params.get("media")
        try:
            media = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        except ValueError:
            raise bad("can't parse InputMedia JSON object") from None
        kind = media.get("type")
        if kind != "photo" or "photo" not in message:
            raise bad("there is no photo in the request" if kind != "photo" else "wrong type")
        source = str(media.get("media") or "")
        if source.startswith("attach://"):
            part = files.get(source.removeprefix("attach://"))
            if part is None:
                raise bad("wrong file identifier/HTTP URL specified")
            stored = self._files.keep(self.bot_id, part[1], part[0], "photo")
        else:
            stored = self._input_file({"photo": source}, {}, "photo")
        caption, entities = formatted(
            media.get("caption"), media.get("parse_mode"), media.get("caption_entities"),
            caption=True,
        )  # fmt: skip
        changes: dict[str, Any] = {"photo": [stored.as_object()], "caption": caption}
        changes |= {"caption_entities": entities, "reply_markup": inline_markup(params)}
        return self._edit(message, changes)

    def _deleteMessage(self, params: Params, files: Files) -> Any:
        chat = self._chat(params, writing=False)
        if self._messages.get(chat["id"], {}).pop(params.get("message_id", 0), None) is None:
            raise bad("message to delete not found")
        return True

    def _answerCallbackQuery(self, params: Params, files: Files) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._queries:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self._queries.discard(query_id)
        return True

    def _sendDocument(self, params: Params, files: Files) -> Any:
        return self._send_file(params, files, "document")

    def _sendPhoto(self, params: Params, files: Files) -> Any:
        return self._send_file(params, files, "photo")

    def _sendChatAction(self, params: Params, files: Files) -> Any:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True
