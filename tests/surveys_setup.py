"""Surveys for the tests: the respondents' survey (SURVEY, made of `both` languages) and people
to answer it; the coordinators' survey on a challenge (`survey_item`), the city that takes part
in it (`city`) and answers written through storage (`answered`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.standin.updates import private_chat
from storage.challenges import create_challenge, join, leave
from storage.models import Challenge, ChallengeStatus, Role, User
from storage.privacy import NOTICE_VERSION, accept_notice
from storage.survey_files import import_surveys
from storage.surveys import answer, complete_if_done, get_survey, questions_of, start_response
from storage.users import (
    complete_onboarding,
    get_or_create_user,
    set_arrondissement,
    set_role,
    set_themes,
)
from tests.conversation import Harness, Person

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COORDINATOR = 42
TIMEZONE = "Europe/Paris"


def both(en: str, fr: str, **extra: tuple[str, str]) -> dict[str, dict[str, str]]:
    return {
        "en": {"text": en, **{key: pair[0] for key, pair in extra.items()}},
        "fr": {"text": fr, **{key: pair[1] for key, pair in extra.items()}},
    }


def option(code: str, en: str, fr: str) -> dict[str, Any]:
    return {"code": code, "texts": {"en": en, "fr": fr}}


SURVEY = {
    "series": "isolation",
    "texts": {
        "en": {
            "title": "Isolation check",
            "intro": "Six short questions <about> your visits.",
            "thanks": "Thanks a lot, neighbour!",
        },
        "fr": {
            "title": "Point isolement",
            "intro": "Six questions courtes sur vos visites.",
            "thanks": "Merci beaucoup, voisin !",
        },
    },
    "questions": [
        {
            "code": "lonely",
            "kind": "scale",
            "texts": both(
                "How lonely do the people you visit feel?",
                "À quel point les personnes visitées se sentent-elles seules ?",
                low=("Not at all", "Pas du tout"),
                high=("Very", "Très"),
            ),
        },
        {
            "code": "visited",
            "kind": "yes_no",
            "texts": both(
                "Did you visit anyone this month?", "Avez-vous rendu visite ce mois-ci ?"
            ),
        },
        {
            "code": "visits",
            "kind": "number",
            "min": 1,
            "max": 100,
            "show_if": {"question": "visited", "equals": "yes"},
            "texts": both("How many visits?", "Combien de visites ?", unit=("visits", "visites")),
        },
        {
            "code": "channel",
            "kind": "single",
            "texts": both("How do you keep in touch?", "Comment gardez-vous le contact ?"),
            "options": [
                option("phone", "By phone", "Par téléphone"),
                option("door", "At their door", "À leur porte"),
                option("letter", "By letter", "Par courrier"),
            ],
        },
        {
            "code": "needs",
            "kind": "multiple",
            "required": False,
            "texts": both("What do they need most?", "De quoi ont-ils le plus besoin ?"),
            "options": [
                option("shopping", "Shopping", "Courses"),
                option("company", "Company", "Compagnie"),
                option("paperwork", "Paperwork", "Papiers"),
            ],
        },
        {
            "code": "comment",
            "kind": "text",
            "required": False,
            "texts": both("Anything to add?", "Autre chose à ajouter ?"),
        },
    ],
}


async def citizen(
    harness: Harness, telegram_id: int = 1001, locale: str = "en", arrondissement: int = 3
) -> Person:
    """Someone who acknowledged the notice and finished onboarding, stored directly."""
    async with harness.sessionmaker.begin() as session:
        user = await get_or_create_user(session, telegram_id, locale)
        accept_notice(user)
        set_role(user, Role.citizen)
        set_arrondissement(user, arrondissement)
        await set_themes(session, user, ["older_people"])
        complete_onboarding(user)
    person = harness.person(telegram_id, language_code=locale)
    harness.standin.add_chat(private_chat(person.user))  # they started the bot long ago
    return person


MORNING = datetime(2027, 3, 10, 10, 0, tzinfo=UTC)
TITLES = {"fr": "Isolement des aînés", "en": "Isolation of older people", "ar": "عزلة كبار السن"}


def tr(fr: str, en: str, ar: str, **more: tuple[str, str, str]) -> dict[str, dict[str, str]]:
    texts = {"fr": {"text": fr}, "en": {"text": en}, "ar": {"text": ar}}
    for key, (f, e, a) in more.items():
        texts["fr"][key], texts["en"][key], texts["ar"][key] = f, e, a
    return texts


def options(*codes: str) -> list[dict[str, Any]]:
    return [
        {"code": code, "texts": {"fr": f"{code} (fr)", "en": f"{code} (en)", "ar": f"{code} (ar)"}}
        for code in codes
    ]


def survey_item(challenge_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "series": "isolement",
        "challenge": challenge_id,
        "texts": {
            locale: {"title": title, "intro": "…", "thanks": f"Merci ({locale})"}
            for locale, title in TITLES.items()
        },
        "questions": [
            {
                "code": "lonely",
                "kind": "scale",
                "key_figure": True,
                "texts": tr(
                    "Vous sentez-vous seul ?",
                    "Do you feel lonely?",
                    "هل تشعر بالوحدة؟",
                    low=("Jamais", "Never", "أبدا"),
                    high=("Toujours", "Always", "دائما"),
                ),
            },
            {"code": "visited", "kind": "yes_no", "texts": tr("Visité ?", "Visited?", "زيارة؟")},
            {
                "code": "visits",
                "kind": "number",
                "min": 0,
                "max": 100,
                "key_figure": True,
                "show_if": {"question": "visited", "equals": "yes"},
                "texts": tr(
                    "Combien de visites ?",
                    "How many visits?",
                    "كم زيارة؟",
                    unit=("visites", "visits", "زيارات"),
                ),
            },
            {
                "code": "how",
                "kind": "single",
                "options": options("phone", "home"),
                "texts": tr("Comment ?", "How?", "كيف؟"),
            },
            {
                "code": "comment",
                "kind": "text",
                "required": False,
                "texts": tr("Un mot ?", "A word?", "كلمة؟"),
            },
        ],
        **extra,
    }


def person(telegram_id: int, locale: str, arrondissement: int = 3, active: bool = True) -> User:
    """Someone who went through onboarding."""
    return User(
        telegram_id=telegram_id,
        locale=locale,
        role=Role.citizen,
        arrondissement=arrondissement,
        notice_version=NOTICE_VERSION,
        notice_accepted_at=MORNING,
        onboarded_at=MORNING,
        active=active,
    )


async def challenge(harness: Harness) -> int:
    async with harness.sessionmaker.begin() as session:
        found = await create_challenge(
            session,
            texts={
                "fr": {
                    "title": "Rompre l'isolement",
                    "description": "Visites et appels aux aînés isolés.",
                }
            },
            theme_code="older_people",
            arrondissements=[3, 13],
            starts_on=date(2027, 3, 1),
            ends_on=date(2027, 12, 31),
            contribution_kinds=["time"],
            activities=[],
            author_telegram_id=42,
        )
        found.status = ChallengeStatus.open
        return found.id


# Six participants (fr, en, ar; five in the 3rd, one in the 13th), and who is not asked.
PARTICIPANTS = {2001: "fr", 2002: "en", 2003: "ar", 2004: "fr", 2005: "fr", 2006: "en"}


async def city(harness: Harness) -> dict[str, Any]:
    challenge_id = await challenge(harness)
    async with harness.sessionmaker.begin() as session:
        found = await session.get(Challenge, challenge_id)
        assert found is not None
        users = {
            telegram_id: person(telegram_id, locale, 13 if telegram_id == 2006 else 3)
            for telegram_id, locale in PARTICIPANTS.items()
        }
        gone, blocked = person(2007, "fr"), person(2009, "en", active=False)
        session.add_all([*users.values(), gone, blocked, person(2008, "fr")])  # 2008 takes no part
        await session.flush()
        for user in [*users.values(), gone, blocked]:
            await join(session, found, user, kind="time", text=None, timezone=TIMEZONE)
        await leave(session, found, gone)
        return {"challenge": challenge_id, "users": {t: u.id for t, u in users.items()}}


async def imported(harness: Harness, challenge_id: int, **extra: Any) -> int:
    async with harness.sessionmaker.begin() as session:
        (survey,) = await import_surveys(session, [survey_item(challenge_id, **extra)])
        return survey.id


async def answered(
    harness: Harness,
    survey_id: int,
    user_id: int,
    *,
    lonely: int = 3,
    visits: int = 4,
    comment: str | None = None,
    finish: bool = True,
) -> None:
    async with harness.sessionmaker.begin() as session:
        survey = await get_survey(session, survey_id)
        user = await session.get(User, user_id)
        assert survey is not None and user is not None
        response = await start_response(session, survey, user, MORNING)
        questions = {q.code: q for q in await questions_of(session, survey_id)}
        await answer(session, response, questions["lonely"], value_number=lonely)
        if not finish:
            return
        await answer(session, response, questions["visited"], option_codes=["yes"])
        await answer(session, response, questions["visits"], value_number=visits)
        await answer(session, response, questions["how"], option_codes=["phone"])
        await answer(session, response, questions["comment"], value_text=comment or "Bien")
        assert await complete_if_done(session, response, MORNING)
