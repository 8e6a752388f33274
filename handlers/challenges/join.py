"""Joining a challenge with what one brings — the kind of contribution, an activity when the
challenge has some, a short text — changing it, and leaving. Per state: the valid answer
first, then a catch-all that explains and asks again; /back returns to the previous step."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.bidi import isolated
from handlers.challenges import keyboards
from handlers.challenges.callbacks import (
    JoinActivityCb,
    JoinCb,
    JoinKindCb,
    JoinStep,
    JoinStepCb,
    LeaveCb,
)
from handlers.challenges.public import (
    answer_below,
    closed_text,
    is_member,
    profile_first,
    show_card,
    unavailable,
    visible,
)
from handlers.challenges.states import JoinChallenge, JoinDraft
from handlers.current import DIALOG, Current
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.texts import explain_rejection, stale_button
from handlers.typed_choice import normalise, typed_choice
from handlers.ui import show
from storage import challenges
from storage.challenges import (
    CONTRIBUTION_TEXT_LIMITS,
    ChallengeClosed,
    ChallengeError,
    NotParticipating,
    activity_label,
    challenge_text,
)
from storage.models import Challenge, User
from storage.texts import TextRejected, clean_text


async def joining(event: TelegramObject, data: dict[str, Any]) -> Challenge | None:
    """The challenge the dialog is on, while it can still be joined, and the dialog's draft (as
    `draft`); otherwise the dialog ends, saying why."""
    assert isinstance(event, Message | CallbackQuery)
    state: FSMContext = data["state"]
    data["draft"] = draft = await JoinDraft.load(state)
    settings: Settings = data["settings"]
    return await dialog_challenge(event, state, data["session"], draft, settings.timezone)


router = Flow("challenges-join", current=[Current("challenge", joining, events=DIALOG)])

# The kind of contribution a «Join for this» of the quiz stands for.
QUIZ_KIND = "time"


def activity_of(challenge: Challenge, code: str | None) -> dict | None:
    return next((a for a in challenge.activities if a.get("code") == code), None)


def steps_of(challenge: Challenge) -> list[State]:
    steps = [JoinChallenge.choosing_kind]
    if challenge.activities:
        steps.append(JoinChallenge.choosing_activity)
    return [*steps, JoinChallenge.typing_text]


@router.callback_query(JoinCb.filter())
async def join_pressed(
    query: CallbackQuery,
    callback_data: JoinCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Join or change: asks the kind of contribution (what they chose before is ticked); from
    the quiz, the activity and the kind «time» are chosen, and what they bring is asked."""
    challenge = await visible(session, callback_data.challenge_id)
    if challenge is None:
        callback_answer.text = unavailable()
        callback_answer.show_alert = True
        return
    # From an alert, which stays as it was: the answer comes under it.
    target = answer_below(query) if callback_data.below else query
    if not challenges.is_open(challenge, timezone=settings.timezone):
        # Closed, or past its end date: a stale Join button says so, and shows the card.
        callback_answer.text = closed_text()
        callback_answer.show_alert = True
        await show_card(target, session, user, challenge, timezone=settings.timezone)
        return
    if not is_member(user):
        await profile_first(target, state, session, user, settings, challenge)
        return
    wanted = callback_data.activity
    if wanted and (
        activity_of(challenge, wanted) is None or QUIZ_KIND not in challenge.contribution_kinds
    ):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    mine = await challenges.participation_of(session, challenge.id, user)
    draft = JoinDraft(challenge_id=challenge.id)
    if mine is not None:
        draft.changing = True
        draft.kind, draft.activity, draft.previous_text = mine.kind, mine.activity, mine.text
    await state.clear()
    step = JoinChallenge.choosing_kind
    if wanted:
        draft.kind, draft.activity, step = QUIZ_KIND, wanted, JoinChallenge.typing_text
    await ask(target, step, state=state, user=user, draft=draft, challenge=challenge)


async def ask(
    target: Message | CallbackQuery,
    step: State,
    *,
    state: FSMContext,
    user: User,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    """Puts the dialog on `step` and asks its question, under the challenge's title."""
    await state.set_state(step)
    await draft.save(state)
    steps = steps_of(challenge)
    title = html.quote(challenge_text(challenge, user.locale)[0])
    counter = _("Step {number} of {total}").format(number=steps.index(step) + 1, total=len(steps))
    if step == JoinChallenge.choosing_kind:
        question = _("What would you like to bring?")
        markup = keyboards.kinds_keyboard(challenge.contribution_kinds, draft.kind)
    elif step == JoinChallenge.choosing_activity:
        question = _("Which activity would you like to take part in?")
        markup = keyboards.activities_keyboard(challenge.activities, user.locale, draft.activity)
    else:
        low, high = CONTRIBUTION_TEXT_LIMITS
        asked = _(
            "In a few words, what do you bring ({low} to {high} characters)? Or press “Skip”."
        ).format(low=low, high=high)
        # The example fits the kind chosen: no car for someone who lends a room.
        if (example := keyboards.kind_example(draft.kind)) is not None:
            asked += "\n" + example
        question = "\n\n".join(
            [
                chosen_so_far(draft, challenge, user.locale),
                asked,
                _("Please write nothing about anyone's health, religion or political opinions."),
            ]
        )
        if draft.previous_text:
            question += (
                "\n\n"
                + _("You wrote:")
                + f"\n<blockquote>{html.quote(draft.previous_text)}</blockquote>"
            )
        markup = keyboards.text_keyboard(can_keep=bool(draft.previous_text))
    hint = _("/back: previous step · /cancel: stop")
    await show(target, f"<b>{title}</b>\n<i>{counter}</i>\n\n{question}\n\n<i>{hint}</i>", markup)


def chosen_so_far(draft: JoinDraft, challenge: Challenge, locale: str) -> str:
    parts = [keyboards.kind_label(draft.kind or "")]
    if (activity := activity_of(challenge, draft.activity)) is not None:
        parts.append(html.quote(activity_label(activity, locale)))
    return "<b>" + " · ".join(parts) + "</b>"


async def dialog_challenge(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    draft: JoinDraft,
    timezone: str,
) -> Challenge | None:
    """The challenge of the dialog while it can still be joined; otherwise the dialog ends,
    saying why."""
    challenge = await visible(session, draft.challenge_id)
    if challenge is not None and challenges.is_open(challenge, timezone=timezone):
        return challenge
    await state.clear()
    if challenge is None:
        await show(target, unavailable())
    else:
        await show(target, closed_text(), keyboards.joined_keyboard(challenge.id))
    return None


@router.callback_query(JoinChallenge.choosing_kind, JoinKindCb.filter())
async def kind_chosen(
    query: CallbackQuery,
    callback_data: JoinKindCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    """Stores the kind in the draft, then asks the activity (if any) or what they bring."""
    if callback_data.kind not in challenge.contribution_kinds:
        callback_answer.text = stale_button()
        return
    await keep_kind(query, callback_data.kind, state, user, draft, challenge)


async def keep_kind(
    target: Message | CallbackQuery,
    kind: str,
    state: FSMContext,
    user: User,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    draft.kind = kind
    step = steps_of(challenge)[1]
    await ask(target, step, state=state, user=user, draft=draft, challenge=challenge)


@router.callback_query(JoinChallenge.choosing_activity, JoinActivityCb.filter())
async def activity_chosen(
    query: CallbackQuery,
    callback_data: JoinActivityCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    """Stores the activity (or none in particular), then asks what they bring."""
    code = callback_data.code or None
    if code is not None and activity_of(challenge, code) is None:
        callback_answer.text = stale_button()
        return
    await keep_activity(query, code, state, user, draft, challenge)


async def keep_activity(
    target: Message | CallbackQuery,
    code: str | None,
    state: FSMContext,
    user: User,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    draft.activity = code
    await ask(
        target, JoinChallenge.typing_text, state=state, user=user, draft=draft, challenge=challenge
    )


@router.message(JoinChallenge.typing_text, NotCommand())
async def text_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    """Keeps what they bring once it passes the checks, and joins. Only the very words of
    «Skip» or «Keep what I wrote» stand for those buttons: any other text is what they bring."""
    if message.text is None:
        await ask_again(message, state, session, user, settings, draft, challenge)
        return
    typed = normalise(message.text)
    if typed == normalise(_("Skip")):
        await finish(message, state, session, user, draft, challenge, None, settings.timezone)
        return
    if draft.previous_text and typed == normalise(_("Keep what I wrote")):
        text = draft.previous_text
        await finish(message, state, session, user, draft, challenge, text, settings.timezone)
        return
    low, high = CONTRIBUTION_TEXT_LIMITS
    try:
        text = clean_text(message.text, min_length=low, max_length=high)
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        return
    await finish(message, state, session, user, draft, challenge, text, settings.timezone)


@router.callback_query(JoinChallenge.typing_text, JoinStepCb.filter())
async def text_skipped_or_kept(
    query: CallbackQuery,
    callback_data: JoinStepCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    """Joins without a text, or with the one written before."""
    text = None
    if callback_data.step is JoinStep.keep_text:
        if not draft.previous_text:
            callback_answer.text = stale_button()
            return
        text = draft.previous_text
    await finish(query, state, session, user, draft, challenge, text, settings.timezone)


async def finish(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    draft: JoinDraft,
    challenge: Challenge,
    text: str | None,
    timezone: str,
) -> None:
    """Stores the participation (one per person: joining again updates it) and confirms."""
    if draft.kind not in challenge.contribution_kinds:
        # The challenge changed meanwhile: the kind is asked again, the rest is kept.
        await ask(
            target,
            JoinChallenge.choosing_kind,
            state=state,
            user=user,
            draft=draft,
            challenge=challenge,
        )
        return
    activity = draft.activity if activity_of(challenge, draft.activity) else None
    try:
        await challenges.join(
            session,
            challenge,
            user,
            kind=draft.kind,
            text=text,
            activity=activity,
            timezone=timezone,
        )
    except ChallengeClosed:
        await state.clear()
        await show(target, closed_text(), keyboards.joined_keyboard(challenge.id))
        return
    await state.clear()
    title = html.quote(challenge_text(challenge, user.locale)[0])
    if draft.changing:
        done = _("Done: what you bring to “{title}” is updated.").format(
            **isolated(user.locale, title=title)
        )
    else:
        done = _("Thank you! You have joined “{title}”.").format(
            **isolated(user.locale, title=title)
        )
    lines = [done, "", chosen_so_far(draft, challenge, user.locale)]
    if text:
        lines.append(f"<blockquote>{html.quote(text)}</blockquote>")
    lines += [
        "",
        _(
            "The city's coordinators will send the challenge's news here. You can change what "
            "you bring, or leave, at any time from the challenge's card."
        ),
    ]
    await show(target, "\n".join(lines), keyboards.joined_keyboard(challenge.id))


@router.callback_query(LeaveCb.filter())
async def leave_pressed(
    query: CallbackQuery,
    callback_data: LeaveCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Asks first; on «Yes, leave», ends the participation (the row stays, marked left)."""
    challenge = await visible(session, callback_data.challenge_id)
    if challenge is None:
        callback_answer.text = unavailable()
        callback_answer.show_alert = True
        return
    mine = (
        await challenges.participation_of(session, challenge.id, user) if is_member(user) else None
    )
    if mine is None:
        callback_answer.text = _("You are not taking part in this challenge.")
        callback_answer.show_alert = True
        await show_card(query, session, user, challenge, timezone=settings.timezone)
        return
    title = html.quote(challenge_text(challenge, user.locale)[0])
    if not callback_data.sure:
        await show(
            query,
            _("Leave “{title}”? What you said you would bring will no longer count.").format(
                **isolated(user.locale, title=title)
            ),
            keyboards.leave_keyboard(challenge.id),
        )
        return
    try:
        await challenges.leave(session, challenge, user)
    except (NotParticipating, ChallengeError):
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    await state.clear()
    await show(
        query,
        _("You have left “{title}”. You can join again whenever you wish.").format(
            **isolated(user.locale, title=title)
        ),
        keyboards.joined_keyboard(challenge.id),
    )


@router.message(Command("back"), StateFilter(JoinChallenge))
async def back(
    message: Message, state: FSMContext, user: User, draft: JoinDraft, challenge: Challenge
) -> None:
    """The previous question; what was answered stays in the draft."""
    steps = steps_of(challenge)
    step = current_step(await state.get_state(), steps)
    index = steps.index(step)
    if index == 0:
        await message.answer(_("This is the first step. Send /cancel to stop."))
    previous = steps[max(index - 1, 0)]
    await ask(message, previous, state=state, user=user, draft=draft, challenge=challenge)


@router.message(StateFilter(JoinChallenge), NotCommand())
async def ask_again(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: JoinDraft,
    challenge: Challenge,
) -> None:
    """A text that names one of the step's buttons does what it does («skills», «visits»,
    «none in particular»); anything else: say what is expected, then the same question
    again."""
    current = await state.get_state()
    text = message.text or ""
    if current == JoinChallenge.choosing_kind.state:
        kinds = [(keyboards.kind_label(kind), kind) for kind in challenge.contribution_kinds]
        if (kind := typed_choice(text, kinds)) is not None:
            await keep_kind(message, kind, state, user, draft, challenge)
            return
    elif current == JoinChallenge.choosing_activity.state:
        activities = [(activity_label(a, user.locale), a["code"]) for a in challenge.activities]
        code = typed_choice(text, [*activities, (_("None in particular"), "")])
        if code is not None:
            await keep_activity(message, code or None, state, user, draft, challenge)
            return
    if current == JoinChallenge.typing_text.state:
        await message.answer(_("Please type your answer as a text message, or press “Skip”."))
    else:
        await message.answer(_("Please answer with one of the buttons below."))
    await resume_join(message, state, session, user, settings)


def current_step(current: str | None, steps: list[State]) -> State:
    return next((s for s in steps if s.state == current), steps[0])


async def resume_join(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """After /start or a restart: the question the person was answering, if the challenge
    can still be joined."""
    draft = await JoinDraft.load(state)
    challenge = await dialog_challenge(target, state, session, draft, settings.timezone)
    if challenge is None:
        return
    step = current_step(await state.get_state(), steps_of(challenge))
    await ask(target, step, state=state, user=user, draft=draft, challenge=challenge)
