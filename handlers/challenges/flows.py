"""Which challenges' flows serve private chats, and which the coordinators; the challenges' job,
and where their dialogs resume."""

from __future__ import annotations

from aiogram.fsm.state import StatesGroup

from bot.jobs import Job
from handlers.challenges import (
    alliances,
    coordination_participants,
    create,
    impact,
    join,
    manage,
    on_behalf,
    public,
    quiz,
    translate,
)
from handlers.challenges.jobs import close_ended_challenges
from handlers.challenges.states import AssistedSignup, HelpQuiz, JoinChallenge
from handlers.flow import Flow, Pending, Resumer

private: list[Flow] = [
    public.router,
    join.router,
    quiz.router,
    on_behalf.router,
    alliances.router,
    impact.router,
]
# The form first (its Edit button is a management button), then the management, the
# participants and the translations.
coordinators: list[Flow] = [
    create.router,
    manage.router,
    coordination_participants.router,
    translate.router,
]

jobs: list[tuple[str, Job]] = [("challenges.close", close_ended_challenges)]

dialogs: dict[type[StatesGroup], Resumer] = {
    JoinChallenge: join.resume_join,
    HelpQuiz: quiz.resume_quiz,
    AssistedSignup: on_behalf.resume_assisting,
}
# A challenge's link followed before onboarding: its card once onboarding is done.
after_onboarding: Pending = public.show_pending
