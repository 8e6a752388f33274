"""Which initiatives' flows serve private chats, and which the coordinators; where their
dialogs resume."""

from __future__ import annotations

from aiogram.fsm.state import StatesGroup

from handlers.flow import Flow, Resumer
from handlers.initiatives import browse, moderation, need_links, propose, reports, support
from handlers.initiatives.states import Contest, Propose

private: list[Flow] = [
    propose.router,
    browse.router,
    reports.router,
    need_links.router,
    support.router,
]
coordinators: list[Flow] = [moderation.router, reports.decisions, need_links.decisions]

dialogs: dict[type[StatesGroup], Resumer] = {
    Propose: propose.resume_proposal,
    Contest: reports.resume_contest,
}
