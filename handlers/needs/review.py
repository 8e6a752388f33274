"""The review of a need before it is sent — what was entered, read back — and what its
buttons do: send (the need is stored, and the person thanked with its reference), change one
field (its question asked again with its current answer; the answer, or /back, comes back
here), or cancel (asked first)."""

from __future__ import annotations

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.flow import Flow
from handlers.needs import keyboards
from handlers.needs.callbacks import NeedField, NeedFieldCb, NeedStep, NeedStepCb
from handlers.needs.states import NeedReport
from handlers.needs.steps import NeedDraft, ask, first_missing
from handlers.profile.labels import arrondissement_label, theme_label
from handlers.profile.onboarding import resume
from handlers.texts import stale_button
from handlers.ui import show
from storage.models import Need, Theme, User
from storage.needs import need_reference, report_need

router = Flow("needs-review")


@router.callback_query(NeedReport.reviewing, NeedStepCb.filter())
async def review_pressed(
    query: CallbackQuery,
    callback_data: NeedStepCb,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """The review's buttons: send, the fields to change, back to the review, cancel (asked
    first), cancelled."""
    if not await review_action(query, callback_data.step, state, session, user, settings):
        callback_answer.text = stale_button()


async def review_action(
    target: Message | CallbackQuery,
    step: NeedStep,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> bool:
    """Does what the review's button `step` does; False for a button that is not the
    review's."""
    if step is NeedStep.send:
        await send_need(target, state, session, user, settings)
    elif step is NeedStep.edit:
        await show(target, _("Which field would you like to change?"), keyboards.fields_keyboard())
    elif step is NeedStep.review:
        draft = await NeedDraft.load(state)
        await ask(
            target, NeedReport.reviewing, state=state, session=session, user=user, draft=draft
        )
    elif step is NeedStep.cancel:
        await show(
            target,
            _("Discard this need? What you entered will not be kept."),
            keyboards.cancel_keyboard(),
        )
    elif step is NeedStep.cancel_sure:
        await state.clear()
        await show(
            target,
            _("Your need was not sent. You can report one whenever you wish."),
            keyboards.reported_keyboard(),
        )
    else:
        return False
    return True


EDITED_STEP = {
    NeedField.theme: NeedReport.choosing_theme,
    NeedField.arrondissement: NeedReport.choosing_arrondissement,
    NeedField.description: NeedReport.typing_description,
    NeedField.location: NeedReport.sharing_location,
}


@router.callback_query(NeedReport.reviewing, NeedFieldCb.filter())
async def field_chosen(
    query: CallbackQuery,
    callback_data: NeedFieldCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    """Asks that field's question again, with its current answer; the answer (or /back) comes
    back to the review."""
    draft = await NeedDraft.load(state)
    draft.editing = True
    step = EDITED_STEP[callback_data.field]
    await ask(query, step, state=state, session=session, user=user, draft=draft)


async def send_need(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    """Stores the draft as a need, then thanks the person with its reference."""
    draft = await NeedDraft.load(state)
    missing = first_missing(user, draft)
    if missing is not None:
        # Only a draft damaged outside the dialog gets here: ask what it lacks.
        draft.editing = False
        await ask(target, missing, state=state, session=session, user=user, draft=draft)
        return
    assert draft.theme is not None and draft.arrondissement is not None and draft.text is not None
    try:
        need = await report_need(
            session,
            user,
            draft.theme,
            draft.arrondissement,
            draft.text,
            draft.latitude,
            draft.longitude,
        )
    except PermissionError:
        # The notice changed during the dialog: it comes first.
        await resume(target, state, session, user, settings)
        return
    except ValueError:
        # The theme was withdrawn meanwhile: choose another, the rest is kept.
        draft.theme = None
        draft.editing = True
        await ask(
            target, NeedReport.choosing_theme, state=state, session=session, user=user, draft=draft
        )
        return
    await state.clear()
    theme = await session.get(Theme, need.theme_code)
    assert theme is not None
    await show(target, reported_text(need, theme, user.locale), keyboards.reported_keyboard())


def reported_text(need: Need, theme: Theme, locale: str) -> str:
    lines = [
        _("Thank you! Your need is recorded under the reference <b>{reference}</b>.").format(
            reference=need_reference(need)
        ),
        "",
        _("Theme: {value}").format(value=html.quote(theme_label(theme, locale))),
        _("Where: {value}").format(value=html.quote(arrondissement_label(need.arrondissement))),
        f"<blockquote>{html.quote(need.text)}</blockquote>",
    ]
    if need.latitude is not None:
        lines.append(_("Location: {value}").format(value=_("yes")))
    lines += [
        "",
        _(
            "It now counts on the needs map, which anyone can see. The city's coordinators read "
            "every need when they prepare the challenges."
        ),
    ]
    return "\n".join(lines)
