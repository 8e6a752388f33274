"""The citizens' dialogs on a challenge, and the draft each keeps between two answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.fsm.state import State, StatesGroup

from handlers.draft import Draft


class JoinChallenge(StatesGroup):
    """Joining (or changing what one brings): kind, activity when the challenge has some,
    then a short text."""

    choosing_kind = State()
    choosing_activity = State()
    typing_text = State()


class HelpQuiz(StatesGroup):
    """«Find where I can help»: on site or remotely, where, how much time, which activities."""

    choosing_place = State()
    choosing_arrondissement = State()
    choosing_time = State()
    choosing_activities = State()


class AssistedSignup(StatesGroup):
    """An organisation's member registering a person they accompany, who has no account."""

    typing_name = State()
    choosing_arrondissement = State()
    telling_wishes = State()
    confirming = State()


@dataclass
class JoinDraft(Draft, key="join"):
    challenge_id: int = 0
    kind: str | None = None
    activity: str | None = None
    # Already taking part: what they wrote then is offered to keep.
    changing: bool = False
    previous_text: str | None = None


@dataclass
class QuizDraft(Draft, key="quiz"):
    challenge_id: int = 0
    on_site: bool = False
    remote: bool = False
    arrondissement: int | None = None
    time: str | None = None
    wanted: list[str] = field(default_factory=list)


@dataclass
class AssistDraft(Draft, key="assist"):
    challenge_id: int = 0
    name: str | None = None
    arrondissement: int | None = None
    wishes: str | None = None
    activity: str | None = None
