"""Registering someone one accompanies — often an older person without Telegram — for a
challenge: first name or initials, arrondissement, what they would like, then the explicit
record that they agreed. Organisations' members only; no account is made for that person.
Per state: the valid answer first, then a catch-all that explains and asks again; /back
returns to the previous step."""

from __future__ import annotations

from typing import Any

from aiogram import F, html
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
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
from handlers.bidi import isolate, isolated, line_start
from handlers.challenges import keyboards
from handlers.challenges.callbacks import (
    AssistAgreedCb,
    AssistArrondissementCb,
    AssistCb,
    AssistWishCb,
)
from handlers.challenges.public import closed_text, may_assist, unavailable, visible
from handlers.challenges.states import AssistDraft, AssistedSignup
from handlers.current import DIALOG, Current
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.organisations.texts import not_verified_yet
from handlers.profile.labels import arrondissement_button, arrondissement_label
from handlers.texts import explain_rejection, quoted, stale_button
from handlers.typed_choice import normalise, typed_choice
from handlers.ui import show
from storage import challenges, privacy
from storage.challenges import (
    ASSISTED_NAME_LIMITS,
    CONTRIBUTION_TEXT_LIMITS,
    ChallengeError,
    InvalidChallenge,
    activity_label,
    challenge_text,
)
from storage.models import AssistedParticipation, Challenge, ChallengeStatus, User
from storage.organisations import unverified_member
from storage.texts import TextRejected, clean_text
from storage.users import ARRONDISSEMENTS


async def assisting(event: TelegramObject, data: dict[str, Any]) -> Challenge | None:
    """The challenge the registration is for, while it is open and the person may still
    register someone, and the dialog's draft (as `draft`); otherwise the dialog ends, saying
    why."""
    assert isinstance(event, Message | CallbackQuery)
    state: FSMContext = data["state"]
    data["draft"] = draft = await AssistDraft.load(state)
    return await dialog_challenge(event, state, data["session"], data["user"], draft)


router = Flow("challenges-on-behalf", current=[Current("challenge", assisting, events=DIALOG)])

STEPS = [
    AssistedSignup.typing_name,
    AssistedSignup.choosing_arrondissement,
    AssistedSignup.telling_wishes,
    AssistedSignup.confirming,
]


def refusal(user: User | None = None) -> str:
    if user is not None and unverified_member(user):
        return not_verified_yet()
    return _("Only members of an organisation can register someone they accompany.")


def name_rule() -> str:
    return _("Please type only a first name or initials: no surname, no number.")


@router.callback_query(AssistCb.filter())
async def assist_pressed(
    query: CallbackQuery,
    callback_data: AssistCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Asks the first name or initials of the person accompanied."""
    challenge = await visible(session, callback_data.challenge_id)
    if challenge is None or challenge.status is not ChallengeStatus.open or not may_assist(user):
        if challenge is None:
            callback_answer.text = unavailable()
        elif challenge.status is not ChallengeStatus.open:
            callback_answer.text = closed_text()
        else:
            callback_answer.text = refusal(user)
        callback_answer.show_alert = True
        return
    await state.clear()
    draft = AssistDraft(challenge_id=challenge.id)
    await ask(
        query, AssistedSignup.typing_name, state=state, user=user, draft=draft, challenge=challenge
    )


def activity_of(challenge: Challenge, code: str | None) -> dict | None:
    return next((a for a in challenge.activities if a.get("code") == code), None)


def wishes_label(draft: AssistDraft, challenge: Challenge, locale: str) -> str:
    if (activity := activity_of(challenge, draft.activity)) is not None:
        return html.quote(activity_label(activity, locale))
    if draft.wishes:
        return html.quote(draft.wishes)
    return _("nothing in particular")


async def ask(
    target: Message | CallbackQuery,
    step: State,
    *,
    state: FSMContext,
    user: User,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """Puts the dialog on `step` and asks its question, under the challenge's title."""
    await state.set_state(step)
    await draft.save(state)
    markup: InlineKeyboardMarkup | None
    if step == AssistedSignup.typing_name:
        low, high = ASSISTED_NAME_LIMITS
        question = "\n\n".join(
            [
                _(
                    "You are registering someone you accompany, who is not on Telegram. No "
                    "account is made for them: only what you type here is kept, for this "
                    "challenge."
                ),
                _(
                    "What is their first name, or their initials? ({low} to {high} characters)"
                ).format(low=low, high=high),
                name_rule(),
            ]
        )
        markup = None
    elif step == AssistedSignup.choosing_arrondissement:
        question = _("In which arrondissement do they live?")
        markup = keyboards.assist_arrondissement_keyboard()
    elif step == AssistedSignup.telling_wishes:
        low, high = CONTRIBUTION_TEXT_LIMITS
        question = "\n\n".join(
            [
                _(
                    "What would they like? Choose an activity, or type it in a few words ({low} "
                    "to {high} characters)."
                ).format(low=low, high=high),
                _("Please write nothing about their health, religion or political opinions."),
            ]
        )
        markup = keyboards.wishes_keyboard(challenge.activities, user.locale)
    else:
        question = "\n".join(
            [
                _("<b>To register</b>"),
                _("First name or initials: {value}").format(value=html.quote(draft.name or "")),
                _("Where: {value}").format(
                    value=arrondissement_label(draft.arrondissement)
                    if draft.arrondissement is not None
                    else "—"
                ),
                _("Would like: {value}").format(value=wishes_label(draft, challenge, user.locale)),
                "",
                _(
                    "Register them only if they agreed: they know that La Collective keeps "
                    "this for the challenge, and that the city's coordinators may reach them "
                    "through you."
                ),
            ]
        )
        markup = keyboards.agreement_keyboard()
    title = html.quote(challenge_text(challenge, user.locale)[0])
    counter = _("Step {number} of {total}").format(number=STEPS.index(step) + 1, total=len(STEPS))
    hint = _("/back: previous step · /cancel: stop")
    await show(target, f"<b>{title}</b>\n<i>{counter}</i>\n\n{question}\n\n<i>{hint}</i>", markup)


async def dialog_challenge(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    draft: AssistDraft,
) -> Challenge | None:
    """The dialog's challenge while it is open and the person may still register someone;
    otherwise the dialog ends, saying why."""
    challenge = await visible(session, draft.challenge_id)
    if challenge is not None and challenge.status is ChallengeStatus.open and may_assist(user):
        return challenge
    await state.clear()
    if challenge is None:
        await show(target, unavailable())
    elif challenge.status is not ChallengeStatus.open:
        await show(target, closed_text(), keyboards.joined_keyboard(challenge.id))
    else:
        await show(target, refusal(user))
    return None


@router.message(AssistedSignup.typing_name, NotCommand())
async def name_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """Keeps the first name or initials, then asks where they live."""
    if message.text is None:
        await ask_again(message, state, session, user, settings, draft, challenge)
        return
    low, high = ASSISTED_NAME_LIMITS
    try:
        name = " ".join(clean_text(message.text, min_length=low, max_length=high).split())
    except TextRejected as rejected:
        await message.answer(explain_rejection(rejected))
        return
    # As register_assisted checks: a phone number or an address has no place here.
    if any(character.isdigit() for character in name):
        await message.answer(name_rule())
        return
    draft.name = name
    await ask(
        message,
        AssistedSignup.choosing_arrondissement,
        state=state,
        user=user,
        draft=draft,
        challenge=challenge,
    )


@router.callback_query(AssistedSignup.choosing_arrondissement, AssistArrondissementCb.filter())
async def arrondissement_chosen(
    query: CallbackQuery,
    callback_data: AssistArrondissementCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """Keeps where they live, then asks what they would like."""
    if callback_data.number not in ARRONDISSEMENTS:
        callback_answer.text = stale_button()
        return
    await keep_arrondissement(query, callback_data.number, state, user, draft, challenge)


async def keep_arrondissement(
    target: Message | CallbackQuery,
    number: int,
    state: FSMContext,
    user: User,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    draft.arrondissement = number
    await ask(
        target,
        AssistedSignup.telling_wishes,
        state=state,
        user=user,
        draft=draft,
        challenge=challenge,
    )


@router.callback_query(AssistedSignup.telling_wishes, AssistWishCb.filter())
async def wish_chosen(
    query: CallbackQuery,
    callback_data: AssistWishCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    user: User,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """Keeps the activity they would like (or nothing in particular), then asks to confirm."""
    code = callback_data.code or None
    if code is not None and activity_of(challenge, code) is None:
        callback_answer.text = stale_button()
        return
    draft.activity, draft.wishes = code, None
    await ask(
        query, AssistedSignup.confirming, state=state, user=user, draft=draft, challenge=challenge
    )


@router.message(AssistedSignup.telling_wishes, NotCommand())
async def wishes_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """Keeps what they would like, in words, then asks to confirm. The very words of one of
    the buttons (an activity, «Nothing in particular») stand for it."""
    if message.text is None:
        await ask_again(message, state, session, user, settings, draft, challenge)
        return
    typed = normalise(message.text)
    buttons = [(activity_label(a, user.locale), a["code"]) for a in challenge.activities]
    buttons.append((_("Nothing in particular"), None))
    named = [code for label, code in buttons if normalise(label) == typed]
    if named:
        draft.activity, draft.wishes = named[0], None
    else:
        low, high = CONTRIBUTION_TEXT_LIMITS
        try:
            draft.wishes = clean_text(message.text, min_length=low, max_length=high)
        except TextRejected as rejected:
            await message.answer(explain_rejection(rejected))
            return
        draft.activity = None
    await ask(
        message,
        AssistedSignup.confirming,
        state=state,
        user=user,
        draft=draft,
        challenge=challenge,
    )


@router.callback_query(AssistedSignup.confirming, AssistAgreedCb.filter())
async def agreement_answered(
    query: CallbackQuery,
    callback_data: AssistAgreedCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """With their agreement, the registration is stored; without it, nothing is."""
    await answer_agreement(
        query, callback_data.agreed, state, session, user, settings, draft, challenge
    )


async def answer_agreement(
    target: Message | CallbackQuery,
    agreed: bool,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    if not agreed:
        await state.clear()
        await show(
            target,
            _(
                "Then we cannot register them: nothing has been stored. You can register them "
                "once they agree."
            ),
            InlineKeyboardMarkup(inline_keyboard=[[keyboards.card_button(challenge.id)]]),
        )
        return
    if draft.name is None or draft.arrondissement is None:
        # Only a draft damaged outside the dialog gets here.
        await ask(
            target,
            AssistedSignup.typing_name,
            state=state,
            user=user,
            draft=draft,
            challenge=challenge,
        )
        return
    try:
        await challenges.register_assisted(
            session,
            challenge,
            user,
            name=draft.name,
            arrondissement=draft.arrondissement,
            wishes=draft.wishes,
            activity=draft.activity,
            agreed=True,
            timezone=settings.timezone,
        )
    except InvalidChallenge as invalid:
        # Checked at each step already: only a challenge changed meanwhile gets here.
        step = {
            "name": AssistedSignup.typing_name,
            "arrondissement": AssistedSignup.choosing_arrondissement,
        }.get(invalid.field, AssistedSignup.telling_wishes)
        await ask(target, step, state=state, user=user, draft=draft, challenge=challenge)
        return
    except ChallengeError:
        await state.clear()
        await show(target, refusal(user))
        return
    await state.clear()
    title = html.quote(challenge_text(challenge, user.locale)[0])
    await show(
        target,
        _(
            "Thank you! {name} is registered for “{title}”. They count among the challenge's "
            "participants; the city's coordinators will reach them through you."
        ).format(**isolated(user.locale, name=html.quote(draft.name), title=title))
        + "\n\n"
        + _("If they ask, you can erase their details at any time with /accompanied."),
        InlineKeyboardMarkup(
            inline_keyboard=[
                *keyboards.registered_keyboard(challenge.id).inline_keyboard,
                [
                    InlineKeyboardButton(
                        text=_("People we registered"),
                        callback_data=AccompaniedCb(assisted_id=0).pack(),
                    )
                ],
            ]
        ),
    )


@router.message(Command("back"), StateFilter(AssistedSignup))
async def back(
    message: Message,
    state: FSMContext,
    user: User,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """The previous question; what was answered stays in the draft."""
    step = current_step(await state.get_state())
    index = STEPS.index(step)
    if index == 0:
        await message.answer(_("This is the first step. Send /cancel to stop."))
    await ask(
        message, STEPS[max(index - 1, 0)], state=state, user=user, draft=draft, challenge=challenge
    )


@router.message(StateFilter(AssistedSignup), NotCommand())
async def ask_again(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    draft: AssistDraft,
    challenge: Challenge,
) -> None:
    """A text that names one of the step's buttons does what it does («13e», «they have not
    agreed»); anything else: say what is expected, then the same question again."""
    current = await state.get_state()
    text = message.text or ""
    if current == AssistedSignup.choosing_arrondissement.state:
        places = [(arrondissement_button(n), n) for n in ARRONDISSEMENTS]
        places += [(arrondissement_label(n), n) for n in ARRONDISSEMENTS]
        if (number := typed_choice(text, places)) is not None:
            await keep_arrondissement(message, number, state, user, draft, challenge)
            return
    elif current == AssistedSignup.confirming.state:
        answers = [
            (_("This person agreed to be registered"), True),
            (_("They have not agreed"), False),
        ]
        if (agreed := typed_choice(text, answers)) is not None:
            await answer_agreement(
                message, agreed, state, session, user, settings, draft, challenge
            )
            return
    if current in (AssistedSignup.typing_name.state, AssistedSignup.telling_wishes.state):
        await message.answer(_("Please type your answer as a text message."))
    else:
        await message.answer(_("Please answer with one of the buttons below."))
    await resume_assisting(message, state, session, user, settings)


def current_step(current: str | None) -> State:
    return next((s for s in STEPS if s.state == current), STEPS[0])


async def resume_assisting(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """After /start or a restart: the question the person was answering."""
    draft = await AssistDraft.load(state)
    challenge = await dialog_challenge(target, state, session, user, draft)
    if challenge is None:
        return
    step = current_step(await state.get_state())
    await ask(target, step, state=state, user=user, draft=draft, challenge=challenge)


# -- Erasing someone one accompanies, at their request


class AccompaniedCb(CallbackData, prefix="acc"):
    """0: the list; otherwise that person, asked to confirm, then erased."""

    assisted_id: int
    confirm: bool = False


def accompanied_text(people: list[tuple[AssistedParticipation, Challenge]], locale: str) -> str:
    if not people:
        return _("Your organisation has nobody registered on La Collective.")
    lines = [
        _("<b>People your organisation registered</b>"),
        _("If one of them asks, you can erase their details here."),
        "",
    ]
    lines += [
        line_start(locale)
        + f"• {isolate(html.quote(person.name), locale)} — "
        + quoted(isolate(html.quote(challenge_text(challenge, locale)[0]), locale), locale)
        for person, challenge in people
    ]
    return "\n".join(lines)


def accompanied_keyboard(
    people: list[tuple[AssistedParticipation, Challenge]],
) -> InlineKeyboardMarkup | None:
    buttons = [
        InlineKeyboardButton(
            text=_("Erase {name}").format(name=person.name),
            callback_data=AccompaniedCb(assisted_id=person.id).pack(),
        )
        for person, _challenge in people
    ]
    return InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons]) if buttons else None


@router.message(Command("accompanied"))
@router.callback_query(AccompaniedCb.filter(F.assisted_id == 0))
async def accompanied_list(
    event: Message | CallbackQuery, session: AsyncSession, user: User
) -> None:
    """The people one's organisation registered, each with a button to erase them."""
    if not may_assist(user):
        await show(event, refusal(user))
        return
    people = await privacy.accompanied(session, user)
    await show(event, accompanied_text(people, user.locale), accompanied_keyboard(people))


@router.callback_query(AccompaniedCb.filter(F.assisted_id != 0))
async def accompanied_erase(
    query: CallbackQuery,
    callback_data: AccompaniedCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    """Asks to confirm, then erases their details; they still count, anonymously."""
    found = await privacy.find_accompanied(session, user, callback_data.assisted_id)
    if not may_assist(user) or found is None:
        callback_answer.text = _(
            "This person's details are already erased, or not yours to erase."
        )
        callback_answer.show_alert = True
        return
    person, challenge = found
    name = html.quote(person.name)
    title = html.quote(challenge_text(challenge, user.locale)[0])
    if not callback_data.confirm:
        yes = AccompaniedCb(assisted_id=person.id, confirm=True).pack()
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("Yes, erase them"), callback_data=yes)],
                [
                    InlineKeyboardButton(
                        text=_("No, go back"), callback_data=AccompaniedCb(assisted_id=0).pack()
                    )
                ],
            ]
        )
        text = _(
            "Erase the details of {name}, registered for “{title}”? Their first name and "
            "wishes are deleted; they still count among the challenge's participants, "
            "anonymously. Do it only if they asked. This cannot be undone."
        ).format(**isolated(user.locale, name=name, title=title))
        await show(query, text, markup)
        return
    await privacy.forget_assisted(session, person)
    people = await privacy.accompanied(session, user)
    done = _("Done: the details of {name} have been erased.").format(
        **isolated(user.locale, name=name)
    )
    await show(
        query,
        f"{done}\n\n{accompanied_text(people, user.locale)}",
        accompanied_keyboard(people),
    )
