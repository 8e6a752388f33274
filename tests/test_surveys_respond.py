"""Answering an impact survey, as a respondent has it: the invitation's Start / Later, every
kind of question, branching, Skip, /back, pausing and resuming after a restart, answers the
question cannot take, never twice, the thanks — and the Surveys menu with published results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from handlers.surveys.callbacks import (
    AnswerCb,
    QuestionAction,
    QuestionCb,
    SurveyAction,
    SurveyCb,
)
from handlers.surveys.invitation import invitation
from storage.models import (
    FsmRecord,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from storage.survey_files import import_surveys, load_survey_file
from storage.surveys import (
    answer,
    close_survey,
    complete_if_done,
    get_survey,
    open_survey,
    skip,
    start_response,
)
from storage.users import (
    get_or_create_user,
)
from tests.conversation import STICKER, Harness, Person
from tests.surveys_setup import (
    COORDINATOR,
    NOW,
    SURVEY,
    citizen,
)
from tests.texts import t

# -- setup


async def opened_survey(harness: Harness) -> int:
    """The survey, sent now to everyone stored so far (no audience: everyone)."""
    async with harness.sessionmaker.begin() as session:
        (survey,) = await import_surveys(session, [SURVEY], COORDINATOR)
        await open_survey(session, survey.id, COORDINATOR, NOW)
        return survey.id


async def invite(harness: Harness, person: Person, survey_id: int, locale: str = "en") -> None:
    """The invitation as the coordinators' side sends it: rendered in the person's language."""
    async with harness.sessionmaker() as session:
        survey = await get_survey(session, survey_id)
        assert survey is not None
        with harness.i18n.context(), harness.i18n.use_locale(locale):
            text, markup = invitation(survey, locale)
    await harness.bot.send_message(person.id, text, reply_markup=markup)


async def invited(harness: Harness, locale: str = "en") -> tuple[Person, int]:
    person = await citizen(harness, locale=locale)
    survey_id = await opened_survey(harness)
    await invite(harness, person, survey_id, locale)
    return person, survey_id


async def question_id(harness: Harness, code: str) -> int:
    async with harness.sessionmaker() as session:
        found = await session.scalar(select(SurveyQuestion.id).where(SurveyQuestion.code == code))
        assert found is not None
        return found


async def stored(harness: Harness) -> dict[str, list[Any]]:
    """The person's answers: question code -> values (number, option, text or "skipped")."""
    async with harness.sessionmaker() as session:
        rows = await session.execute(
            select(SurveyQuestion.code, SurveyAnswer)
            .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
            .order_by(SurveyQuestion.position, SurveyAnswer.option_code)
        )
        found: dict[str, list[Any]] = {}
        for code, row in rows:
            value = (
                "skipped"
                if row.skipped
                else row.option_code or row.value_text
                if row.option_code or row.value_text
                else row.value_number
            )
            found.setdefault(code, []).append(value)
        return found


async def dialog(harness: Harness, person: Person) -> tuple[str | None, dict[str, Any]]:
    async with harness.sessionmaker() as session:
        record = await session.scalar(select(FsmRecord).where(FsmRecord.user_id == person.id))
        return (record.state, record.data) if record else (None, {})


def alert(calls: list[Any]) -> str:
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1
    return str(answers[0].params.get("text") or "")


async def answer_first_three(person: Person) -> None:
    await person.press("Start")
    await person.press("4")
    await person.press("Yes")


# -- answering


async def test_every_kind_of_question_from_invitation_to_thanks(harness: Harness) -> None:
    person, _ = await invited(harness)
    invitation_text = person.last
    assert "Isolation check" in invitation_text
    assert "Six short questions <about> your visits." in invitation_text  # escaped, shown as is
    assert person.buttons() == ["Start", "Later"]

    await person.press("Start")
    assert person.last.startswith("1/6 · Isolation check")
    assert "How lonely do the people you visit feel?" in person.last
    assert "From 1 (Not at all) to 5 (Very)." in person.last
    assert person.buttons() == ["1", "2", "3", "4", "5"]
    await person.press("4")
    assert person.last.startswith("2/6") and person.buttons() == ["Yes", "No"]
    await person.press("Yes")
    assert person.last.startswith("3/6") and "How many visits?" in person.last
    assert "Type a number from 1 to 100. Unit: visits." in person.last
    await person.send("12")
    assert person.last.startswith("4/6") and person.buttons() == [
        "By phone",
        "At their door",
        "By letter",
    ]
    await person.press("At their door")
    assert person.last.startswith("5/6") and "then press “Done”" in person.last
    await person.press("Shopping")
    await person.press("Company")
    await person.press("Paperwork")
    await person.press("Shopping")
    assert person.buttons() == [
        "Shopping",
        "✅ Company",
        "✅ Paperwork",
        "Done",
        "Skip",
    ]
    await person.press("Done")
    assert person.last.startswith("6/6") and "Anything to add?" in person.last
    assert "nothing about the health, religion or political opinions" in person.last
    await person.send("We play cards <b>every</b> Tuesday.")
    thanks = person.last
    assert thanks.startswith("Thanks a lot, neighbour!")
    assert "When the survey closes, you will receive its results here, in this chat" in thanks

    assert await stored(harness) == {
        "lonely": [4.0],
        "visited": ["yes"],
        "visits": [12.0],
        "channel": ["door"],
        "needs": ["company", "paperwork"],
        "comment": ["We play cards <b>every</b> Tuesday."],
    }
    async with harness.sessionmaker() as session:
        response = await session.scalar(select(SurveyResponse))
        assert response is not None and response.completed_at is not None
        assert response.arrondissement == 3
    assert await dialog(harness, person) == (None, {})


async def test_a_branch_is_skipped_and_optional_questions_too(harness: Harness) -> None:
    person, _ = await invited(harness)
    await person.press("Start")
    await person.press("2")
    await person.press("No")
    # No visit: the number of visits is not asked, and the total says so.
    assert person.last.startswith("3/5") and "How do you keep in touch?" in person.last
    await person.press("By phone")
    assert person.last.startswith("4/5")
    await person.press("Skip")
    assert person.last.startswith("5/5")
    await person.press("Skip")
    assert person.last.startswith("Thanks a lot, neighbour!")
    assert await stored(harness) == {
        "lonely": [2.0],
        "visited": ["no"],
        "channel": ["phone"],
        "needs": ["skipped"],
        "comment": ["skipped"],
    }


async def test_back_changes_the_previous_answer_and_the_branch(harness: Harness) -> None:
    person, _ = await invited(harness)
    await person.press("Start")
    calls = await person.send("/back")
    assert "This is the first question. Send /cancel to pause." in person.said(2)[0]
    assert calls and person.last.startswith("1/6")
    await person.press("5")
    await person.press("No")
    assert person.last.startswith("3/5")
    await person.send("/back")
    assert person.last.startswith("2/6") and "Did you visit anyone" in person.last
    await person.press("Yes")
    assert person.last.startswith("3/6") and "How many visits?" in person.last
    await person.send("3")
    await person.press("By letter")
    await person.send("/back")
    assert person.last.startswith("4/6")
    await person.press("By phone")
    assert (await stored(harness))["channel"] == ["phone"]
    assert (await stored(harness))["visits"] == [3.0]


async def test_pausing_then_resuming_after_a_restart(harness: Harness) -> None:
    person, _ = await invited(harness)
    await answer_first_three(person)
    await harness.restart()
    await person.send("/start")
    welcome, question = person.said(2)
    assert "Welcome back!" in welcome
    assert question.startswith("3/6") and "How many visits?" in question
    await person.send("7")
    assert person.last.startswith("4/6")

    # /cancel pauses: the answers stay, and the Surveys menu offers to resume.
    await person.send("/cancel")
    await harness.restart()
    await person.press("Surveys")
    assert person.buttons()[0] == "Resume: Isolation check"
    await person.press("Resume: Isolation check")
    assert person.last.startswith("4/6") and "How do you keep in touch?" in person.last
    assert (await stored(harness))["visits"] == [7.0]


async def test_closed_questions_take_their_buttons_typed(harness: Harness) -> None:
    """At a button step, a typed text that names a button is that button (issue 13): the ends
    of a scale, yes/no with more words, an option's label without accents, several options of
    a multiple choice on one line (ticked, as their buttons do), «Terminé» — in French."""
    person, _ = await invited(harness, locale="fr")
    await person.press(t("fr", "Start"))
    await person.send("PAS DU TOUT")
    assert person.last.startswith("2/6")
    await person.send("Oui, bien sûr !")
    assert person.last.startswith("3/6")
    await person.send("١٢")
    assert person.last.startswith("4/6")
    await person.send("a leur porte")
    assert person.last.startswith("5/6")
    await person.send("Courses, papiers")
    assert person.last.startswith("5/6")
    assert person.buttons() == [
        "✅ Courses",
        "Compagnie",
        "✅ Papiers",
        t("fr", "Done"),
        t("fr", "Skip"),
    ]
    await person.send("compagnie")
    assert "✅ Compagnie" in person.buttons()
    await person.send("terminé")
    assert person.last.startswith("6/6")
    # A free text is an answer, whatever it says: "Passer" is not the «Skip» button here.
    await person.send("Passer")
    assert person.last.startswith("Merci beaucoup, voisin !")
    assert await stored(harness) == {
        "lonely": [1.0],
        "visited": ["yes"],
        "visits": [12.0],
        "channel": ["door"],
        "needs": ["company", "paperwork", "shopping"],
        "comment": ["Passer"],
    }


async def test_a_typed_no_with_more_words_and_a_typed_skip(harness: Harness) -> None:
    person, _ = await invited(harness)
    await person.press("Start")
    await person.send("5")
    await person.send("No, nobody this month")
    assert person.last.startswith("3/5") and "How do you keep in touch?" in person.last
    await person.send("by letter")
    assert person.last.startswith("4/5")
    # Something that names no button, or an option with «Skip», is asked again.
    for unclear in ("by pigeon", "Shopping, skip"):
        explanation, again = person.said(2) if await person.send(unclear) else ("", "")
        assert explanation == "Please answer with one of the buttons below."
        assert again.startswith("4/5") and "✅" not in "".join(person.buttons())
    await person.send("skip")
    assert person.last.startswith("5/5")
    # A free text is an answer, whatever it says.
    await person.send("skip")
    assert await stored(harness) == {
        "lonely": [5.0],
        "visited": ["no"],
        "channel": ["letter"],
        "needs": ["skipped"],
        "comment": ["skip"],
    }


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "isolation-survey.yaml"


async def test_the_example_survey_says_each_thing_once(harness: Harness) -> None:
    """The survey's own words and the bot's do not repeat each other (issue 13): anonymity
    once in the invitation, the warning about sensitive data once at the free-text question,
    where the results come once in the thanks."""
    person = await citizen(harness, locale="fr")
    async with harness.sessionmaker.begin() as session:
        (survey,) = await import_surveys(session, load_survey_file(EXAMPLE), COORDINATOR)
        await open_survey(session, survey.id, COORDINATOR, NOW)
        survey_id = survey.id
    await invite(harness, person, survey_id, "fr")
    assert person.last.count("anonym") == 1
    await person.press(t("fr", "Start"))
    for typed in ("3", "très souvent", "presque jamais", "oui"):
        await person.send(typed)
        # The number of visits is asked to associations only: not to this citizen.
        assert "votre association" not in person.last
    free_text = person.last
    assert "qu’est-ce que cet appel a changé" in free_text
    assert free_text.count("santé") == 1 and free_text.count("religion") == 1
    await person.send("Elle a ri, enfin.")
    await person.send("les repas partagés")
    await person.send("des bénévoles, un local")
    await person.send("terminé")
    thanks = person.last
    assert thanks.startswith("Merci pour votre temps")
    assert thanks.count("résultat") == 1 and thanks.count("arrondissement") == 1
    answers = await stored(harness)
    assert answers["most_useful"] == ["shared_meals"]
    assert answers["needed"] == ["premises", "volunteers"]


# At each question, what it cannot take (message fields) and what the person is told.
BAD_INPUT: dict[int, list[tuple[dict[str, Any], str]]] = {
    1: [
        ({"text": "hello"}, "Please answer with one of the buttons below."),
        ({"text": "7"}, "Please answer with one of the buttons below."),
        ({"sticker": STICKER}, "Please answer with one of the buttons below."),
    ],
    3: [
        ({"text": "twelve"}, "Please type a number, in digits (for example 12)."),
        ({"text": "0"}, "This is too small: the answer is at least 1."),
        ({"text": "250"}, "This is too large: the answer is at most 100."),
        ({"sticker": STICKER}, "Please type a number, in digits (for example 12)."),
    ],
    6: [
        ({"text": "x" * 501}, "This is too long: 500 characters at most."),
        ({"text": "   "}, "This is empty. Please type your answer as a text message."),
        ({"sticker": STICKER}, "Please type your answer as a text message."),
    ],
}


async def test_typed_answers_the_question_cannot_take(harness: Harness) -> None:
    person, _ = await invited(harness)
    await person.press("Start")
    moves = {
        1: lambda: person.press("4"),
        2: lambda: person.press("Yes"),
        3: lambda: person.send("12"),
        4: lambda: person.press("By phone"),
        5: lambda: person.press("Skip"),
    }
    for number in range(1, 7):
        asked = person.last
        assert asked.startswith(f"{number}/6")
        before, answers = await dialog(harness, person), await stored(harness)
        for bad, expected in BAD_INPUT.get(number, []):
            fields = dict(bad)
            await person.send(fields.pop("text", None), **fields)
            explanation, again = person.said(2)
            assert expected in explanation
            # The same question again; nothing stored, the dialog where it was.
            assert again == asked
            assert await dialog(harness, person) == before
            assert await stored(harness) == answers
        if number in moves:
            await moves[number]()
    await person.send("Fine.")
    assert person.last.startswith("Thanks a lot")


async def test_forged_stale_and_unknown_buttons_change_nothing(harness: Harness) -> None:
    person, _ = await invited(harness)
    await person.press("Start")
    first = person.keyboard_message()
    await person.press("4")
    before = await dialog(harness, person)
    lonely, channel = await question_id(harness, "lonely"), await question_id(harness, "channel")
    visited, needs = await question_id(harness, "visited"), await question_id(harness, "needs")

    # A button of the question already answered, on an older message.
    calls = await person.press_data(AnswerCb(question_id=lonely, value="1").pack(), first)
    assert alert(calls) == "This button is no longer valid. Please use the latest message."
    # A button of a question not reached yet.
    calls = await person.press_data(AnswerCb(question_id=channel, value="phone").pack())
    assert "no longer valid" in alert(calls)
    # An answer the question does not have; skipping a required question.
    calls = await person.press_data(AnswerCb(question_id=visited, value="maybe").pack())
    assert alert(calls) == "Please answer with one of the buttons below."
    calls = await person.press_data(
        QuestionCb(question_id=visited, action=QuestionAction.skip).pack()
    )
    assert alert(calls) == "This question needs an answer: it cannot be skipped."
    assert await dialog(harness, person) == before
    assert await stored(harness) == {"lonely": [4.0]}
    assert person.last.startswith("2/6")

    # On a multiple choice: an option it does not have, «Done» with nothing ticked.
    await person.press("Yes")
    await person.send("5")
    await person.press("By phone")
    before = await dialog(harness, person)
    calls = await person.press_data(AnswerCb(question_id=needs, value="money").pack())
    assert alert(calls) == "Please answer with one of the buttons below."
    calls = await person.press("Done")
    assert alert(calls) == "Please choose at least one answer, then press “Done”."
    assert await dialog(harness, person) == before
    assert person.last.startswith("5/6")


async def test_answering_twice_is_impossible(harness: Harness) -> None:
    person, survey_id = await invited(harness)
    invitation_message = person.keyboard_message()
    start = SurveyCb(survey_id=survey_id, action=SurveyAction.start).pack()
    await answer_first_three(person)
    await person.send("20")
    await person.press("By phone")
    await person.press("Skip")
    await person.press("Skip")
    assert person.last.startswith("Thanks a lot")
    # The invitation sent again (a reminder, say): its Start says it is done.
    await invite(harness, person, survey_id)
    await person.press("Start")
    assert person.last == "You have already answered this survey. Thank you!"
    await person.press_data(start, invitation_message)
    assert person.last == "You have already answered this survey. Thank you!"
    await person.press("Surveys")
    assert not [b for b in person.buttons() if "Isolation check" in b]
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


async def test_later_leaves_the_survey_in_the_menu(harness: Harness) -> None:
    person, _ = await invited(harness)
    await person.press("Later")
    assert "Isolation check" in person.last
    assert "you can answer it whenever you wish, from the menu under “Surveys”" in person.last
    await person.press("Surveys")
    assert "Waiting for your answers:" in person.last
    await person.press("Answer: Isolation check")
    assert person.last.startswith("1/6")


async def test_a_closed_survey_takes_no_more_answers(harness: Harness) -> None:
    person, survey_id = await invited(harness)
    await person.press("Start")
    await person.press("3")
    async with harness.sessionmaker.begin() as session:
        await close_survey(session, survey_id, COORDINATOR, NOW)
    await person.press("Yes")
    assert "This survey is closed or already answered: there is nothing to resume." in person.last
    assert await dialog(harness, person) == (None, {})


async def test_a_survey_in_french(harness: Harness) -> None:
    person, _ = await invited(harness, locale="fr")
    assert "Point isolement" in person.last
    await person.press_data(
        person.keyboard_message()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    assert person.last.startswith("1/6 · Point isolement")
    assert "À quel point les personnes visitées se sentent-elles seules ?" in person.last
    assert "Pas du tout" in person.last and "Très" in person.last
    await person.press("1")
    await person.press_data(
        person.keyboard_message()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    assert "Combien de visites ?" in person.last and "visites" in person.last
    await person.send("1 000")
    assert "100" in person.said(2)[0]
    await person.send("2")
    assert person.buttons() == ["Par téléphone", "À leur porte", "Par courrier"]
    await person.press("Par courrier")
    await person.press("Courses")
    assert "✅ Courses" in person.buttons()


# -- published results


async def respond(
    harness: Harness, survey_id: int, telegram_id: int, arrondissement: int, lonely: int
) -> None:
    async with harness.sessionmaker.begin() as session:
        user = await get_or_create_user(session, telegram_id, "en")
        user.arrondissement = arrondissement
        survey = await get_survey(session, survey_id)
        assert survey is not None
        response = await start_response(session, survey, user, NOW)
        questions = {
            q.code: q
            for q in (
                await session.scalars(
                    select(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id)
                )
            )
        }
        await answer(session, response, questions["lonely"], value_number=lonely)
        await answer(session, response, questions["visited"], option_codes=["yes"])
        await answer(session, response, questions["visits"], value_number=lonely * 2)
        await answer(session, response, questions["channel"], option_codes=["phone"])
        await skip(session, response, questions["needs"])
        await answer(session, response, questions["comment"], value_text=f"Note {telegram_id}")
        assert await complete_if_done(session, response, NOW)


async def test_published_results_and_the_arrondissement_answered_from(harness: Harness) -> None:
    reader = await citizen(harness, 1001, arrondissement=3)  # invited, did not answer
    await citizen(harness, 1002, arrondissement=7)
    # Ten answer: six in the 3rd, four in the 7th; lonely 4 (five), 2 (three) and 1 (two).
    others = [(2000 + n, 3 if n < 6 else 7, 4 if n < 5 else 2 if n < 8 else 1) for n in range(10)]
    for telegram_id, arrondissement, _ in others:
        await citizen(harness, telegram_id, arrondissement=arrondissement)
    survey_id = await opened_survey(harness)
    for telegram_id, arrondissement, lonely in others:
        await respond(harness, survey_id, telegram_id, arrondissement, lonely)

    # Still open: no results yet.
    await reader.send("/start")
    await reader.press("Surveys")
    assert "Results:" not in " ".join(reader.buttons())
    async with harness.sessionmaker.begin() as session:
        await close_survey(session, survey_id, COORDINATOR, NOW)

    await reader.press("Back to the menu")
    await reader.press("Surveys")
    calls = await reader.press("Results: Isolation check")
    said = [c for c in calls if c.method in ("editMessageText", "sendMessage", "sendPhoto")]
    text = "\n".join(m for m in reader.said(2))
    assert "Results: Isolation check" in text
    # Two of the twelve invited did not answer: a rate would show them.
    assert "10 people answered the whole survey." in text and "invited" not in text
    assert "• 4: 5 (50%)" in text and "• 5 (Very): 0 (0%)" in text
    # Three answers of 2 and two of 1: never shown alone, together they make five.
    assert "• 1 (Not at all): 2" not in text and "• 2: 3" not in text
    assert "• other answers, put together so that no small group stands out: 5 (50%)" in text
    # With 1 and 2 hidden, a mean or a total (visits are twice the score) would give them back.
    assert "mean:" not in text and "total:" not in text
    # The free texts were not announced as published: the coordinators read them.
    assert "Note 20" not in text
    assert "The written answers are read by the coordinators only." in text
    # Someone who did not answer reads no arrondissement's figures, whatever their profile.
    assert "In your arrondissement" not in text
    assert said[-1].method == "sendPhoto"

    # A respondent reads the arrondissement they answered from: the 7th's four would be the
    # whole city minus the 3rd's six, so neither has figures of its own.
    for telegram_id, place in ((2000, 3), (2009, 7)):
        respondent = harness.person(telegram_id)
        await respondent.send("/start")
        await respondent.press("Surveys")
        await respondent.press("Results: Isolation check")
        text = "\n".join(respondent.said(2))
        assert f"In your arrondissement (Arrondissement {place})" in text
        local = text.split("In your arrondissement")[1]
        assert "Not shown separately, so that no group of fewer than 5 people" in local
        assert "•" not in local


async def test_the_menu_has_surveys_for_people_who_read_the_notice(harness: Harness) -> None:
    person = await citizen(harness)
    await person.send("/start")
    assert "Surveys" in person.buttons()
    await person.press("Surveys")
    assert (
        "No survey is waiting for your answers, and no results have been published yet."
        in person.last
    )
