"""Answering a survey: from the invitation's «Start» (or «Resume» in the Surveys menu), one
question at a time — buttons for closed questions, a typed answer for numbers and free texts —
with the progress, «Skip» on optional questions and /back; each answer is stored as it comes.
Per state: the valid answer first; anything the question cannot take is explained and the same
question asked again."""

from __future__ import annotations

from aiogram import F, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.filters import NotCommand
from handlers.flow import Flow
from handlers.profile.onboarding import resume
from handlers.surveys.callbacks import (
    AnswerCb,
    QuestionAction,
    QuestionCb,
    SurveyAction,
    SurveyCb,
)
from handlers.surveys.invitation import invitation_text, thanks_text
from handlers.surveys.keyboards import after_survey_keyboard, question_keyboard, short
from handlers.surveys.results_text import number
from handlers.surveys.states import SurveyAnswering, SurveyDialog
from handlers.surveys.typed_buttons import DONE, SKIP, typed_buttons, typed_skip
from handlers.texts import explain_rejection, stale_button
from handlers.ui import show
from storage import surveys
from storage.models import (
    QuestionKind,
    Survey,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
    User,
    utcnow,
)
from storage.privacy import has_current_notice
from storage.surveys import (
    SCALE,
    TEXT_ANSWER_LIMITS,
    InvalidAnswer,
    SurveyError,
    Walk,
    parse_number,
)
from storage.texts import TextRejected

router = Flow("survey-respond")

TYPED = (QuestionKind.number, QuestionKind.text)
TITLE_IN_HEADER = 60


@router.callback_query(SurveyCb.filter(F.action == SurveyAction.start))
async def start_survey(
    query: CallbackQuery,
    callback_data: SurveyCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Starts the person's response, or takes it up where it stopped: the next question."""
    if not has_current_notice(user):
        await resume(query, state, session, user, settings)
        return
    survey = await surveys.get_survey(session, callback_data.survey_id)
    if survey is None:
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    try:
        response = await surveys.start_response(session, survey, user, utcnow())
    except SurveyError as refused:
        await show(query, refusal(refused.reason), after_survey_keyboard())
        return
    walk = await surveys.walk_of(session, response, survey, user.role)
    await advance(query, walk, state=state, session=session, user=user)


@router.callback_query(SurveyCb.filter(F.action == SurveyAction.later))
async def later(
    query: CallbackQuery,
    callback_data: SurveyCb,
    callback_answer: CallbackAnswer,
    session: AsyncSession,
    user: User,
) -> None:
    """Stores nothing: the invitation stays, with a word on where to find the survey."""
    survey = await surveys.get_survey(session, callback_data.survey_id)
    if survey is None:
        callback_answer.text = stale_button()
        callback_answer.show_alert = True
        return
    if survey.status is not SurveyStatus.open:
        await show(query, refusal(SurveyError.CLOSED), after_survey_keyboard())
        return
    note = _(
        "No problem: you can answer it whenever you wish, from the menu under “Surveys”. "
        "What you answer is kept if you stop halfway."
    )
    await show(
        query, f"{invitation_text(survey, user.locale)}\n\n<i>{note}</i>", after_survey_keyboard()
    )


@router.message(Command("back"), StateFilter(SurveyAnswering))
async def back(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Removes the previous answer and asks that question again."""
    walk, question = await where(state, session, user)
    if walk is None or question is None:
        await resume_survey(message, state, session, user, settings, read=True, walk=walk)
        return
    previous = await surveys.previous_question(session, answered(walk), walk)
    if previous is None:
        await message.answer(_("This is the first question. Send /cancel to pause."))
        previous = question
    await ask(message, walk, previous, state=state, session=session, user=user)


@router.callback_query(SurveyAnswering.choosing, AnswerCb.filter())
async def button_answer(
    query: CallbackQuery,
    callback_data: AnswerCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores a scale's value, a yes/no or a single choice, then asks the next question; on a
    multiple choice, ticks or unticks the option and shows the question again."""
    found = await pressed(
        query, callback_data.question_id, callback_answer, state, session, user, settings
    )
    if found is None:
        return
    walk, question = found
    if question.kind is not QuestionKind.multiple:
        value = callback_data.value
        await store(query, walk, question, callback_answer, state, session, user, raw=value)
        return
    dialog = await SurveyDialog.load(state)
    code = callback_data.value
    if code not in {str(option["code"]) for option in question.options}:
        tell(
            callback_answer,
            explain(InvalidAnswer(InvalidAnswer.UNKNOWN_OPTION), question, user.locale),
        )
    elif code in dialog.chosen:
        dialog.chosen.remove(code)
    else:
        dialog.chosen.append(code)
    await ask(query, walk, question, state=state, session=session, user=user, dialog=dialog)


@router.callback_query(
    SurveyAnswering.choosing, QuestionCb.filter(F.action == QuestionAction.done)
)
async def choices_done(
    query: CallbackQuery,
    callback_data: QuestionCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores the ticked options of a multiple choice, then asks the next question."""
    found = await pressed(
        query, callback_data.question_id, callback_answer, state, session, user, settings
    )
    if found is None:
        return
    walk, question = found
    dialog = await SurveyDialog.load(state)
    await store(query, walk, question, callback_answer, state, session, user, codes=dialog.chosen)


@router.callback_query(
    StateFilter(SurveyAnswering), QuestionCb.filter(F.action == QuestionAction.skip)
)
async def skipped(
    query: CallbackQuery,
    callback_data: QuestionCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores that the optional question was skipped, then asks the next one."""
    found = await pressed(
        query, callback_data.question_id, callback_answer, state, session, user, settings
    )
    if found is None:
        return
    walk, question = found
    await store(query, walk, question, callback_answer, state, session, user, skipping=True)


@router.message(StateFilter(SurveyAnswering), NotCommand())
async def typed_answer(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores a typed answer — a number, a text, or a closed answer typed as a button's label
    (handlers/surveys/typed_buttons.py), its code or its number — and asks the next question;
    on a multiple choice, typed options are ticked and the question shown again, as their
    buttons do. Anything else (a word for a number, a sticker…) is explained and the same
    question asked again."""
    walk, question = await where(state, session, user)
    if walk is None or question is None:
        await resume_survey(message, state, session, user, settings, read=True, walk=walk)
        return
    text = message.text
    named = None
    if text is not None and question.kind not in TYPED:
        named = typed_buttons(question, text, user.locale)
    elif text is not None and typed_skip(question, text) and parse_number(text) is None:
        named = [SKIP]
    if named == [SKIP]:
        await store(message, walk, question, None, state, session, user, skipping=True)
    elif question.kind is QuestionKind.multiple and named is not None:
        dialog = await SurveyDialog.load(state)
        if named == [DONE]:
            codes = dialog.chosen
            await store(message, walk, question, None, state, session, user, codes=codes)
            return
        dialog.chosen += [code for code in named if code not in dialog.chosen]
        await ask(message, walk, question, state=state, session=session, user=user, dialog=dialog)
    elif named is not None and question.kind is QuestionKind.scale:
        await store(message, walk, question, None, state, session, user, raw=named[0])
    elif named is not None and question.kind not in TYPED:
        await store(message, walk, question, None, state, session, user, codes=named)
    else:
        await store(message, walk, question, None, state, session, user, raw=text)


# -- the dialog's steps


async def where(
    state: FSMContext, session: AsyncSession, user: User
) -> tuple[Walk | None, SurveyQuestion | None]:
    """The response the dialog is on (with its survey, questions and answers: read once for
    the update, `surveys.answering`) and its question; None for what no longer fits (the
    response finished, the survey closed, data from elsewhere)."""
    dialog = await SurveyDialog.load(state)
    walk = await current_walk(dialog, session, user)
    if walk is None:
        return None, None
    return walk, walk.by_id.get(dialog.question_id or 0)


async def current_walk(dialog: SurveyDialog, session: AsyncSession, user: User) -> Walk | None:
    """The dialog's response while it can still be answered: the person's, not finished, of
    an open survey."""
    if not dialog.response_id:
        return None
    walk = await surveys.answering(session, dialog.response_id, user.role)
    if walk is None or walk.response is None or walk.survey is None:
        return None
    response, survey = walk.response, walk.survey
    if response.user_id != user.id or response.completed_at is not None:
        return None
    if survey.status is not SurveyStatus.open:
        return None
    return walk


async def pressed(
    query: CallbackQuery,
    question_id: int,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> tuple[Walk, SurveyQuestion] | None:
    """The response and question a button answers; a button of another question (an older
    message, a forged one) is refused and the current question shown in its place."""
    walk, question = await where(state, session, user)
    if walk is None or question is None:
        await resume_survey(query, state, session, user, settings, read=True, walk=walk)
        return None
    if question_id != question.id:
        tell(callback_answer, stale_button())
        await ask(query, walk, question, state=state, session=session, user=user)
        return None
    return walk, question


async def store(
    target: Message | CallbackQuery,
    walk: Walk,
    question: SurveyQuestion,
    callback_answer: CallbackAnswer | None,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    *,
    raw: str | None = None,
    codes: list[str] | None = None,
    skipping: bool = False,
) -> None:
    """Stores the answer (typed or pressed `raw`, ticked `codes`, or a skip), then goes on."""
    response = answered(walk)
    try:
        if skipping:
            await surveys.skip(session, response, question, walk)
        elif codes is not None:
            await surveys.answer(session, response, question, option_codes=codes, walk=walk)
        else:
            fields = surveys.parse_answer(question, raw)
            await surveys.answer(session, response, question, **fields, walk=walk)
    except InvalidAnswer as invalid:
        explanation = explain(invalid, question, user.locale)
        if isinstance(target, Message):
            await target.answer(explanation)
        elif callback_answer is not None:
            tell(callback_answer, explanation)
        await ask(target, walk, question, state=state, session=session, user=user)
        return
    except SurveyError as refused:
        if refused.reason == SurveyError.NOT_ASKED:
            # An earlier answer changed the branch meanwhile: the question now due instead.
            await advance(target, walk, state=state, session=session, user=user)
            return
        await state.clear()
        await show(target, refusal(refused.reason), after_survey_keyboard())
        return
    await advance(target, walk, state=state, session=session, user=user)


def answered(walk: Walk) -> SurveyResponse:
    """The walk's response (a walk read by `surveys.answering` or `walk_of` has one)."""
    assert walk.response is not None and walk.survey is not None
    return walk.response


async def advance(
    target: Message | CallbackQuery,
    walk: Walk,
    *,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """The next unanswered question; when none is left, the response is complete: thanks."""
    response = answered(walk)
    question = await surveys.next_question(session, response, walk)
    if question is not None:
        await ask(target, walk, question, state=state, session=session, user=user)
        return
    await surveys.complete_if_done(session, response, utcnow(), walk)
    await state.clear()
    assert walk.survey is not None
    await show(target, thanks_text(walk.survey, user.locale), after_survey_keyboard())


async def ask(
    target: Message | CallbackQuery,
    walk: Walk,
    question: SurveyQuestion,
    *,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    dialog: SurveyDialog | None = None,
) -> None:
    """Puts the dialog on `question` and asks it, with the progress on top."""
    response = answered(walk)
    dialog = dialog or await SurveyDialog.load(state)
    if (dialog.response_id, dialog.question_id) != (response.id, question.id):
        dialog = SurveyDialog(response_id=response.id, question_id=question.id)
    typed = question.kind in TYPED
    await state.set_state(SurveyAnswering.typing if typed else SurveyAnswering.choosing)
    await dialog.save(state)
    assert walk.survey is not None
    position, total = await surveys.progress(session, response, walk)
    text = prompt(walk.survey, question, user.locale, position, total)
    await show(target, text, question_keyboard(question, user.locale, dialog.chosen))


async def resume_survey(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    *,
    read: bool = False,
    walk: Walk | None = None,
) -> None:
    """After /start or a restart: the next unanswered question of the response in progress
    (the dialog's, else the latest unfinished one of an open survey). `read`: the dialog's
    response was read already in this update (`walk`, None when it no longer fits)."""
    if not read:
        walk = await current_walk(await SurveyDialog.load(state), session, user)
    if walk is None:
        response = await surveys.pending_response(session, user)
        if response is not None:
            walk = await surveys.answering(session, response.id, user.role)
    if walk is None:
        await state.clear()
        await show(
            target,
            _("This survey is closed or already answered: there is nothing to resume."),
            after_survey_keyboard(),
        )
        return
    await advance(target, walk, state=state, session=session, user=user)


# -- texts


def prompt(
    survey: Survey, question: SurveyQuestion, locale: str, position: int, total: int
) -> str:
    texts = surveys.question_text(question, locale)
    title = short(surveys.survey_text(survey, locale)["title"], TITLE_IN_HEADER)
    lines = [
        f"<b>{position}/{total}</b> · <i>{html.quote(title)}</i>",
        "",
        f"<b>{html.quote(texts['text'])}</b>",
    ]
    kind = question.kind
    if kind is QuestionKind.scale:
        lines.append(
            _("From {low} ({low_label}) to {high} ({high_label}).").format(
                low=SCALE[0],
                low_label=html.quote(texts["low"]),
                high=SCALE[1],
                high_label=html.quote(texts["high"]),
            )
        )
    elif kind is QuestionKind.multiple:
        lines.append(_("Choose every answer that applies, then press “Done”."))
    elif kind is QuestionKind.number:
        lines.append(number_hint(question, texts["unit"], locale))
    elif kind is QuestionKind.text:
        lines += [
            _("Type your answer ({low} to {high} characters).").format(
                low=TEXT_ANSWER_LIMITS[0], high=TEXT_ANSWER_LIMITS[1]
            ),
            _(
                "Please write no names, and nothing about the health, religion or political "
                "opinions of yourself or anyone else."
            ),
            # Said before the answer: a published question's answers are read by everyone.
            _(
                "⚠️ The answers to this question will be published with the results, as "
                "written, without your name: anyone using the bot can read them."
            )
            if question.published
            else _("Your answer will be read by the city's coordinators only."),
        ]
    if not question.required and kind in TYPED:
        lines.append(_("You may also press “Skip”."))
    hint = _("/back: previous question · /cancel: pause (your answers are kept)")
    lines += ["", f"<i>{hint}</i>"]
    return "\n".join(lines)


def number_hint(question: SurveyQuestion, unit: str, locale: str) -> str:
    low, high = question.min_value, question.max_value
    if low is not None and high is not None:
        hint = _("Type a number from {min} to {max}.").format(
            min=number(low, locale), max=number(high, locale)
        )
    elif low is not None:
        hint = _("Type a number: {min} or more.").format(min=number(low, locale))
    elif high is not None:
        hint = _("Type a number: {max} at most.").format(max=number(high, locale))
    else:
        hint = _("Type a number.")
    if unit:
        hint += " " + _("Unit: {unit}.").format(unit=html.quote(unit))
    return hint


def explain(invalid: InvalidAnswer, question: SurveyQuestion, locale: str) -> str:
    """What the question expects, after an answer it cannot take. Plain text: it may be shown
    in a button's alert."""
    reason, kind = invalid.reason, question.kind
    if reason == InvalidAnswer.REQUIRED:
        return _("This question needs an answer: it cannot be skipped.")
    if kind is QuestionKind.multiple and reason == InvalidAnswer.EMPTY:
        return _("Please choose at least one answer, then press “Done”.")
    if kind not in TYPED:
        return _("Please answer with one of the buttons below.")
    if kind is QuestionKind.number:
        if reason in (InvalidAnswer.BELOW_MIN, InvalidAnswer.ABOVE_MAX):
            limit = number(float(invalid.limit or 0), locale)
            if reason == InvalidAnswer.BELOW_MIN:
                return _("This is too small: the answer is at least {limit}.").format(limit=limit)
            return _("This is too large: the answer is at most {limit}.").format(limit=limit)
        return _("Please type a number, in digits (for example 12).")
    if reason == InvalidAnswer.TOO_LONG:
        return explain_rejection(TextRejected(TextRejected.TOO_LONG, int(invalid.limit or 0)))
    if reason == InvalidAnswer.NOT_TEXT:
        return _("Please type your answer as a text message.")
    return explain_rejection(TextRejected(TextRejected.EMPTY, TEXT_ANSWER_LIMITS[0]))


def refusal(reason: str) -> str:
    if reason == SurveyError.COMPLETED:
        return _("You have already answered this survey. Thank you!")
    if reason == SurveyError.NOT_INVITED:
        return _("This survey was sent to other participants: only they can answer it.")
    if reason == SurveyError.CLOSED:
        return _(
            "This survey is closed: it no longer takes answers. Its results are in the menu, "
            "under “Surveys”."
        )
    return stale_button()


def tell(callback_answer: CallbackAnswer, text: str) -> None:
    callback_answer.text = text
    callback_answer.show_alert = True
