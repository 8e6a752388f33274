"""The update benchmark's realistic mix: what one person does, rehearsed once against the real
bot, then played by many people.

One person: onboarding, the menu, a need reported, an initiative proposed, a challenge joined
from its link, a survey answered, /mydata. The rehearsal records each update (a text, or a
button's callback data and the message it was pressed on); `Script.updates` builds the same
updates for any person, with the pressed messages Telegram must know (`Script.messages`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standin import StandIn
from bot.standin.updates import make_user, private_chat

COORDINATOR = 42
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _texts(en: str, fr: str) -> dict[str, dict[str, str]]:
    return {"en": {"text": en}, "fr": {"text": fr}}


SURVEY = {
    "series": "bench",
    "texts": {
        "en": {"title": "Visits check", "intro": "Four short questions.", "thanks": "Thanks!"},
        "fr": {"title": "Point visites", "intro": "Quatre questions.", "thanks": "Merci !"},
    },
    "questions": [
        {
            "code": "lonely",
            "kind": "scale",
            "texts": {
                "en": {"text": "How lonely?", "low": "Not at all", "high": "Very"},
                "fr": {"text": "Quelle solitude ?", "low": "Pas du tout", "high": "Très"},
            },
        },
        {"code": "visited", "kind": "yes_no", "texts": _texts("Visited?", "Visité ?")},
        {
            "code": "visits",
            "kind": "number",
            "min": 1,
            "max": 100,
            "texts": {
                "en": {"text": "How many visits?", "unit": "visits"},
                "fr": {"text": "Combien de visites ?", "unit": "visites"},
            },
        },
        {
            "code": "channel",
            "kind": "single",
            "texts": _texts("How do you keep in touch?", "Comment gardez-vous le contact ?"),
            "options": [
                {"code": "phone", "texts": {"en": "By phone", "fr": "Par téléphone"}},
                {"code": "door", "texts": {"en": "At their door", "fr": "À leur porte"}},
            ],
        },
    ],
}

NEED = "No shaded bench near the bus stop for older people waiting in summer."
TITLE = "Weekly visits to older neighbours"
DESCRIPTION = "Volunteers visit and call older people who live alone, every week."
BRINGS = "Two afternoons a month, and I have a car."


SLUG = "bench001"


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, int]:
    """An open challenge and an open survey; returns the challenge's slug and the survey's
    id. The same in every database the benchmark uses."""
    from storage.challenges import create_challenge, open_challenge
    from storage.survey_files import import_surveys
    from storage.surveys import open_survey

    async with sessionmaker.begin() as session:
        challenge = await create_challenge(
            session,
            texts={
                "en": {
                    "title": "Breaking the isolation of older people",
                    "description": "Many older people live alone: let us visit and call them.",
                },
                "fr": {
                    "title": "Rompre l'isolement des personnes âgées",
                    "description": "Beaucoup de personnes âgées vivent seules : rendons-leur "
                    "visite, appelons-les.",
                },
            },
            theme_code="older_people",
            arrondissements=[],
            starts_on=date(2025, 3, 1),
            ends_on=date(2030, 6, 30),
            contribution_kinds=["time", "skills"],
            activities=[
                {
                    "code": "visits",
                    "texts": {"en": "Visits", "fr": "Visites"},
                    "on_site": True,
                    "remote": False,
                    "hours_per_month": 4,
                }
            ],
            author_telegram_id=COORDINATOR,
        )
        challenge.slug = SLUG  # the same link in every database
        await open_challenge(session, challenge.id, COORDINATOR, now=NOW, timezone="Europe/Paris")
        (survey,) = await import_surveys(session, [SURVEY], COORDINATOR)
        await open_survey(session, survey.id, COORDINATOR, NOW)
        return challenge.slug, survey.id


# What the person does: ("send", text) or ("press", the button's label); "invite" stands for
# the survey's invitation arriving (sent by the coordinators' side, not an update).
def steps(slug: str) -> list[tuple[str, str]]:
    return [
        ("send", "/start"),
        ("press", "English"),
        ("press", "I have read it, continue"),
        ("press", "Citizen"),
        ("press", "3"),
        ("press", "Culture"),
        ("press", "Done"),
        ("press", "No"),
        ("press", "No, thanks"),
        ("press", "Report a need"),
        ("press", "Housing"),
        ("press", "Arrondissement 3"),
        ("send", NEED),
        ("press", "Skip"),
        ("press", "Send"),
        ("press", "Back to the menu"),
        ("press", "Propose an initiative"),
        ("press", "Older people and isolation"),
        ("press", "Arrondissement 3"),
        ("send", TITLE),
        ("send", DESCRIPTION),
        ("press", "Skip"),
        ("press", "Skip"),
        ("press", "Send my proposal"),
        ("send", f"/start c_{slug}"),
        ("press", "Join"),
        ("press", "Volunteers' time"),
        ("press", "Visits"),
        ("send", BRINGS),
        ("invite", ""),
        ("press", "Start"),
        ("press", "4"),
        ("press", "Yes"),
        ("send", "12"),
        ("press", "By phone"),
        ("send", "/mydata"),
    ]


async def people(
    sessionmaker: async_sessionmaker[AsyncSession], survey_id: int, telegram_ids: list[int]
) -> None:
    """People who once wrote to the bot (their Telegram id and language only, as at first
    contact), already invited to the survey — the invitation needs their row."""
    from sqlalchemy import insert, select

    from storage.models import SurveyInvitation, User

    async with sessionmaker.begin() as session:
        for start in range(0, len(telegram_ids), 5000):
            chunk = telegram_ids[start : start + 5000]
            await session.execute(
                insert(User),
                [
                    {"telegram_id": t, "locale": "fr", "created_at": NOW, "last_seen_at": NOW}
                    for t in chunk
                ],
            )
            ids = await session.scalars(select(User.id).where(User.telegram_id.in_(chunk)))
            await session.execute(
                insert(SurveyInvitation),
                [{"survey_id": survey_id, "user_id": i, "invited_at": NOW} for i in ids],
            )


@dataclass
class Step:
    kind: str  # "send" or "press"
    value: str  # the text, or the callback data
    pressed: dict[str, Any] | None = None  # the message the button was on, as rehearsed


@dataclass
class Script:
    steps: list[Step] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)

    def messages(self, user_id: int) -> list[dict[str, Any]]:
        """The messages this person presses buttons on, for Telegram to know beforehand."""
        chat = private_chat(make_user(user_id, language_code="fr"))
        found = []
        for index, step in enumerate(self.steps):
            if step.pressed is not None:
                message = copy.deepcopy(step.pressed)
                message["chat"] = chat
                message["message_id"] = 1_000_000 + index
                found.append(message)
        return found

    def update(self, factory: StandIn, user_id: int, index: int) -> dict[str, Any]:
        """The person's `index`-th update, with a new update id from `factory`."""
        user = make_user(user_id, language_code="fr")
        step = self.steps[index]
        if step.kind == "send":
            return factory.message_update(user, step.value)
        assert step.pressed is not None
        message = copy.deepcopy(step.pressed)
        message["chat"] = private_chat(user)
        message["message_id"] = 1_000_000 + index
        return factory.callback_update(user, message, step.value)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def rehearse(url: str, token: str) -> Script:
    """One person through `steps` with the real bot and an in-process stand-in."""
    from bot.config import Settings
    from bot.factory import create_bot, create_dispatcher
    from bot.i18n import create_i18n
    from handlers.surveys.invitation import invitation
    from storage.db import create_engine, create_sessionmaker
    from storage.surveys import get_survey

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    slug, survey_id = await seed(sessionmaker)
    settings = Settings(_env_file=None, database_url=url, flood_messages=1000)  # type: ignore[call-arg]
    i18n = create_i18n()
    script = Script()
    async with StandIn(token=token) as standin:
        bot = create_bot(token, standin.base_url)
        dp = create_dispatcher(settings, sessionmaker, i18n)
        user = standin.make_user(1, language_code="fr")
        standin.add_chat(private_chat(user))
        await people(sessionmaker, survey_id, [user["id"]])
        for kind, value in steps(slug):
            if kind == "invite":
                async with sessionmaker() as session:
                    survey = await get_survey(session, survey_id)
                    assert survey is not None
                    with i18n.context(), i18n.use_locale("en"):
                        text, markup = invitation(survey, "en")
                await bot.send_message(user["id"], text, reply_markup=markup)
                continue
            if kind == "send":
                update = standin.message_update(user, value)
                script.steps.append(Step("send", value))
            else:
                shown = [
                    m
                    for m in standin.chat_messages(user["id"])
                    if m.get("from", {}).get("is_bot") and m.get("reply_markup")
                ]
                assert shown, f"no buttons before {value!r}"
                message = shown[-1]
                labels = [b["text"] for b in _buttons(message)]
                found = [b for b in _buttons(message) if b["text"] == value] or [
                    b for b in _buttons(message) if value in b["text"]
                ]
                assert found, f"no button {value!r} in {labels}"
                data = found[0]["callback_data"]
                script.steps.append(Step("press", data, message))
                update = standin.callback_update(user, message, data)
            await dp.feed_raw_update(bot, update)
        await dp.storage.close()
        await bot.session.close()
    await engine.dispose()
    return script
