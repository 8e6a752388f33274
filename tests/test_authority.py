"""Who may act as a coordinator, asked of the router itself rather than of a list written here.

Every handler placed behind the coordinators' gate (handlers/flow.py: coordinators_only) is found
in the router tree, and an update it would take is made from its own filters: its command, the
dialog state it answers in, a typed answer, its button. Then people who are not coordinators try
each one — a citizen, an association's member, a member of another group — in the coordinators'
group, and in their private chat (buttons forged there, or replayed in the group): each is
refused, and nothing changes. A new coordinators' handler is covered by where it is placed; a
coordinators' command placed anywhere else fails the first test.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.filters.logic import _InvertFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from pydantic_core import PydanticUndefined
from sqlalchemy import func, select

from bot.commands import COORDINATOR_COMMANDS
from handlers import build_router
from handlers.coordination import Coordinator
from handlers.dialog_commands import InDialog
from handlers.filters import CoordinatorsGroup, NotCommand
from handlers.initiatives.callbacks import ModerateCb
from storage.models import (
    AuditEntry,
    Challenge,
    ChallengeStatus,
    FsmRecord,
    Initiative,
    InitiativeStatus,
    OutboxMessage,
    Survey,
    SurveyStatus,
)
from storage.users import find_user
from tests.conversation import Harness, Person
from tests.initiatives_setup import GROUP_ID, onboarded
from tests.texts import t

REFUSAL = "Only the city's coordinators can do this."
OTHER_GROUP = -100777
EVENTS = ("message", "callback_query")


# -- the router, read


def handlers_of(root: Router) -> Iterator[tuple[Router, str, HandlerObject]]:
    for router in root.chain_tail:
        for event in EVENTS:
            for handler in router.observers[event].handlers:
                yield router, event, handler


def scoped_by(router: Router, kind: type) -> bool:
    """A router on the way down to `router` (itself included) carries a filter of `kind`."""
    return any(
        isinstance(check.callback, kind)
        for each in router.chain_head
        for observer in (each.message, each.callback_query)
        for check in observer._handler.filters or ()
    )


def filters_of(handler: HandlerObject) -> list[Any]:
    return [check.callback for check in handler.filters or ()]


def commands_of(handler: HandlerObject) -> set[str]:
    return {
        str(command)
        for check in filters_of(handler)
        if isinstance(check, Command)
        for command in check.commands
    }


def plain_text(handler: HandlerObject) -> str:
    """Words the handler takes when it names no command: a command it does not know when it
    answers only commands (~NotCommand), else a few words."""
    only_commands = any(
        isinstance(c, _InvertFilter) and isinstance(c.target.callback, NotCommand)
        for c in filters_of(handler)
    )
    return "/inconnue" if only_commands else "Quelques mots"


def state_of(handler: HandlerObject) -> str | None:
    """The first dialog state the handler answers in, if it answers in one."""
    for check in filters_of(handler):
        found = check.states if isinstance(check, StateFilter) else (check,)
        for state in found:
            if isinstance(state, State):
                return state.state
            if isinstance(state, type) and issubclass(state, StatesGroup):
                return state.__states__[0].state
    return None


def kinds_of(handler: HandlerObject) -> set[type]:
    """The buttons (CallbackData classes) and dialogs (StatesGroups) a handler answers."""
    found: set[type] = set()
    for check in filters_of(handler):
        if isinstance(check, CallbackQueryFilter):
            found.add(check.callback_data)
        states = check.states if isinstance(check, StateFilter) else (check,)
        for state in states:
            if isinstance(state, State) and state.group is not None:
                found.add(state.group)
            elif isinstance(state, type) and issubclass(state, StatesGroup):
                found.add(state)
    return found


def button_data(check: CallbackQueryFilter, ids: dict[str, int]) -> str:
    """Callback data that `check` takes: each choice of its enums and booleans is tried, the ids
    name real rows."""
    cls: type[CallbackData] = check.callback_data
    names, choices = [], []
    for name, spec in cls.model_fields.items():
        kind = spec.annotation
        default = None if spec.default is PydanticUndefined else spec.default
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            options: list[Any] = list(kind)
        elif kind is bool:
            options = [True, False]
        elif kind is int:
            options = [ids.get(name, default if default is not None else 1)]
        else:
            options = [default or "x"]
        names.append(name)
        choices.append(options)
    for combination in product(*choices):
        data = cls(**dict(zip(names, combination, strict=True)))
        if check.rule is None or check.rule.resolve(data):
            return data.pack()
    raise AssertionError(f"no callback data of {cls.__name__} passes {check.rule}")


@dataclass
class Attempt:
    """An update that one coordinators' handler takes."""

    name: str
    event: str
    state: str | None
    text: str | None = None
    data: str | None = None
    in_group: bool = True  # a message in the coordinators' group, or a private chat
    handler: HandlerObject | None = field(default=None, repr=False)


def attempts(root: Router, ids: dict[str, int]) -> list[Attempt]:
    found = []
    for router, event, handler in handlers_of(root):
        if not scoped_by(router, Coordinator):
            continue
        name = f"{handler.callback.__module__}.{handler.callback.__name__}"
        state = state_of(handler)
        if state is None and any(isinstance(c, InDialog) for c in filters_of(handler)):
            state = "coordinators:a-dialog"  # any dialog of the group's will do
        if event == "callback_query":
            [check] = [c for c in filters_of(handler) if isinstance(c, CallbackQueryFilter)]
            data = button_data(check, ids)
            found.append(Attempt(name, event, state, data=data, handler=handler))
        else:
            in_group = scoped_by(router, CoordinatorsGroup)
            for text in [f"/{c}" for c in sorted(commands_of(handler))] or [plain_text(handler)]:
                found.append(Attempt(name, event, state, text, in_group=in_group, handler=handler))
    return found


# -- the placement


def commands_around_the_gate(root: Router) -> set[str]:
    """The coordinators' commands that a handler outside the gate answers."""
    return {
        command
        for router, _event, handler in handlers_of(root)
        if not scoped_by(router, Coordinator)
        for command in commands_of(handler) & set(COORDINATOR_COMMANDS)
    }


def kinds_around_the_gate(root: Router) -> set[type]:
    """The coordinators' buttons and dialogs that a handler outside the gate answers."""
    found = list(handlers_of(root))
    gated = {kind for r, _e, h in found if scoped_by(r, Coordinator) for kind in kinds_of(h)}
    around = {kind for r, _e, h in found if not scoped_by(r, Coordinator) for kind in kinds_of(h)}
    return gated & around


def test_coordinators_commands_buttons_and_dialogs_are_answered_behind_the_gate_only() -> None:
    root = build_router()
    assert commands_around_the_gate(root) == set()
    assert kinds_around_the_gate(root) == set()
    # Each command works in the group (said in a private chat, it points a coordinator there).
    in_group = {
        command
        for router, _event, handler in handlers_of(root)
        if scoped_by(router, Coordinator) and scoped_by(router, CoordinatorsGroup)
        for command in commands_of(handler)
    }
    assert set(COORDINATOR_COMMANDS) <= in_group


def test_a_handler_placed_around_the_gate_is_found() -> None:
    root = build_router()
    private = next(r for r in root.chain_tail if r.name == "private")
    around = Router(name="around")
    around.message.register(lambda message: None, Command("failed"))
    around.callback_query.register(lambda query: None, ModerateCb.filter())
    private.include_router(around)
    assert commands_around_the_gate(root) == {"failed"}
    assert kinds_around_the_gate(root) == {ModerateCb}


# -- the people who are not coordinators


async def city(harness: Harness) -> dict[str, int]:
    """A proposal waiting for a decision, a draft challenge and a draft survey, which the
    buttons tried name: a button that got through would change them."""
    author = await onboarded(harness, 4001)
    async with harness.sessionmaker.begin() as session:
        user = await find_user(session, author.id)
        assert user is not None
        initiative = Initiative(
            proposer_id=user.id,
            title="Goûters au Panier",
            description="Chaque jeudi, un goûter entre voisins et aînés.",
            theme_code="older_people",
            arrondissement=2,
            status=InitiativeStatus.pending,
        )
        challenge = Challenge(
            slug="rompre",
            texts={"fr": {"title": "Rompre l'isolement", "description": "Des visites."}},
            theme_code="older_people",
            status=ChallengeStatus.draft,
        )
        session.add_all([initiative, challenge])
        await session.flush()
        survey = Survey(
            series="isolement",
            challenge_id=challenge.id,
            texts={"fr": {"title": "Isolement", "intro": "…", "thanks": "Merci"}},
            status=SurveyStatus.draft,
        )
        session.add(survey)
        await session.flush()
        return {
            "initiative_id": initiative.id,
            "challenge_id": challenge.id,
            "survey_id": survey.id,
        }


def make_event(
    harness: Harness, user: dict[str, Any], attempt: Attempt
) -> Message | CallbackQuery:
    chat = harness.standin.make_group(GROUP_ID) if attempt.in_group else None
    if attempt.event == "message":
        raw = harness.standin.message_update(user, attempt.text, chat=chat)["message"]
        return Message.model_validate(raw, context={"bot": harness.bot})
    assert attempt.data is not None
    raw = harness.standin.callback_update(user, bot_message(harness, chat), attempt.data)
    return CallbackQuery.model_validate(raw["callback_query"], context={"bot": harness.bot})


def bot_message(harness: Harness, chat: dict[str, Any] | None, user: dict | None = None) -> dict:
    """A message of the bot's, in the group or in `user`'s private chat, to press under."""
    sender = user or harness.standin.make_user(5999)
    message = harness.standin.message_update(sender, "(carte)", chat=chat)["message"]
    return {**message, "from": harness.standin.bot_user}


async def refused(harness: Harness, person: Person, attempt: Attempt, *, in_group: bool) -> None:
    """`person` tries `attempt`, in the group or in their private chat, in its dialog state
    if it has one: the refusal, and nothing else, in the language of where they are."""
    chat = harness.standin.make_group(GROUP_ID) if in_group else None
    chat_id = GROUP_ID if in_group else person.id
    if attempt.state is not None:
        dialog = harness.dp.fsm.get_context(harness.bot, chat_id=chat_id, user_id=person.id)
        await dialog.set_state(attempt.state)
    mark = len(harness.standin.calls)
    if attempt.event == "message":
        update = harness.standin.message_update(person.user, attempt.text, chat=chat)
    else:
        assert attempt.data is not None
        under = bot_message(harness, chat, person.user)
        update = harness.standin.callback_update(person.user, under, attempt.data)
    await harness.feed(update)
    calls = harness.standin.calls[mark:]
    locale = "fr" if in_group else (person.user.get("language_code") or "fr")
    where = f"{attempt.name} by {person.id} {'in the group' if in_group else 'privately'}"
    assert [call.method for call in calls if call.method != "getChatMember"] == [
        "sendMessage" if attempt.event == "message" else "answerCallbackQuery"
    ], where
    said = next(call for call in calls if call.method != "getChatMember").params
    assert said["text"] == t(locale, REFUSAL), where
    if attempt.event == "callback_query":
        assert said["show_alert"] is True, where
    elif in_group:
        # A reply, in the group: several people write there.
        assert said["reply_parameters"]["message_id"] == update["message"]["message_id"], where
    if in_group and attempt.event == "message":
        # Out of any dialog in the group: every dialog there is a coordinators'.
        assert await dialog_of(harness, person.id) is None, where
    elif attempt.state is not None:
        await harness.dp.fsm.get_context(harness.bot, chat_id=chat_id, user_id=person.id).clear()


async def dialog_of(harness: Harness, telegram_id: int) -> str | None:
    async with harness.sessionmaker() as session:
        record = await session.scalar(
            select(FsmRecord).where(FsmRecord.user_id == telegram_id, FsmRecord.state.is_not(None))
        )
        return record.state if record else None


async def count(harness: Harness, model: type) -> int:
    async with harness.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_everyone_but_coordinators_is_refused_every_coordinators_handler(
    harness: Harness,
) -> None:
    ids = await city(harness)
    people = {
        "a citizen": await onboarded(harness, 5001),
        "an association's member": await onboarded(harness, 5002, organisation="Petits Frères"),
        # Known to Telegram as a member, of a group that is not the coordinators'.
        "a member of another group": harness.person(5003, language_code="ar"),
    }
    harness.standin.set_chat_member(OTHER_GROUP, 5003, "member")
    outbox = await count(harness, OutboxMessage)
    root = build_router()
    tried = attempts(root, ids)
    gated = [h for r, _e, h in handlers_of(root) if scoped_by(r, Coordinator)]
    assert {id(attempt.handler) for attempt in tried} == {id(handler) for handler in gated}
    for attempt in tried:
        # Each update tried is one its handler takes, whoever sends it.
        assert attempt.handler is not None
        event = make_event(harness, people["a citizen"].user, attempt)
        taken, _data = await attempt.handler.check(event, bot=harness.bot, raw_state=attempt.state)
        assert taken, attempt

    for attempt in tried:
        for person in people.values():
            if attempt.event == "message":
                # Commands and typed answers, where the handler hears them.
                await refused(harness, person, attempt, in_group=attempt.in_group)
            else:
                # Buttons replayed in the group, and forged in a private chat.
                await refused(harness, person, attempt, in_group=True)
                await refused(harness, person, attempt, in_group=False)

    # In their own group, nobody answers the coordinators' commands.
    member = people["a member of another group"]
    mark = len(harness.standin.calls)
    for attempt in tried:
        if attempt.event == "message" and attempt.in_group:
            chat = harness.standin.make_group(OTHER_GROUP, title="Voisins")
            await harness.feed(
                harness.standin.message_update(member.user, attempt.text, chat=chat)
            )
    assert harness.standin.calls[mark:] == []

    # Nothing changed, nothing was sent.
    async with harness.sessionmaker() as session:
        initiative = await session.get(Initiative, ids["initiative_id"])
        challenge = await session.get(Challenge, ids["challenge_id"])
        survey = await session.get(Survey, ids["survey_id"])
        assert initiative is not None and initiative.status is InitiativeStatus.pending
        assert challenge is not None and challenge.status is ChallengeStatus.draft
        assert survey is not None and survey.status is SurveyStatus.draft
    assert await count(harness, AuditEntry) == 0
    assert await count(harness, OutboxMessage) == outbox
    assert [c for c in harness.standin.calls if c.method in ("sendDocument", "sendPhoto")] == []
    assert not harness.failures
