"""A dialog's draft (handlers/draft.py), the one way every flow keeps what it asked: defaults
for what is missing, unknown fields dropped, its own entry replaced on save and the others
kept, and removed alone on clear. Each flow's conversation tests drive it through the bot."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from handlers.draft import Draft, unsaved_steps


@dataclass
class Trip(Draft, key="trip"):
    city: str | None = None
    stops: list[str] = field(default_factory=list)


@dataclass
class Ticket(Draft, key="ticket"):
    number: int = 0


def dialog() -> FSMContext:
    return FSMContext(MemoryStorage(), StorageKey(bot_id=1, chat_id=1001, user_id=1001))


async def test_a_draft_never_saved_is_its_defaults() -> None:
    assert await Trip.load(dialog()) == Trip()


async def test_a_draft_comes_back_as_saved() -> None:
    state = dialog()
    await Trip("Marseille", ["Vieux-Port"]).save(state)
    assert await Trip.load(state) == Trip("Marseille", ["Vieux-Port"])
    assert await state.get_data() == {"trip": {"city": "Marseille", "stops": ["Vieux-Port"]}}


async def test_fields_missing_take_their_defaults_and_unknown_ones_are_dropped() -> None:
    state = dialog()
    await state.set_data({"trip": {"stops": ["Noailles"], "weather": "mistral"}})
    assert await Trip.load(state) == Trip(None, ["Noailles"])
    await state.set_data({"trip": "not a draft"})
    assert await Trip.load(state) == Trip()


async def test_saving_replaces_its_own_entry_and_keeps_the_others() -> None:
    state = dialog()
    await Ticket(7).save(state)
    await Trip("Marseille", ["Vieux-Port"]).save(state)
    await Trip("Aubagne").save(state)
    assert await state.get_data() == {
        "ticket": {"number": 7},
        "trip": {"city": "Aubagne", "stops": []},
    }


async def test_clearing_removes_its_own_entry_only() -> None:
    state = dialog()
    await state.set_state("Travel:choosing")
    await Ticket(7).save(state)
    await Trip("Marseille").save(state)
    await Trip.clear(state)
    assert await state.get_data() == {"ticket": {"number": 7}}
    assert await Trip.load(state) == Trip()
    assert await state.get_state() == "Travel:choosing"
    await Trip.clear(state)  # nothing to remove
    assert await Ticket.load(state) == Ticket(7)


@dataclass
class Form(Draft, key="form"):
    """A wizard's draft: three steps, and what is not an answer (an id, a flag)."""

    form_id: int = 0
    name: str | None = None
    places: list[int] = field(default_factory=list)
    late: bool = False
    editing: bool = False

    answers = ("name", "places", "late")


async def test_a_draft_counts_the_steps_it_holds_an_answer_for() -> None:
    assert Form(form_id=7, editing=True).steps_filled() == 0
    assert Form(name="Ana").steps_filled() == 1
    assert Form(name="Ana", places=[3], late=True).steps_filled() == 3
    # A draft that names no answers is never weighed: /cancel leaves it at once.
    assert Trip("Marseille", ["Vieux-Port"]).steps_filled() == 0


async def test_unsaved_steps_weighs_whichever_draft_the_dialog_holds() -> None:
    state = dialog()
    assert await unsaved_steps(state) == 0
    await Trip("Marseille", ["Vieux-Port"]).save(state)
    await Ticket(7).save(state)
    assert await unsaved_steps(state) == 0
    await Form(form_id=1, name="Ana").save(state)
    assert await unsaved_steps(state) == 1
    await Form(form_id=1, name="Ana", places=[1, 2]).save(state)
    assert await unsaved_steps(state) == 2
    await Form.clear(state)
    assert await unsaved_steps(state) == 0
