"""A dialog's draft: what a flow keeps between two answers, typed, and kept one way.

A flow's draft is a dataclass deriving from `Draft` and naming its key, with a default for
every field:

    @dataclass
    class NeedDraft(Draft, key="need"):
        theme: str | None = None

It lives in the dialog's data (aiogram's FSM storage: the database, or Redis), under its key:

- `load(state)`: the draft as last saved. A draft never saved, or a field it lacks (saved by an
  older version of the flow), takes its default; a field saved that the class no longer has
  is dropped. So a missing draft is never an error: the flow finds its default (no challenge,
  no survey…) and answers as for a stale button.
- `save(state)`: replaces this draft's entry, and leaves the dialog's other entries as they
  are (the link a person came by, kept through onboarding, is one).
- `clear(state)`: removes this draft's entry only. Leaving the dialog (`state.clear()`)
  removes every entry with the state.

A wizard's draft names its `answers`: one field per step the person filled in (a step that
fills several fields names one of them). /cancel in a dialog whose draft has more than one of
them answered asks before throwing it away (`handlers/discard.py`, through `unsaved_steps`);
a draft without `answers` (an id, what is stored as it goes) is left at once.

Values are what JSON holds (str, int, float, bool, None, lists of them): Redis stores the
dialog's data as JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, Field, asdict, dataclass, fields
from typing import Any, ClassVar, Self

from aiogram.fsm.context import FSMContext

# Every draft by its key, so that /cancel can weigh whichever a dialog holds.
_KINDS: dict[str, type[Draft]] = {}


@dataclass
class Draft:
    key: ClassVar[str]
    # The fields that hold the person's answers, one per step: what /cancel would lose.
    answers: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, *, key: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if key is not None:
            cls.key = key
            _KINDS[key] = cls

    def steps_filled(self) -> int:
        """How many of its steps hold an answer (a value other than the field's default)."""
        blank = {field.name: field for field in fields(self)}
        return sum(
            getattr(self, name) != _default(blank[name]) for name in self.answers if name in blank
        )

    @classmethod
    async def load(cls, state: FSMContext) -> Self:
        stored = (await state.get_data()).get(cls.key)
        if not isinstance(stored, dict):
            stored = {}
        known = {field.name for field in fields(cls)}
        return cls(**{name: value for name, value in stored.items() if name in known})

    async def save(self, state: FSMContext) -> None:
        await state.update_data({self.key: asdict(self)})

    @classmethod
    async def clear(cls, state: FSMContext) -> None:
        data = await state.get_data()
        if data.pop(cls.key, None) is not None:
            await state.set_data(data)


def _default(field: Field[Any]) -> Any:
    if field.default_factory is not MISSING:
        return field.default_factory()
    return None if field.default is MISSING else field.default


async def unsaved_steps(state: FSMContext) -> int:
    """The most steps answered in any draft the dialog holds: what /cancel would throw away."""
    data = await state.get_data()
    found = 0
    for key, kind in _KINDS.items():
        if kind.answers and isinstance(data.get(key), dict):
            found = max(found, (await kind.load(state)).steps_filled())
    return found


async def fingerprint(state: FSMContext) -> str:
    """The dialog's step and everything it holds, in a few characters."""
    data = json.dumps(await state.get_data(), sort_keys=True, default=str)
    seen = f"{await state.get_state()}|{data}"
    return hashlib.blake2s(seen.encode(), digest_size=8).hexdigest()
