"""The outbox: messages to deliver outside the current reply, and the rules of their delivery.

A change and the messages it causes are written in one transaction (`enqueue`, or
`enqueue_many` for a fan-out), each message typed (`TextMessage`, `PhotoMessage`,
`MessageEdit`); the delivery loop (`bot/delivery.py`) then claims due rows, sends them outside
any transaction, and records the outcome with the functions below. None of them commits.

Rules kept here, so that they are tested without a bot:

- one chat's messages go out in order: only the oldest pending row of a chat is ever claimed,
  so a row waiting for a retry holds back the rows behind it;
- a claimed row is *leased*: its `not_before` moves past the lease and its `attempts` grows, so
  that no other worker takes it; a worker killed mid-send leaves it leased until the lease ends
  (the only duplicate possible). The lease's end is also the claim's token: an outcome recorded
  after another worker re-claimed the row changes nothing;
- the next row of a chat waits for that chat's pace (1 message/s in a private chat, 20 in any
  minute in a group), counted on the rows sent, so that it holds across workers;
- a 429 is not a failed attempt; network and server errors are retried with exponential backoff
  up to `max_attempts`; a 403 that is not "blocked"/"deactivated" is retried once before the
  person is taken as unreachable;
- a message nobody asked for (`UNSOLICITED`: challenge alerts, survey invitations and
  reminders, news) never leaves in the quiet hours: it is not claimed then, whenever it was
  written, so that one held back by downtime, a retry or a 429 waits for the morning.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import chat_moves
from storage.models import OutboxMessage, OutboxPicture, OutboxStatus, User, utcnow
from storage.users import mark_unreachable

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ELLIPSIS = "…"
SEND_MESSAGE = "sendMessage"
SEND_PHOTO = "sendPhoto"
EDIT_TEXT = "editMessageText"
EDIT_MEDIA = "editMessageMedia"
# Kinds of messages nobody asked for at the moment they are sent: each unsolicited enqueue
# marks its rows with one. They wait for the end of the quiet hours, and STOP withdraws them.
ALERT = "alert"
INVITATION = "invitation"
REMINDER = "reminder"
NEWS = "news"
UNSOLICITED = (ALERT, INVITATION, REMINDER, NEWS)
# Forbidden descriptions after which the person cannot be reached until they come back.
FINAL_FORBIDDEN = ("blocked by the user", "user is deactivated", "kicked")


# -- writing messages

Markup = dict[str, Any]


@dataclass(slots=True, kw_only=True)
class Outgoing:
    """What every message written to the outbox says besides its content: the chat; the person
    it is for (`user_id`: dropped when they block the bot or are erased); `kind`, for rows found
    again later (`UNSOLICITED` ones wait for the morning and STOP withdraws them; `said_lately`);
    `subject`, what it shows ("initiative:42", "user:7"), so that it is found again when that
    is erased or closed; `not_before`, when it may go out (None: at once)."""

    chat_id: int
    user_id: int | None = None
    kind: str | None = None
    subject: str | None = None
    not_before: datetime | None = None


@dataclass(slots=True, kw_only=True)
class TextMessage(Outgoing):
    """A text in HTML parse mode; past 4096 characters, several messages (see `split_text`),
    the keyboard on the last one."""

    text: str
    reply_markup: Markup | None = None
    disable_preview: bool = True


@dataclass(slots=True, kw_only=True)
class PhotoMessage(Outgoing):
    """A photo — `picture`, bytes rendered here (stored once, uploaded when sent), or a
    Telegram file_id — with its caption. A caption past 1024 characters is cut with "…" and the
    whole text follows as a message; the keyboard stays on the photo, the card people act
    on."""

    picture: bytes | str
    caption: str
    reply_markup: Markup | None = None


@dataclass(slots=True, kw_only=True)
class MessageEdit(Outgoing):
    """A message already sent, rewritten: its text replaced by `text`, or — a photo's — its
    picture by `picture` and its caption by `text`; its buttons go, unless `reply_markup`."""

    message_id: int
    text: str
    picture: bytes | None = None
    reply_markup: Markup | None = None


Message = TextMessage | PhotoMessage | MessageEdit


async def enqueue(session: AsyncSession, *messages: Message) -> list[OutboxMessage]:
    """Writes the messages, in order, as outbox rows of the caller's transaction; the rows."""
    rows = [OutboxMessage(**row) for row in await _rows(session, messages)]
    session.add_all(rows)
    await session.flush()
    return rows


async def enqueue_many(
    session: AsyncSession,
    messages: Iterable[Message],
    *,
    now: datetime | None = None,
    not_before: datetime | None = None,
) -> int:
    """A fan-out: the same rows as `enqueue`, in one bulk insert whatever the number of
    messages (`enqueue` flushes each row: about 0.6 ms a person on SQLite), written at `now`
    and due at `not_before` unless a message says otherwise. Messages sharing one text
    object (one per language, say) have it split once. How many rows."""
    rows = await _rows(session, messages)
    if not rows:
        return 0
    moment = now or utcnow()
    due = not_before or moment
    for row in rows:
        row["created_at"] = moment
        if row.get("not_before") is None:
            row["not_before"] = due
    # Core's insert: the ORM's bulk path costs a third more here, for nothing we need.
    await session.execute(insert(OutboxMessage.__table__), rows)
    return len(rows)


def to_each(
    people: Iterable[User],
    message: Callable[[User], tuple[str, Markup | None]],
    *,
    kind: str | None = None,
    subject: str | None = None,
) -> list[TextMessage]:
    """A fan-out's messages: `message(person)` — its text and keyboard, the same objects for
    people who read the same — to each person who has a chat."""
    messages = []
    for person in people:
        if person.telegram_id is None:
            continue
        text, reply_markup = message(person)
        messages.append(
            TextMessage(
                chat_id=person.telegram_id,
                user_id=person.id,
                text=text,
                reply_markup=reply_markup,
                kind=kind,
                subject=subject,
            )
        )
    return messages


def row_count(messages: Iterable[Message]) -> int:
    """How many rows the messages make (a long text makes several)."""
    parts: dict[int, tuple[str, int]] = {}  # the text kept: its id stays its own
    count = 0
    for message in messages:
        if isinstance(message, TextMessage):
            key = id(message.text)
            if key not in parts:
                parts[key] = (message.text, len(split_text(message.text)))
            count += parts[key][1]
        elif isinstance(message, PhotoMessage):
            count += 1 + cut_caption(message.caption)[1]
        else:
            count += 1
    return count


async def _rows(session: AsyncSession, messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The outbox rows' columns. Payloads are made once per content shared by several
    messages (the same text and keyboard objects, the same picture): found by the objects'
    ids, each kept alive in `made` so that no other object takes its id meanwhile."""
    made: dict[tuple[Any, ...], tuple[Message, Any]] = {}
    rows: list[dict[str, Any]] = []
    key: tuple[Any, ...]
    for message in messages:
        if isinstance(message, TextMessage):
            key = (id(message.text), id(message.reply_markup), message.disable_preview)
            if key not in made:
                made[key] = (
                    message,
                    _text_payloads(message.text, message.reply_markup, message.disable_preview),
                )
            rows += (_row(message, SEND_MESSAGE, payload) for payload in made[key][1])
        elif isinstance(message, PhotoMessage):
            key = (id(message.picture), id(message.caption), id(message.reply_markup))
            if key not in made:
                made[key] = message, await _photo_payload(session, message)
            payload, picture_id, whole = made[key][1]
            rows.append(_row(message, SEND_PHOTO, payload, picture_id))
            if whole is not None:
                rows += (_row(message, SEND_MESSAGE, part) for part in whole)
        else:
            method, payload, picture_id = await _edit_payload(session, message)
            rows.append(_row(message, method, payload, picture_id))
    return rows


def _row(
    message: Message, method: str, payload: dict[str, Any], picture_id: int | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "chat_id": message.chat_id,
        "user_id": message.user_id,
        "method": method,
        "payload": payload,
        "picture_id": picture_id,
        "kind": message.kind,
        "subject": message.subject,
    }
    if message.not_before is not None:
        row["not_before"] = message.not_before
    return row


def _text_payloads(
    text: str, reply_markup: Markup | None, disable_preview: bool
) -> list[dict[str, Any]]:
    parts = split_text(text)
    if not parts:
        raise ValueError("empty message")
    payloads: list[dict[str, Any]] = []
    for part in parts:
        payload: dict[str, Any] = {"text": part, "parse_mode": "HTML"}
        if disable_preview:
            payload["link_preview_options"] = {"is_disabled": True}
        payloads.append(payload)
    if reply_markup is not None:
        payloads[-1]["reply_markup"] = reply_markup
    return payloads


async def _photo_payload(
    session: AsyncSession, message: PhotoMessage
) -> tuple[dict[str, Any], int | None, list[dict[str, Any]] | None]:
    """The photo's payload, its stored picture, and the whole caption's messages if cut."""
    shown, was_cut = cut_caption(message.caption)
    payload: dict[str, Any] = {"parse_mode": "HTML"}
    if shown:
        payload["caption"] = shown
    picture = message.picture
    if isinstance(picture, str):
        payload["photo"] = picture
    if message.reply_markup is not None:
        payload["reply_markup"] = message.reply_markup
    picture_id = await stored_picture(session, picture) if isinstance(picture, bytes) else None
    whole = _text_payloads(message.caption, None, True) if was_cut else None
    return payload, picture_id, whole


async def _edit_payload(
    session: AsyncSession, message: MessageEdit
) -> tuple[str, dict[str, Any], int | None]:
    payload: dict[str, Any] = {"message_id": message.message_id, "parse_mode": "HTML"}
    if message.reply_markup is not None:
        payload["reply_markup"] = message.reply_markup
    if message.picture is None:
        payload["text"] = cut_caption(message.text, TEXT_LIMIT)[0]
        return EDIT_TEXT, payload, None
    payload["caption"] = cut_caption(message.text)[0]
    return EDIT_MEDIA, payload, await stored_picture(session, message.picture)


async def remember_shown(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    subject: str | None,
    photo: bool = False,
    text: str | None = None,
    reply_markup: Markup | None = None,
) -> None:
    """A copy shown in a direct reply rather than through the outbox (a proposal listed by
    /pending) is remembered as the outbox's own cards are, without its text, so that it is
    rewritten too when its subject is erased. One about no subject that quotes others' words
    (/stats lists the proposals waiting, as the summary does) keeps its `text` and
    `reply_markup`, so that `storage.privacy.scrub_quotes` rewrites the quote in it too. No
    `sent_at`: no count takes it for a delivery."""
    payload: dict[str, Any] = {}
    if text is not None:
        payload["text"] = text
        if reply_markup:
            payload["reply_markup"] = reply_markup
    session.add(
        OutboxMessage(
            chat_id=chat_id,
            method=SEND_PHOTO if photo else SEND_MESSAGE,
            payload=payload,
            status=OutboxStatus.sent,
            sent_message_id=message_id,
            subject=subject,
        )
    )
    await session.flush()


async def said_lately(session: AsyncSession, chat_id: int, kind: str, since: datetime) -> bool:
    """Whether a message of that kind was written to the chat since then."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.kind == kind,
            OutboxMessage.created_at > since,
        )
        .limit(1)
    )
    return found is not None


async def stored_picture(session: AsyncSession, content: bytes) -> int:
    """The picture's id, stored the first time it is sent: the same chart to a thousand people
    is kept once, and uploaded once or a few times (see `mark_sent`)."""
    digest = hashlib.sha256(content).hexdigest()
    found = await session.scalar(select(OutboxPicture.id).where(OutboxPicture.digest == digest))
    if found is not None:
        return found
    picture = OutboxPicture(digest=digest, content=content)
    try:
        # Another transaction may store the same picture at the same moment.
        async with session.begin_nested():
            session.add(picture)
    except IntegrityError:
        found = await session.scalar(
            select(OutboxPicture.id).where(OutboxPicture.digest == digest)
        )
        assert found is not None
        return found
    return picture.id


# -- cutting texts to Telegram's limits

# Never cut inside a tag or an entity (`&amp;`, `&#39;`).
_ATOM = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;")
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)[^<>]*?(/?)>")
_LEADING = re.compile(r"(?:\s|<[^<>]*>)*")
_SEPARATORS = (re.compile(r"\n[ \t]*\n"), re.compile(r"\n"), re.compile(r"\s"))


def utf16_len(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` UTF-16 units, cut at a paragraph, else a line, else a word,
    else between characters — never inside a tag or an entity. A tag left open at a cut is
    closed there and opened again at the start of the next part.

    Lengths are counted on the HTML source, which is never shorter than what Telegram counts.
    """
    parts = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        head, rest = _cut(rest, limit)
        parts.append(head)
    if rest:
        parts.append(rest)
    return parts


def cut_caption(caption: str, limit: int = CAPTION_LIMIT) -> tuple[str, bool]:
    """The caption within `limit`, cut at a line or a word and ending with "…"; and whether it
    was cut."""
    caption = caption.strip()
    if utf16_len(caption) <= limit:
        return caption, False
    return _cut(caption, limit, suffix=ELLIPSIS)[0], True


def _cut(text: str, limit: int, suffix: str = "") -> tuple[str, str]:
    """The longest clean head of `text` that fits in `limit` with `suffix` and the closing tags
    it needs; and the rest, with the tags open at the cut opened again."""
    atoms = [match.span() for match in _ATOM.finditer(text)]
    floor = _LEADING.match(text).end()  # type: ignore[union-attr]
    budget = limit - utf16_len(suffix)
    while True:
        cut = _boundary(text, max(budget, 1), atoms, floor)
        head = text[:cut].rstrip()
        opened = _open_tags(head)
        closing = "".join(f"</{name}>" for name, _ in reversed(opened))
        candidate = head + suffix + closing
        excess = utf16_len(candidate) - limit
        if excess <= 0 or budget <= 1:
            break
        budget -= excess
    reopening = "".join(tag for _, tag in opened)
    return candidate, reopening + text[cut:].lstrip()


def _boundary(text: str, budget: int, atoms: list[tuple[int, int]], floor: int) -> int:
    end = _fit(text, budget)

    starts = [start for start, _ in atoms]

    def safe(position: int) -> bool:
        before = bisect.bisect_left(starts, position) - 1
        return position > floor and (before < 0 or atoms[before][1] <= position)

    # A separator in the second half of what fits, else anywhere, else a clean hard cut.
    for minimum in (end // 2, 0):
        for separator in _SEPARATORS:
            positions = [m.start() for m in separator.finditer(text, 0, end)]
            for position in reversed(positions):
                if position <= minimum:
                    break
                if safe(position):
                    return position
    for position in range(end, floor, -1):
        if safe(position):
            return position
    # Nothing fits (a single tag longer than the limit): take the first atom whole.
    return next((stop for start, stop in atoms if stop > floor), min(len(text), floor + 1))


def _fit(text: str, budget: int) -> int:
    """How many characters of `text` fit in `budget` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > budget:
            return index
    return len(text)


def _open_tags(html: str) -> list[tuple[str, str]]:
    """The tags still open at the end of `html`: (name, opening tag as written)."""
    opened: list[tuple[str, str]] = []
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if self_closing:
            continue
        if not closing:
            opened.append((name, match.group(0)))
            continue
        for index in range(len(opened) - 1, -1, -1):
            if opened[index][0] == name:
                del opened[index]
                break
    return opened


# -- the delivery's rules


@dataclass(frozen=True)
class ChatLimit:
    """At most `count` messages to one chat in any `period`."""

    count: int
    period: timedelta

    @classmethod
    def per(cls, rate: float, period: timedelta) -> ChatLimit:
        """`rate` messages per `period`; below one, one message per `period / rate`."""
        return cls(int(rate), period) if rate >= 1 else cls(1, period / rate)


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end`, wall-clock time in `timezone` (21:00 to 08:00 in Paris): no
    unsolicited message goes out. Wall-clock arithmetic in the zone, so the morning stays at
    08:00 across a DST change."""

    timezone: str = "Europe/Paris"
    start: time = time(21)
    end: time = time(8)

    def contains(self, moment: datetime) -> bool:
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        clock = moment.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def end_after(self, moment: datetime) -> datetime:
        """`moment`, or the end of the quiet hours it falls in."""
        if not self.contains(moment):
            return moment
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start > self.end and clock >= self.start:
            day += timedelta(days=1)
        return self._instant(day, self.end, moment)

    def start_after(self, moment: datetime) -> datetime:
        """The next start of the quiet hours, later than `moment`."""
        day = moment.astimezone(ZoneInfo(self.timezone)).date()
        for offset in (0, 1):
            start = self._instant(day + timedelta(days=offset), self.start, moment)
            if start > moment:
                return start
        raise AssertionError("the quiet hours start every day")

    def _instant(self, day: Any, at: time, like: datetime) -> datetime:
        local = datetime.combine(day, at, tzinfo=ZoneInfo(self.timezone))
        # Through UTC: a wall time in a DST gap comes out as the instant it names.
        return local.astimezone(UTC).astimezone(like.tzinfo)


def is_unsolicited(kind: str | None) -> bool:
    return kind in UNSOLICITED


@dataclass(frozen=True)
class DeliveryPolicy:
    lease: timedelta = timedelta(seconds=120)
    private: ChatLimit = ChatLimit(1, timedelta(seconds=1))
    group: ChatLimit = ChatLimit(20, timedelta(minutes=1))
    max_attempts: int = 10
    backoff: timedelta = timedelta(seconds=1)
    backoff_max: timedelta = timedelta(minutes=10)
    quiet: QuietHours = QuietHours()

    def chat_limit(self, chat_id: int) -> ChatLimit:
        """Telegram's pace for one chat: 1 message/s in private, 20/min in a group."""
        return self.private if chat_id > 0 else self.group

    def retry_delay(self, attempts: int) -> timedelta:
        """1, 2, 4, 8… times the base delay after the 1st, 2nd, 3rd… failed attempt."""
        exponent = min(max(attempts - 1, 0), 30)
        return min(self.backoff * (1 << exponent), self.backoff_max)


@dataclass(frozen=True)
class Lease:
    """A claimed row, as the sender needs it. `until` is the claim's token."""

    id: int
    chat_id: int
    user_id: int | None
    method: str
    payload: dict[str, Any]
    picture_id: int | None
    attempts: int
    last_error: str | None
    until: datetime
    # The picture to upload, or Telegram's file_id for it once it has been uploaded.
    picture: bytes | str | None = None
    kind: str | None = None


def _pending() -> Any:
    return OutboxMessage.status == OutboxStatus.pending


def _is_head(row: Any) -> Any:
    """No older pending row in the same chat: a chat's messages go out in order."""
    earlier = aliased(OutboxMessage, name="earlier")
    return ~exists().where(
        earlier.chat_id == row.chat_id,
        earlier.status == OutboxStatus.pending,
        earlier.id < row.id,
    )


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int, policy: DeliveryPolicy
) -> list[Lease]:
    """Leases up to `limit` due rows, the oldest first, at most one per chat. Rows another
    transaction is claiming are skipped (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the
    engine's BEGIN IMMEDIATE already makes claims take turns). In the quiet hours at `now`,
    unsolicited rows are not claimed: they wait, holding back their chat, for the morning."""
    due = aliased(OutboxMessage, name="due")
    conditions = [due.status == OutboxStatus.pending, due.not_before <= now, _is_head(due)]
    if policy.quiet.contains(now):
        conditions.append(or_(due.kind.is_(None), due.kind.not_in(UNSOLICITED)))
    claimable = (
        select(due.id)
        .where(*conditions)
        .order_by(due.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=due)
    )
    until = now + policy.lease
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(claimable))
        .values(not_before=until, attempts=OutboxMessage.attempts + 1)
        .returning(
            OutboxMessage.id,
            OutboxMessage.chat_id,
            OutboxMessage.user_id,
            OutboxMessage.method,
            OutboxMessage.payload,
            OutboxMessage.picture_id,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.kind,
        )
        .execution_options(synchronize_session=False)
    )
    # The columns returned are named as Lease's fields.
    leases = [Lease(**row._asdict(), until=until) for row in result.all()]
    wanted = {lease.picture_id for lease in leases if lease.picture_id is not None}
    if wanted:
        # Only the file_id when Telegram has the picture: its bytes are not even read.
        content = case((OutboxPicture.telegram_file_id.is_(None), OutboxPicture.content))
        found = await session.execute(
            select(OutboxPicture.id, OutboxPicture.telegram_file_id, content).where(
                OutboxPicture.id.in_(wanted)
            )
        )
        pictures = {id_: file_id or data for id_, file_id, data in found}
        leases = [
            replace(lease, picture=pictures[lease.picture_id]) if lease.picture_id else lease
            for lease in leases
        ]
    return sorted(leases, key=lambda lease: lease.id)


async def next_due(session: AsyncSession, now: datetime) -> datetime | None:
    """When the next row waiting for its time (a retry, a chat's pace) becomes due."""
    return await session.scalar(
        select(func.min(OutboxMessage.not_before)).where(
            _pending(), OutboxMessage.not_before > now, _is_head(OutboxMessage)
        )
    )


def _leased(lease: Lease) -> Any:
    """The row, if this claim still holds it."""
    return (OutboxMessage.id == lease.id) & _pending() & (OutboxMessage.not_before == lease.until)


async def mark_sent(
    session: AsyncSession,
    lease: Lease,
    *,
    message_id: int,
    now: datetime,
    policy: DeliveryPolicy,
    photo_file_id: str | None = None,
) -> None:
    """Telegram took it; the chat's next row waits for the chat's pace. A row sent after its
    lease ended is recorded all the same: the send happened. An uploaded picture's file_id is
    kept: the next rows showing it send it by id."""
    chat_id = lease.chat_id
    if photo_file_id is not None and isinstance(lease.picture, bytes):
        await session.execute(
            update(OutboxPicture)
            .where(OutboxPicture.id == lease.picture_id, OutboxPicture.telegram_file_id.is_(None))
            .values(telegram_file_id=photo_file_id)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == lease.id, _pending())
        .values(
            status=OutboxStatus.sent,
            sent_message_id=message_id,
            sent_at=now,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    paced = await _paced(session, chat_id, now, policy.chat_limit(chat_id))
    if paced is None:
        return
    following = aliased(OutboxMessage, name="following")
    next_in_chat = (
        select(func.min(following.id))
        .where(following.chat_id == chat_id, following.status == OutboxStatus.pending)
        .scalar_subquery()
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == next_in_chat, OutboxMessage.not_before < paced)
        .values(not_before=paced)
        .execution_options(synchronize_session=False)
    )


async def _paced(
    session: AsyncSession, chat_id: int, now: datetime, limit: ChatLimit
) -> datetime | None:
    """When the chat may receive its next message: once the oldest of its last `count` sends
    leaves the sliding `period`. Send times are taken after Telegram answered, so never earlier
    than Telegram's own."""
    if limit.count == 1:
        return now + limit.period
    oldest = await session.scalar(
        select(OutboxMessage.sent_at)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == OutboxStatus.sent,
            OutboxMessage.sent_at > now - limit.period,
        )
        .order_by(OutboxMessage.sent_at.desc())
        .offset(limit.count - 1)
        .limit(1)
    )
    return None if oldest is None else oldest + limit.period


async def upload_again(session: AsyncSession, lease: Lease, now: datetime) -> None:
    """Telegram refused the picture's file_id: it is forgotten, and the row given back at once
    (the attempt not counted) to upload the picture itself."""
    await session.execute(
        update(OutboxPicture)
        .where(OutboxPicture.id == lease.picture_id)
        .values(telegram_file_id=None)
        .execution_options(synchronize_session=False)
    )
    await release(session, [lease], now)


async def postpone(session: AsyncSession, lease: Lease, *, until: datetime, error: str) -> None:
    """Telegram asked to wait (429): the chat waits, and the attempt does not count."""
    await session.execute(
        update(OutboxMessage)
        .where(_leased(lease))
        .values(not_before=until, attempts=OutboxMessage.attempts - 1, last_error=error)
        .execution_options(synchronize_session=False)
    )


async def retry_or_fail(
    session: AsyncSession, lease: Lease, *, error: str, now: datetime, policy: DeliveryPolicy
) -> OutboxStatus:
    """A transient failure (network, 5xx): tried again after a backoff, or failed for good
    once `max_attempts` attempts were made."""
    if lease.attempts >= policy.max_attempts:
        await mark_failed(session, lease, error, now)
        return OutboxStatus.failed
    await session.execute(
        update(OutboxMessage)
        .where(_leased(lease))
        .values(not_before=now + policy.retry_delay(lease.attempts), last_error=error)
        .execution_options(synchronize_session=False)
    )
    return OutboxStatus.pending


async def mark_failed(session: AsyncSession, lease: Lease, error: str, now: datetime) -> None:
    """Refused for good (400, or too many attempts): kept for coordinators to see."""
    await session.execute(
        update(OutboxMessage)
        .where(_leased(lease))
        .values(status=OutboxStatus.failed, last_error=error, failed_at=now)
        .execution_options(synchronize_session=False)
    )


def is_final_forbidden(description: str) -> bool:
    return any(marker in description for marker in FINAL_FORBIDDEN)


async def forbidden(
    session: AsyncSession,
    lease: Lease,
    *,
    description: str,
    now: datetime,
    policy: DeliveryPolicy,
) -> OutboxStatus:
    """A 403. Blocked, deactivated, or a second 403 in a row: the person is unreachable and
    every message still pending for them is dropped (in a group: this row fails). Any other
    lone 403 may be transient and is tried once more."""
    again = (lease.last_error or "").startswith("Forbidden")
    if not is_final_forbidden(description) and not again:
        await session.execute(
            update(OutboxMessage)
            .where(_leased(lease))
            .values(not_before=now + policy.retry_delay(1), last_error=description)
            .execution_options(synchronize_session=False)
        )
        return OutboxStatus.pending
    if lease.chat_id < 0:
        await mark_failed(session, lease, description, now)
        return OutboxStatus.failed
    await unreachable(session, lease, description)
    return OutboxStatus.dropped


async def unreachable(session: AsyncSession, lease: Lease, reason: str) -> int:
    """The person of this row (by `user_id`, else by the chat) is marked inactive and their
    pending rows dropped with `reason`; how many were dropped."""
    user = None
    if lease.user_id is not None:
        user = await session.get(User, lease.user_id)
    if user is None:
        user = await session.scalar(select(User).where(User.telegram_id == lease.chat_id))
    if user is not None:
        mark_unreachable(user)
        return await drop_pending(session, user.id, reason, chat_id=lease.chat_id)
    return await _drop(session, OutboxMessage.chat_id == lease.chat_id, reason)


async def drop_pending(
    session: AsyncSession, user_id: int, reason: str, *, chat_id: int | None = None
) -> int:
    """Drops everything still pending for that person — rows for them and rows to their
    private chat — with `reason` (they blocked the bot, or asked to be forgotten)."""
    telegram_id = await session.scalar(select(User.telegram_id).where(User.id == user_id))
    chats = {c for c in (telegram_id, chat_id) if c is not None}
    condition = OutboxMessage.user_id == user_id
    if chats:
        condition = or_(condition, OutboxMessage.chat_id.in_(chats))
    return await _drop(session, condition, reason)


async def drop_pending_alerts(session: AsyncSession, user_id: int) -> int:
    """The person stopped alerts: those still waiting (the night's, say) never go out."""
    condition = and_(OutboxMessage.user_id == user_id, OutboxMessage.kind == ALERT)
    return await _drop(session, condition, "alerts stopped")


async def drop_pending_unsolicited(session: AsyncSession, user_id: int) -> int:
    """The person said STOP: nothing they did not ask for that is still waiting goes out."""
    condition = and_(OutboxMessage.user_id == user_id, OutboxMessage.kind.in_(UNSOLICITED))
    return await _drop(session, condition, "stopped")


async def drop_pending_about(session: AsyncSession, kind: str, subject: str, reason: str) -> int:
    """Rows of that kind about that subject ("challenge:42") still waiting: dropped."""
    condition = and_(OutboxMessage.kind == kind, OutboxMessage.subject == subject)
    return await _drop(session, condition, reason)


async def queued_by(session: AsyncSession, moment: datetime) -> int:
    """How many rows wait to go out by `moment`: what a fan-out due then has ahead of it
    (a range scan on the `status, not_before` index)."""
    count = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(_pending(), OutboxMessage.not_before <= moment)
    )
    return int(count or 0)


async def _drop(session: AsyncSession, condition: Any, reason: str) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(_pending(), condition)
        .values(status=OutboxStatus.dropped, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def retarget(session: AsyncSession, lease: Lease, new_chat_id: int, now: datetime) -> int:
    """The group became a supergroup with a new id: this row and every row still pending for
    the old id go there, and the move is recorded; the claim is given back at once and does
    not count as an attempt."""
    await chat_moves.record_move(session, lease.chat_id, new_chat_id, now)
    await session.execute(
        update(OutboxMessage)
        .where(_leased(lease))
        .values(not_before=now, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        update(OutboxMessage)
        .where(_pending(), OutboxMessage.chat_id == lease.chat_id)
        .values(chat_id=new_chat_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def release(session: AsyncSession, leases: Iterable[Lease], now: datetime) -> None:
    """Claimed rows not sent (the loop is stopping) are given back, due at once, the attempt
    not counted."""
    for lease in leases:
        await session.execute(
            update(OutboxMessage)
            .where(_leased(lease))
            .values(not_before=now, attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )


async def failed_messages(session: AsyncSession, limit: int = 20) -> Sequence[OutboxMessage]:
    """The latest messages that could not be delivered, newest first, with the reason in
    `last_error`."""
    result = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.failed)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return result.all()
