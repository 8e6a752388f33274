"""The needs' flows, for private chats, and where their dialog resumes."""

from aiogram.fsm.state import StatesGroup

from handlers.flow import Flow, Resumer
from handlers.needs import mine, needs_map, report, review
from handlers.needs.states import NeedReport

private: list[Flow] = [report.router, review.router, needs_map.router, mine.router]

dialogs: dict[type[StatesGroup], Resumer] = {NeedReport: report.resume_report}
