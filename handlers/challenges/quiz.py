"""«Find where I can help»: on site or remotely, where, how much time, which activities — and
the challenge's activities that fit, each with a «Join for this» button. Per state: the valid
answer first, then a catch-all that explains and asks again; /back returns to the previous
step."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.challenges import keyboards
from handlers.challenges.callbacks import (
    Place,
    QuizActivityCb,
    QuizArrondissementCb,
    QuizCb,
    QuizPlaceCb,
    QuizStep,
    QuizStepCb,
    QuizTimeCb,
)
from handlers.challenges.public import (
    activity_line,
    closed_text,
    is_member,
    profile_first,
    unavailable,
    visible,
    where_label,
)
from handlers.challenges.states import HelpQuiz, QuizDraft
from handlers.current import DIALOG, Current
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.profile.labels import arrondissement_label
from handlers.texts import stale_button
from handlers.typed_choice import typed_choice, typed_choices
from handlers.ui import show
from storage.challenge_quiz import TIME_CHOICES, matching_activities, where_matters
from storage.challenges import challenge_text
from storage.models import Challenge, ChallengeStatus, User
from storage.users import ARRONDISSEMENTS


async def quizzing(event: TelegramObject, data: dict[str, Any]) -> Challenge | None:
    """The challenge the quiz is on, while it is open, and the quiz's draft (as `draft`);
    otherwise the quiz ends, saying why."""
    assert isinstance(event, Message | CallbackQuery)
    state: FSMContext = data["state"]
    data["draft"] = draft = await QuizDraft.load(state)
    return await dialog_challenge(event, state, data["session"], draft)


router = Flow("challenges-quiz", current=[Current("challenge", quizzing, events=DIALOG)])

STEPS = [
    HelpQuiz.choosing_place,
    HelpQuiz.choosing_arrondissement,
    HelpQuiz.choosing_time,
    HelpQuiz.choosing_activities,
]


def home_arrondissement(user: User) -> int | None:
    """The profile's arrondissement, offered in one press when it is one of the city's."""
    return user.arrondissement if user.arrondissement in ARRONDISSEMENTS else None


def steps_of(challenge: Challenge, draft: QuizDraft, step: State) -> list[State]:
    """The questions this person is asked, as far as their answers tell."""
    asks_where = where_matters(challenge) and (
        draft.on_site or step in (HelpQuiz.choosing_place, HelpQuiz.choosing_arrondissement)
    )
    return [s for s in STEPS if s != HelpQuiz.choosing_arrondissement or asks_where]


def home_place_keyboard(home: int) -> InlineKeyboardMarkup:
    """«Where could you go?» answered by a place: their own arrondissement in one press, or
    another one (the full list)."""

    def button(text: str, step: QuizStep) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=QuizStepCb(step=step).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(arrondissement_label(home), QuizStep.keep_arrondissement)],
            [button(_("Another one"), QuizStep.other_arrondissement)],
        ]
    )


def candidates(challenge: Challenge, draft: QuizDraft) -> list[dict]:
    """The activities that fit the place and the time: those offered to choose from."""
    return matching_activities(
        challenge,
        on_site=draft.on_site,
        remote=draft.remote,
        hours=TIME_CHOICES.get(draft.time or "l"),
    )


@router.callback_query(QuizCb.filter())
async def quiz_pressed(
    query: CallbackQuery,
    callback_data: QuizCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Starts (or starts again) the quiz: asks on site or remotely."""
    challenge = await visible(session, callback_data.challenge_id)
    if challenge is None or not challenge.activities:
        callback_answer.text = unavailable() if challenge is None else stale_button()
        callback_answer.show_alert = True
        return
    if challenge.status is not ChallengeStatus.open:
        callback_answer.text = closed_text()
        callback_answer.show_alert = True
        return
    if not is_member(user):
        await profile_first(query, state, session, user, settings, challenge)
        return
    await state.clear()
    draft = QuizDraft(challenge_id=challenge.id, arrondissement=home_arrondissement(user))
    await ask(
        query, HelpQuiz.choosing_place, state=state, user=user, draft=draft, challenge=challenge
    )


async def ask(
    target: Message | CallbackQuery,
    step: State,
    *,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
    other_arrondissement: bool = False,
) -> None:
    """Puts the dialog on `step` and asks its question, under the challenge's title."""
    await state.set_state(step)
    await draft.save(state)
    markup: InlineKeyboardMarkup
    if step == HelpQuiz.choosing_place:
        question = _("Would you rather help on site, or remotely (by phone, online)?")
        markup = keyboards.place_keyboard()
    elif step == HelpQuiz.choosing_arrondissement:
        question = _("Where could you go? Choose the arrondissement.")
        home = home_arrondissement(user)
        if home is not None and not other_arrondissement:
            markup = home_place_keyboard(home)
        else:
            markup = keyboards.quiz_arrondissement_keyboard()
    elif step == HelpQuiz.choosing_time:
        question = _("How much time could you give each month?")
        markup = keyboards.time_keyboard(TIME_CHOICES)
    else:
        question = _(
            "Which of these appeal to you? Tick one or more, then press “Done” — or press "
            "“Done” straight away to see them all."
        )
        markup = keyboards.wanted_keyboard(candidates(challenge, draft), user.locale, draft.wanted)
    title = html.quote(challenge_text(challenge, user.locale)[0])
    steps = steps_of(challenge, draft, step)
    counter = _("Question {number} of {total}").format(
        number=(steps if step in steps else STEPS).index(step) + 1, total=len(steps)
    )
    hint = _("/back: previous step · /cancel: stop")
    await show(target, f"<b>{title}</b>\n<i>{counter}</i>\n\n{question}\n\n<i>{hint}</i>", markup)


async def dialog_challenge(
    target: Message | CallbackQuery, state: FSMContext, session: AsyncSession, draft: QuizDraft
) -> Challenge | None:
    """The challenge of the quiz while it is open; otherwise the quiz ends, saying why."""
    challenge = await visible(session, draft.challenge_id)
    if challenge is not None and challenge.status is ChallengeStatus.open:
        return challenge
    await state.clear()
    await show(target, unavailable() if challenge is None else closed_text())
    return None


@router.callback_query(HelpQuiz.choosing_place, QuizPlaceCb.filter())
async def place_chosen(
    query: CallbackQuery | Message,
    callback_data: QuizPlaceCb,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """Stores on site, remotely or either; then where (on site, when it matters) or how much
    time."""
    draft.on_site = callback_data.place in (Place.on_site, Place.both)
    draft.remote = callback_data.place in (Place.remote, Place.both)
    step = step_after(HelpQuiz.choosing_place, draft, challenge)
    await ask(query, step, state=state, user=user, draft=draft, challenge=challenge)


@router.callback_query(HelpQuiz.choosing_arrondissement, QuizStepCb.filter())
async def own_arrondissement_or_another(
    query: CallbackQuery | Message,
    callback_data: QuizStepCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """Their own arrondissement in one press, or the full choice."""
    home = home_arrondissement(user)
    if callback_data.step is QuizStep.other_arrondissement:
        await ask(
            query,
            HelpQuiz.choosing_arrondissement,
            state=state,
            user=user,
            draft=draft,
            challenge=challenge,
            other_arrondissement=True,
        )
        return
    if callback_data.step is not QuizStep.keep_arrondissement or home is None:
        callback_answer.text = stale_button()
        return
    draft.arrondissement = home
    await ask(
        query, HelpQuiz.choosing_time, state=state, user=user, draft=draft, challenge=challenge
    )


@router.callback_query(HelpQuiz.choosing_arrondissement, QuizArrondissementCb.filter())
async def arrondissement_chosen(
    query: CallbackQuery | Message,
    callback_data: QuizArrondissementCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """Stores where, then asks how much time."""
    if callback_data.number not in ARRONDISSEMENTS:
        callback_answer.text = stale_button()
        return
    draft.arrondissement = callback_data.number
    await ask(
        query, HelpQuiz.choosing_time, state=state, user=user, draft=draft, challenge=challenge
    )


@router.callback_query(HelpQuiz.choosing_time, QuizTimeCb.filter())
async def time_chosen(
    query: CallbackQuery | Message,
    callback_data: QuizTimeCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """Stores the time; then the activities that fit so far, to tick — or, when none fits,
    straight to the answer."""
    if callback_data.choice not in TIME_CHOICES:
        callback_answer.text = stale_button()
        return
    draft.time = callback_data.choice
    draft.wanted = []
    if not candidates(challenge, draft):
        await conclude(query, state, user, draft, challenge)
        return
    await ask(
        query,
        HelpQuiz.choosing_activities,
        state=state,
        user=user,
        draft=draft,
        challenge=challenge,
    )


@router.callback_query(HelpQuiz.choosing_activities, QuizActivityCb.filter())
async def activity_ticked(
    query: CallbackQuery,
    callback_data: QuizActivityCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """Ticks or unticks an activity; «Done» gives the answer."""
    if not callback_data.code:
        await conclude(query, state, user, draft, challenge)
        return
    offered = candidates(challenge, draft)
    if callback_data.code not in {activity["code"] for activity in offered}:
        callback_answer.text = stale_button()
        return
    draft.wanted = sorted(set(draft.wanted) ^ {callback_data.code})
    await draft.save(state)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=keyboards.wanted_keyboard(offered, user.locale, draft.wanted)
        )


async def conclude(
    target: Message | CallbackQuery,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """The activities that match, each with «Join for this»; the quiz ends."""
    matches = matching_activities(
        challenge,
        on_site=draft.on_site,
        remote=draft.remote,
        hours=TIME_CHOICES.get(draft.time or "l"),
        wanted=draft.wanted,
    )
    await state.clear()
    title = html.quote(challenge_text(challenge, user.locale)[0])
    lines = [f"<b>{title}</b>", ""]
    if matches:
        lines.append(_("Here is where you can help:"))
        lines += [activity_line(activity, user.locale) for activity in matches]
        lines += ["", _("Press “Join for this” to say you are in.")]
        if (
            draft.on_site
            and challenge.arrondissements
            and draft.arrondissement not in challenge.arrondissements
        ):
            lines += [
                "",
                _("Note: on site, this challenge takes place in: {where}.").format(
                    where=where_label(challenge.arrondissements)
                ),
            ]
    else:
        lines.append(
            _(
                "None of this challenge's activities fits these answers. You can start again "
                "with other answers, or join the challenge with what you can bring."
            )
        )
    await show(
        target, "\n".join(lines), keyboards.matches_keyboard(challenge.id, matches, user.locale)
    )


def step_after(step: State, draft: QuizDraft, challenge: Challenge) -> State:
    steps = steps_of(challenge, draft, HelpQuiz.choosing_time)
    return steps[steps.index(step) + 1]


def step_before(step: State, draft: QuizDraft, challenge: Challenge) -> State | None:
    steps = steps_of(challenge, draft, HelpQuiz.choosing_time)
    if step not in steps:
        return HelpQuiz.choosing_place
    index = steps.index(step)
    return steps[index - 1] if index > 0 else None


@router.message(Command("back"), StateFilter(HelpQuiz))
async def back(
    message: Message,
    state: FSMContext,
    user: User,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """The previous question; what was answered stays in the draft."""
    step = current_step(await state.get_state())
    previous = step_before(step, draft, challenge)
    if previous is None:
        await message.answer(_("This is the first step. Send /cancel to stop."))
        previous = step
    await ask(message, previous, state=state, user=user, draft=draft, challenge=challenge)


def typed_options(
    step: State, user: User, draft: QuizDraft, challenge: Challenge
) -> list[tuple[str, str]]:
    """The buttons a text typed at `step` may name, as (label, callback data): where, every
    arrondissement (the person's own by its name too); at the activities, their names
    unticked."""
    if step == HelpQuiz.choosing_place:
        markup = keyboards.place_keyboard()
    elif step == HelpQuiz.choosing_arrondissement:
        markup = keyboards.quiz_arrondissement_keyboard()
        other = QuizStepCb(step=QuizStep.other_arrondissement).pack()
        named = [
            (arrondissement_label(n), QuizArrondissementCb(number=n).pack())
            for n in ARRONDISSEMENTS
        ]
        return [*_options(markup), *named, (_("Another one"), other)]
    elif step == HelpQuiz.choosing_time:
        markup = keyboards.time_keyboard(TIME_CHOICES)
    else:
        markup = keyboards.wanted_keyboard(candidates(challenge, draft), user.locale, ())
    return _options(markup)


def _options(markup: InlineKeyboardMarkup) -> list[tuple[str, str]]:
    rows = markup.inline_keyboard
    return [(b.text, b.callback_data) for row in rows for b in row if b.callback_data]


@router.message(StateFilter(HelpQuiz), NotCommand())
async def not_a_button(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: QuizDraft,
    challenge: Challenge,
) -> None:
    """A text that names one of the question's buttons (handlers/typed_choice.py): as if it
    were pressed; at the activities, several may be named at once. Anything else: said, and
    the same question again."""
    step = current_step(await state.get_state())
    options = typed_options(step, user, draft, challenge)
    text = message.text or ""
    answer = CallbackAnswer(answered=False, disabled=True)
    if step == HelpQuiz.choosing_activities:
        chosen = [QuizActivityCb.unpack(data).code for data in typed_choices(text, options) or []]
        if chosen == [""]:
            await conclude(message, state, user, draft, challenge)
            return
        if chosen and "" not in chosen:
            draft.wanted = sorted(set(draft.wanted) ^ set(chosen))
            await ask(message, step, state=state, user=user, draft=draft, challenge=challenge)
            return
        await ask_again(message, state, session, user, settings)
        return
    data = typed_choice(text, options) if text else None
    if data is None:
        await ask_again(message, state, session, user, settings)
        return
    if step == HelpQuiz.choosing_place:
        await place_chosen(message, QuizPlaceCb.unpack(data), state, user, draft, challenge)
    elif step == HelpQuiz.choosing_time:
        cb_time = QuizTimeCb.unpack(data)
        await time_chosen(message, cb_time, answer, state, user, draft, challenge)
    elif data.startswith(f"{QuizStepCb.__prefix__}:"):
        cb_step = QuizStepCb.unpack(data)
        await own_arrondissement_or_another(
            message, cb_step, answer, state, user, draft, challenge
        )
    else:
        cb_place = QuizArrondissementCb.unpack(data)
        await arrondissement_chosen(message, cb_place, answer, state, user, draft, challenge)
    if answer.text:
        await message.answer(answer.text)


async def ask_again(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Anything but a button: say so, then the same question again."""
    await message.answer(_("Please answer with one of the buttons below."))
    await resume_quiz(message, state, session, user, settings)


def current_step(current: str | None) -> State:
    return next((s for s in STEPS if s.state == current), STEPS[0])


async def resume_quiz(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """After /start or a restart: the question the person was answering."""
    draft = await QuizDraft.load(state)
    challenge = await dialog_challenge(target, state, session, draft)
    if challenge is None:
        return
    step = current_step(await state.get_state())
    await ask(target, step, state=state, user=user, draft=draft, challenge=challenge)
