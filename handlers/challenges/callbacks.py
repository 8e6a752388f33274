"""Citizens' and organisations' buttons on challenges. Prefixes start with "cp", "cj", "cq",
"cb" or "ca" (never "cc", the coordinators'); ids and codes only, never labels, and every
packed value stays under Telegram's 64 bytes (theme and activity codes are ≤ 32 characters)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class ChallengeCb(CallbackData, prefix="cpc"):
    """A challenge's card; `theme` and `page` name the list it was opened from. `below`: on a
    message worth keeping (an alert, news), the card comes in a new message under it."""

    challenge_id: int
    theme: str = ""
    page: int = 0
    below: bool = False


class ChallengeListCb(CallbackData, prefix="cpl"):
    """A page of the open challenges, of one theme or (empty) all."""

    theme: str = ""
    page: int = 0


class ChallengeThemesCb(CallbackData, prefix="cpt"):
    """The choice of a theme to filter the list by."""


class ShareCb(CallbackData, prefix="cps"):
    challenge_id: int


class JoinCb(CallbackData, prefix="cj"):
    """Join, or change what one brings; with `activity` (from the quiz), that activity with
    the kind «time», straight to what one brings. `below`: on an alert, which stays, the
    first question comes in a new message under it."""

    challenge_id: int
    activity: str = ""
    below: bool = False


class JoinKindCb(CallbackData, prefix="cjk"):
    kind: str


class JoinActivityCb(CallbackData, prefix="cja"):
    """An activity of the challenge; empty: none in particular."""

    code: str = ""


class JoinStep(enum.StrEnum):
    skip_text = "s"
    keep_text = "k"


class JoinStepCb(CallbackData, prefix="cjs"):
    step: JoinStep


class LeaveCb(CallbackData, prefix="cjl"):
    """Leave a challenge: asks first, leaves when `sure`."""

    challenge_id: int
    sure: bool = False


class QuizCb(CallbackData, prefix="cq"):
    """«Find where I can help» on a challenge."""

    challenge_id: int


class Place(enum.StrEnum):
    on_site = "o"
    remote = "r"
    both = "b"


class QuizPlaceCb(CallbackData, prefix="cqp"):
    place: Place


class QuizArrondissementCb(CallbackData, prefix="cqa"):
    number: int


class QuizTimeCb(CallbackData, prefix="cqt"):
    """One of storage.challenge_quiz.TIME_CHOICES."""

    choice: str


class QuizActivityCb(CallbackData, prefix="cqw"):
    """Ticks or unticks an activity that appeals; empty code: done."""

    code: str = ""


class QuizStep(enum.StrEnum):
    keep_arrondissement = "k"
    other_arrondissement = "o"


class QuizStepCb(CallbackData, prefix="cqs"):
    step: QuizStep


class AssistCb(CallbackData, prefix="cb"):
    """Register someone one accompanies for a challenge."""

    challenge_id: int


class AssistArrondissementCb(CallbackData, prefix="cba"):
    number: int


class AssistWishCb(CallbackData, prefix="cbw"):
    """An activity the person would like; empty code: nothing in particular."""

    code: str = ""


class AssistAgreedCb(CallbackData, prefix="cbg"):
    agreed: bool


class AllyListCb(CallbackData, prefix="cao"):
    """The other organisations taking part in a challenge, a page at a time; `below`: in a new
    message, under the one pressed (a notice worth keeping)."""

    challenge_id: int
    page: int = 0
    below: bool = False


class AllyAskCb(CallbackData, prefix="cai"):
    """Ask to be introduced to a participant who speaks for an organisation (`target`: their
    user id): asks first, sends the request when `sure`; `page` is the list's, for the way back."""

    challenge_id: int
    target: int
    page: int = 0
    sure: bool = False


class AllyAnswerCb(CallbackData, prefix="car"):
    """The one asked accepts or declines an introduction."""

    introduction_id: int
    accept: bool


class ImpactCb(CallbackData, prefix="cim"):
    """«Impact over time» on a challenge's card."""

    challenge_id: int
