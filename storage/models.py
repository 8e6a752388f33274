"""Tables. Telegram ids are BigInteger; datetimes are timezone-aware and stored in UTC."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware datetimes out — SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    # Every model here is declared with a table of its own (none maps a join or a select),
    # so Core statements take __table__ as the Table it is.
    __table__: ClassVar[Table]

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Role(enum.StrEnum):
    citizen = "citizen"
    association = "association"
    company = "company"
    institution = "institution"
    coordinator = "coordinator"

    @property
    def is_organisation(self) -> bool:
        return self in (Role.association, Role.company, Role.institution)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    description: Mapped[str | None] = mapped_column(Text)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Shared organisations (storage/organisations.py): the code of the invitation link a member
    # shares (t.me/<bot>?start=o_<code>); the coordinators' decision on verification; when its
    # last member left, handing it to the coordinators.
    invite_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    verification_asked_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    refused_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    orphaned_at: Mapped[datetime | None]
    # Its members opted in to the weekly digest of new needs where it acts, since then (None:
    # not opted in; storage/needs_digest.py).
    needs_digest_at: Mapped[datetime | None]


class OrganisationRequest(Base):
    """Someone asks an organisation's members: to join it (`kind` "join"), or to be put in
    touch from the directory ("contact"). A member accepts or declines; nothing is shared
    before."""

    __tablename__ = "organisation_requests"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    # "asked", "accepted", "declined".
    status: Mapped[str] = mapped_column(String(10), default="asked")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class Theme(Base):
    __tablename__ = "themes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    # Labels of themes added by coordinators, per locale; seeded themes use the catalogs.
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UserTheme(Base):
    __tablename__ = "user_themes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    theme_code: Mapped[str] = mapped_column(ForeignKey("themes.code"), primary_key=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the person is erased: the row then only keeps their contributions together.
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    locale: Mapped[str] = mapped_column(String(8))
    role: Mapped[Role | None] = mapped_column(Enum(Role, native_enum=False, length=16))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    # 1..16 for Marseille's arrondissements, 0 for outside Marseille.
    arrondissement: Mapped[int | None] = mapped_column(SmallInteger)
    notice_version: Mapped[int | None] = mapped_column(SmallInteger)
    notice_accepted_at: Mapped[datetime | None]
    notice_declined_at: Mapped[datetime | None]
    contact_consent_at: Mapped[datetime | None]
    # Consent to challenge alerts; None when off (never asked, declined, or STOP).
    alerts_consent_at: Mapped[datetime | None]
    onboarded_at: Mapped[datetime | None]
    # STOP: no unsolicited message at all (alerts, survey invitations and reminders, news).
    stopped_at: Mapped[datetime | None]
    # Retention (PRIVACY.md): warned once inactivity nears its limit, and again a week before.
    inactivity_warned_at: Mapped[datetime | None]
    inactivity_final_warned_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    theme_links: Mapped[list[UserTheme]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def themes(self) -> list[str]:
        return sorted(link.theme_code for link in self.theme_links)


class FsmRecord(Base):
    """A dialog's state and draft, so that a dialog survives a restart."""

    __tablename__ = "fsm_records"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Kept apart from the key so that /forget finds every dialog of a person.
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    state: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedUpdate(Base):
    """Update ids already handled: the same update delivered twice has one effect."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # An update that failed every attempt and was set aside (confirmed without effect), and
    # why: the coordinators see these with the messages that could not be delivered.
    failed_at: Mapped[datetime | None] = mapped_column(index=True)
    error: Mapped[str | None] = mapped_column(String(200))


class NeedStatus(enum.StrEnum):
    open = "open"
    answered = "answered"
    closed = "closed"
    withdrawn = "withdrawn"


class Need(Base):
    """A local need reported by someone: what, about which theme, where."""

    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    theme_code: Mapped[str] = mapped_column(ForeignKey("themes.code"))
    arrondissement: Mapped[int] = mapped_column(SmallInteger, index=True)
    text: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # open, answered (being answered: linked to an initiative or a challenge), closed or
    # withdrawn (see `NeedStatus`); a link a carrier made waits for a coordinator's
    # confirmation (`link_confirmed`) before the need counts as answered.
    status: Mapped[NeedStatus] = mapped_column(
        Enum(NeedStatus, native_enum=False, length=12), default=lambda: NeedStatus.open
    )
    answered_by_initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="SET NULL")
    )
    answered_by_challenge_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenges.id", ondelete="SET NULL")
    )
    link_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_at: Mapped[datetime | None]


class InitiativeStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    changes_requested = "changes_requested"
    hidden = "hidden"
    # The author erased their data, or withdrew it: gone from every list and card.
    withdrawn = "withdrawn"
    # Its carriers marked it done: its card stays readable, nobody joins it any more.
    completed = "completed"


class Initiative(Base):
    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    theme_code: Mapped[str] = mapped_column(ForeignKey("themes.code"))
    arrondissement: Mapped[int] = mapped_column(SmallInteger)
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # The proposer agreed that coordinators contact them about this proposal.
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[InitiativeStatus] = mapped_column(
        Enum(InitiativeStatus, native_enum=False, length=20), index=True
    )
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    contested_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class ReportReason(enum.StrEnum):
    spam = "spam"
    offensive = "offensive"
    off_topic = "off_topic"


class InitiativeReport(Base):
    """Someone flagged a published initiative; coordinators keep or hide it."""

    __tablename__ = "initiative_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[ReportReason] = mapped_column(Enum(ReportReason, native_enum=False, length=20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[int | None] = mapped_column(BigInteger)


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    dropped = "dropped"


class OutboxPicture(Base):
    """A picture rendered here, stored once however many messages show it (a survey's chart to
    each respondent); once Telegram has it, its file_id, so that the next ones send it by id
    rather than upload it again."""

    __tablename__ = "outbox_pictures"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    telegram_file_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message to deliver outside the current reply, written in the transaction of the change
    that causes it and sent by the delivery loop."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # The person it is for, if any: dropped when they block the bot or are erased.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Bot API method (sendMessage, sendPhoto) and its parameters, ready to send.
    method: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column()
    # A picture rendered on the server (a chart), stored once for every row that shows it.
    picture_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_pictures.id"))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=10), default=OutboxStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # When it failed for good: the day's summary counts it then.
    failed_at: Mapped[datetime | None]
    # "alert" for a challenge alert: one still waiting is dropped if the person stops alerts.
    kind: Mapped[str | None] = mapped_column(String(20))
    # What the message shows, as "initiative:42": a card is found again to be edited when its
    # subject is withdrawn.
    subject: Mapped[str | None] = mapped_column(String(40), index=True)

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)


class AuditEntry(Base):
    """What coordinators did, and when."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChallengeStatus(enum.StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class Challenge(Base):
    """A city challenge, its texts in one or more languages:
    `texts = {"fr": {"title": …, "description": …}, "en": {…}}`; `activities` are the ways to
    help, each `{"code", "texts": {locale: label}, "on_site": bool, "remote": bool,
    "hours_per_month": int}`."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short and opaque, for t.me/<bot>?start=c_<slug> links and posters.
    slug: Mapped[str] = mapped_column(String(16), unique=True)
    texts: Mapped[dict[str, Any]] = mapped_column()
    theme_code: Mapped[str] = mapped_column(ForeignKey("themes.code"), index=True)
    # Empty: the whole city.
    arrondissements: Mapped[list[int]] = mapped_column(JSON, default=list)
    contribution_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    activities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ChallengeStatus] = mapped_column(
        Enum(ChallengeStatus, native_enum=False, length=10),
        default=ChallengeStatus.draft,
        index=True,
    )
    author_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Participation(Base):
    """Someone joined a challenge with what they bring; leaving keeps the row (left_at)."""

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20))
    activity: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]


class AssistedParticipation(Base):
    """A person without Telegram (often an older person), registered with their agreement by
    an association member or social worker; no account is made for them."""

    __tablename__ = "assisted_participations"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # First name or initials only.
    name: Mapped[str] = mapped_column(String(40))
    arrondissement: Mapped[int] = mapped_column(SmallInteger)
    wishes: Mapped[str | None] = mapped_column(Text)
    activity: Mapped[str | None] = mapped_column(String(32))
    agreement_recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChallengeAlert(Base):
    """One alert per person per challenge; also what the monthly cap counts."""

    __tablename__ = "challenge_alerts"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IntroductionStatus(enum.StrEnum):
    asked = "asked"
    accepted = "accepted"
    declined = "declined"


class Introduction(Base):
    """One participant asked to meet another participating organisation on a challenge."""

    __tablename__ = "introductions"
    __table_args__ = (UniqueConstraint("challenge_id", "requester_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[IntroductionStatus] = mapped_column(
        Enum(IntroductionStatus, native_enum=False, length=10),
        default=IntroductionStatus.asked,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class SurveyStatus(enum.StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class Survey(Base):
    """A short impact survey, for a challenge's participants or a role/theme audience.
    `texts = {locale: {"title", "intro", "thanks"}}`; waves of the same `series` are compared
    (before/after, monthly)."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(40), index=True)
    wave: Mapped[int] = mapped_column(SmallInteger, default=1)
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), index=True)
    texts: Mapped[dict[str, Any]] = mapped_column()
    # Who is asked: {"roles": [...], "themes": [...]}; a challenge's survey goes to its
    # participants, of these roles only when "roles" is given (storage/surveys.py audience).
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[SurveyStatus] = mapped_column(
        Enum(SurveyStatus, native_enum=False, length=10), default=SurveyStatus.draft, index=True
    )
    send_at: Mapped[datetime | None]
    reminder_after_hours: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    author_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionKind(enum.StrEnum):
    scale = "scale"
    yes_no = "yes_no"
    single = "single"
    multiple = "multiple"
    number = "number"
    text = "text"


class SurveyQuestion(Base):
    """`texts = {locale: {"text", "low", "high", "unit"}}`; `options = [{"code", "texts"}]`;
    `show_if = {"question": code, "equals": value}` for simple branching."""

    __tablename__ = "survey_questions"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    # Stable across waves, so that waves can be compared question by question.
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[QuestionKind] = mapped_column(Enum(QuestionKind, native_enum=False, length=10))
    texts: Mapped[dict[str, Any]] = mapped_column()
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    min_value: Mapped[float | None]
    max_value: Mapped[float | None]
    show_if: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Part of the figures shown on the challenge's card over time.
    key_figure: Mapped[bool] = mapped_column(Boolean, default=False)
    # Free-text answers shown beyond coordinators: respondents are told before they answer.
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # Asked only to people of these roles (Role values); None: to everyone the survey goes to.
    roles: Mapped[list[str] | None] = mapped_column(JSON)


class SurveyInvitation(Base):
    """Who was asked (the response rate's denominator), and when reminded."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("survey_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]


class SurveyResponse(Base):
    """One person's answers to one survey; partial until completed, resumed where it stopped."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Taken when answering, so that results by arrondissement need no link to the person.
    arrondissement: Mapped[int | None] = mapped_column(SmallInteger)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)


class SurveyAnswer(Base):
    """One answer; a multiple-choice answer is one row per chosen option."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        Index("ix_survey_answers_question_value", "question_id", "value_number"),
        Index("ix_survey_answers_question_option", "question_id", "option_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"))
    value_number: Mapped[float | None]
    option_code: Mapped[str | None] = mapped_column(String(40))
    value_text: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class SummaryRun(Base):
    """The coordinators' daily summary of one day, claimed once: its unique day makes a second
    worker, or a restarted one, find the day already done."""

    __tablename__ = "summary_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Posted well after SUMMARY_TIME: the bot was not running then.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Nothing new and nothing waiting: the day was claimed and no message written.
    quiet: Mapped[bool] = mapped_column(Boolean, default=False)


class JobRun(Base):
    """A scheduled job's run for one day, claimed once across workers and restarts."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatMove(Base):
    """A group Telegram turned into a supergroup, which changed its id: messages and
    settings meant for the old id follow it to the new one."""

    __tablename__ = "chat_moves"

    old_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    new_chat_id: Mapped[int] = mapped_column(BigInteger)
    moved_at: Mapped[datetime] = mapped_column(default=utcnow)


class InitiativeSupport(Base):
    """One person backs a published initiative: one row per person, deleted when undone."""

    __tablename__ = "initiative_supports"
    __table_args__ = (UniqueConstraint("initiative_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InitiativeFollow(Base):
    """One person receives the news an initiative's carriers post; deleted when undone."""

    __tablename__ = "initiative_follows"
    __table_args__ = (UniqueConstraint("initiative_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class HelpStatus(enum.StrEnum):
    offered = "offered"
    accepted = "accepted"
    declined = "declined"


class HelpOffer(Base):
    """Someone offers an initiative's carriers their help (a contribution kind and a few
    words); the carriers accept or decline, and contacts are exchanged only when accepted and
    the helper agreed to share theirs."""

    __tablename__ = "help_offers"
    __table_args__ = (UniqueConstraint("initiative_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[HelpStatus] = mapped_column(
        Enum(HelpStatus, native_enum=False, length=10), default=lambda: HelpStatus.offered
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[datetime | None]


class InitiativeNews(Base):
    """When a carrier posted news (not what: the text lives only in the messages sent), so
    that posting is paced."""

    __tablename__ = "initiative_news"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ChallengePartner(Base):
    """A published initiative linked to a challenge by a coordinator, listed on its card."""

    __tablename__ = "challenge_partners"
    __table_args__ = (UniqueConstraint("challenge_id", "initiative_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The daily summary's counts are range scans on these times (bench/summary.py: without them,
# counting a day's deliveries among 200,000 outbox rows took 0.3 to 1.2 s).
Index("ix_users_onboarded_at_role", User.onboarded_at, User.role)
Index("ix_participations_joined_at", Participation.joined_at, Participation.challenge_id)
Index("ix_participations_left_at", Participation.left_at, Participation.challenge_id)
Index("ix_outbox_sent_at", OutboxMessage.sent_at)
Index("ix_outbox_failed_at", OutboxMessage.failed_at)
