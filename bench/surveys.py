"""How fast a big impact survey's results come out: aggregates and the summary chart on SQLite.

A survey of eleven questions of every kind (three scales, two yes/no, a single choice, two
multiple choices, two numbers, a free text; a yes/no and a multiple choice shown only after a
"yes"; some optional) gets `--responses N` complete responses (default 100,000, about 1.2
million answers) and 5 % more unfinished ones, written with executemany in batches of 10,000
people; that is not measured. Then
`survey_results` (median of `--repeat` runs, and the first one, with SQLAlchemy's statement
cache and SQLite's page cache still cold), one arrondissement's results, the summary chart and
the CSV export are timed.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.survey_charts import summary_chart
from storage.survey_export import answers_csv
from storage.survey_results import survey_results

SURVEY_ID = 1
SCALE_WEIGHTS = (1, 2, 4, 3, 2)
OPTIONS = ("club", "visits", "phone", "meals")
ACTIVITIES = ("walks", "games", "reading", "music", "garden", "digital")
# (code, kind, options, required, show_if, key figure)
QUESTIONS: tuple[tuple[str, str, tuple[str, ...], bool, Any, bool], ...] = (
    ("lonely", "scale", (), True, None, True),
    ("left_out", "scale", (), True, None, True),
    ("isolated", "scale", (), True, None, False),
    ("new_contacts", "yes_no", ("yes", "no"), True, None, True),
    ("how_met", "single", OPTIONS, True, None, False),
    ("activities", "multiple", ACTIVITIES, True, None, False),
    (
        "more_often",
        "yes_no",
        ("yes", "no"),
        True,
        {"question": "new_contacts", "equals": "yes"},
        False,
    ),
    (
        "with_whom",
        "multiple",
        ("family", "friends", "neighbours", "volunteers"),
        False,
        {"question": "new_contacts", "equals": "yes"},
        False,
    ),
    ("visits", "number", (), True, None, True),
    ("hours", "number", (), False, None, False),
    ("comment", "text", (), False, None, False),
)


def _stamp(moment: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format (UTC).
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def _insert(connection: AsyncConnection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await connection.exec_driver_sql(sql, rows)


def _answers(
    rnd: random.Random, response_id: int, now: str, upto: int
) -> Iterator[tuple[Any, ...]]:
    """(response, question, number, option, text, skipped, answered_at) rows of one person."""
    met = False
    for question_id, (code, kind, options, required, show_if, _key) in enumerate(
        QUESTIONS[:upto], start=1
    ):
        if show_if is not None and not met:
            continue
        if kind == "scale":
            value = rnd.choices(range(1, 6), SCALE_WEIGHTS)[0]
            yield (response_id, question_id, value, None, None, 0, now)
        elif kind == "yes_no":
            yes = rnd.random() < 0.6
            met = met or (code == "new_contacts" and yes)
            yield (
                response_id,
                question_id,
                1.0 if yes else 0.0,
                "yes" if yes else "no",
                None,
                0,
                now,
            )
        elif kind == "single":
            yield (response_id, question_id, None, rnd.choice(options), None, 0, now)
        elif kind == "multiple":
            if not required and rnd.random() < 0.15:
                yield (response_id, question_id, None, None, None, 1, now)
                continue
            for option in rnd.sample(options, rnd.randint(1, 3)):
                yield (response_id, question_id, None, option, None, 0, now)
        elif kind == "number":
            if not required and rnd.random() < 0.2:
                yield (response_id, question_id, None, None, None, 1, now)
            else:
                value = round(rnd.expovariate(1 / 8)) if code == "visits" else rnd.randint(0, 40)
                yield (response_id, question_id, value, None, None, 0, now)
        elif rnd.random() < 0.4:
            yield (
                response_id,
                question_id,
                None,
                None,
                f"remarque {rnd.randint(1, 5000)}",
                0,
                now,
            )
        else:
            yield (response_id, question_id, None, None, None, 1, now)


async def _generate(connection: AsyncConnection, responses: int, seed: int) -> int:
    rnd = random.Random(seed)
    now = _stamp(datetime.now(UTC))
    unfinished = responses // 20
    people = responses + unfinished + responses // 10  # some invited people never answer
    await connection.exec_driver_sql(
        "INSERT INTO surveys (id, series, wave, texts, audience, status, created_at) "
        "VALUES (?, 'bench', 1, '{}', '{}', 'closed', ?)",
        (SURVEY_ID, now),
    )
    await _insert(
        connection,
        "INSERT INTO survey_questions (id, survey_id, position, code, kind, texts, options, "
        "required, show_if, key_figure) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)",
        [
            (
                number,
                SURVEY_ID,
                number,
                code,
                kind,
                json.dumps([{"code": option, "texts": {}} for option in options]),
                required,
                None if show_if is None else json.dumps(show_if),
                key,
            )
            for number, (code, kind, options, required, show_if, key) in enumerate(
                QUESTIONS, start=1
            )
        ],
    )
    answers = 0
    batch = 10_000
    for start in range(1, people + 1, batch):
        ids = range(start, min(start + batch, people + 1))
        await _insert(
            connection,
            "INSERT INTO users (id, locale, arrondissement, active, created_at, updated_at, "
            "last_seen_at) VALUES (?, 'fr', ?, 1, ?, ?, ?)",
            [(i, rnd.randint(1, 16), now, now, now) for i in ids],
        )
        await _insert(
            connection,
            "INSERT INTO survey_invitations (survey_id, user_id, invited_at) VALUES (?, ?, ?)",
            [(SURVEY_ID, i, now) for i in ids],
        )
        answering = [i for i in ids if i <= responses + unfinished]
        await _insert(
            connection,
            "INSERT INTO survey_responses (id, survey_id, user_id, arrondissement, started_at, "
            "completed_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (i, SURVEY_ID, i, rnd.randint(1, 16), now, now if i <= responses else None)
                for i in answering
            ],
        )
        rows = [
            row
            for i in answering
            for row in _answers(rnd, i, now, len(QUESTIONS) if i <= responses else 5)
        ]
        await _insert(
            connection,
            "INSERT INTO survey_answers (response_id, question_id, value_number, option_code, "
            "value_text, skipped, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        answers += len(rows)
    return answers


async def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench surveys")
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        async with engine.begin() as connection:
            answers = await _generate(connection, args.responses, args.seed)
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                results = await survey_results(session, SURVEY_ID)
                timings.append(time.perf_counter() - started)
            started = time.perf_counter()
            local = await survey_results(session, SURVEY_ID, arrondissement=13)
            arrondissement_seconds = time.perf_counter() - started
            started = time.perf_counter()
            chart = summary_chart(results)
            chart_seconds = time.perf_counter() - started
            started = time.perf_counter()
            exported = await answers_csv(session, SURVEY_ID)
            csv_seconds = time.perf_counter() - started
        await engine.dispose()
    assert results.completed == args.responses and not local.suppressed
    return {
        "responses": results.completed,
        "unfinished": results.started - results.completed,
        "answers": answers,
        "questions": len(results.questions),
        "aggregate_seconds": round(statistics.median(timings), 4),
        "aggregate_first_seconds": round(timings[0], 4),
        "arrondissement_seconds": round(arrondissement_seconds, 4),
        "chart_seconds": round(chart_seconds, 4),
        "chart_bytes": len(chart),
        "csv_seconds": round(csv_seconds, 3),
        "csv_bytes": len(exported),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
