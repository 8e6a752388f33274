"""The profile's flows, for private chats."""

from handlers.flow import Flow
from handlers.profile import alerts, answers, onboarding, settings

# The questions answer their own buttons first; a language button outside onboarding is then a
# change of language. STOP first: it stops alerts whatever dialog the person is in.
private: list[Flow] = [alerts.router, onboarding.router, answers.router, settings.router]
