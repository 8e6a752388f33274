"""A challenge read in Arabic when its texts are only in Latin letters (issue 13): the title is
one isolated block (U+2068…U+2069) in its place, and lists are joined the Arabic way."""

from __future__ import annotations

from handlers.bidi import FSI, PDI, RLM
from handlers.challenges.alliances import request_text
from handlers.challenges.callbacks import ChallengeCb
from handlers.challenges.coordination_notices import alert_text
from handlers.texts import join_list
from storage.challenges import CONTRIBUTION_KINDS, challenge_text
from storage.models import Organisation, Role, User
from tests.challenges_setup import KINDS, TITLE, make_challenge
from tests.conversation import Harness
from tests.texts import t


def arabic_kinds() -> str:
    return join_list([t("ar", CONTRIBUTION_KINDS[code]) for code in KINDS], "ar")


async def test_an_arabic_reader_of_a_latin_challenge_card(harness: Harness) -> None:
    challenge = await make_challenge(harness, arrondissements=[13, 3])
    title = challenge_text(challenge, "ar")[0]
    assert TITLE in title  # no Arabic text: a Latin one is shown

    reader = harness.person(2002, language_code="ar")
    await reader.send("/help")
    await reader.press_data(ChallengeCb(challenge_id=challenge.id).pack())
    lines = reader.last.splitlines()
    # The title's line is laid out right to left, the title one block in it.
    assert lines[0] == f"{RLM}{FSI}{title}{PDI}"
    sought = t("ar", "Sought: {kinds}", kinds=arabic_kinds())
    assert sought in lines
    assert "," not in sought  # never a Latin comma in Arabic
    where = [line for line in lines if t("ar", "Arrondissement {number}", number=13) in line]
    assert len(where) == 1 and "," not in where[0]

    # The same card in English: nothing added, the English way of listing.
    english = harness.person(2003, language_code="en")
    await english.send("/help")
    await english.press_data(ChallengeCb(challenge_id=challenge.id).pack())
    assert english.last.splitlines()[0] == TITLE
    assert "Sought: Volunteers' time, Skills, Premises, and Funding" in english.last
    assert FSI not in english.last and RLM not in english.last


async def test_an_arabic_alert_for_a_latin_challenge(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    title = challenge_text(challenge, "ar")[0]
    reader = User(telegram_id=3001, locale="ar", arrondissement=13)
    with harness.i18n.context(), harness.i18n.use_locale("ar"):
        text = alert_text(challenge, reader, "ar")
        english = alert_text(challenge, reader, "en")
    heading = text.splitlines()[0]
    assert heading == t("ar", "🔔 <b>A new challenge for the city: {title}</b>").format(
        title=f"{FSI}{title}{PDI}"
    )
    assert t("ar", "Sought: {kinds}", kinds=arabic_kinds()) in text.splitlines()
    assert text.count(FSI) == text.count(PDI) == 1
    assert "," not in text.split("\n\n")[-2]  # the kinds sought: no Latin comma
    assert FSI not in english


async def test_an_arabic_organisation_asked_to_meet_on_a_latin_challenge(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    title = challenge_text(challenge, "ar")[0]
    organisation = Organisation(name="Les Amis du Panier", kind=Role.association, verified=False)
    requester = User(
        telegram_id=3002, locale="fr", role=Role.association, organisation=organisation
    )
    with harness.i18n.context(), harness.i18n.use_locale("ar"):
        text = request_text(challenge, requester, None, "ar")
    lines = text.splitlines()
    assert t("ar", "Challenge: “{title}”").format(title=f"{FSI}{title}{PDI}") in lines
    who = f"<b>{FSI}Les Amis du Panier{PDI}</b> ({t('ar', 'Association')})"
    assert t("ar", "From: {who}").format(who=who) in lines
    with harness.i18n.context(), harness.i18n.use_locale("fr"):
        assert FSI not in request_text(challenge, requester, None, "fr")
