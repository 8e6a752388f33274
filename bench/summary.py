"""How long the daily summary takes to compute on a year of a big city's activity, on SQLite.

Built first, not measured: 100,000 people, 20,000 needs, 5,000 initiatives (with their
moderation decisions), 50,000 participations in 20 challenges, 100,000 survey responses holding
1,000,000 answers, 200,000 outbox rows, spread over the 365 days before the summary's day.
Rows are written with sqlite3's executemany, in the format SQLAlchemy reads back.

Measured: what the daily job computes — the day's figures and the day before's, what waits for a
decision, the 14 days of the dashboard, the message's text and the picture. `seconds` is the
first run (the job runs once a day: no warm cache of ours to count on); `best_seconds` the best
of `--runs`. Options: `--people N` scales every table with it (default 100,000).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.i18n import create_i18n
from storage.dashboard import dashboard_png
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.summary import activity, daily_figures

DAY = date(2026, 11, 15)
SUMMARY_TIME = clock_time(18, 0)
NOW = datetime(2026, 11, 15, 17, 5, tzinfo=UTC)  # 18:05 in Paris
SPAN = timedelta(days=365)
THEMES = ("solidarity", "older_people", "housing", "education", "poverty", "culture", "ecology")
ROLES = ("citizen", "citizen", "citizen", "association", "company", "institution")


def stamp(moment: datetime) -> str:
    """As SQLAlchemy writes a UTC datetime into SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class Times:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.start = NOW - SPAN

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.rng.uniform(0, SPAN.total_seconds()))


def build(path: Path, people: int) -> dict[str, int]:
    rng = random.Random(6)
    when = Times(rng)
    scale = people / 100_000
    sizes = {
        "people": people,
        "needs": int(20_000 * scale),
        "initiatives": int(5_000 * scale),
        "participations": int(50_000 * scale),
        "responses": int(100_000 * scale),
        "answers_per_response": 10,
        "outbox": int(200_000 * scale),
    }
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA foreign_keys=OFF")
    json_empty = "{}"

    def users() -> Iterator[tuple[Any, ...]]:
        for number in range(1, people + 1):
            joined = when()
            consent = stamp(joined) if rng.random() < 0.3 else None
            yield (
                number,
                10_000_000 + number,
                "fr",
                rng.choice(ROLES),
                rng.randint(1, 16),
                1,
                stamp(joined),
                consent,
                stamp(joined),
                1,
                stamp(joined),
                stamp(joined),
                stamp(joined),
            )

    db.executemany(
        "INSERT INTO users (id, telegram_id, locale, role, arrondissement, notice_version, "
        "notice_accepted_at, contact_consent_at, onboarded_at, active, created_at, updated_at, "
        "last_seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        users(),
    )
    db.executemany(
        "INSERT INTO user_themes (user_id, theme_code) VALUES (?, ?)",
        ((number, rng.choice(THEMES)) for number in range(1, people + 1)),
    )
    db.executemany(
        "INSERT INTO needs (reporter_id, theme_code, arrondissement, text, created_at, status, "
        "link_confirmed) VALUES (?,?,?,?,?,'open',0)",
        (
            (
                rng.randint(1, people),
                rng.choice(THEMES),
                rng.randint(1, 16),
                "Une personne âgée seule a besoin de visites.",
                stamp(when()),
            )
            for _ in range(sizes["needs"])
        ),
    )
    initiatives, audits = [], []
    for number in range(1, sizes["initiatives"] + 1):
        submitted = when()
        status = rng.choice(("pending", "approved", "approved", "rejected", "changes_requested"))
        decided = (
            None
            if status == "pending"
            else min(submitted + timedelta(hours=rng.randint(1, 72)), NOW)
        )
        initiatives.append(
            (
                number,
                rng.randint(1, people),
                "Visites de quartier",
                "Des visites chaque semaine aux personnes âgées du quartier.",
                rng.choice(THEMES),
                rng.randint(1, 16),
                0,
                status,
                None if decided is None else stamp(decided),
                stamp(submitted),
                stamp(submitted),
                stamp(submitted),
            )
        )
        if decided is not None:
            action = {"approved": "approve", "rejected": "reject"}.get(status, "changes")
            audits.append(
                (42, f"initiative.{action}", "initiative", number, json_empty, stamp(decided))
            )
    db.executemany(
        "INSERT INTO initiatives (id, proposer_id, title, description, theme_code, "
        "arrondissement, contact_consent, status, decided_at, submitted_at, created_at, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        initiatives,
    )
    db.executemany(
        "INSERT INTO audit (actor_telegram_id, action, object_type, object_id, details, "
        "created_at) VALUES (?,?,?,?,?,?)",
        audits,
    )
    challenges = 20
    db.executemany(
        "INSERT INTO challenges (id, slug, texts, theme_code, arrondissements, "
        "contribution_kinds, activities, status, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            (
                number,
                f"c{number:04d}",
                json.dumps({"fr": {"title": f"Défi {number}", "description": "…"}}),
                rng.choice(THEMES),
                "[]",
                '["time"]',
                "[]",
                "open",
                stamp(NOW - SPAN),
                stamp(NOW - SPAN),
            )
            for number in range(1, challenges + 1)
        ),
    )
    pairs = rng.sample(range(challenges * people), sizes["participations"])

    def participations() -> Iterator[tuple[Any, ...]]:
        for pair in pairs:
            joined = when()
            left = joined + timedelta(days=rng.randint(1, 60)) if rng.random() < 0.1 else None
            yield (
                pair % challenges + 1,
                pair // challenges + 1,
                "time",
                stamp(joined),
                None if left is None or left > NOW else stamp(left),
            )

    db.executemany(
        "INSERT INTO participations (challenge_id, user_id, kind, joined_at, left_at) "
        "VALUES (?,?,?,?,?)",
        participations(),
    )
    db.executemany(
        "INSERT INTO introductions (challenge_id, requester_id, target_id, status, created_at, "
        "answered_at) VALUES (?,?,?,?,?,?)",
        (
            (
                rng.randint(1, challenges),
                number,
                number + 1,
                "accepted" if number % 2 else "asked",
                stamp(asked := when()),
                stamp(min(asked + timedelta(hours=5), NOW)) if number % 2 else None,
            )
            for number in range(1, int(2_000 * scale) + 1)
        ),
    )
    db.executemany(
        "INSERT INTO challenge_alerts (challenge_id, user_id, created_at) VALUES (?,?,?)",
        (
            (number % challenges + 1, number, stamp(when()))
            for number in range(1, int(20_000 * scale) + 1)
        ),
    )
    surveys, per_survey = 10, 10
    db.executemany(
        "INSERT INTO surveys (id, series, wave, texts, audience, status, created_at) "
        "VALUES (?,?,?,?,?,?,?)",
        (
            (
                number,
                "isolement",
                number,
                json.dumps({"fr": {"title": f"Enquête {number}"}}),
                json_empty,
                "open",
                stamp(NOW - SPAN),
            )
            for number in range(1, surveys + 1)
        ),
    )
    db.executemany(
        "INSERT INTO survey_questions (id, survey_id, position, code, kind, texts, options, "
        "required, key_figure) VALUES (?,?,?,?,?,?,?,?,0)",
        (
            (
                (survey - 1) * per_survey + position,
                survey,
                position,
                f"q{position}",
                "scale",
                json.dumps({"fr": {"text": "Comment allez-vous ?"}}),
                "[]",
                1,
            )
            for survey in range(1, surveys + 1)
            for position in range(1, per_survey + 1)
        ),
    )
    responses = []
    for number in range(1, sizes["responses"] + 1):
        started = when()
        done = started + timedelta(minutes=5)
        responses.append(
            (
                number,
                number % surveys + 1,
                (number - 1) // surveys + 1,
                rng.randint(1, 16),
                stamp(started),
                stamp(done) if rng.random() < 0.9 and done <= NOW else None,
            )
        )
    db.executemany(
        "INSERT INTO survey_responses (id, survey_id, user_id, arrondissement, started_at, "
        "completed_at) VALUES (?,?,?,?,?,?)",
        responses,
    )

    def answers() -> Iterator[tuple[Any, ...]]:
        for number, survey, _user, _place, started, _done in responses:
            for position in range(1, per_survey + 1):
                yield (
                    number,
                    (survey - 1) * per_survey + position,
                    float(rng.randint(1, 5)),
                    0,
                    started,
                )

    db.executemany(
        "INSERT INTO survey_answers (response_id, question_id, value_number, skipped, "
        "answered_at) VALUES (?,?,?,?,?)",
        answers(),
    )

    def outbox() -> Iterator[tuple[Any, ...]]:
        for _ in range(sizes["outbox"]):
            created = when()
            failed = rng.random() < 0.01
            yield (
                10_000_000 + rng.randint(1, people),
                "sendMessage",
                '{"text": "…"}',
                "failed" if failed else "sent",
                1,
                stamp(created),
                stamp(created),
                None if failed else stamp(created + timedelta(seconds=2)),
                stamp(created + timedelta(seconds=2)) if failed else None,
            )

    db.executemany(
        "INSERT INTO outbox (chat_id, method, payload, status, attempts, not_before, "
        "created_at, sent_at, failed_at) VALUES (?,?,?,?,?,?,?,?,?)",
        outbox(),
    )
    db.commit()
    # As the bot's own writes leave it: the write-ahead log folded into the database.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {**sizes, "answers": sizes["responses"] * per_survey}


async def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench summary")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    # Reading the catalogs is start-up work, not the summary's.
    i18n = create_i18n()
    from handlers.summary.texts import Labels, dashboard_caption, dashboard_texts, summary_text

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade(url)
        started = time.perf_counter()
        sizes = build(path, args.people)
        build_seconds = time.perf_counter() - started
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
        timings = []
        for _ in range(max(args.runs, 1)):
            started = time.perf_counter()
            async with sessionmaker() as session:
                figures = await daily_figures(
                    session, DAY, settings.timezone, cutoff=SUMMARY_TIME, now=NOW, waiting_at=NOW
                )
                figures_done = time.perf_counter()
                days = await activity(
                    session, DAY, settings.timezone, cutoff=SUMMARY_TIME, now=NOW
                )
            activity_done = time.perf_counter()
            labels = Labels("fr", today=DAY)
            with i18n.context(), i18n.use_locale("fr"):
                text = summary_text(figures, labels, settings, late=False)
                dashboard_caption(days, labels)
                words = dashboard_texts(days, labels)
            picture = dashboard_png(days, words)
            done = time.perf_counter()
            timings.append(
                (
                    done - started,
                    figures_done - started,
                    activity_done - figures_done,
                    done - activity_done,
                )
            )
        await engine.dispose()
    first = timings[0]
    return {
        **sizes,
        "build_seconds": round(build_seconds, 1),
        "day_people": figures.counts.people,
        "day_needs": figures.counts.needs,
        "day_responses": figures.counts.responses,
        "text_chars": len(text),
        "picture_bytes": len(picture),
        "figures_seconds": round(first[1], 3),
        "activity_seconds": round(first[2], 3),
        "render_seconds": round(first[3], 3),
        "best_seconds": round(min(t[0] for t in timings), 3),
        "seconds": round(first[0], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
