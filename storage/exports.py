"""Exports for the city's data team: CSV files for French Excel, and a ZIP of them.

Every file is written as `storage.excel_csv` writes for French Excel, with a header row of
stable codes; values are codes too (role, theme, status), dates local (Europe/Paris) and
without time, decimals with a comma.

Personal data (PRIVACY.md): a person's Telegram id appears only when they consented to share
their contact details; otherwise a row says what they are (role, arrondissement, themes,
dates), never who. No file carries an internal id that would link a person's rows across
files. Survey answers come from the surveys' own export (`survey_export.answers_csv`), which
applies the small-group rule.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import astuple
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.excel_csv import csv_bytes
from storage.initiative_support import Gathered, gathered_by_initiative, is_small
from storage.models import (
    AssistedParticipation,
    Challenge,
    Initiative,
    Need,
    Organisation,
    Participation,
    Survey,
    SurveyInvitation,
    SurveyResponse,
    SurveyStatus,
    User,
    UserTheme,
    utcnow,
)
from storage.privacy import proposal_shares_contact
from storage.summary import DEFAULT_TIMEZONE
from storage.survey_export import answers_csv

PEOPLE_COLUMNS = (
    "role",
    "organisation",
    "arrondissement",
    "themes",
    "locale",
    "joined_on",
    "contact_shared",
    "telegram_id",
)
NEEDS_COLUMNS = (
    "reference",
    "reported_on",
    "theme",
    "arrondissement",
    "text",
    "latitude",
    "longitude",
    "status",
    "answered_by",
)
INITIATIVES_COLUMNS = (
    "reference",
    "status",
    "theme",
    "arrondissement",
    "organisation",
    "title",
    "description",
    "submitted_on",
    "decided_on",
    "contact_shared",
    "telegram_id",
    "supports",
    "offers_of_help",
    "followers",
)
PARTICIPATIONS_COLUMNS = (
    "challenge",
    "challenge_code",
    "type",
    "role",
    "organisation",
    "arrondissement",
    "kind",
    "activity",
    "joined_on",
    "left_on",
    "telegram_id",
)
SURVEYS_COLUMNS = (
    "survey",
    "series",
    "wave",
    "challenge",
    "status",
    "title",
    "invited",
    "started",
    "completed",
    "answers_file",
)


class _Dates:
    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def __call__(self, moment: datetime | None) -> date | None:
        return None if moment is None else moment.astimezone(self.zone).date()


def _shared(consent_at: datetime | None) -> bool:
    """A person's contact is shared while their answer is yes (storage/privacy.py's rule)."""
    return consent_at is not None


# The person's columns a row may show; loading whole User objects would also load their
# themes and organisation, one more query per few hundred people.
_PERSON = (User.role, User.arrondissement, User.telegram_id, User.contact_consent_at)


async def people_csv(session: AsyncSession, timezone: str = DEFAULT_TIMEZONE) -> bytes:
    """Everyone who finished joining and was not erased, in order of arrival."""
    local = _Dates(timezone)
    themes: dict[int, list[str]] = defaultdict(list)
    for user_id, code in await session.execute(
        select(UserTheme.user_id, UserTheme.theme_code).order_by(
            UserTheme.user_id, UserTheme.theme_code
        )
    ):
        themes[user_id].append(code)
    rows = await session.execute(
        select(User.id, *_PERSON, User.locale, User.onboarded_at, Organisation.name)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.onboarded_at.is_not(None), User.erased_at.is_(None))
        .order_by(User.onboarded_at, User.id)
    )
    return csv_bytes(
        PEOPLE_COLUMNS,
        (
            (
                role.value if role else None,
                organisation,
                arrondissement,
                ",".join(themes.get(user_id, ())),
                locale,
                local(onboarded_at),
                _shared(consent),
                telegram_id if _shared(consent) else None,
            )
            for (
                user_id,
                role,
                arrondissement,
                telegram_id,
                consent,
                locale,
                onboarded_at,
                organisation,
            ) in rows
        ),
    )


def few(count: int) -> int | str:
    """A count of people: 1 to 4 is «<5», so that nobody is singled out."""
    return "<5" if is_small(count) else count


def answered_by(need: Need) -> str | None:
    """What answers the need: «I-7» or «C-3»; a carrier's link not yet confirmed, «I-7?»."""
    if need.answered_by_initiative_id is not None:
        waiting = "" if need.link_confirmed else "?"
        return f"I-{need.answered_by_initiative_id}{waiting}"
    if need.answered_by_challenge_id is not None:
        return f"C-{need.answered_by_challenge_id}"
    return None


async def needs_csv(session: AsyncSession, timezone: str = DEFAULT_TIMEZONE) -> bytes:
    """Every need, with no link to who reported it."""
    local = _Dates(timezone)
    rows = await session.scalars(select(Need).order_by(Need.id))
    return csv_bytes(
        NEEDS_COLUMNS,
        (
            (
                f"N-{need.id}",
                local(need.created_at),
                need.theme_code,
                need.arrondissement,
                need.text,
                need.latitude,
                need.longitude,
                need.status.value,
                answered_by(need),
            )
            for need in rows
        ),
    )


async def initiatives_csv(session: AsyncSession, timezone: str = DEFAULT_TIMEZONE) -> bytes:
    """Every proposal, whatever its status; «contact shared» and the proposer's Telegram id as
    the one rule of storage/privacy.py has it: only when the answer that applied to that
    proposal was yes and the person's answer still is."""
    local = _Dates(timezone)
    rows = await session.execute(
        select(Initiative, User.telegram_id, User.contact_consent_at)
        .join(User, User.id == Initiative.proposer_id)
        .order_by(Initiative.id)
    )
    gathered = await gathered_by_initiative(session)
    none = Gathered(0, 0, 0)

    def row(
        initiative: Initiative, telegram_id: int | None, consent: datetime | None
    ) -> tuple[object, ...]:
        shared = proposal_shares_contact(consent, initiative.contact_consent)
        return (
            f"I-{initiative.id}",
            initiative.status.value,
            initiative.theme_code,
            initiative.arrondissement,
            initiative.organisation.name if initiative.organisation else None,
            initiative.title,
            initiative.description,
            local(initiative.submitted_at),
            local(initiative.decided_at),
            shared,
            telegram_id if shared else None,
            *(few(count) for count in astuple(gathered.get(initiative.id, none))),
        )

    return csv_bytes(INITIATIVES_COLUMNS, (row(*found) for found in rows))


async def participations_csv(session: AsyncSession, timezone: str = DEFAULT_TIMEZONE) -> bytes:
    """Every participation in every challenge (those who left too), then the people
    registered without Telegram (never their name). What people wrote is left out: the
    challenge's own export has it."""
    local = _Dates(timezone)
    slugs = dict((await session.execute(select(Challenge.id, Challenge.slug))).all())
    rows = await session.execute(
        select(
            Participation.challenge_id,
            Participation.kind,
            Participation.activity,
            Participation.joined_at,
            Participation.left_at,
            *_PERSON,
            Organisation.name,
        )
        .join(User, User.id == Participation.user_id)
        .outerjoin(Organisation, Organisation.id == Participation.organisation_id)
        .order_by(Participation.challenge_id, Participation.joined_at, Participation.id)
    )
    assisted = await session.scalars(
        select(AssistedParticipation).order_by(
            AssistedParticipation.challenge_id, AssistedParticipation.id
        )
    )
    participants = (
        (
            challenge_id,
            slugs.get(challenge_id),
            "participant",
            role.value if role else None,
            organisation,
            arrondissement,
            kind,
            activity,
            local(joined_at),
            local(left_at),
            telegram_id if _shared(consent) else None,
        )
        for (
            challenge_id,
            kind,
            activity,
            joined_at,
            left_at,
            role,
            arrondissement,
            telegram_id,
            consent,
            organisation,
        ) in rows
    )
    others = (
        (
            person.challenge_id,
            slugs.get(person.challenge_id),
            "assisted",
            None,
            None,
            person.arrondissement,
            None,
            person.activity,
            local(person.created_at),
            None,
            None,
        )
        for person in assisted
    )
    return csv_bytes(PARTICIPATIONS_COLUMNS, (*participants, *others))


async def _per_survey(session: AsyncSession, query: Any) -> dict[int, int]:
    return dict((await session.execute(query)).all())


async def surveys_csv(
    session: AsyncSession, surveys: Sequence[Survey], locale: str = "fr"
) -> bytes:
    """Each survey sent, with how many were asked, started and finished, and the file of its
    answers."""
    invited = await _per_survey(
        session,
        select(SurveyInvitation.survey_id, func.count()).group_by(SurveyInvitation.survey_id),
    )
    started = await _per_survey(
        session,
        select(SurveyResponse.survey_id, func.count()).group_by(SurveyResponse.survey_id),
    )
    completed = await _per_survey(
        session,
        select(SurveyResponse.survey_id, func.count())
        .where(SurveyResponse.completed_at.is_not(None))
        .group_by(SurveyResponse.survey_id),
    )
    return csv_bytes(
        SURVEYS_COLUMNS,
        (
            (
                survey.id,
                survey.series,
                survey.wave,
                survey.challenge_id,
                survey.status.value,
                _title(survey.texts, locale),
                invited.get(survey.id, 0),
                started.get(survey.id, 0),
                completed.get(survey.id, 0),
                survey_file(survey),
            )
            for survey in surveys
        ),
    )


def _title(texts: Mapping[str, Any], locale: str) -> str:
    found = texts.get(locale) or texts.get("fr") or next(iter(texts.values()), None) or {}
    return str(found.get("title") or "")


def survey_file(survey: Survey) -> str:
    return f"survey_{survey.id}_answers.csv"


async def export_files(
    session: AsyncSession, timezone: str = DEFAULT_TIMEZONE, locale: str = "fr"
) -> dict[str, bytes]:
    """Every export file by name, in the order they are listed."""
    surveys = (
        await session.scalars(
            select(Survey).where(Survey.status != SurveyStatus.draft).order_by(Survey.id)
        )
    ).all()
    files = {
        "people.csv": await people_csv(session, timezone),
        "needs.csv": await needs_csv(session, timezone),
        "initiatives.csv": await initiatives_csv(session, timezone),
        "participations.csv": await participations_csv(session, timezone),
        "surveys.csv": await surveys_csv(session, surveys, locale),
    }
    for survey in surveys:
        files[survey_file(survey)] = await answers_csv(session, survey.id)
    return files


def zip_bytes(files: Mapping[str, bytes], moment: datetime | None = None) -> bytes:
    """The files in one ZIP, each dated `moment` (equal inputs give equal bytes)."""
    stamp = (moment or utcnow()).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def write_files(files: Mapping[str, bytes], directory: str | Path) -> list[Path]:
    """Writes the files into `directory` (created if needed); their paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        written.append(path)
    return written
