"""Who the person is: onboarding, /settings, /language."""

from aiogram import Router

from handlers.profile import alerts, answers, onboarding, settings


def build_router() -> Router:
    router = Router(name="profile")
    # The questions answer their own buttons first; a language button outside onboarding is
    # then a change of language.
    router.include_routers(
        # STOP first: it stops alerts whatever dialog the person is in.
        alerts.router.router(),
        onboarding.router.router(),
        answers.router.router(),
        settings.router.router(),
    )
    return router
