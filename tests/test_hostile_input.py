"""Hostile input at each step of the main private dialogs (onboarding, reporting a need,
proposing an initiative): huge, empty and blank texts, control characters, zero-width and
bidirectional marks, combining and emoji sequences, markup, format and SQL look-alikes, other
digits, messages that are not text, and callback data that is random, cut short or forged.

Whatever comes: no handler raises, Telegram (the stand-in, which refuses what Telegram
refuses) accepts every reply, a refused input leaves the dialog where it was and is explained
in the person's language (Arabic here: every word the bot says has Arabic letters), and an
accepted text is stored as it was sent. The strategies are in tests/hostile.py; the default
profile keeps the examples few and the same on every run, HYPOTHESIS_PROFILE=long runs many.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.texts import clean_text
from tests.conversation import Person, buttons_of
from tests.hostile import (
    ARABIC,
    Live,
    callback_data,
    check_calls,
    dialog_of,
    hostile_messages,
    open_live,
    said,
)

NEED = "لا يوجد مقعد مظلل قرب موقف الحافلة لكبار السن في الصيف."
TITLE = "زيارات أسبوعية للجيران المسنين"
DESCRIPTION = "متطوعون يزورون كبار السن الذين يعيشون وحدهم ويتصلون بهم كل أسبوع."

ONBOARDING = [
    ("send", "/start"),
    ("press", "lg:ar"),
    ("press", "nt:1"),
    ("press", "rl:citizen"),
    ("press", "ar:3"),
    ("press", "th:culture"),
    ("press", "td"),
    ("press", "ct:0"),
    ("press", "al:0"),
]
NEED_PATH = [
    *ONBOARDING,
    ("press", "m:n"),
    ("press", "nth:housing"),
    ("press", "nar:3"),
    ("send", NEED),
    ("press", "nst:l"),
]
PROPOSAL_PATH = [
    *ONBOARDING,
    ("press", "m:i"),
    ("press", "th:older_people"),
    ("press", "pr:k"),
    ("send", TITLE),
    ("send", DESCRIPTION),
    ("press", "pr:s"),
    ("press", "pr:s"),
]
# Each step: the way there. The text steps may accept a hostile text (then it is stored).
STEPS = {
    "onboarding:language": ONBOARDING[:1],
    "onboarding:notice": ONBOARDING[:2],
    "onboarding:role": ONBOARDING[:3],
    "onboarding:arrondissement": ONBOARDING[:4],
    "onboarding:themes": ONBOARDING[:5],
    "onboarding:contact": ONBOARDING[:7],
    "onboarding:alerts": ONBOARDING[:8],
    "need:theme": NEED_PATH[:10],
    "need:arrondissement": NEED_PATH[:11],
    "need:description": NEED_PATH[:12],
    "need:location": NEED_PATH[:13],
    "need:review": NEED_PATH[:14],
    "proposal:theme": PROPOSAL_PATH[:10],
    "proposal:place": PROPOSAL_PATH[:11],
    "proposal:title": PROPOSAL_PATH[:12],
    "proposal:description": PROPOSAL_PATH[:13],
    "proposal:photo": PROPOSAL_PATH[:14],
    "proposal:location": PROPOSAL_PATH[:15],
    "proposal:summary": PROPOSAL_PATH[:16],
}
# The text steps, and where their draft keeps the answer.
TEXT_STEPS = {
    "need:description": ("need", "text"),
    "proposal:title": ("proposal", "title"),
    "proposal:description": ("proposal", "description"),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Live]:
    with open_live(tmp_path_factory.mktemp("hostile"), sqlite_template) as opened:
        yield opened


async def arrive(live: Live, step: str) -> Person:
    """Someone at `step`: the one left there by the last example when it left them as they
    were, else someone new, led there."""
    if step in live.waiting:
        person, there = live.waiting.pop(step)
        if await dialog_of(live.harness, person) == there and view(person) == views[step]:
            return person
    person = live.harness.person(next(live.ids), language_code="ar")
    for kind, value in STEPS[step]:
        if kind == "send":
            await person.send(value)
        else:
            await person.press_data(value)
    assert live.harness.take_failures() == []
    there = await dialog_of(live.harness, person)
    assert there[0] is not None, f"{step}: not in a dialog"
    live.waiting[step] = (person, there)
    # What the step shows, the first time: the same buttons for every example after.
    views.setdefault(step, view(person))
    assert view(person) == views[step], f"{step}: shown differently"
    return person


views: dict[str, Any] = {}


def view(person: Person) -> Any:
    """The buttons the person has in front of them (the latest message with buttons)."""
    shown = [m for m in person.bot_messages() if m.get("reply_markup")]
    return shown[-1]["reply_markup"] if shown else None


def stored(data: Any, text: str) -> bool:
    """Whether the dialog's data holds `text` as sent, somewhere."""
    if isinstance(data, dict):
        return any(stored(value, text) for value in data.values())
    if isinstance(data, list):
        return any(stored(value, text) for value in data)
    return data == text


@pytest.mark.parametrize("step", list(STEPS))
@given(messages=st.lists(hostile_messages(), min_size=1, max_size=3))
def test_hostile_messages_at_every_step(
    live: Live, step: str, messages: list[tuple[str | None, dict[str, Any]]]
) -> None:
    live.run(_messages(live, step, messages))


async def _messages(
    live: Live, step: str, messages: list[tuple[str | None, dict[str, Any]]]
) -> None:
    person = await arrive(live, step)
    for text, fields in messages:
        before = await dialog_of(live.harness, person)
        calls = await person.send(text, **fields)
        check_calls(live, calls)
        after = await dialog_of(live.harness, person)
        words = said(calls)
        if after == before:
            # Refused: explained, in Arabic.
            assert words, f"{step}: {text!r} {sorted(fields)} met with silence"
            for word in words:
                assert ARABIC.search(word), f"{step}: not in Arabic: {word!r}"
            continue
        if text is None:
            # Taken: only a photo at the photo step, a place at the location step.
            kind = "photo" if "photo" in fields else "location" if "location" in fields else ""
            assert kind and step.endswith(kind), f"{step}: {sorted(fields)} taken"
            return
        # Taken: a text step's answer, stored as sent (a button step may take a text that
        # names one of its buttons).
        assert text.strip(), f"{step}: {text!r} taken"
        if step in TEXT_STEPS:
            draft, name = TEXT_STEPS[step]
            kept = after[1].get(draft, {}).get(name)
            # As sent, cleaned as every free text is (storage/texts.py: trimmed, control
            # characters dropped, runs of blank lines folded) and nothing else.
            expected = clean_text(text, min_length=0, max_length=len(text))
            assert kept == expected, f"{step}: {text!r} stored as {kept!r}"
        return


@pytest.mark.parametrize("step", list(STEPS))
@given(data=st.data())
def test_hostile_button_presses_at_every_step(live: Live, step: str, data: st.DataObject) -> None:
    live.run(_presses(live, step, data))


async def _presses(live: Live, step: str, data: st.DataObject) -> None:
    person = await arrive(live, step)
    # The message with buttons, else the latest (a press on a button no longer shown).
    shown_messages = [m for m in person.bot_messages() if m.get("reply_markup")]
    message = (shown_messages or person.bot_messages())[-1]
    shown = [b["callback_data"] for b in buttons_of(message) if "callback_data" in b]
    pressed = data.draw(callback_data(shown), label="callback data")
    before = await dialog_of(live.harness, person)
    calls = await person.press_data(pressed, message)
    check_calls(live, calls)
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1, f"{step}: {pressed!r} answered {len(answers)} times"
    after = await dialog_of(live.harness, person)
    prefixes = {d.split(":")[0] for d in shown}
    if pressed.split(":")[0] not in prefixes | {"m", "th", "lg", "nt", "rl", "ar", "cj", "sva"}:
        # Nobody's button: the dialog stays where it was.
        assert after == before, f"{step}: {pressed!r} moved it"
    if after == before and pressed not in shown:
        # Refused (or a stale button's answer): in Arabic.
        for word in [*said(calls), *(str(c.params.get("text") or "") for c in answers)]:
            assert not word or ARABIC.search(word), f"{step}: {pressed!r}, not in Arabic: {word!r}"


# -- what the properties found, kept as plain cases


def test_a_number_of_thousands_of_digits_typed_at_a_button_step_names_no_button() -> None:
    # Found at the contact step: «1» 4310 times made int() raise (past 4300 digits).
    from handlers.typed_choice import typed_choice

    options = [("Arrondissement 1", 1), ("Arrondissement 13", 13)]
    assert typed_choice("1" * 4310, options) is None
    assert typed_choice("١" * 5000, options) is None
    assert typed_choice("13", options) == 13
