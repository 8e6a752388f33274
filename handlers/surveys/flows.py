"""Which surveys' flows serve private chats, and which the coordinators; the surveys' jobs, and
where answering resumes."""

from __future__ import annotations

from aiogram.fsm.state import StatesGroup

from bot.jobs import Job
from handlers.flow import Flow, Resumer
from handlers.surveys import manage, published, respond, results_group, roles, scheduling
from handlers.surveys.jobs import send_due_surveys, send_reminders
from handlers.surveys.states import SurveyAnswering

private: list[Flow] = [respond.router, published.router]
coordinators: list[Flow] = [manage.router, scheduling.router, roles.router, results_group.router]

jobs: list[tuple[str, Job]] = [
    ("surveys.send", send_due_surveys),
    ("surveys.remind", send_reminders),
]

dialogs: dict[type[StatesGroup], Resumer] = {SurveyAnswering: respond.resume_survey}
