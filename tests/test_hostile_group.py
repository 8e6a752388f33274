"""Hostile input in the coordinators' group, at each step of their typed dialogs: the reason of a
rejection and the changes asked of an author (moderation), a challenge's title, description and
dates (the form), a survey's sending date and its reminder's delay; and buttons of the group's
cards pressed twice, or by someone who is no coordinator.

The same strategies and checks as the private dialogs (tests/hostile.py): no handler raises, the
stand-in accepts every reply, a refused input leaves the dialog where it was (and the proposal
undecided) and is explained in the group's language (Arabic here), a reason taken is stored as
typed, cleaned as every free text is.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.standin.updates import private_chat
from handlers.surveys.invitation import invitation
from storage.initiatives import Decision, Proposal, decide, submit
from storage.models import (
    Initiative,
    InitiativeStatus,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    User,
)
from storage.survey_files import import_surveys
from storage.surveys import get_survey, open_survey
from storage.texts import clean_text
from storage.users import find_user
from tests.conversation import Person, buttons_of
from tests.hostile import (
    Live,
    budget,
    check_calls,
    dialog_of,
    hostile_messages,
    in_arabic,
    open_live,
    said,
)
from tests.initiatives_setup import GROUP_ID, GroupPerson
from tests.people import onboard
from tests.surveys_setup import MORNING, city, imported, survey_item
from tests.texts import t

AUTHOR = 3001
OUTSIDER = 3002
DESCRIPTION = "Des bénévoles appellent chaque semaine les aînés qui vivent seuls dans le 3e."
TITLE = "Des voisins pour nos aînés"
SURVEY: dict[str, int] = {}
# Each step: its coordinator (one dialog each) and the way there.
STEPS: dict[str, tuple[int, list[tuple[str, str]]]] = {
    "moderation:reason": (42, [("card", "Reject")]),
    "moderation:changes": (43, [("card", "Ask for changes")]),
    "challenge:title": (44, [("send", "/new_challenge")]),
    "challenge:description": (45, [("send", "/new_challenge"), ("send", TITLE)]),
    "challenge:start": (
        46,
        [
            ("send", "/new_challenge"),
            ("send", TITLE),
            ("send", DESCRIPTION),
            ("press", "Older people and isolation"),
            ("press", "3"),
            ("press", "Done"),
        ],
    ),
    "challenge:end": (
        47,
        [
            ("send", "/new_challenge"),
            ("send", TITLE),
            ("send", DESCRIPTION),
            ("press", "Older people and isolation"),
            ("press", "3"),
            ("press", "Done"),
            ("send", "01/04/2027"),
        ],
    ),
    "survey:send_at": (48, [("survey", "Send at…")]),
    "survey:reminder": (49, [("survey", "Reminder after…")]),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Live]:
    with open_live(
        tmp_path_factory.mktemp("hostile_group"),
        sqlite_template,
        coordinator_ids=frozenset(range(42, 60)),
        group_locale="ar",
    ) as opened:
        opened.harness.dp["wall_clock"] = lambda: MORNING
        opened.run(_setup(opened))
        yield opened


async def _setup(live: Live) -> None:
    harness = live.harness
    harness.standin.add_chat(harness.standin.make_group(GROUP_ID))
    await onboard(harness.person(AUTHOR, language_code="fr"))
    setup = await city(harness)
    survey = await imported(harness, setup["challenge"])
    SURVEY["id"] = survey
    assert harness.take_failures() == []


def coordinator(live: Live, user_id: int) -> GroupPerson:
    harness = live.harness
    return GroupPerson(harness, harness.standin.make_user(user_id, language_code="fr"))


async def proposal(live: Live) -> int:
    async with live.harness.sessionmaker.begin() as session:
        user = await find_user(session, AUTHOR)
        assert user is not None
        found = await submit(session, user, Proposal(TITLE, DESCRIPTION, "older_people", 3))
        return found.id


async def status(live: Live, initiative_id: int) -> tuple[InitiativeStatus, str | None]:
    async with live.harness.sessionmaker() as session:
        found = await session.get(Initiative, initiative_id)
        assert found is not None
        return found.status, found.reason


def labelled(person: Person, label: str, message: dict[str, Any] | None = None) -> str:
    """The data of the button reading `label` (in the group's language)."""
    message = message or person.keyboard_message()
    wanted = t("ar", label)
    for button in buttons_of(message):
        if button["text"] == wanted or wanted in button["text"]:
            return str(button["callback_data"])
    raise AssertionError(f"no {wanted!r} in {[b['text'] for b in buttons_of(message)]}")


def card(person: Person, reference: str) -> dict[str, Any]:
    cards = [m for m in person.bot_messages() if reference in (m.get("text") or "")]
    assert cards, f"no card {reference}"
    return cards[-1]


async def arrive(live: Live, step: str) -> tuple[GroupPerson, int | None]:
    """The step's coordinator there (as the last example left them, or led there again), and
    the proposal they decide on, if any."""
    user_id, path = STEPS[step]
    person = coordinator(live, user_id)
    if step in live.waiting:
        _, there = live.waiting.pop(step)
        subject = there[1].get("_subject")
        now = await dialog_of(live.harness, person)
        if now == (there[0], {k: v for k, v in there[1].items() if k != "_subject"}):
            if subject is None or (await status(live, subject))[0] is InitiativeStatus.pending:
                live.waiting[step] = (person, there)
                return person, subject
    await person.send("/cancel")
    subject = None
    for kind, value in path:
        if kind == "send":
            await person.send(value)
        elif kind == "press":
            await person.press_data(labelled(person, value))
        elif kind == "card":
            subject = await proposal(live)
            await person.send("/pending")
            shown = card(person, f"I-{subject}")
            await person.press_data(labelled(person, value, shown), shown)
        else:
            await person.send("/surveys")
            survey = SURVEY["id"]
            listing = person.keyboard_message()
            [data] = [
                b["callback_data"]
                for b in buttons_of(listing)
                if b["text"].lstrip("\u200f").startswith(f"#{survey} ")
            ]
            await person.press_data(data, listing)
            await person.press_data(labelled(person, value))
    assert live.harness.take_failures() == []
    there = await dialog_of(live.harness, person)
    assert there[0] is not None, f"{step}: not in a dialog"
    live.waiting[step] = (person, (there[0], {**there[1], "_subject": subject}))
    return person, subject


@pytest.mark.parametrize("step", list(STEPS))
@budget(10)
@given(messages=st.lists(hostile_messages(), min_size=1, max_size=3))
def test_hostile_messages_at_every_group_step(
    live: Live, step: str, messages: list[tuple[str | None, dict[str, Any]]]
) -> None:
    live.run(_messages(live, step, messages))


async def _messages(
    live: Live, step: str, messages: list[tuple[str | None, dict[str, Any]]]
) -> None:
    person, subject = await arrive(live, step)
    for text, fields in messages:
        before = await dialog_of(live.harness, person)
        calls = await person.send(text, **fields)
        check_calls(live, calls)
        after = await dialog_of(live.harness, person)
        decided = subject is not None and (await status(live, subject))[0] != (
            InitiativeStatus.pending
        )
        if after == before and not decided:
            # Refused: explained, in the group's language.
            words = said(calls)
            assert words, f"{step}: {text!r} {sorted(fields)} met with silence"
            in_arabic(words, f"{step}: {text!r}")
            continue
        # Taken: a text (never a sticker, a photo…), not blank.
        assert text is not None and text.strip(), f"{step}: {text!r} {sorted(fields)} taken"
        if step == "moderation:reason":
            state, reason = await status(live, subject or 0)
            assert state is InitiativeStatus.rejected
            assert reason == clean_text(text, min_length=0, max_length=len(text)), reason
        return


# -- buttons pressed twice, or from someone else's keyboard


def answer_of(calls: list[Any]) -> str:
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    return str(answer.params.get("text") or "")


@budget(10)
@given(decisions=st.lists(st.sampled_from(["Approve", "Reject", "Ask for changes"]), min_size=2,
                          max_size=4), outsider_first=st.booleans())  # fmt: skip
def test_a_card_pressed_again_or_by_an_outsider_decides_once(
    live: Live, decisions: list[str], outsider_first: bool
) -> None:
    live.run(_card_pressed(live, decisions, outsider_first))


async def _card_pressed(live: Live, decisions: list[str], outsider_first: bool) -> None:
    harness = live.harness
    first, second = coordinator(live, 50), coordinator(live, 51)
    outsider = coordinator(live, OUTSIDER)  # in the group, but no coordinator
    for person in (first, second):
        await person.send("/cancel")
    subject = await proposal(live)
    await first.send("/pending")
    shown = card(first, f"I-{subject}")
    datas = [labelled(first, label, shown) for label in decisions]
    if outsider_first:
        calls = await outsider.press_data(datas[0], shown)
        check_calls(live, calls)
        in_arabic([answer_of(calls)], "outsider")
        assert (await status(live, subject))[0] is InitiativeStatus.pending
        assert await dialog_of(harness, outsider) == (None, {})
    # The first press decides (approves, or asks a reason of who pressed); every later one,
    # by the same coordinator or another, on the card as it was shown, changes nothing.
    calls = await first.press_data(datas[0], shown)
    check_calls(live, calls)
    if decisions[0] != "Approve":
        await first.send("Hors du champ de la ville <&> {0} %s")
    decided = await status(live, subject)
    assert decided[0] is not InitiativeStatus.pending
    for who, data in zip(itertools.cycle((second, first, outsider)), datas[1:], strict=False):
        calls = await who.press_data(data, shown)
        check_calls(live, calls, pressed_again=True)
        in_arabic([w for w in [answer_of(calls), *said(calls)] if w], f"again: {data}")
        await who.send("Une autre raison")  # no dialog was opened: nothing taken
        assert await status(live, subject) == decided, f"{data} decided again"
    assert harness.take_failures() == []


async def answers_of(live: Live, telegram_id: int, survey_id: int) -> list[tuple[Any, ...]]:
    async with live.harness.sessionmaker() as session:
        rows = await session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.option_code, SurveyAnswer.value_number)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(User, User.id == SurveyResponse.user_id)
            .where(User.telegram_id == telegram_id, SurveyResponse.survey_id == survey_id)
            .order_by(SurveyAnswer.question_id)
        )
        return [tuple(row) for row in rows]


def test_buttons_from_another_persons_keyboard(live: Live) -> None:
    live.run(_borrowed(live))


async def _borrowed(live: Live) -> None:
    harness = live.harness
    author, other = harness.person(AUTHOR, "fr"), harness.person(2003, "ar")
    # Somewhere in the other person's own chat to press from.
    theirs = harness.standin.message_update(other.user, "(a message)")["message"]

    # The author's «Edit and send again», made for their proposal the coordinators sent back.
    subject = await proposal(live)
    async with harness.sessionmaker.begin() as session:
        await decide(session, subject, Decision.request_changes, actor_id=42, actor_name="C",
                     reason="Précisez les jours.")  # fmt: skip
    for _ in range(2):
        calls = await other.press_data(f"rs:{subject}", theirs)
        check_calls(live, calls)
        in_arabic([answer_of(calls)], "resubmit by another")
        assert said(calls) == [] and await dialog_of(harness, other) == (None, {})
    assert (await status(live, subject))[0] is InitiativeStatus.changes_requested
    mine = harness.standin.message_update(author.user, "(notification)")["message"]
    calls = await author.press_data(f"rs:{subject}", mine)
    check_calls(live, calls)
    assert (await dialog_of(harness, author))[0] is not None, "the author could not edit"

    # A survey's answer buttons, made for the author of a response.
    async with harness.sessionmaker.begin() as session:
        challenge_id = (await session.get(Survey, SURVEY["id"])).challenge_id  # type: ignore[union-attr]
        (survey,) = await import_surveys(session, [survey_item(challenge_id)], 42)
        await open_survey(session, survey.id, 42, MORNING)
    respondent = harness.person(2001, "fr")
    harness.standin.add_chat(private_chat(respondent.user))
    for person, locale in ((respondent, "fr"), (other, "ar")):
        async with harness.sessionmaker() as session:
            found = await get_survey(session, survey.id)
            assert found is not None
            with harness.i18n.context(), harness.i18n.use_locale(locale):
                text, markup = invitation(found, locale)
        await harness.bot.send_message(person.id, text, reply_markup=markup)
    await respondent.press_data(f"sv:{survey.id}:s")
    question = respondent.keyboard_message()
    scale = [
        b["callback_data"] for b in buttons_of(question) if b["callback_data"].startswith("sva:")
    ]
    await respondent.press_data(scale[2], question)
    before = await answers_of(live, 2001, survey.id)
    assert len(before) == 1
    invited = other.keyboard_message()
    for data in (scale[0], scale[-1], scale[0]):
        calls = await other.press_data(data, invited)
        check_calls(live, calls, pressed_again=True)
        in_arabic([w for w in [answer_of(calls), *said(calls)] if w], f"answer by another {data}")
        assert await answers_of(live, 2001, survey.id) == before, "another changed the answers"
        assert await answers_of(live, 2003, survey.id) == []  # told the button is stale
    # The respondent's own stale press, on the question already answered: nothing changes.
    calls = await respondent.press_data(scale[0], question)
    check_calls(live, calls, pressed_again=True)
    assert [c.method for c in calls].count("answerCallbackQuery") == 1
    assert await answers_of(live, 2001, survey.id) == before
