"""The rules of challenges, without a bot: drafting and opening, joining, assisted people,
figures and the CSV export, who is alerted and when, and introductions between organisations."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import alliances, challenge_alerts
from storage import challenges as ch
from storage.challenges import (
    ChallengeClosed,
    ChallengeError,
    ChallengeNotFound,
    InvalidChallenge,
    NotAllowed,
    NotParticipating,
)
from storage.models import (
    AuditEntry,
    Challenge,
    ChallengeAlert,
    ChallengeStatus,
    IntroductionStatus,
    OutboxMessage,
    OutboxStatus,
    Participation,
    Role,
    User,
)
from storage.outbox import TextMessage, enqueue, split_text
from storage.privacy import (
    NOTICE_VERSION,
    accept_notice,
    forget_user,
    set_alerts,
    set_contact_consent,
)
from storage.users import (
    complete_onboarding,
    get_or_create_user,
    set_arrondissement,
    set_role,
    set_themes,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Paris
COORDINATOR = 42
DESCRIPTION = "Des visites, des appels et des sorties pour les personnes âgées isolées."
ACTIVITIES = [
    {
        "code": "visits",
        "texts": {"fr": "Visites à domicile", "en": "Home visits"},
        "on_site": True,
        "remote": False,
        "hours_per_month": 4,
    },
    {
        "code": "calls",
        "texts": {"fr": "Appels", "ar": "مكالمات"},
        "on_site": False,
        "remote": True,
        "hours_per_month": 2,
    },
]
PARIS = "Europe/Paris"


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def session(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker.begin() as session:
        yield session


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "texts": {
            "fr": {"title": "Rompre l'isolement", "description": DESCRIPTION},
            "en": {"title": "Fighting isolation", "description": "Visits, calls and outings."},
        },
        "theme_code": "older_people",
        "arrondissements": [],
        "starts_on": None,
        "ends_on": None,
        "contribution_kinds": ["time", "skills", "premises"],
        "activities": ACTIVITIES,
        "author_telegram_id": COORDINATOR,
    }
    return base | changes


async def draft(session: AsyncSession, **changes: Any) -> Challenge:
    return await ch.create_challenge(session, **fields(**changes))


async def opened(session: AsyncSession, **changes: Any) -> Challenge:
    challenge = await draft(session, **changes)
    return await ch.open_challenge(session, challenge.id, COORDINATOR, now=NOW, timezone=PARIS)


async def person(
    session: AsyncSession,
    telegram_id: int,
    *,
    role: Role = Role.citizen,
    organisation: str | None = None,
    arrondissement: int = 1,
    themes: tuple[str, ...] = ("older_people",),
    alerts: bool = True,
    locale: str = "fr",
    onboarded: bool = True,
    notice: bool = True,
    contact: bool = False,
) -> User:
    user = await get_or_create_user(session, telegram_id, locale, now=NOW - timedelta(days=60))
    if notice:
        accept_notice(user, now=NOW - timedelta(days=60))
    set_role(user, role, organisation)
    if user.organisation is not None:
        # Verified: its members act on its behalf (storage/organisations.py).
        user.organisation.verified = True
    set_arrondissement(user, arrondissement)
    await set_themes(session, user, themes)
    if onboarded:
        complete_onboarding(user, now=NOW - timedelta(days=60))
    await set_alerts(session, user, alerts, now=NOW - timedelta(days=60))
    set_contact_consent(user, contact)
    await session.flush()
    return user


async def association(session: AsyncSession, telegram_id: int, name: str, **kw: Any) -> User:
    return await person(session, telegram_id, role=Role.association, organisation=name, **kw)


async def audits(session: AsyncSession) -> list[tuple[str, int, dict[str, Any]]]:
    rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(row.action, row.actor_telegram_id, row.details) for row in rows]


# -- reading a challenge


def test_texts_fall_back_to_french_then_to_the_first_language() -> None:
    challenge = Challenge(
        texts={
            "en": {"title": "Title", "description": "Text"},
            "fr": {"title": "Titre", "description": "Texte"},
        }
    )
    assert ch.challenge_text(challenge, "en") == ("Title", "Text")
    assert ch.challenge_text(challenge, "ar") == ("Titre", "Texte")
    only_english = Challenge(texts={"en": {"title": "Title", "description": "Text"}})
    assert ch.challenge_text(only_english, "ar") == ("Title", "Text")
    assert ch.activity_label(ACTIVITIES[1], "ar") == "مكالمات"
    assert ch.activity_label(ACTIVITIES[1], "en") == "Appels"
    assert ch.activity_label({"code": "x", "texts": {"en": "Only"}}, "ar") == "Only"


def test_a_deep_link_carries_the_slug_and_only_such_payloads_are_read() -> None:
    challenge = Challenge(slug="ab23cd45")
    link = ch.deep_link("@LaCollectiveBot", challenge)
    assert link == "https://t.me/LaCollectiveBot?start=c_ab23cd45"
    assert ch.parse_start_payload(link.split("start=")[1]) == "ab23cd45"
    for payload in (
        "",
        "c_",
        "ab23cd45",
        "n_ab23cd45",
        "c_AB23CD45",
        "c_ab2;drop",
        "c_" + "a" * 17,
    ):
        assert ch.parse_start_payload(payload) is None


# -- drafting, editing, opening, closing


async def test_a_challenge_starts_as_a_draft_with_clean_fields_and_an_opaque_slug(
    session: AsyncSession,
) -> None:
    challenge = await draft(
        session,
        texts={"fr": {"title": "  Rompre \n l'isolement ", "description": DESCRIPTION + "  "}},
        arrondissements=[13, 1, 13],
        contribution_kinds=["time", "skills", "time"],
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 12, 31),
    )
    other = await draft(session)
    assert challenge.status is ChallengeStatus.draft
    assert challenge.texts == {"fr": {"title": "Rompre l'isolement", "description": DESCRIPTION}}
    assert challenge.arrondissements == [1, 13]
    assert challenge.contribution_kinds == ["time", "skills"]
    assert challenge.activities == ACTIVITIES
    assert challenge.author_telegram_id == COORDINATOR
    assert len(challenge.slug) == 8 and set(challenge.slug) <= set(ch._SLUG_ALPHABET)
    assert challenge.slug != other.slug
    assert await ch.challenge_by_slug(session, challenge.slug) is challenge
    assert await ch.challenge_by_slug(session, "nothere") is None
    assert await ch.get_challenge(session, challenge.id) is challenge
    assert await audits(session) == []


def _activity(**changes: Any) -> list[dict[str, Any]]:
    return [ACTIVITIES[0] | changes]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"texts": {}}, "texts", "missing"),
        (
            {"texts": {"fr": {"title": "Abc", "description": DESCRIPTION}}},
            "texts.fr.title",
            "too_short",
        ),
        ({"texts": {"fr": {"description": DESCRIPTION}}}, "texts.fr.title", "missing"),
        (
            {"texts": {"fr": {"title": "Titre", "description": "x" * 2001}}},
            "texts.fr.description",
            "too_long",
        ),
        ({"texts": {"FR": {"title": "Titre", "description": DESCRIPTION}}}, "texts.FR", "unknown"),
        (
            {"texts": {"fr": {"title": "Titre", "description": DESCRIPTION, "x": 1}}},
            "texts.fr.x",
            "unknown",
        ),
        ({"theme_code": "astrology"}, "theme_code", "unknown"),
        ({"arrondissements": [17]}, "arrondissements", "invalid"),
        ({"arrondissements": [0]}, "arrondissements", "invalid"),
        ({"arrondissements": [True]}, "arrondissements", "invalid"),
        ({"starts_on": "2026-04-01"}, "starts_on", "invalid"),
        ({"starts_on": date(2026, 5, 1), "ends_on": date(2026, 4, 30)}, "ends_on", "before_start"),
        ({"contribution_kinds": []}, "contribution_kinds", "missing"),
        ({"contribution_kinds": ["love"]}, "contribution_kinds", "unknown"),
        ({"activities": _activity(code="Home Visits")}, "activities[0].code", "invalid"),
        ({"activities": [ACTIVITIES[0], ACTIVITIES[0]]}, "activities[1].code", "duplicate"),
        ({"activities": _activity(texts={})}, "activities[0].texts", "missing"),
        ({"activities": _activity(texts={"fr": "V"})}, "activities[0].texts.fr", "too_short"),
        ({"activities": _activity(on_site=False)}, "activities[0].on_site", "missing"),
        ({"activities": _activity(remote="yes")}, "activities[0].remote", "invalid"),
        (
            {"activities": _activity(hours_per_month=None)},
            "activities[0].hours_per_month",
            "missing",
        ),
        ({"activities": _activity(hours_per_month=0)}, "activities[0].hours_per_month", "invalid"),
        ({"activities": _activity(colour="red")}, "activities[0].colour", "unknown"),
    ],
)
async def test_a_bad_field_is_named_and_nothing_is_written(
    session: AsyncSession, changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidChallenge) as raised:
        await draft(session, **changes)
    assert (raised.value.field, raised.value.reason) == (field, reason)
    assert await session.scalar(select(func.count()).select_from(Challenge)) == 0


async def test_editing_validates_like_creating_and_audits_what_changed(
    session: AsyncSession,
) -> None:
    challenge = await draft(session, starts_on=date(2026, 4, 1))
    new_texts = {"fr": {"title": "Rompre l'isolement ensemble", "description": DESCRIPTION}}
    edited = await ch.update_challenge(
        session, challenge.id, COORDINATOR, texts=new_texts, arrondissements=[2, 1]
    )
    assert edited is challenge
    assert challenge.texts == new_texts and challenge.arrondissements == [1, 2]
    # Unchanged values are not an edit.
    await ch.update_challenge(session, challenge.id, 7, arrondissements=[1, 2])
    with pytest.raises(InvalidChallenge) as raised:
        await ch.update_challenge(session, challenge.id, 7, ends_on=date(2026, 3, 1))
    assert raised.value.field == "ends_on"
    with pytest.raises(InvalidChallenge) as raised:
        await ch.update_challenge(session, challenge.id, 7, status="open")
    assert raised.value.field == "status"
    with pytest.raises(ChallengeNotFound):
        await ch.update_challenge(session, 999, 7, arrondissements=[])
    assert challenge.status is ChallengeStatus.draft and challenge.ends_on is None
    assert await audits(session) == [
        ("challenge.update", COORDINATOR, {"fields": ["arrondissements", "texts"]})
    ]


async def test_open_close_and_reopen_each_once_and_audited(session: AsyncSession) -> None:
    challenge = await draft(session)
    with pytest.raises(ChallengeError):
        await ch.close_challenge(session, challenge.id, COORDINATOR)
    await ch.open_challenge(session, challenge.id, COORDINATOR, now=NOW, timezone=PARIS)
    assert challenge.status is ChallengeStatus.open and challenge.opened_at == NOW
    with pytest.raises(ChallengeError):
        await ch.open_challenge(session, challenge.id, COORDINATOR, timezone=PARIS)
    later = NOW + timedelta(days=30)
    await ch.close_challenge(session, challenge.id, 43, now=later)
    assert challenge.status is ChallengeStatus.closed and challenge.closed_at == later
    with pytest.raises(ChallengeError):
        await ch.close_challenge(session, challenge.id, 43)
    await ch.open_challenge(
        session, challenge.id, COORDINATOR, now=later + timedelta(days=1), timezone=PARIS
    )
    assert challenge.status is ChallengeStatus.open and challenge.closed_at is None
    with pytest.raises(ChallengeNotFound):
        await ch.open_challenge(session, 999, COORDINATOR, timezone=PARIS)
    assert await audits(session) == [
        ("challenge.open", COORDINATOR, {"from": "draft"}),
        ("challenge.close", 43, {}),
        ("challenge.open", COORDINATOR, {"from": "closed"}),
    ]


async def test_a_challenge_whose_end_has_passed_in_paris_does_not_open(
    session: AsyncSession,
) -> None:
    challenge = await draft(session, ends_on=date(2026, 3, 9))
    # 23:30 UTC on the 9th is already the 10th in Paris.
    with pytest.raises(InvalidChallenge) as raised:
        await ch.open_challenge(
            session,
            challenge.id,
            COORDINATOR,
            now=NOW.replace(day=9, hour=23, minute=30),
            timezone=PARIS,
        )
    assert (raised.value.field, raised.value.reason) == ("ends_on", "past")
    await ch.open_challenge(
        session, challenge.id, COORDINATOR, now=NOW.replace(day=9, hour=12), timezone=PARIS
    )
    assert challenge.status is ChallengeStatus.open


async def test_browsing_pages_filters_by_theme_and_status_latest_opened_first(
    session: AsyncSession,
) -> None:
    made = []
    for day in range(7):
        challenge = await draft(session, theme_code="older_people" if day % 2 else "housing")
        await ch.open_challenge(
            session, challenge.id, COORDINATOR, now=NOW + timedelta(days=day), timezone=PARIS
        )
        made.append(challenge.id)
    waiting = await draft(session)
    first, total = await ch.list_challenges(session, page_size=3)
    second, _ = await ch.list_challenges(session, page=1, page_size=3)
    last, _ = await ch.list_challenges(session, page=2, page_size=3)
    assert total == 7
    assert [c.id for c in [*first, *second, *last]] == made[::-1]
    older, count = await ch.list_challenges(session, theme_code="older_people")
    assert count == 3 and {c.theme_code for c in older} == {"older_people"}
    drafts, count = await ch.list_challenges(session, statuses=[ChallengeStatus.draft])
    assert count == 1 and drafts[0].id == waiting.id


# -- taking part


async def test_joining_twice_is_one_participation_with_the_latest_offer(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    member = await association(session, 1, "Les Amis du Panier")
    first = await ch.join(
        session, challenge, member, kind="time", text="Deux après-midi", timezone=PARIS
    )
    again = await ch.join(
        session,
        challenge,
        member,
        kind="premises",
        text="Une salle",
        activity="visits",
        timezone=PARIS,
    )
    assert again.id == first.id
    assert (again.kind, again.text, again.activity) == ("premises", "Une salle", "visits")
    assert again.organisation_id == member.organisation_id is not None
    count = await session.scalar(select(func.count()).select_from(Participation))
    assert count == 1
    assert await ch.participation_of(session, challenge.id, member) is again


async def test_leaving_then_joining_again_takes_the_same_row_back(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    citizen = await person(session, 2)
    joined = await ch.join(
        session,
        challenge,
        citizen,
        kind="time",
        text=None,
        now=NOW - timedelta(days=20),
        timezone=PARIS,
    )
    left = await ch.leave(session, challenge, citizen, now=NOW - timedelta(days=10))
    assert left.left_at == NOW - timedelta(days=10)
    assert await ch.participation_of(session, challenge.id, citizen) is None
    assert await ch.participants(session, challenge.id) == []
    with pytest.raises(NotParticipating):
        await ch.leave(session, challenge, citizen)
    back = await ch.join(
        session, challenge, citizen, kind="skills", text="Informatique", now=NOW, timezone=PARIS
    )
    assert back.id == joined.id and back.left_at is None and back.joined_at == NOW
    assert await ch.participants(session, challenge.id) == [(back, citizen)]


async def test_a_draft_or_closed_challenge_cannot_be_joined(session: AsyncSession) -> None:
    citizen = await person(session, 3)
    waiting = await draft(session)
    with pytest.raises(ChallengeClosed):
        await ch.join(session, waiting, citizen, kind="time", text=None, timezone=PARIS)
    challenge = await opened(session)
    await ch.close_challenge(session, challenge.id, COORDINATOR)
    with pytest.raises(ChallengeClosed):
        await ch.join(session, challenge, citizen, kind="time", text=None, timezone=PARIS)
    assert await session.scalar(select(func.count()).select_from(Participation)) == 0


@pytest.mark.parametrize(
    ("offer", "field", "reason"),
    [
        ({"kind": "funding"}, "kind", "unknown"),  # not sought by this challenge
        ({"activity": "gardening"}, "activity", "unknown"),
        ({"text": "ok"}, "text", "too_short"),
        ({"text": "x" * 301}, "text", "too_long"),
    ],
)
async def test_what_a_person_brings_is_checked(
    session: AsyncSession, offer: dict[str, Any], field: str, reason: str
) -> None:
    challenge = await opened(session)
    citizen = await person(session, 4)
    with pytest.raises(InvalidChallenge) as raised:
        await ch.join(
            session, challenge, citizen, **({"kind": "time", "text": None} | offer), timezone=PARIS
        )
    assert (raised.value.field, raised.value.reason) == (field, reason)


async def test_joining_needs_the_current_notice(session: AsyncSession) -> None:
    challenge = await opened(session)
    newcomer = await person(session, 5, notice=False)
    with pytest.raises(NotAllowed):
        await ch.join(session, challenge, newcomer, kind="time", text=None, timezone=PARIS)
    newcomer.notice_version = NOTICE_VERSION - 1
    newcomer.notice_accepted_at = NOW
    with pytest.raises(NotAllowed):
        await ch.join(session, challenge, newcomer, kind="time", text=None, timezone=PARIS)


async def test_someone_without_telegram_is_registered_by_an_organisation_with_their_agreement(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    worker = await association(session, 6, "Petits Frères du 3e")
    citizen = await person(session, 7)
    with pytest.raises(NotAllowed):
        await ch.register_assisted(
            session, challenge, citizen, name="M.", arrondissement=3, wishes=None,
            activity=None, agreed=True, timezone=PARIS,
        )  # fmt: skip
    bad = [
        ({"agreed": False}, "agreed"),
        ({"name": "Marie 06 12 34 56 78"}, "name"),
        ({"name": " "}, "name"),
        ({"name": "x" * 41}, "name"),
        ({"arrondissement": 17}, "arrondissement"),
        ({"activity": "gardening"}, "activity"),
        ({"wishes": "x" * 301}, "wishes"),
    ]
    good = {
        "name": "Marie L.",
        "arrondissement": 3,
        "wishes": None,
        "activity": "calls",
        "agreed": True,
    }
    for changes, field in bad:
        with pytest.raises(InvalidChallenge) as raised:
            await ch.register_assisted(
                session, challenge, worker, **(good | changes), timezone=PARIS
            )
        assert raised.value.field == field
    assisted = await ch.register_assisted(
        session,
        challenge,
        worker,
        **(good | {"wishes": "Un appel le mardi", "now": NOW}),
        timezone=PARIS,
    )
    assert (assisted.name, assisted.registered_by, assisted.agreement_recorded_at) == (
        "Marie L.", worker.id, NOW,
    )  # fmt: skip
    assert await ch.assisted_of(session, challenge.id) == [assisted]
    await ch.close_challenge(session, challenge.id, COORDINATOR)
    with pytest.raises(ChallengeClosed):
        await ch.register_assisted(session, challenge, worker, **good, timezone=PARIS)


# -- figures and export


async def test_figures_count_kinds_places_assisted_people_newcomers_and_leavers(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    other = await opened(session)
    amis = await association(session, 10, "Les Amis", arrondissement=3)
    solid = await association(session, 11, "Solid'R", arrondissement=13)
    alice = await person(session, 12, arrondissement=3)
    bruno = await person(session, 13, arrondissement=5)
    await ch.join(
        session,
        challenge,
        amis,
        kind="premises",
        text=None,
        now=NOW - timedelta(days=20),
        timezone=PARIS,
    )
    await ch.join(
        session,
        challenge,
        solid,
        kind="time",
        text=None,
        now=NOW - timedelta(days=2),
        timezone=PARIS,
    )
    await ch.join(
        session,
        challenge,
        alice,
        kind="time",
        text=None,
        now=NOW - timedelta(days=1),
        timezone=PARIS,
    )
    await ch.join(
        session,
        challenge,
        bruno,
        kind="skills",
        text=None,
        now=NOW - timedelta(days=9),
        timezone=PARIS,
    )
    await ch.leave(session, challenge, bruno)
    await ch.join(
        session, other, bruno, kind="time", text=None, timezone=PARIS
    )  # another challenge
    await ch.register_assisted(
        session, challenge, amis, name="J.", arrondissement=3, wishes=None, activity=None,
        agreed=True, timezone=PARIS,
    )  # fmt: skip
    await ch.register_assisted(
        session, challenge, amis, name="R.", arrondissement=1, wishes=None, activity=None,
        agreed=True, timezone=PARIS,
    )  # fmt: skip
    asked = await alliances.ask_introduction(session, challenge, amis, solid.id, timezone=PARIS)
    await alliances.answer_introduction(session, asked.id, solid, accept=True, timezone=PARIS)
    await alliances.ask_introduction(session, challenge, alice, amis.id, timezone=PARIS)
    # An erased person's participation still counts, anonymously.
    await forget_user(session, alice)
    figures = await ch.challenge_figures(session, challenge.id, now=NOW)
    assert figures == ch.ChallengeFigures(
        participants=3,
        assisted=2,
        by_kind={"premises": 1, "time": 2},
        by_arrondissement={1: 1, 3: 2, 13: 1},  # alice's arrondissement went with her
        joined_last_7_days=2,
        left=1,
        introductions_asked=2,
        introductions_made=1,
    )
    assert [user.id for _, user in await ch.participants(session, challenge.id)] == [
        amis.id,
        solid.id,
    ]


async def test_the_csv_opens_in_french_excel_and_shares_no_one_without_consent(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    shared = await association(
        session, 20, 'Les Amis; du "Panier"', arrondissement=2, contact=True
    )
    private = await person(session, 21, arrondissement=14)
    tricky = 'Je peux; dire "oui"\net venir le mardi'
    await ch.join(
        session,
        challenge,
        shared,
        kind="premises",
        text=tricky,
        activity="visits",
        now=NOW,
        timezone=PARIS,
    )
    await ch.join(
        session, challenge, private, kind="time", text='=HYPERLINK("x")', now=NOW, timezone=PARIS
    )
    await ch.register_assisted(
        session, challenge, shared, name="Marie L.", arrondissement=2, wishes="Des appels",
        activity="calls", agreed=True, now=NOW, timezone=PARIS,
    )  # fmt: skip
    data = ch.participants_csv(
        await ch.participants(session, challenge.id),
        await ch.assisted_of(session, challenge.id),
        timezone=PARIS,
    )
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode("utf-8").split("\r\n")
    assert lines[0] == ";".join(ch.CSV_COLUMNS) and lines[-1] == ""
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))
    assert rows[0] == list(ch.CSV_COLUMNS)
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert records[0] == {
        "type": "participant",
        "role": "association",
        "organisation": 'Les Amis; du "Panier"',
        "arrondissement": "2",
        "kind": "premises",
        "activity": "visits",
        "text": tricky,
        "joined_on": "2026-03-10",
        "telegram_id": "20",
    }
    assert records[1]["telegram_id"] == "" and records[1]["role"] == "citizen"
    assert records[1]["text"] == '\'=HYPERLINK("x")'  # not a formula for Excel
    assert records[2] == {
        "type": "assisted",
        "role": "",
        "organisation": "",
        "arrondissement": "2",
        "kind": "",
        "activity": "calls",
        "text": "Des appels",
        "joined_on": "2026-03-10",
        "telegram_id": "",
    }
    assert b"Marie" not in data and b"21" not in data


# -- alerts


async def test_alerts_are_switched_on_once_and_off_by_stop(session: AsyncSession) -> None:
    user = await person(session, 30, alerts=False)
    assert user.alerts_consent_at is None
    await set_alerts(session, user, True, now=NOW)
    await set_alerts(session, user, True, now=NOW + timedelta(days=1))
    assert user.alerts_consent_at == NOW
    await set_alerts(session, user, False)
    assert user.alerts_consent_at is None


async def test_stopping_alerts_withdraws_those_still_waiting_and_nothing_else(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    stopping, staying = await person(session, 701), await person(session, 702)
    night = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # the alerts wait for 08:00
    recipients = await challenge_alerts.alert_recipients(session, challenge, night)
    await challenge_alerts.enqueue_alerts(
        session, challenge, recipients, _message("Un défi"), now=night, timezone="Europe/Paris"
    )
    await enqueue(session, TextMessage(chat_id=701, text="Votre proposition", user_id=stopping.id))

    await set_alerts(session, stopping, False)

    rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(row.chat_id, row.payload["text"], row.status) for row in rows] == [
        (701, "Un défi", OutboxStatus.dropped),
        (702, "Un défi", OutboxStatus.pending),
        (701, "Votre proposition", OutboxStatus.pending),
    ]
    assert staying.alerts_consent_at is not None


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _alerted(
    session: AsyncSession, challenge: Challenge, *, monthly_cap: int = 2
) -> set[int]:
    recipients = await challenge_alerts.alert_recipients(
        session, challenge, NOW, monthly_cap=monthly_cap
    )
    return {user.telegram_id for user in recipients}  # type: ignore[misc]


async def test_alert_recipients_follow_every_rule_in_one_query(
    session: AsyncSession, statements: list[str]
) -> None:
    """Each rule has a person it lets through and one it stops."""
    challenge = await opened(session)
    yes = {
        101: await person(session, 101),
        102: await person(session, 102, locale="ar", themes=("older_people", "housing")),
        103: await association(session, 103, "Les Amis", locale="en", arrondissement=0),
        104: await person(session, 104),  # one alert this month: under the cap
        105: await person(session, 105),  # two alerts, but more than 30 days ago
    }
    no = {
        201: await person(session, 201, themes=("housing",)),
        202: await person(session, 202, alerts=False),
        203: await person(session, 203),  # blocked the bot
        204: await person(session, 204, notice=False),
        205: await person(session, 205),  # an older notice
        206: await person(session, 206, onboarded=False),
        207: await person(session, 207),  # already alerted for this challenge
        208: await person(session, 208),  # two alerts this month
        209: await person(session, 209),  # already takes part
        210: await person(session, 210),  # erased
    }
    no[203].active = False
    no[205].notice_version = NOTICE_VERSION - 1
    await forget_user(session, no[210])
    earlier = [await opened(session) for _ in range(2)]
    await challenge_alerts.record_alerts(
        session, earlier[0], [yes[104], no[208]], NOW - timedelta(days=29)
    )
    await challenge_alerts.record_alerts(session, earlier[1], [no[208]], NOW - timedelta(days=1))
    await challenge_alerts.record_alerts(session, earlier[0], [yes[105]], NOW - timedelta(days=31))
    await challenge_alerts.record_alerts(session, earlier[1], [yes[105]], NOW - timedelta(days=40))
    await challenge_alerts.record_alerts(session, challenge, [no[207]], NOW - timedelta(days=3))
    await ch.join(session, challenge, no[209], kind="time", text=None, timezone=PARIS)
    await session.flush()

    statements.clear()
    assert await _alerted(session, challenge) == set(yes)
    assert len(statements) == 1
    # A higher cap lets the one alerted twice this month through.
    assert await _alerted(session, challenge, monthly_cap=3) == {*yes, 208}

    await challenge_alerts.record_alerts(session, challenge, list(yes.values()), NOW)
    assert await _alerted(session, challenge) == set()
    assert (
        await session.scalar(
            select(func.count()).where(ChallengeAlert.challenge_id == challenge.id)
        )
        == len(yes) + 1
    )


async def test_a_local_challenge_alerts_only_its_arrondissements(session: AsyncSession) -> None:
    local = await opened(session, arrondissements=[1, 2])
    city = await opened(session)
    first = await person(session, 301, arrondissement=1)
    second = await person(session, 302, arrondissement=2)
    third = await person(session, 303, arrondissement=3)
    outside = await person(session, 304, arrondissement=0)
    assert await _alerted(session, local) == {first.telegram_id, second.telegram_id}
    assert await _alerted(session, city) == {
        first.telegram_id,
        second.telegram_id,
        third.telegram_id,
        outside.telegram_id,
    }


PARIS_CASES = [
    # (now in UTC, when the alert may go, in UTC)
    (datetime(2026, 6, 15, 10, 0), datetime(2026, 6, 15, 10, 0)),  # 12:00 in Paris
    (datetime(2026, 6, 15, 18, 59), datetime(2026, 6, 15, 18, 59)),  # 20:59
    (datetime(2026, 6, 15, 19, 0), datetime(2026, 6, 16, 6, 0)),  # 21:00 → 08:00 next day
    (datetime(2026, 6, 15, 23, 30), datetime(2026, 6, 16, 6, 0)),  # 01:30
    (datetime(2026, 6, 16, 5, 59), datetime(2026, 6, 16, 6, 0)),  # 07:59
    (datetime(2026, 6, 16, 6, 0), datetime(2026, 6, 16, 6, 0)),  # 08:00 sharp
    (datetime(2026, 1, 15, 20, 0), datetime(2026, 1, 16, 7, 0)),  # winter: 21:00 → 08:00
    # Spring forward (29 March 2026, 02:00 → 03:00): the night is an hour shorter.
    (datetime(2026, 3, 28, 21, 0), datetime(2026, 3, 29, 6, 0)),  # 22:00 CET → 08:00 CEST
    (datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 6, 0)),  # 01:30 CET
    (datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 6, 0)),  # 03:30 CEST
    # Fall back (25 October 2026, 03:00 → 02:00): an hour longer, 02:30 happens twice.
    (datetime(2026, 10, 24, 21, 0), datetime(2026, 10, 25, 7, 0)),  # 23:00 CEST → 08:00 CET
    (datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 7, 0)),  # 02:30 CEST
    (datetime(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 7, 0)),  # 02:30 CET
    (datetime(2026, 10, 25, 7, 0), datetime(2026, 10, 25, 7, 0)),  # 08:00 CET
]


@pytest.mark.parametrize(("now", "expected"), PARIS_CASES)
def test_no_alert_goes_out_at_night_in_paris_whatever_the_season(
    now: datetime, expected: datetime
) -> None:
    assert challenge_alerts.alert_time(
        now.replace(tzinfo=UTC), "Europe/Paris"
    ) == expected.replace(tzinfo=UTC)


def test_quiet_hours_can_be_changed_and_a_naive_time_is_refused() -> None:
    noon = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)  # 12:30 in Paris
    assert challenge_alerts.alert_time(noon, "Europe/Paris", time(12), time(14)) == noon.replace(
        hour=12, minute=0
    )
    assert challenge_alerts.alert_time(noon, "Europe/Paris", time(13), time(14)) == noon
    with pytest.raises(ValueError):
        challenge_alerts.alert_time(datetime(2026, 6, 15, 22), "Europe/Paris")


def _message(text: str) -> Any:
    keyboard = {"inline_keyboard": [[{"text": "Rejoindre", "callback_data": "cj:1"}]]}
    return lambda user: (
        {"fr": text, "en": "A new challenge", "ar": "تحدٍّ جديد"}[user.locale],
        keyboard,
    )


async def test_the_fan_out_writes_what_enqueue_would_and_records_the_alerts(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    fr = await person(session, 401)
    ar = await person(session, 402, locale="ar")
    recipients = await challenge_alerts.alert_recipients(session, challenge, NOW)
    text, keyboard = _message("Un nouveau défi")(fr)
    reference = await enqueue(session, TextMessage(chat_id=1, text=text, reply_markup=keyboard))
    due = await challenge_alerts.enqueue_alerts(
        session,
        challenge,
        recipients,
        _message("Un nouveau défi"),
        now=NOW,
        timezone="Europe/Paris",
    )
    assert due == NOW
    rows = list(
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id != 1).order_by(OutboxMessage.id)
        )
    )
    assert [(row.chat_id, row.user_id) for row in rows] == [(401, fr.id), (402, ar.id)]
    assert rows[0].payload == reference[0].payload
    assert rows[1].payload["text"] == "تحدٍّ جديد"
    assert {row.method for row in rows} == {reference[0].method}
    assert all(row.not_before == NOW and row.status == reference[0].status for row in rows)
    assert await challenge_alerts.alert_recipients(session, challenge, NOW) == []


async def test_an_alert_written_at_night_waits_for_the_morning_and_long_ones_are_split(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    await person(session, 501)
    night = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # 23:30 in Paris, before spring forward
    recipients = await challenge_alerts.alert_recipients(session, challenge, night)
    long_text = ("Un paragraphe assez long. " * 100 + "\n\n") * 3
    due = await challenge_alerts.enqueue_alerts(
        session, challenge, recipients, _message(long_text), now=night, timezone="Europe/Paris"
    )
    assert due == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [row.payload["text"] for row in rows] == split_text(long_text)
    assert len(rows) == 3 and all(row.not_before == due for row in rows)
    assert ["reply_markup" in row.payload for row in rows] == [False, False, True]
    assert all(len(row.payload["text"]) <= 4096 for row in rows)
    alert = await session.scalar(select(ChallengeAlert))
    assert alert is not None and alert.created_at == night


async def test_a_fan_out_that_would_run_into_the_night_waits_for_the_morning(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    for telegram_id in (801, 802, 803):
        await person(session, telegram_id)
    evening = datetime(2026, 11, 20, 19, 58, tzinfo=UTC)  # 20:58 in Paris
    recipients = await challenge_alerts.alert_recipients(session, challenge, evening)

    async def due_at(rate: float) -> datetime:
        return await challenge_alerts.enqueue_alerts(
            session,
            challenge,
            recipients,
            _message("Un défi"),
            now=evening,
            timezone="Europe/Paris",
            rate=rate,
        )

    # Three messages at 30 a second are out by 20:58; at one a minute, the fan-out would end
    # after 21:00: they all wait for 08:00.
    assert await due_at(30) == evening
    await session.execute(delete(OutboxMessage))
    await session.execute(delete(ChallengeAlert))
    assert await due_at(1 / 60) == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    rows = list(await session.scalars(select(OutboxMessage)))
    assert len(rows) == 3 and {row.not_before for row in rows} == {
        datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    }


# -- alliances


async def test_only_other_organisations_taking_part_are_offered_for_an_introduction(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    amis = await association(session, 601, "Les Amis")
    colleague = await person(session, 602)
    set_role(colleague, Role.association, "Les Amis")
    colleague.organisation = amis.organisation
    company = await person(session, 603, role=Role.company, organisation="Boulangerie Sud")
    gone = await association(session, 604, "Partis")
    citizen = await person(session, 605)
    elsewhere = await association(session, 606, "Ailleurs")
    for user in (amis, colleague, company, gone, citizen):
        await ch.join(session, challenge, user, kind="time", text=None, timezone=PARIS)
    await ch.leave(session, challenge, gone)
    await ch.join(
        session, await opened(session), elsewhere, kind="time", text=None, timezone=PARIS
    )
    offered = await alliances.other_organisations(session, challenge.id, amis)
    assert [user.id for _, user in offered] == [company.id]
    for_citizen = await alliances.other_organisations(session, challenge.id, citizen)
    assert [user.id for _, user in for_citizen] == [amis.id, colleague.id, company.id]


async def test_an_introduction_is_asked_once_answered_once_by_its_target_only(
    session: AsyncSession,
) -> None:
    challenge = await opened(session)
    amis = await association(session, 701, "Les Amis")
    sud = await person(session, 702, role=Role.company, organisation="Boulangerie Sud")
    citizen = await person(session, 703)
    outsider = await association(session, 704, "Pas inscrite")
    for user in (amis, sud, citizen):
        await ch.join(session, challenge, user, kind="time", text=None, timezone=PARIS)

    asked = await alliances.ask_introduction(session, challenge, amis, sud.id, timezone=PARIS)
    assert (
        await alliances.ask_introduction(session, challenge, amis, sud.id, timezone=PARIS) is asked
    )
    assert asked.status is IntroductionStatus.asked
    assert await alliances.get_introduction(session, asked.id) is asked
    with pytest.raises(NotAllowed):
        await alliances.ask_introduction(session, challenge, amis, amis.id, timezone=PARIS)
    with pytest.raises(NotParticipating):
        await alliances.ask_introduction(
            session, challenge, amis, citizen.id, timezone=PARIS
        )  # citizens are not offered
    with pytest.raises(NotParticipating):
        await alliances.ask_introduction(session, challenge, outsider, sud.id, timezone=PARIS)
    with pytest.raises(NotParticipating):
        await alliances.ask_introduction(session, challenge, amis, outsider.id, timezone=PARIS)

    with pytest.raises(NotAllowed):
        await alliances.answer_introduction(
            session, asked.id, amis, accept=True, timezone=PARIS
        )  # the requester
    answered = await alliances.answer_introduction(
        session, asked.id, sud, accept=False, now=NOW, timezone=PARIS
    )
    assert (answered.status, answered.answered_at) == (IntroductionStatus.declined, NOW)
    with pytest.raises(ch.AlreadyAnswered):
        await alliances.answer_introduction(session, asked.id, sud, accept=True, timezone=PARIS)
    assert asked.status is IntroductionStatus.declined
    # Asking again after a refusal does not ask again.
    assert (
        await alliances.ask_introduction(session, challenge, amis, sud.id, timezone=PARIS) is asked
    )
    with pytest.raises(ChallengeNotFound):
        await alliances.answer_introduction(session, 999, sud, accept=True, timezone=PARIS)

    await ch.close_challenge(session, challenge.id, COORDINATOR)
    with pytest.raises(ChallengeClosed):
        await alliances.ask_introduction(session, challenge, citizen, amis.id, timezone=PARIS)


def test_the_end_date_is_a_local_date_of_the_timezone_given() -> None:
    """The settings' timezone decides, not Paris: at 12:00 UTC on its last day, a challenge is
    still open in Paris (13:00) and over in Kiribati (02:00 the next day)."""
    challenge = Challenge(status=ChallengeStatus.open, ends_on=date(2026, 3, 10))
    noon = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert ch.is_open(challenge, timezone=PARIS, now=noon)
    assert not ch.is_open(challenge, timezone="Pacific/Kiritimati", now=noon)
    with pytest.raises(ChallengeClosed):
        ch.require_open(challenge, noon, timezone="Pacific/Kiritimati")
