"""The world of the random conversations (tests/test_random_conversations.py): a few people —
citizens, an association's member — and a coordinator in the group, each doing one whole short
dialog at a time with the real bot through the Harness, and the invariants read from the
database, the outbox, the exports and what the stand-in shows after every step.

Every person types a marker of their own (`Zq<id>g<generation>x`) in everything they write, so
that after /forget the search for it anywhere is a search for that person's words. Dialogs are
pressed by the labels of the person's language (`tests.texts.t`), or by a button's position
where the labels are the survey's own texts.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlalchemy import and_, func, select

from bot.config import Settings
from bot.delivery import Delivery, policy_from
from bot.i18n import create_i18n
from bot.jobs import JobContext
from bot.standin import StandIn
from handlers import jobs
from handlers.challenges.callbacks import JoinCb
from handlers.initiatives.callbacks import CardCb
from handlers.profile.callbacks import MessagesCb, SettingsCb, SettingsField
from handlers.surveys.callbacks import SurveyCb
from storage import outbox
from storage.attention import open_to_unsolicited
from storage.db import create_engine, create_sessionmaker
from storage.exports import export_files
from storage.initiative_support import is_small
from storage.models import (
    AuditEntry,
    Base,
    Challenge,
    ChallengeStatus,
    Initiative,
    InitiativeStatus,
    Need,
    OutboxMessage,
    OutboxStatus,
    Participation,
    Survey,
    SurveyResponse,
    User,
    utcnow,
)
from storage.outbox import ALERT, QuietHours, is_unsolicited
from storage.summary import DECISIONS, day_window, due_day, local_date
from storage.survey_files import import_surveys
from storage.survey_sending import set_reminder
from storage.users import find_user
from tests.challenges_setup import TITLE as CHALLENGE_TITLE
from tests.challenges_setup import make_challenge
from tests.conversation import Harness, Person, button_texts, buttons_of, plain
from tests.delivery_setup import FAST
from tests.initiatives_setup import GROUP_ID, GroupPerson, group_person
from tests.surveys_setup import COORDINATOR, SURVEY, citizen
from tests.texts import t

TOKEN = "123456:TEST-TOKEN"
TIMEZONE = "Europe/Paris"
GROUP_LOCALE = "fr"

# The cast: who they are when they onboard (an organisation's name, or None for a citizen).
CAST: dict[int, str | None] = {
    5001: None,
    5002: None,
    5003: "Amis du quartier",
    5004: None,
    5005: None,
    5006: "Boulangerie du Panier",
}
# Who has been onboarded long ago (through storage, as tests/surveys_setup.py's `citizen`):
# with them, five answers to a survey, or five supports, are within a short conversation.
LONG_AGO = (5004, 5005)
LOCALES = ("en", "fr", "ar")
LANGUAGE_BUTTON = {"en": "English", "fr": "Français", "ar": "العربية"}

# The survey's questions as a person reads them (its English and French texts), by code.
QUESTION_TEXTS = {
    question["code"]: (question["texts"]["en"]["text"], question["texts"]["fr"]["text"])
    for question in cast(list[dict[str, Any]], SURVEY["questions"])
}
_HEADER = re.compile(r"^\W*\d+/\d+")


def label(locale: str, msgid: str, **values: object) -> str:
    return t(locale, msgid, **values)


@dataclass
class Someone:
    """One member of the cast, as the world remembers them (the database says the rest)."""

    person: Person
    organisation: str | None
    generation: int = 0
    locale: str = "en"
    onboarded: bool = False

    @property
    def marker(self) -> str:
        return f"Zq{self.person.id}g{self.generation}x"


@dataclass
class Erased:
    marker: str
    telegram_id: int
    calls_mark: int  # the stand-in's calls before the erasure


@dataclass
class World:
    harness: Harness
    coordinator: GroupPerson
    challenge_id: int
    people: dict[int, Someone]
    surveys: dict[int, str] = field(default_factory=dict)  # id -> draft / open / closed
    erased: list[Erased] = field(default_factory=list)
    # What the invariants found, and what the delivery saw as it sent (checked at the claim).
    problems: list[str] = field(default_factory=list)
    # Set by a delivery: the group's cards are searched once its outbox is empty.
    check_group_after_delivery: bool = False

    # -- the cast

    def someone(self, telegram_id: int) -> Someone:
        return self.people[telegram_id]

    def onboarded(self) -> list[int]:
        return [pid for pid, one in self.people.items() if one.onboarded]

    async def press(self, one: Someone, msgid: str, **values: object) -> None:
        await one.person.press(label(one.locale, msgid, **values))

    async def press_at(self, person: Person, index: int) -> None:
        buttons = buttons_of(person.keyboard_message())
        assert index < len(buttons), [b["text"] for b in buttons]
        await person.press_data(buttons[index]["callback_data"])

    async def menu(self, one: Someone) -> None:
        """/start, for the menu: a dialog left half-way, which /start resumes, is given up
        first (/cancel, and «Yes, discard it» when it asks)."""
        person = one.person
        entry = label(one.locale, "Report a need")

        def shown() -> list[str]:
            return button_texts(person.bot_messages()[-1])

        await person.send("/start")
        if entry in shown():
            return
        await person.send("/cancel")
        if label(one.locale, "Yes, discard it") in shown():
            await person.press(label(one.locale, "Yes, discard it"))
        await person.send("/start")
        assert entry in shown(), person.last

    # -- onboarding, needs, proposals

    async def onboard(self, pid: int, older: bool, alerts: bool, contact: bool) -> None:
        one = self.someone(pid)
        person = one.person
        await person.send("/start")
        await person.press("English")
        one.locale = "en"
        await self.press(one, "I have read it, continue")
        if one.organisation:
            await self.press(one, "Association")
            await person.send(f"{one.organisation} {one.marker}")
        else:
            await self.press(one, "Citizen")
        await person.press("3")
        await self.press(one, "Older people and isolation" if older else "Culture")
        await self.press(one, "Done")
        await self.press(one, "Yes, they may" if contact else "No")
        await self.press(one, "Yes, alert me" if alerts else "No, thanks")
        one.onboarded = True
        async with self.harness.sessionmaker() as session:
            user = await find_user(session, pid)
            assert user is not None and user.onboarded_at is not None, "onboarding did not end"

    async def onboarded_long_ago(self) -> None:
        for pid in LONG_AGO:
            one = self.someone(pid)
            one.person = await citizen(self.harness, pid, locale="en", arrondissement=3)
            one.onboarded = True

    async def report_need(self, pid: int) -> None:
        one = self.someone(pid)
        person = one.person
        before = await self.count(Need)
        await self.menu(one)
        await self.press(one, "Report a need")
        await self.press(one, "Housing")
        await self.press_at(person, 0)  # «Yes: <their arrondissement>»
        await person.send(f"The lift of our building {one.marker} is broken again.")
        await self.press(one, "Skip")
        await self.press(one, "Send")
        assert await self.count(Need) == before + 1, person.last

    async def half_way(self, pid: int, need: bool) -> None:
        """A need or a proposal begun, its words typed, and left there: the next dialog, a
        restart, STOP or /forget find it in the dialog storage."""
        one = self.someone(pid)
        person = one.person
        await self.menu(one)
        if need:
            await self.press(one, "Report a need")
            await self.press(one, "Housing")
            await self.press_at(person, 0)  # «Yes: <their arrondissement>»
            await person.send(f"Half a need {one.marker}, to finish later.")
        else:
            await self.press(one, "Propose an initiative")
            await self.press(one, "Older people and isolation")
            await self.press_at(person, 0)  # their own arrondissement
            await person.send(f"Half a proposal {one.marker}")

    async def propose(self, pid: int) -> None:
        one = self.someone(pid)
        person = one.person
        before = await self.count(Initiative)
        await self.menu(one)
        await self.press(one, "Propose an initiative")
        await self.press(one, "Older people and isolation")
        await self.press_at(person, 0)  # their own arrondissement
        await person.send(f"Tea afternoons {one.marker} {before}")
        different = label(one.locale, "Mine is different: continue")
        if any(different in text for text in button_texts(person.bot_messages()[-1])):
            await person.press(different)
        await person.send(f"Every Thursday at the centre, ask for {one.marker}, all welcome.")
        await self.press(one, "Skip")  # no photo
        await self.press(one, "Skip")  # no place
        await self.press(one, "Send my proposal")
        assert await self.count(Initiative) == before + 1, person.last

    # -- the coordinators

    async def moderate(self, decision: str, pick: int) -> None:
        """/pending, then a decision on one of the cards it shows."""
        async with self.harness.sessionmaker() as session:
            waiting = list(
                await session.scalars(
                    select(Initiative.id)
                    .where(Initiative.status == InitiativeStatus.pending)
                    .order_by(Initiative.id)
                )
            )
        if not waiting:
            return
        chosen = waiting[pick % len(waiting)]
        coordinator = self.coordinator
        await coordinator.send("/pending")
        cards = [
            m
            for m in coordinator.bot_messages()
            if f"I-{chosen}" in (m.get("text") or m.get("caption") or "") and m.get("reply_markup")
        ]
        assert cards, f"/pending shows no card of I-{chosen}"
        buttons = {"approve": "Approve", "reject": "Reject", "changes": "Ask for changes"}
        await coordinator.press(label(GROUP_LOCALE, buttons[decision]), cards[-1])
        if decision != "approve":
            await coordinator.send("Please say which days and where, and who to call.")
        async with self.harness.sessionmaker() as session:
            found = await session.get(Initiative, chosen)
            assert found is not None
            expected = {
                "approve": InitiativeStatus.approved,
                "reject": InitiativeStatus.rejected,
                "changes": InitiativeStatus.changes_requested,
            }[decision]
            assert found.status in (expected, InitiativeStatus.withdrawn), found.status

    async def challenge_card(self) -> list[str]:
        await self.coordinator.send("/challenges")
        await self.coordinator.press(CHALLENGE_TITLE[:20])
        return self.coordinator.buttons()

    async def toggle_challenge(self) -> None:
        """Opens the challenge (sending its alerts) or closes it, whichever its card offers."""
        buttons = await self.challenge_card()
        fr = GROUP_LOCALE
        if label(fr, "Close") in buttons:
            await self.coordinator.press(label(fr, "Close"))
            await self.coordinator.press(label(fr, "Yes, close the challenge"))
            expected = ChallengeStatus.closed
        else:
            opener = label(fr, "Reopen") if label(fr, "Reopen") in buttons else label(fr, "Open")
            await self.coordinator.press(opener)
            await self.coordinator.press(label(fr, "Yes, open it and send the alerts"))
            expected = ChallengeStatus.open
        async with self.harness.sessionmaker() as session:
            found = await session.get(Challenge, self.challenge_id)
            assert found is not None and found.status is expected, (found, expected)

    async def post_news(self) -> None:
        """«Post an update» on the challenge's card: news to its participants (NEWS, which
        STOP withdraws and the quiet hours hold back)."""
        buttons = await self.challenge_card()
        update = label(GROUP_LOCALE, "Post an update")
        if update not in buttons:
            return
        await self.coordinator.press(update)
        await self.coordinator.send("Rendez-vous samedi à 10h, café offert.")

    async def challenge_status(self) -> ChallengeStatus:
        async with self.harness.sessionmaker() as session:
            found = await session.get(Challenge, self.challenge_id)
            assert found is not None
            return found.status

    async def send_survey(self) -> None:
        """A new draft of the survey (imported as the coordinators' file would be), sent now
        from its card in the group: everyone is invited."""
        async with self.harness.sessionmaker.begin() as session:
            (survey,) = await import_surveys(session, [SURVEY], COORDINATOR)
            survey_id = survey.id
            await set_reminder(session, survey_id, 24, COORDINATOR)
        coordinator = self.coordinator
        await coordinator.send("/surveys")
        await coordinator.press(f"#{survey_id} ")
        await coordinator.press(label(GROUP_LOCALE, "Send now"))
        await coordinator.press(label(GROUP_LOCALE, "Yes, send it"))
        self.surveys[survey_id] = "open"

    async def close_survey(self, pick: int) -> None:
        opened = [sid for sid, status in self.surveys.items() if status == "open"]
        if not opened:
            return
        survey_id = opened[pick % len(opened)]
        coordinator = self.coordinator
        await coordinator.send("/surveys")
        await coordinator.press(f"#{survey_id} ")
        await coordinator.press(label(GROUP_LOCALE, "Close"))
        await coordinator.press(label(GROUP_LOCALE, "Yes, close it"))
        self.surveys[survey_id] = "closed"

    async def stats(self) -> None:
        """/stats in the group: its figures are the rows', and none of the fewer-than-5
        figures is shown as a number of 1 to 4."""
        now = utcnow()
        calls = await self.coordinator.send("/stats")
        said = "\n".join(
            plain(c.params.get("text")) for c in calls if c.method == "sendMessage" and c.ok
        )
        if local_date(utcnow(), TIMEZONE) != local_date(now, TIMEZONE):
            return  # midnight passed while asking: another day's figures
        window = day_window(local_date(now, TIMEZONE), TIMEZONE)
        await self.check_figures("/stats", said, window)

    async def check_figures(self, source: str, said: str, window: Any) -> None:
        """The figures `said` for `window` are the rows' counts in it, and no fewer-than-5
        figure shows 1 to 4."""
        expected = await self.counts_in(window)
        for msgid, key in STATS_LINES:
            shown = figure_after(said, label(GROUP_LOCALE, msgid))
            if shown != expected[key]:
                self.problems.append(f"{source} {key}: shows {shown}, rows say {expected[key]}")
        few_line = label(
            GROUP_LOCALE,
            "🙌 Initiatives: {supports} supports · {helpers} offers of help · {followers} follows",
        ).split("{")[0]
        for line in said.splitlines():
            if line.startswith(few_line):
                for number in re.findall(r"\d+", line):
                    if is_small(int(number)):
                        self.problems.append(f"{source} shows a small figure: {line!r}")

    async def counts_in(self, window: Any) -> dict[str, int]:
        def within(column: Any) -> Any:
            return and_(column >= window.start, column < window.end)

        async with self.harness.sessionmaker() as session:

            async def count(*conditions: Any) -> int:
                return await session.scalar(select(func.count()).where(*conditions)) or 0

            return {
                "people": await count(within(User.onboarded_at), User.role.is_not(None)),
                "needs": await count(within(Need.created_at)),
                "proposals": await count(within(Initiative.submitted_at)),
                "decisions": await count(
                    within(AuditEntry.created_at),
                    AuditEntry.action.in_([f"initiative.{d}" for d in DECISIONS]),
                ),
                "joined": await count(within(Participation.joined_at)),
                "responses": await count(within(SurveyResponse.completed_at)),
            }

    async def support(self, pid: int, pick: int, follow: bool) -> None:
        """A published initiative's card, opened from a list kept from before: Support (or
        undo it), and Follow."""
        async with self.harness.sessionmaker() as session:
            published = list(
                await session.scalars(
                    select(Initiative.id)
                    .where(Initiative.status == InitiativeStatus.approved)
                    .order_by(Initiative.id)
                )
            )
        if not published:
            return
        one = self.someone(pid)
        await self.menu(one)
        await one.person.press_data(CardCb(initiative_id=published[pick % len(published)]).pack())
        for choices in (("Support", "✓ Supported (undo)"), ("Follow",) if follow else ()):
            buttons = one.person.buttons()
            for msgid in choices:
                if label(one.locale, msgid) in buttons:
                    await one.person.press(label(one.locale, msgid))
                    break

    # -- taking part

    async def join(self, pid: int, kind: int, activity: int, words: bool) -> None:
        one = self.someone(pid)
        person = one.person
        status = await self.challenge_status()
        await self.menu(one)
        await self.press(one, "Challenges")
        challenges = [b for b in person.buttons() if CHALLENGE_TITLE in b]
        if not challenges:
            assert status is not ChallengeStatus.open, person.buttons()
            return
        await person.press(CHALLENGE_TITLE)
        join = label(one.locale, "Join")
        if join not in person.buttons():
            return  # taking part already, or closed
        await person.press(join)
        await self.press_at(person, kind)
        if len(person.buttons()) > 2:  # the activities, then «None in particular»
            await self.press_at(person, activity % len(person.buttons()))
        if words:
            await person.send(f"I bring {one.marker}: tea and a car.")
        else:
            await self.press(one, "Skip")

    async def join_from_old_button(self, pid: int) -> None:
        """«Join» pressed on a message kept from before (an alert, an old card)."""
        one = self.someone(pid)
        data = JoinCb(challenge_id=self.challenge_id, below=True).pack()
        messages = one.person.bot_messages()
        if not messages:
            return
        await one.person.press_data(data, messages[-1])
        if len(one.person.bot_messages()) > len(messages) and one.person.buttons():
            await self.press_at(one.person, 0)
            await self.press_at(one.person, len(one.person.buttons()) - 1)
            await one.person.send(f"Old button {one.marker} again.")

    async def leave(self, pid: int) -> None:
        one = self.someone(pid)
        person = one.person
        await self.menu(one)
        await self.press(one, "Challenges")
        if not any(CHALLENGE_TITLE in b for b in person.buttons()):
            return
        await person.press(CHALLENGE_TITLE)
        if label(one.locale, "Leave") not in person.buttons():
            return
        await self.press(one, "Leave")
        await self.press(one, "Yes, leave")

    async def answer_survey(self, pid: int, choices: list[int]) -> None:
        """«Start» on the latest invitation the person received, then answers by position:
        each choice picks a button (or, for the free text, whether to write)."""
        one = self.someone(pid)
        person = one.person
        invitations = [
            m
            for m in person.bot_messages()
            if any(
                b.get("callback_data", "").startswith(SurveyCb.__prefix__ + ":")
                for b in buttons_of(m)
            )
        ]
        if not invitations:
            return
        invitation = invitations[-1]
        await person.press_data(buttons_of(invitation)[0]["callback_data"], invitation)
        await self.answer_questions(one, choices)

    async def answer_questions(self, one: Someone, choices: list[int]) -> None:
        """The survey's questions from the one shown, one choice each."""
        person = one.person
        for choice in choices:
            last = person.last
            if not _HEADER.match(last):
                return
            code = next(
                (c for c, texts in QUESTION_TEXTS.items() if any(x in last for x in texts)), None
            )
            assert code is not None, last
            if code == "visits":
                await person.send(str(1 + choice % 20))
            elif code == "comment":
                if choice % 2:
                    await person.send(f"We play cards {one.marker} on Tuesdays.")
                else:
                    await self.press_at(person, 0)  # Skip
            elif code == "needs":
                buttons = person.buttons()
                await self.press_at(person, choice % 3)
                await self.press_at(person, len(buttons) - 2)  # Done
            else:
                await self.press_at(person, choice % len(person.buttons()))

    async def carry_on(self, pid: int, choices: list[int]) -> None:
        """Whatever dialog the person left half-way (a need, a proposal, joining, a survey),
        carried on from its last question as it stands now — after a restart, a close, STOP,
        a language change: each choice answers one step."""
        one = self.someone(pid)
        person = one.person
        if not person.bot_messages():
            return
        if _HEADER.match(person.last):
            await self.answer_questions(one, choices)
            return
        for choice in choices:
            shown = button_texts(person.bot_messages()[-1])

            def offered(msgid: str, shown: list[str] = shown) -> str | None:
                wanted = label(one.locale, msgid)
                return next((text for text in shown if wanted in text), None)

            final = offered("Send my proposal") or offered("Send")
            if offered("Mine is different: continue"):
                await person.press(label(one.locale, "Mine is different: continue"))
            elif final:
                await person.press(final)
                return
            elif shown == [label(one.locale, "Skip")] and choice % 2:
                await person.send(f"Carrying on {one.marker}, step {choice}.")
            elif offered("Skip"):
                await self.press(one, "Skip")
            elif not shown:
                await person.send(f"Carrying on {one.marker}, step {choice}.")
            else:
                await self.press_at(person, choice % len(shown))

    async def half_join(self, pid: int, kind: int) -> None:
        """Joining the challenge, stopped at its last question (what one brings, in words)."""
        one = self.someone(pid)
        person = one.person
        await self.menu(one)
        await self.press(one, "Challenges")
        if not any(CHALLENGE_TITLE in b for b in person.buttons()):
            return
        await person.press(CHALLENGE_TITLE)
        join = label(one.locale, "Join")
        if join not in person.buttons():
            return
        await person.press(join)
        await self.press_at(person, kind)
        if len(person.buttons()) > 2:
            await self.press_at(person, 0)

    # -- settings, STOP, language, /forget

    async def stop(self, pid: int) -> None:
        await self.someone(pid).person.send("STOP")

    async def resume(self, pid: int) -> None:
        person = self.someone(pid).person
        await person.send("/settings")
        await person.press_data(MessagesCb(on=True, settings=True).pack())

    async def toggle_alerts(self, pid: int) -> None:
        person = self.someone(pid).person
        await person.send("/settings")
        await person.press_data(SettingsCb(field=SettingsField.alerts).pack())

    async def language(self, pid: int, locale: str) -> None:
        one = self.someone(pid)
        await one.person.send("/language")
        await one.person.press(LANGUAGE_BUTTON[locale])
        one.locale = locale
        async with self.harness.sessionmaker() as session:
            user = await find_user(session, pid)
            assert user is not None and user.locale == locale

    async def forget(self, pid: int) -> None:
        one = self.someone(pid)
        mark = len(self.harness.standin.calls)
        await one.person.send("/forget")
        await one.person.press(label(one.locale, "Yes, erase everything"))
        async with self.harness.sessionmaker() as session:
            assert await find_user(session, pid) is None, one.person.last
        self.erased.append(Erased(one.marker, pid, mark))
        one.generation += 1
        one.onboarded = False
        one.locale = "en"

    async def restart(self) -> None:
        await self.harness.restart()

    async def tick(self, hours: int) -> None:
        """Every scheduled job, as the scheduler runs them, `hours` from now: surveys due,
        reminders, the daily summary, challenges ended, retention, the needs' digest."""
        harness = self.harness
        context = JobContext(
            harness.bot,
            harness.sessionmaker,
            harness.settings,
            harness.i18n,
            storage=harness.dp.storage,
            coordinators_chat=harness.dp["coordinators_chat"],
        )
        now = utcnow() + timedelta(hours=hours)
        async with harness.sessionmaker() as session:
            before = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        with harness.i18n.context():
            for _, job in jobs():
                await job(context, now)
        # The daily summary, if it was posted: its figures are the rows' of its day.
        day = due_day(now, TIMEZONE, harness.settings.summary_time)
        heading = label(GROUP_LOCALE, "<b>Figures</b>")
        async with harness.sessionmaker() as session:
            posted = await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.id > before,
                    OutboxMessage.chat_id == GROUP_ID,
                    OutboxMessage.method == outbox.SEND_MESSAGE,
                )
            )
            summaries = [row for row in posted if heading in str(row.payload.get("text"))]
        if summaries and day is not None:
            window = day_window(day, TIMEZONE, harness.settings.summary_time)
            said = "\n".join(plain(row.payload["text"]) for row in summaries)
            await self.check_figures("the summary", said, window)

    # -- delivering the outbox, as the sender does

    async def deliver(self, quiet: bool) -> None:
        """The outbox's due rows claimed and sent by the real rules (`claim_due`, the
        sender's outcomes), with the quiet hours set around now (`quiet`) or away from it.
        What is claimed is checked at the claim: nothing unsolicited in the quiet hours, nor
        to someone who may not receive it."""
        harness = self.harness
        now = utcnow()
        local = now.astimezone(ZoneInfo(TIMEZONE))
        if quiet:
            hours = QuietHours(
                TIMEZONE, (local - timedelta(hours=1)).time(), (local + timedelta(hours=2)).time()
            )
        else:
            hours = QuietHours(
                TIMEZONE, (local + timedelta(hours=2)).time(), (local + timedelta(hours=3)).time()
            )
        settings = harness.settings.model_copy(update=FAST)
        clock = {"now": now}
        sender = Delivery(harness.bot, harness.sessionmaker, settings, now=lambda: clock["now"])
        sender.policy = replace(policy_from(settings), quiet=hours)
        for _ in range(60):
            async with harness.sessionmaker.begin() as session:
                leases = await outbox.claim_due(
                    session, now=clock["now"], limit=50, policy=sender.policy
                )
                for lease in leases:
                    if not is_unsolicited(lease.kind):
                        continue
                    if hours.contains(clock["now"]):
                        self.problems.append(f"outbox {lease.id} ({lease.kind}) sent at night")
                    open_to_it = await session.scalar(
                        select(func.count()).where(
                            User.id == lease.user_id,
                            User.telegram_id == lease.chat_id,
                            *open_to_unsolicited(),
                        )
                    )
                    if not open_to_it:
                        self.problems.append(
                            f"outbox {lease.id} ({lease.kind}) sent to {lease.chat_id}, who "
                            "may not receive it"
                        )
            if not leases:
                break
            for lease in leases:
                await sender._send(lease)
            clock["now"] += timedelta(seconds=1)
        self.check_group_after_delivery = True

    # -- the invariants

    async def count(self, model: Any, *conditions: Any) -> int:
        async with self.harness.sessionmaker() as session:
            return (
                await session.scalar(select(func.count()).select_from(model).where(*conditions))
                or 0
            )

    async def invariants(self) -> list[str]:
        found = list(self.problems)
        self.problems.clear()
        found += [f"a handler raised: {error!r}" for error in self.harness.take_failures()]
        async with self.harness.sessionmaker() as session:
            # No participation in a closed challenge, joined after it closed.
            late = await session.execute(
                select(Participation.id, Participation.joined_at, Challenge.closed_at)
                .join(Challenge, Challenge.id == Participation.challenge_id)
                .where(
                    Challenge.status == ChallengeStatus.closed,
                    Challenge.closed_at.is_not(None),
                    Participation.left_at.is_(None),
                    Participation.joined_at > Challenge.closed_at,
                )
            )
            found += [f"participation {row.id} joined after the close" for row in late]
            # At most one response per person per survey.
            doubled = await session.execute(
                select(SurveyResponse.survey_id, SurveyResponse.user_id, func.count())
                .group_by(SurveyResponse.survey_id, SurveyResponse.user_id)
                .having(func.count() > 1)
            )
            found += [f"survey {s}: {n} responses of user {u}" for s, u, n in doubled]
            # No response completed after its survey closed.
            after = await session.execute(
                select(SurveyResponse.id)
                .join(Survey, Survey.id == SurveyResponse.survey_id)
                .where(
                    Survey.closed_at.is_not(None),
                    SurveyResponse.completed_at > Survey.closed_at,
                )
            )
            found += [f"response {row.id} completed after its survey closed" for row in after]
            # Nothing unsolicited waits for someone who may not receive it (STOP above all),
            # and nothing at all for someone erased or gone.
            pending = (
                await session.execute(
                    select(
                        OutboxMessage.id,
                        OutboxMessage.kind,
                        OutboxMessage.user_id,
                        OutboxMessage.chat_id,
                    ).where(
                        OutboxMessage.status == OutboxStatus.pending,
                        OutboxMessage.user_id.is_not(None),
                    )
                )
            ).all()
            for row_id, kind, user_id, chat_id in pending:
                user = await session.get(User, user_id)
                if user is None or user.erased_at is not None or user.telegram_id is None:
                    found.append(f"outbox {row_id} ({kind}) waits for an erased person")
                    continue
                if chat_id > 0 and chat_id != user.telegram_id:
                    found.append(f"outbox {row_id} ({kind}) for {user_id} goes to chat {chat_id}")
                if kind == ALERT and user.alerts_consent_at is None:
                    found.append(f"outbox {row_id}: an alert waits for {user_id}, alerts off")
                if is_unsolicited(kind):
                    may = await session.scalar(
                        select(func.count()).where(User.id == user_id, *open_to_unsolicited())
                    )
                    if not may:
                        why = "said STOP" if user.stopped_at else "may not receive it"
                        found.append(f"outbox {row_id} ({kind}) waits for {user_id}, who {why}")
            found += await self.small_figures_exported(session)
            if self.erased:
                found += await self.leftovers(session)
        return found

    async def small_figures_exported(self, session: Any) -> list[str]:
        """The initiatives' export gives supports, offers of help and follows as «<5» from 1
        to 4 (`is_small`), never the number."""
        content = (await export_files(session, TIMEZONE))["initiatives.csv"]
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        return [
            f"initiatives.csv {row[0]}: {value}"
            for row in rows[1:]
            for value in row[-3:]
            if value.isdigit() and is_small(int(value))
        ]

    async def leftovers(self, session: Any) -> list[str]:
        """Where an erased person's marker is still found: every column of every table
        (the dialogs and the outbox included), the exports, and what the bot sent or
        shows since."""
        markers = [e.marker for e in self.erased]
        found = []
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    found += [f"{table.name}.{column}: {m}" for m in markers if _has(value, m)]
        for name, content in (await export_files(session, TIMEZONE)).items():
            text = content.decode("utf-8-sig").lower()
            found += [f"export {name}: {m}" for m in markers if m.lower() in text]
        standin = self.harness.standin
        for erased in self.erased:
            for call in standin.calls[erased.calls_mark :]:
                if call.ok and _has(call.params, erased.marker):
                    found.append(f"{call.method} after the erasure: {erased.marker}")
        if self.check_group_after_delivery:
            # Once delivered, the cards shown in the group were rewritten: none shows them.
            self.check_group_after_delivery = False
            waiting = await session.scalar(
                select(func.count()).where(
                    OutboxMessage.chat_id == GROUP_ID,
                    OutboxMessage.status == OutboxStatus.pending,
                )
            )
            if not waiting:
                for message in standin.chat_messages(GROUP_ID):
                    shown = standin.message(GROUP_ID, message["message_id"]) or {}
                    if not shown.get("from", {}).get("is_bot"):
                        continue
                    own = {k: v for k, v in shown.items() if k != "reply_to_message"}
                    found += [f"group card: {m}" for m in markers if _has(own, m)]
        return found


STATS_LINES = (
    ("👥 New people: {count}", "people"),
    ("📍 Needs reported: {count}", "needs"),
    ("💡 Proposals received: {count}", "proposals"),
    ("⚖️ Decisions: {count}", "decisions"),
    ("🤝 Challenge joins: {count}", "joined"),
    ("📝 Survey responses: {count}", "responses"),
)


def figure_after(text: str, template: str) -> int | None:
    """The number a /stats line shows after its label (the template up to «{count}»)."""
    head = template.split("{count}")[0]
    for line in text.splitlines():
        if line.startswith(head):
            found = re.match(r"\s*([\d\u202f\u00a0 ]+)", line[len(head) :])
            if found:
                return int(re.sub(r"\D", "", found.group(1)))
    return None


def _has(value: Any, marker: str) -> bool:
    if value is None or isinstance(value, int | float | datetime):
        return False
    if isinstance(value, bytes):
        text = value.decode("latin-1")
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return marker.lower() in text.lower()


def world_settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        database_url=database_url,
        redis_url=None,
        coordinator_chat_id=GROUP_ID,
        coordinator_ids=frozenset({COORDINATOR}),
    )


@asynccontextmanager
async def open_world(template: Path) -> AsyncIterator[World]:
    """A world on a copy of the migrated database `template`, with the stand-in, the real
    dispatcher, the cast (nobody onboarded yet) and a draft challenge."""
    directory = Path(tempfile.mkdtemp(prefix="random-world-"))
    path = directory / "collective.db"
    shutil.copy(template, path)
    url = f"sqlite+aiosqlite:///{path}"
    try:
        async with AsyncExitStack() as stack:
            engine = create_engine(url)
            stack.push_async_callback(engine.dispose)
            standin = await stack.enter_async_context(StandIn(token=TOKEN))
            harness = await stack.enter_async_context(
                Harness.open(
                    world_settings(url),
                    create_sessionmaker(engine),
                    create_i18n("fr"),
                    standin,
                    TOKEN,
                )
            )
            challenge = await make_challenge(harness, opened=False)
            people = {
                pid: Someone(harness.person(pid, language_code="en"), organisation)
                for pid, organisation in CAST.items()
            }
            coordinator = group_person(harness)
            assert isinstance(coordinator, GroupPerson)
            yield World(harness, coordinator, challenge.id, people)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
