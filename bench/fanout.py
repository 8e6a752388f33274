"""How long opening a challenge takes to fan its alert out: selecting the recipients and writing
their outbox rows and alert rows, in one transaction, on SQLite in a temporary file.

The database holds `--recipients` people who match (theme, alerts on, onboarded, active) and
`--others` who do not, spread over the reasons to skip someone: another theme, alerts off,
blocked the bot, no notice, not onboarded, already at the monthly cap. Only the fan-out is
timed, through the storage path: `alert_recipients` (one query), then `enqueue_alerts` (the
alert's text and Join/Stop buttons per language, `alert_time`, one bulk insert of outbox rows,
one of alert rows). Options: `--recipients N` (default 10,000), `--others N` (default 10,000).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from storage.challenge_alerts import alert_recipients, enqueue_alerts
from storage.challenges import create_challenge, get_challenge, open_challenge
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.models import ChallengeAlert, OutboxMessage, User, UserTheme
from storage.privacy import NOTICE_VERSION

THEME = "older_people"
TIMEZONE = "Europe/Paris"
# 10:00 in Paris: outside the quiet hours, so the alerts are due at once.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ALERT = {
    "fr": "📣 Nouveau défi : <b>Rompre l'isolement des personnes âgées</b>\n\n{description}",
    "en": "📣 New challenge: <b>Fighting the isolation of older people</b>\n\n{description}",
    "ar": "📣 تحدٍّ جديد: <b>كسر عزلة كبار السن</b>\n\n{description}",
}
DESCRIPTION = "Visites, appels, sorties, courses, aide numérique : chacun peut aider. " * 4


def _person(number: int, **changes: Any) -> dict[str, Any]:
    person = {
        "telegram_id": 1_000_000 + number,
        "locale": ("fr", "en", "ar")[number % 3],
        "role": "citizen",
        "arrondissement": number % 16 + 1,
        "notice_version": NOTICE_VERSION,
        "notice_accepted_at": NOW - timedelta(days=90),
        "alerts_consent_at": NOW - timedelta(days=90),
        "onboarded_at": NOW - timedelta(days=90),
        "active": True,
        "created_at": NOW - timedelta(days=90),
        "updated_at": NOW - timedelta(days=90),
        "last_seen_at": NOW - timedelta(days=1),
    }
    return person | changes


async def _populate(sessionmaker: Any, recipients: int, others: int) -> int:
    """The people, and two challenges alerted last week (for the capped ones); the new
    challenge's id."""
    reasons: list[tuple[dict[str, Any], str]] = [
        ({}, "solidarity"),  # another theme
        ({"alerts_consent_at": None}, THEME),
        ({"active": False}, THEME),
        ({"notice_version": None, "notice_accepted_at": None}, THEME),
        ({"onboarded_at": None}, THEME),
        ({}, THEME),  # at the cap: alerted twice this month
    ]
    groups = [([_person(n) for n in range(recipients)], THEME)]
    for index, (changes, theme) in enumerate(reasons):
        numbers = range(recipients + index, recipients + others, len(reasons))
        groups.append(([_person(n, **changes) for n in numbers], theme))
    async with sessionmaker.begin() as session:
        ids: list[list[int]] = []
        # One insert per group: rows with the same columns set go in batches together.
        for people, theme in groups:
            ids.append(list(await session.scalars(insert(User).returning(User.id), people)))
            await session.execute(
                insert(UserTheme), [{"user_id": i, "theme_code": theme} for i in ids[-1]]
            )
        for _ in range(2):
            earlier = await _challenge(session, "Un défi passé")
            await session.execute(
                insert(ChallengeAlert),
                [
                    {"challenge_id": earlier.id, "user_id": i, "created_at": NOW - timedelta(7)}
                    for i in ids[-1]
                ],
            )
        challenge = await _challenge(session, "Rompre l'isolement des personnes âgées")
        await open_challenge(session, challenge.id, 42, now=NOW, timezone=TIMEZONE)
        return challenge.id


async def _challenge(session: Any, title: str) -> Any:
    return await create_challenge(
        session,
        texts={"fr": {"title": title, "description": DESCRIPTION}},
        theme_code=THEME,
        arrondissements=[],
        starts_on=None,
        ends_on=None,
        contribution_kinds=["time", "skills"],
        activities=[],
        author_telegram_id=42,
    )


def _alert(challenge_id: int) -> Any:
    """What the handler gives for each person: one text per language, one keyboard."""
    keyboard = {
        "inline_keyboard": [
            [{"text": "Rejoindre", "callback_data": f"cj:{challenge_id}"}],
            [{"text": "Ne plus recevoir ces alertes", "callback_data": "al:0"}],
        ]
    }
    texts = {locale: text.format(description=DESCRIPTION) for locale, text in ALERT.items()}

    def message(user: User) -> tuple[str, dict[str, Any]]:
        return texts[user.locale], keyboard

    return message


async def fan_out(sessionmaker: Any, challenge_id: int) -> tuple[int, float]:
    """What opening the challenge does after the status change, in one transaction; the
    number alerted and the seconds spent selecting them."""
    async with sessionmaker.begin() as session:
        challenge = await get_challenge(session, challenge_id)
        assert challenge is not None
        started = time.perf_counter()
        recipients = await alert_recipients(session, challenge, NOW)
        selecting = time.perf_counter() - started
        await enqueue_alerts(
            session, challenge, recipients, _alert(challenge.id), now=NOW, timezone=TIMEZONE
        )
        return len(recipients), selecting


async def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench fanout")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        challenge_id = await _populate(sessionmaker, args.recipients, args.others)
        started = time.perf_counter()
        alerted, selecting = await fan_out(sessionmaker, challenge_id)
        seconds = time.perf_counter() - started
        async with sessionmaker() as session:
            rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
            alerts = await session.scalar(
                select(func.count()).where(ChallengeAlert.challenge_id == challenge_id)
            )
        await engine.dispose()
    if not alerted == rows == alerts == args.recipients:
        raise AssertionError(f"{alerted} selected, {rows} messages, {alerts} alerts")
    return {
        "recipients": alerted,
        "others": args.others,
        "seconds": round(seconds, 3),
        "selecting_seconds": round(selecting, 3),
        "per_recipient_us": round(1e6 * seconds / max(alerted, 1), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
