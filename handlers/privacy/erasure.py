"""Erasing a person everywhere: their data (`storage.privacy.forget_user`), their dialogs
wherever the dialog storage keeps them, and the copies of their words already shown to others
— a moderation card in the coordinators' group, a request in another participant's chat —
rewritten to say that the content was withdrawn at its author's request; a message that only
quoted them among other things (the daily summary lists the proposals waiting) keeps the rest.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from aiogram import html
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.initiatives.cards import shorten
from handlers.summary.texts import TITLE_LIMIT
from storage.models import Initiative, User
from storage.outbox import MessageEdit, enqueue
from storage.privacy import PostedCopy, forget_user, scrub_quotes


async def erase_person(
    session: AsyncSession,
    user: User,
    *,
    i18n: I18n,
    group_locale: str,
    storage: BaseStorage | None = None,
    now: datetime | None = None,
) -> None:
    """The whole erasure, in the caller's transaction (Redis dialogs excepted: they go at
    once). What /forget and the retention of inactive accounts both do."""
    telegram_id = user.telegram_id
    of_person = Initiative.proposer_id == user.id
    titles = await session.scalars(select(Initiative.title).where(of_person))
    quotes = {
        html.quote(shown) for title in titles for shown in (title, shorten(title, TITLE_LIMIT))
    }
    posted = await forget_user(session, user, now)
    if storage is not None and telegram_id is not None:
        await forget_dialogs(storage, telegram_id)
    await withdraw_copies(session, i18n, group_locale, posted)
    with i18n.use_locale(group_locale):
        replacement = "<i>{}</i>".format(_("(withdrawn at its author's request)"))
    for copy in await scrub_quotes(session, quotes, replacement):
        await enqueue(
            session,
            MessageEdit(
                chat_id=copy.chat_id,
                message_id=copy.message_id,
                text=copy.text,
                reply_markup=copy.reply_markup,
            ),
        )


def withdrawn_text() -> str:
    return "<i>{}</i>".format(_("This content was withdrawn at its author's request."))


async def withdraw_copies(
    session: AsyncSession, i18n: I18n, group_locale: str, posted: list[PostedCopy]
) -> None:
    """Each copy edited in its reader's language: a text replaced, a photo replaced by a
    plain picture; the buttons go with them."""
    for copy in posted:
        locale = group_locale
        if copy.recipient_id is not None:
            reader = await session.get(User, copy.recipient_id)
            locale = reader.locale if reader is not None else group_locale
        with i18n.use_locale(locale):
            text = withdrawn_text()
        await enqueue(
            session,
            MessageEdit(
                chat_id=copy.chat_id,
                message_id=copy.message_id,
                text=text,
                picture=withdrawn_picture() if copy.photo else None,
                user_id=copy.recipient_id,
            ),
        )


@lru_cache(maxsize=1)
def withdrawn_picture() -> bytes:
    """A plain grey picture in place of a withdrawn photo (the caption says why); the same
    bytes every time, so that it is stored and uploaded once."""
    from PIL import Image  # Pillow loads with the first picture drawn, not at start

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "#d9d9d9").save(buffer, format="PNG")
    return buffer.getvalue()


def _redis(storage: BaseStorage) -> tuple[Any, DefaultKeyBuilder] | None:
    redis = getattr(storage, "redis", None)
    builder = getattr(storage, "key_builder", None)
    if redis is None or not isinstance(builder, DefaultKeyBuilder):
        return None
    return redis, builder


async def _person_keys(
    storage: BaseStorage, telegram_id: int, parts: tuple[str, ...] = ("state", "data")
) -> list[str]:
    """The person's dialog keys in Redis, in every chat: …:<user id>:<destiny>:<state|data>
    (a lock belongs to the update being handled; a journal, bot/redis_dialogs.py, holds a
    dialog as it was before an update)."""
    found = _redis(storage)
    if found is None:
        return []
    redis, builder = found
    wanted = str(telegram_id)
    keys = []
    async for raw in redis.scan_iter(match=f"{builder.prefix}{builder.separator}*{wanted}*"):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        if len(found_parts := key.split(builder.separator)) >= 4 and (
            found_parts[-3] == wanted and found_parts[-1] in parts
        ):
            keys.append(key)
    return sorted(keys)


async def forget_dialogs(storage: BaseStorage, telegram_id: int) -> int:
    """Dialogs kept in Redis, in every chat (a coordinator's in the group too); the database's
    are erased with the rest by `forget_user`. How many keys went."""
    keys = await _person_keys(storage, telegram_id, ("state", "data", "journal"))
    found = _redis(storage)
    return int(await found[0].delete(*keys)) if keys and found else 0


async def dialogs_in(
    storage: BaseStorage, telegram_id: int
) -> list[tuple[str | None, dict[str, Any]]] | None:
    """The person's dialogs kept in Redis, as (state, draft); None when the dialogs live in
    the database (/mydata reads them there)."""
    found = _redis(storage)
    if found is None:
        return None
    redis, builder = found
    dialogs: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for key in await _person_keys(storage, telegram_id):
        base, _sep, part = key.rpartition(builder.separator)
        state, draft = dialogs.get(base, (None, {}))
        value = await redis.get(key)
        text = value.decode() if isinstance(value, bytes) else value
        if part == "state":
            state = text
        elif text:
            draft = json.loads(text)
        dialogs[base] = (state, draft)
    return list(dialogs.values())
