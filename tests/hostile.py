"""What people and their clients really send, as hypothesis strategies: hostile texts, messages
that are not text, and callback data that is random, cut short or forged.

Used by tests/test_hostile_input.py (private dialogs) and tests/test_hostile_group.py (the
coordinators' group, edits, forwards, replayed and borrowed buttons), with the live bot they share
(`open_live`) and the checks every reply passes (`check_calls`, `said`).
`HYPOTHESIS_PROFILE=long` runs many more examples by hand; the default profile ("ci") is small and
derandomised, so that the suite stays quick and the same on every run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.config import Settings
from bot.i18n import create_i18n
from bot.standin import Call, StandIn
from storage.db import create_engine, create_sessionmaker
from storage.models import FsmRecord
from tests.conversation import Harness, Person

settings.register_profile(
    "ci",
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def budget(examples: int) -> Any:
    """A property's own number of examples in CI; the long profile's when run by hand."""
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "long":
        return lambda test: test
    return settings(max_examples=examples)


# Pieces people paste, type or whose clients add.
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
BIDI = ["\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"]
CONTROL = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)]
COMBINING = ["e\u0301", "a\u0308\u0308\u0308", "Z\u0337\u0336\u0335\u0334", "\u0651\u064e"]
EMOJI = ["👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "🇫🇷", "❤️‍🔥", "🧑🏿‍🦽"]
MARKUP = [
    "<b>bold</b>",
    "<i>",
    "</b>",
    "<a href='javascript:alert(1)'>x</a>",
    "<script>alert(1)</script>",
    "a < b & c > d",
    "&amp;",
    "&lt;b&gt;",
    "&#0;",
    "&nbsp;",
    "**bold** __it__ `code` [link](http://x) ~~s~~ ||spoiler||",
    "<tg-spoiler>",
    "<",
    "&",
]
FORMAT = ["{0}", "{}", "{title}", "%s", "%d", "%(name)s", "{{", "}}", "${HOME}", "{0!r:>{1}}"]
SQL = [
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "1; SELECT * FROM fsm_records",
    "Robert'); DROP TABLE needs;--",
    "\\",
    "%",
    "_",
]
DIGITS = [
    "٠١٢٣٤٥٦٧٨٩",
    "۰۱۲۳۴۵۶۷۸۹",
    "０１２３４５６７８９",
    "١٣",
    "１３",
    "13",
    "-1",
    "1e9",
    "NaN",
]
WORDS = ["Bonjour", "مرحبا بكم", "Hello", "Marseille 13001", "l’été", "نعم"]

fragment = st.sampled_from(
    ZERO_WIDTH + BIDI + CONTROL + COMBINING + EMOJI + MARKUP + FORMAT + SQL + DIGITS + WORDS
)


def hostile_texts() -> st.SearchStrategy[str]:
    """Empty, blank, huge, and mixtures of the pieces above with arbitrary text."""
    mixed = st.lists(st.one_of(fragment, st.text(max_size=20)), min_size=1, max_size=12).map(
        "".join
    )
    return st.one_of(
        st.just(""),
        st.sampled_from([" ", "   ", "\n\n", "\t", "\u00a0", "\u3000", " \u200b "]),
        st.sampled_from(MARKUP + FORMAT + SQL + DIGITS + EMOJI),
        mixed,
        # Huge: past Telegram's 4096 characters once quoted back, or escaped.
        st.tuples(fragment, st.integers(min_value=300, max_value=1200)).map(
            lambda pair: pair[0] * pair[1]
        ),
        st.text(min_size=1, max_size=200),
    )


# Messages that are not text, as the Bot API serialises them.
_FILE = {"file_id": "AgAD", "file_unique_id": "u1"}
NOT_TEXT: dict[str, dict[str, Any]] = {
    "sticker": {
        "sticker": {
            **_FILE,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "photo": {"photo": [{**_FILE, "width": 90, "height": 90}]},
    "document": {
        "document": {**_FILE, "file_name": "<b>x</b>.pdf", "mime_type": "application/pdf"}
    },
    "voice": {"voice": {**_FILE, "duration": 3}},
    "location": {"location": {"latitude": 43.2965, "longitude": 5.3698}},
    "far_location": {"location": {"latitude": -33.86, "longitude": 151.2}},
    "contact": {"contact": {"phone_number": "+33600000000", "first_name": "<i>Eve</i>"}},
    "poll": {
        "poll": {
            "id": "1",
            "question": "{0} %s",
            "options": [
                {"persistent_id": "0", "text": "a", "voter_count": 0},
                {"persistent_id": "1", "text": "b", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    },
}


def not_text() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """A message without text: its kind and its fields (a caption, now and then)."""
    kinds = st.sampled_from(sorted(NOT_TEXT))
    caption = st.one_of(st.none(), st.sampled_from(MARKUP + FORMAT + ["", " "]))

    def build(kind: str, caption: str | None) -> tuple[str, dict[str, Any]]:
        fields = dict(NOT_TEXT[kind])
        if caption is not None and kind in ("photo", "document", "voice"):
            fields["caption"] = caption
        return kind, fields

    return st.builds(build, kinds, caption)


def hostile_messages() -> st.SearchStrategy[tuple[str | None, dict[str, Any]]]:
    """What a person sends: a text (and no other field), or a message without text."""
    texts = hostile_texts().map(lambda text: (text, {}))
    others = not_text().map(lambda pair: (None, pair[1]))
    return st.one_of(texts, others)


def callback_data(shown: list[str]) -> st.SearchStrategy[str]:
    """Data of a button press: random, one of `shown` cut short or with its numbers changed,
    or well-formed for another flow. Telegram carries 1 to 64 bytes."""
    random_data = st.text(min_size=1, max_size=64).filter(lambda d: 1 <= len(d.encode()) <= 64)
    forged = st.sampled_from(
        [
            "th:",
            "ar:99",
            "ar:-1",
            "ar:x",
            "lg:xx",
            "rl:admin",
            "nt:0",
            "nt:999",
            "m:zz",
            "sva:999999:4",
            "cj:999999::0",
            "cj:1::1",
            ":",
            "::::",
            "%s",
            "{0}",
            "' OR 1=1",
        ]
    )
    choices = [random_data, forged]
    if shown:
        pressed = st.sampled_from(shown)
        choices.append(
            st.tuples(pressed, st.integers(min_value=0, max_value=63)).map(
                lambda pair: pair[0][: max(1, pair[1] % max(1, len(pair[0])))]
            )
        )
        choices.append(
            st.tuples(pressed, st.integers(min_value=0, max_value=10**9)).map(
                lambda pair: _renumbered(pair[0], pair[1])
            )
        )
    return st.one_of(*choices)


def _renumbered(data: str, number: int) -> str:
    changed = re.sub(r"\d+", str(number), data)
    return changed.encode()[:64].decode(errors="ignore") or "x"


# -- one live bot for a module of properties, and what every reply must pass

T = TypeVar("T")
TOKEN = "123456:TEST-TOKEN"
ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
SPEAKING = ("sendMessage", "editMessageText", "sendPhoto", "editMessageCaption")


@dataclass
class Live:
    """One bot, stand-in and database for the module, on a loop of its own: hypothesis runs
    each example as a plain call, and each example is a new person."""

    runner: asyncio.Runner
    harness: Harness
    ids: Iterator[int]
    # Someone already at each step, and their dialog there: used again while it stays so.
    waiting: dict[str, tuple[Person, tuple[str | None, dict[str, Any]]]] = field(
        default_factory=dict
    )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)


@contextmanager
def open_live(directory: Path, sqlite_template: Path, **overrides: Any) -> Iterator[Live]:
    """A bot over a copy of the migrated database in `directory`; `overrides`: its settings."""
    path = directory / "collective.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    options: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": url,
        "redis_url": None,
        "coordinator_chat_id": -100500,
        "coordinator_ids": frozenset({42}),
        **overrides,
    }
    bot_settings = Settings(_env_file=None, **options)  # type: ignore[call-arg]
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()

        async def open_all() -> Harness:
            engine = create_engine(url)
            stack.push_async_callback(engine.dispose)
            standin = await stack.enter_async_context(StandIn(token=TOKEN))
            return await stack.enter_async_context(
                Harness.open(
                    bot_settings, create_sessionmaker(engine), create_i18n("fr"), standin, TOKEN
                )
            )

        harness = runner.run(open_all())
        try:
            yield Live(runner, harness, itertools.count(500_000))
        finally:
            runner.run(stack.aclose())


async def dialog_of(harness: Harness, person: Person) -> tuple[str | None, dict[str, Any]]:
    """The person's dialog (their only one: in the private chat, or in the group)."""
    async with harness.sessionmaker() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.user_id == person.id))
        return (record.state, dict(record.data)) if record else (None, {})


def said(calls: list[Call]) -> list[str]:
    return [
        str(c.params.get("text") or c.params.get("caption") or "")
        for c in calls
        if c.method in SPEAKING
    ]


def check_calls(live: Live, calls: list[Call], *, pressed_again: bool = False) -> None:
    """No handler raised, and Telegram (the stand-in) accepted every call. `pressed_again`: a
    button pressed a second time on a message its first press already edited may ask for the
    same edit again, which Telegram refuses as "not modified" and handlers/ui.py lets be."""
    assert live.harness.take_failures() == []
    refused = [
        (c.method, c.error)
        for c in calls
        if not c.ok and not (pressed_again and "message is not modified" in str(c.error))
    ]
    assert refused == [], refused


def in_arabic(words: list[str], where: str) -> None:
    for word in words:
        assert ARABIC.search(word), f"{where}: not in Arabic: {word!r}"
