"""Retention, as the privacy notice promises it: people not seen for 24 months are warned a
month before, again a week before, then erased as /forget erases, unless they come back;
free-text answers are emptied 12 months after their survey closed; the outbox keeps what it sent
30 days; update ids are kept past Telegram's redelivery window only. Clocks are moved by hand:
each day's run is called with its own `now`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from aiogram import Bot
from babel.dates import format_date
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError, Settings, load_settings
from bot.i18n import CatalogI18n
from bot.jobs import JobContext
from handlers.privacy.jobs import JOB, enforce_retention, retain
from handlers.privacy.notice import notice_text
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    Initiative,
    InitiativeStatus,
    JobRun,
    Need,
    OutboxMessage,
    OutboxStatus,
    ProcessedUpdate,
    QuestionKind,
    Role,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
    User,
)
from storage.outbox import TextMessage, enqueue, failed_messages
from storage.privacy import NOTICE_VERSION, initiative_subject
from storage.retention import add_months
from storage.summary import counts, day_window, local_moment
from storage.survey_results import survey_results
from tests.conftest import TOKEN
from tests.conversation import Harness, plain
from tests.texts import t

Maker = async_sessionmaker[AsyncSession]
PARIS = "Europe/Paris"
# Last seen on 1 March 2024 at 09:00 in Paris: 24 months end on 1 March 2026, at 09:00, before
# that day's run (RETENTION_TIME, 10:00).
LAST_SEEN = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
MARKER = "Thé chez Fatima, 12 rue Paradis"


def run_time(day: date) -> datetime:
    """The day's run, at RETENTION_TIME in Paris."""
    return local_moment(day, time(10, 0), PARIS)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> Maker:
    return create_sessionmaker(engine)


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    # The jobs only write the outbox: the bot is never called.
    bot = Bot(TOKEN)
    yield bot
    await bot.session.close()


@pytest.fixture
def context(bot: Bot, sessionmaker: Maker, settings: Settings, i18n: CatalogI18n) -> JobContext:
    return JobContext(bot, sessionmaker, settings, i18n)


async def person(
    sessionmaker: Maker,
    telegram_id: int,
    *,
    last_seen: datetime = LAST_SEEN,
    locale: str = "fr",
    active: bool = True,
) -> int:
    """An onboarded person who reported a need, last seen at `last_seen`; their users.id."""
    async with sessionmaker.begin() as session:
        user = User(
            telegram_id=telegram_id,
            locale=locale,
            role=Role.citizen,
            arrondissement=1,
            notice_version=NOTICE_VERSION,
            notice_accepted_at=last_seen - timedelta(days=30),
            onboarded_at=last_seen - timedelta(days=30),
            created_at=last_seen - timedelta(days=30),
            last_seen_at=last_seen,
            active=active,
            organisation=None,
            theme_links=[],
        )
        session.add(user)
        await session.flush()
        session.add(
            Need(
                reporter_id=user.id,
                theme_code="culture",
                arrondissement=1,
                text=f"{MARKER} ({telegram_id})",
                created_at=last_seen - timedelta(days=20),
            )
        )
        return user.id


async def user_of(sessionmaker: Maker, user_id: int) -> User:
    async with sessionmaker() as session:
        found = await session.get(User, user_id)
        assert found is not None
        return found


async def warnings_to(sessionmaker: Maker, telegram_id: int) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == telegram_id, OutboxMessage.kind == "inactivity")
            .order_by(OutboxMessage.id)
        )
        return [plain(row.payload["text"]) for row in rows]


async def assert_erased(sessionmaker: Maker, user_id: int) -> None:
    """As /forget leaves a person: an anonymous row, and nothing they wrote."""
    user = await user_of(sessionmaker, user_id)
    assert user.erased_at is not None and user.telegram_id is None
    assert user.role is None and user.arrondissement is None and user.notice_accepted_at is None
    async with sessionmaker() as session:
        texts = (await session.scalars(select(Need.text).where(Need.reporter_id == user_id))).all()
        assert len(texts) == 1 and MARKER not in texts[0]  # the need still counts, wordless
        outbox = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id.is_not(None))
        )
        assert [row.id for row in outbox if row.user_id == user_id] == []


def first_warning(locale: str, last_visit: str, erased_on: str) -> str:
    return plain(
        t(
            locale,
            "You have not used La Collective's bot since {last_visit}. As our privacy notice "
            "says, your account and what you shared will be erased on {date}; what you "
            "contributed will remain only in anonymous totals.",
            last_visit=last_visit,
            date=erased_on,
        )
        + "\n\n"
        + t(locale, "To keep your account, just send any message here, for example /start.")
    )


def final_warning(locale: str, last_visit: str, erased_on: str) -> str:
    return plain(
        t(
            locale,
            "<b>Last reminder:</b> your La Collective account will be erased on {date}. You "
            "have not used this bot since {last_visit}.",
            last_visit=last_visit,
            date=erased_on,
        )
        + "\n\n"
        + t(locale, "To keep your account, just send any message here, for example /start.")
    )


# -- inactive people


async def test_warned_a_month_before_again_a_week_before_then_erased(
    context: JobContext, sessionmaker: Maker
) -> None:
    """Day by day from late January 2026: each event happens on its day, once."""
    someone = await person(sessionmaker, 5001)
    seen: dict[date, list[str]] = {}
    erased_on = None
    for day in days(date(2026, 1, 20), date(2026, 3, 5)):
        before = await warnings_to(sessionmaker, 5001)
        await enforce_retention(context, run_time(day))
        after = await warnings_to(sessionmaker, 5001)
        if len(after) > len(before):
            seen[day] = after[len(before) :]
        if erased_on is None and (await user_of(sessionmaker, someone)).erased_at is not None:
            erased_on = day
            await assert_erased(sessionmaker, someone)
    # 24 months end on 1 March: warned 30 days before, and 7 days before.
    assert seen.keys() == {date(2026, 1, 30), date(2026, 2, 22)}
    assert seen[date(2026, 1, 30)] == [first_warning("fr", "1er mars 2024", "1er mars 2026")]
    assert seen[date(2026, 2, 22)] == [final_warning("fr", "1er mars 2024", "1er mars 2026")]
    assert erased_on == date(2026, 3, 1)


async def test_erasure_is_forgets_cards_posted_long_ago_are_rewritten(
    context: JobContext, sessionmaker: Maker
) -> None:
    """Their proposal's card, posted to the coordinators' group in 2024, has long lost its
    content in the outbox; erased, its author's words are withdrawn from the group all the
    same."""
    someone = await person(sessionmaker, 5010, active=False)
    async with sessionmaker.begin() as session:
        initiative = Initiative(
            proposer_id=someone,
            title=MARKER,
            description=f"{MARKER}, tel 06 00 00 00 00",
            theme_code="culture",
            arrondissement=1,
            status=InitiativeStatus.approved,
            submitted_at=LAST_SEEN,
        )
        session.add(initiative)
        await session.flush()
        [card] = await enqueue(
            session,
            TextMessage(
                chat_id=-100500, text=f"<b>{MARKER}</b>", subject=initiative_subject(initiative.id)
            ),
        )
        card.status, card.sent_at, card.sent_message_id = OutboxStatus.sent, LAST_SEEN, 321
    await enforce_retention(context, run_time(date(2024, 4, 15)))
    async with sessionmaker() as session:
        assert (await session.get(OutboxMessage, card.id)).payload == {}  # type: ignore[union-attr]

    await enforce_retention(context, run_time(date(2026, 3, 1)))
    await assert_erased(sessionmaker, someone)
    async with sessionmaker() as session:
        stored = await session.get(Initiative, initiative.id)
        assert stored is not None and MARKER not in stored.title + stored.description
        edits = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.chat_id == -100500, OutboxMessage.id != card.id
                )
            )
        ).all()
    assert [(edit.payload["message_id"], plain(edit.payload["text"])) for edit in edits] == [
        (321, t("fr", "This content was withdrawn at its author's request."))
    ]


async def test_warnings_speak_the_persons_language(
    context: JobContext, sessionmaker: Maker
) -> None:
    await person(sessionmaker, 5002, locale="ar")
    await person(sessionmaker, 5003, locale="en")
    await enforce_retention(context, run_time(date(2026, 1, 30)))
    [arabic] = await warnings_to(sessionmaker, 5002)
    [english] = await warnings_to(sessionmaker, 5003)
    assert arabic == first_warning(
        "ar",
        format_date(date(2024, 3, 1), "long", locale="ar"),
        format_date(date(2026, 3, 1), "long", locale="ar"),
    )
    assert english == first_warning("en", "March 1, 2024", "March 1, 2026")


async def test_a_late_warning_gives_its_full_delay(
    context: JobContext, sessionmaker: Maker
) -> None:
    """The bot was not running in January and February: the warning comes late, and the
    erasure waits the warning's 30 days, not a day less. Summer time starts on 29 March: 30
    days from 10:00 on 10 March end at 11:00 on 9 April, after that day's run, so the erasure
    is announced for the 10th, and the last warning comes 7 days before that."""
    someone = await person(sessionmaker, 5004)
    await enforce_retention(context, run_time(date(2026, 3, 10)))
    assert (await user_of(sessionmaker, someone)).erased_at is None
    assert await warnings_to(sessionmaker, 5004) == [
        first_warning("fr", "1er mars 2024", "10 avril 2026")
    ]
    await enforce_retention(context, run_time(date(2026, 4, 2)))
    assert (await warnings_to(sessionmaker, 5004))[1:] == []
    await enforce_retention(context, run_time(date(2026, 4, 3)))
    assert (await warnings_to(sessionmaker, 5004))[1:] == [
        final_warning("fr", "1er mars 2024", "10 avril 2026")
    ]
    await enforce_retention(context, run_time(date(2026, 4, 9)))
    assert (await user_of(sessionmaker, someone)).erased_at is None
    await enforce_retention(context, run_time(date(2026, 4, 10)))
    await assert_erased(sessionmaker, someone)


async def test_someone_who_blocked_the_bot_is_erased_at_the_limit_without_a_warning(
    context: JobContext, sessionmaker: Maker
) -> None:
    blocked = await person(sessionmaker, 5005, active=False)
    await enforce_retention(context, run_time(date(2026, 1, 30)))
    await enforce_retention(context, run_time(date(2026, 2, 28)))
    assert (await user_of(sessionmaker, blocked)).erased_at is None
    await enforce_retention(context, run_time(date(2026, 3, 1)))
    await assert_erased(sessionmaker, blocked)
    assert await warnings_to(sessionmaker, 5005) == []


async def test_people_seen_recently_are_left_alone(
    context: JobContext, sessionmaker: Maker
) -> None:
    recent = await person(sessionmaker, 5006, last_seen=LAST_SEEN + timedelta(days=60))
    await enforce_retention(context, run_time(date(2026, 3, 1)))
    assert await warnings_to(sessionmaker, 5006) == []
    assert (await user_of(sessionmaker, recent)).erased_at is None


async def test_someone_who_comes_back_after_a_warning_is_not_erased(harness: Harness) -> None:
    """A real person: warned, they send /start; later runs neither erase nor warn them, and
    the warning's marks are cleared. Inactive a whole period again, they are warned again."""
    person = harness.person(6001, language_code="fr")
    await person.send("/start")
    sessionmaker = harness.sessionmaker
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(User)
            .where(User.telegram_id == person.id)
            .values(last_seen_at=add_months(now, -24) + timedelta(days=20))
        )
    await retain(sessionmaker, harness.i18n, harness.settings, now)
    [warning] = await warnings_to(sessionmaker, person.id)
    assert "/start" in warning

    await person.send("Bonjour")  # any message keeps the account
    for later in (now + timedelta(days=25), now + timedelta(days=40)):
        await retain(sessionmaker, harness.i18n, harness.settings, later)
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == person.id))
        assert user is not None and user.erased_at is None
        assert user.inactivity_warned_at is None and user.inactivity_final_warned_at is None
        back = user.last_seen_at
    assert len(await warnings_to(sessionmaker, person.id)) == 1

    again = add_months(back, 24) - timedelta(days=29)
    await retain(sessionmaker, harness.i18n, harness.settings, again)
    assert len(await warnings_to(sessionmaker, person.id)) == 2


async def test_a_day_is_run_once_and_only_from_its_time(
    context: JobContext, sessionmaker: Maker
) -> None:
    await person(sessionmaker, 5007)
    day = date(2026, 1, 30)
    await enforce_retention(context, local_moment(day, time(9, 59), PARIS))
    assert await warnings_to(sessionmaker, 5007) == []
    await enforce_retention(context, run_time(day))
    await enforce_retention(context, run_time(day) + timedelta(hours=5))
    assert len(await warnings_to(sessionmaker, 5007)) == 1
    async with sessionmaker() as session:
        claimed = (await session.execute(select(JobRun.name, JobRun.day))).all()
    assert claimed == [(JOB, day)]


@pytest.mark.postgres
async def test_two_workers_on_the_same_day_do_the_work_once(
    harness: Harness, database_url: str
) -> None:
    sessionmaker = harness.sessionmaker
    for number in range(5):
        await person(sessionmaker, 5100 + number)
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        contexts = [
            JobContext(harness.bot, create_sessionmaker(e), harness.settings, harness.i18n)
            for e in engines
        ]
        moment = run_time(date(2026, 1, 30))
        await asyncio.gather(*(enforce_retention(c, moment) for c in contexts))
        await asyncio.gather(
            *(enforce_retention(c, moment + timedelta(seconds=15)) for c in contexts)
        )
    finally:
        for engine in engines:
            await engine.dispose()
    for number in range(5):
        assert len(await warnings_to(sessionmaker, 5100 + number)) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(JobRun)) == 1


async def test_work_goes_in_bounded_batches_and_the_rest_waits_for_the_next_day(
    sessionmaker: Maker, settings: Settings, i18n: CatalogI18n
) -> None:
    for number in range(7):
        await person(sessionmaker, 5200 + number)
    now = run_time(date(2026, 1, 30))
    done = await retain(sessionmaker, i18n, settings, now, people=2, rows=2, batches=3)
    assert done.warned == 6
    done = await retain(sessionmaker, i18n, settings, now + timedelta(days=1), people=2)
    assert done.warned == 1
    for number in range(7):
        assert len(await warnings_to(sessionmaker, 5200 + number)) == 1


# -- free-text answers


async def closed_survey(sessionmaker: Maker, closed_at: datetime | None) -> int:
    """A survey (closed at `closed_at`, or still open) answered by six people: a scale and a
    free text; the sixth skipped the text."""
    async with sessionmaker.begin() as session:
        survey = Survey(
            series=f"s{closed_at}",
            texts={"fr": {"title": "Isolement", "intro": "", "thanks": "Merci"}},
            status=SurveyStatus.closed if closed_at else SurveyStatus.open,
            opened_at=(closed_at or LAST_SEEN) - timedelta(days=10),
            closed_at=closed_at,
        )
        session.add(survey)
        await session.flush()
        scale = SurveyQuestion(
            survey_id=survey.id, position=1, code="lonely", kind=QuestionKind.scale,
            texts={"fr": {"text": "Seul ?"}},
        )  # fmt: skip
        free = SurveyQuestion(
            survey_id=survey.id, position=2, code="about", kind=QuestionKind.text,
            texts={"fr": {"text": "Racontez"}}, required=False,
        )  # fmt: skip
        session.add_all([scale, free])
        await session.flush()
        for number in range(6):
            user = User(
                telegram_id=int(f"7{survey.id}{number:02d}"),
                locale="fr",
                organisation=None,
                theme_links=[],
            )
            session.add(user)
            await session.flush()
            response = SurveyResponse(
                survey_id=survey.id,
                user_id=user.id,
                arrondissement=1,
                completed_at=survey.opened_at,
            )
            session.add(response)
            await session.flush()
            session.add(
                SurveyAnswer(
                    response_id=response.id, question_id=scale.id, value_number=number % 5 + 1
                )
            )
            if number < 5:
                text = f"{MARKER} — réponse {number}"
                session.add(
                    SurveyAnswer(response_id=response.id, question_id=free.id, value_text=text)
                )
            else:
                session.add(
                    SurveyAnswer(response_id=response.id, question_id=free.id, skipped=True)
                )
        return survey.id


async def free_texts(sessionmaker: Maker, survey_id: int) -> list[str | None]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(SurveyAnswer.value_text, SurveyAnswer.skipped)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(SurveyResponse.survey_id == survey_id, SurveyQuestion.code == "about")
            .order_by(SurveyAnswer.id)
        )
        return [None if skipped else text for text, skipped in rows]


async def figures(sessionmaker: Maker, survey_id: int) -> dict[str, Any]:
    async with sessionmaker() as session:
        results = await survey_results(session, survey_id)
    lonely = results.question("lonely")
    assert lonely is not None
    return {
        "completed": results.completed,
        "distribution": lonely.distribution,
        "mean": lonely.mean,
        "answered": lonely.answered,
    }


async def test_free_text_answers_are_emptied_twelve_months_after_the_survey_closed(
    sessionmaker: Maker, settings: Settings, i18n: CatalogI18n
) -> None:
    closed = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    old = await closed_survey(sessionmaker, closed)
    still_open = await closed_survey(sessionmaker, None)
    texts_before = await free_texts(sessionmaker, old)
    figures_before = await figures(sessionmaker, old)
    assert sum(MARKER in (text or "") for text in texts_before) == 5

    await retain(sessionmaker, i18n, settings, datetime(2026, 1, 15, 11, 0, tzinfo=UTC))
    assert await free_texts(sessionmaker, old) == texts_before

    await retain(sessionmaker, i18n, settings, datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(SurveyAnswer.value_text, SurveyAnswer.skipped)
                .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
                .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
                .where(SurveyResponse.survey_id == old, SurveyQuestion.code == "about")
            )
        ).all()
    # Every answer is still there, answered or skipped as it was, with no text.
    assert sorted(skipped for _text, skipped in rows) == [False] * 5 + [True]
    assert [text for text, _skipped in rows] == [None] * 6
    assert await figures(sessionmaker, old) == figures_before
    # An open survey's answers are kept.
    assert sum(MARKER in (text or "") for text in await free_texts(sessionmaker, still_open)) == 5


# -- the outbox and update ids


async def test_the_outbox_keeps_what_it_sent_thirty_days_then_only_what_counts_need(
    sessionmaker: Maker, settings: Settings, i18n: CatalogI18n
) -> None:
    sent_at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    someone = await person(sessionmaker, 5300, last_seen=sent_at)
    async with sessionmaker.begin() as session:
        rows = {}
        for status in (*OutboxStatus, "group"):
            [row] = await enqueue(
                session,
                TextMessage(
                    chat_id=-100500 if status == "group" else 5300,
                    user_id=None if status == "group" else someone,
                    text=f"{MARKER} <b>{status}</b>",
                    kind="alert" if status == "sent" else None,
                ),
            )
            row.created_at = sent_at - timedelta(minutes=5)
            rows[status] = row
        for status in ("sent", "group"):
            rows[status].status = OutboxStatus.sent
            rows[status].sent_at = sent_at
            rows[status].sent_message_id = 7
        rows[OutboxStatus.failed].status = OutboxStatus.failed
        rows[OutboxStatus.failed].failed_at = sent_at
        rows[OutboxStatus.failed].last_error = "Bad Request: chat not found"
        rows[OutboxStatus.dropped].status = OutboxStatus.dropped
        rows[OutboxStatus.dropped].last_error = "alerts stopped"
        # Still waiting (a retry far away): not delivered, so not pruned.
        rows[OutboxStatus.pending].not_before = sent_at + timedelta(days=60)
    window = day_window(date(2026, 3, 1), PARIS)
    async with sessionmaker() as session:
        counted = (await counts(session, window)).totals()

    async def contents() -> dict[str, str]:
        async with sessionmaker() as session:
            found = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return {
                str(status): plain(row.payload.get("text"))
                for status, row in zip(rows, found, strict=True)
            }

    await retain(sessionmaker, i18n, settings, sent_at + timedelta(days=29, hours=23))
    assert all(MARKER in text for text in (await contents()).values())

    await retain(sessionmaker, i18n, settings, sent_at + timedelta(days=30, minutes=1))
    assert await contents() == {
        "sent": "",
        "failed": "",
        "dropped": "",
        "pending": f"{MARKER} pending",
        "group": "",
    }
    async with sessionmaker() as session:
        kept = {row.id: row for row in await session.scalars(select(OutboxMessage))}
        assert (await counts(session, window)).totals() == counted
        [failed] = await failed_messages(session)
        assert failed.last_error == "Bad Request: chat not found"
    for row in rows.values():
        stored = kept[row.id]
        assert (stored.status, stored.kind, stored.chat_id, stored.user_id) == (
            row.status, row.kind, row.chat_id, row.user_id,
        )  # fmt: skip
        assert (stored.sent_at, stored.failed_at, stored.sent_message_id) == (
            row.sent_at, row.failed_at, row.sent_message_id,
        )  # fmt: skip


async def test_update_ids_are_kept_past_telegrams_redelivery_only(
    sessionmaker: Maker, settings: Settings, i18n: CatalogI18n
) -> None:
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    ages = {1: timedelta(hours=1), 2: timedelta(hours=30), 3: timedelta(days=2, hours=1)}
    async with sessionmaker.begin() as session:
        session.add_all(
            ProcessedUpdate(update_id=number, processed_at=now - age)
            for number, age in ages.items()
        )
    done = await retain(sessionmaker, i18n, settings, now)
    assert done.updates_pruned == 1
    async with sessionmaker() as session:
        kept = (await session.scalars(select(ProcessedUpdate.update_id))).all()
    assert sorted(kept) == [1, 2]


# -- what people are told


def test_the_notice_states_the_periods_enforced(i18n: CatalogI18n) -> None:
    settings = load_settings(
        _env_file=None,
        inactive_months=18,
        inactivity_warning_days=20,
        inactivity_final_warning_days=5,
        free_text_retention_months=6,
        outbox_content_days=14,
    )
    with i18n.context(), i18n.use_locale("en"):
        notice = plain(notice_text(settings))
    for fact in ("18 months", "20 days", "5 days", "6 months", "14 days"):
        assert fact in notice
    with i18n.context(), i18n.use_locale("fr"):
        notice = plain(notice_text(Settings(_env_file=None)))  # type: ignore[call-arg]
    for fact in ("24 mois", "30 jours", "7 jours", "12 mois"):
        assert fact in notice


def test_a_last_warning_must_come_after_the_first(no_env: None) -> None:
    with pytest.raises(ConfigError, match="INACTIVITY_FINAL_WARNING_DAYS"):
        load_settings(_env_file=None, inactivity_warning_days=7, inactivity_final_warning_days=7)
