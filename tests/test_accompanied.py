"""Someone registered by an organisation (often an older person without Telegram) asks to be
erased: the member who registered them, or another member of the same organisation, erases
their details from the bot; they still count, anonymously."""

from __future__ import annotations

from sqlalchemy import select

from handlers.challenges.on_behalf import AccompaniedCb
from storage.challenges import challenge_figures
from storage.models import AssistedParticipation, User
from tests.challenges_setup import (
    TITLE,
    alert_of,
    make_challenge,
    register_start,
)
from tests.conversation import Harness
from tests.initiatives_setup import onboarded

ORGANISATION = "Petits Frères des Pauvres"


async def test_the_organisation_erases_someone_it_accompanies(harness: Harness) -> None:
    challenge = await make_challenge(harness)
    member = await onboarded(harness, organisation=ORGANISATION, verified=True)
    await register_start(member)
    await member.send("Jeanne")
    await member.press("13")
    await member.send("A walk by the sea on Sundays")
    await member.press("This person agreed to be registered")
    assert "you can erase their details at any time with /accompanied" in member.last
    assert "People we registered" in member.buttons()

    # Another member of the same organisation sees her and may erase her.
    colleague = await onboarded(harness, 1002, organisation="Petits Frères", verified=True)
    async with harness.sessionmaker.begin() as session:
        users = {u.telegram_id: u for u in await session.scalars(select(User).order_by(User.id))}
        users[colleague.id].organisation_id = users[member.id].organisation_id
    await colleague.send("/accompanied")
    assert "People your organisation registered" in colleague.last
    assert f"• Jeanne — “{TITLE}”" in colleague.last  # quoted as English quotes
    assert colleague.buttons() == ["Erase Jeanne"]

    # Someone of another organisation, or a citizen, may not.
    outsider = await onboarded(harness, 1003, organisation="Club Hors Jeu", verified=True)
    await outsider.send("/accompanied")
    assert "Your organisation has nobody registered" in outsider.last
    forged = AccompaniedCb(assisted_id=1, confirm=True).pack()
    calls = await outsider.press_data(forged, outsider.bot_messages()[-1])
    assert alert_of(calls)["text"] == (
        "This person's details are already erased, or not yours to erase."
    )
    citizen = await onboarded(harness, 1004)
    await citizen.send("/accompanied")
    assert citizen.last == "Only members of an organisation can register someone they accompany."

    await colleague.press("Erase Jeanne")
    assert f"Erase the details of Jeanne, registered for “{TITLE}”?" in colleague.last
    await colleague.press("No, go back")
    assert colleague.buttons() == ["Erase Jeanne"]
    await colleague.press("Erase Jeanne")
    await colleague.press("Yes, erase them")
    assert "Done: the details of Jeanne have been erased." in colleague.last
    assert "Your organisation has nobody registered" in colleague.last

    async with harness.sessionmaker() as session:
        (row,) = (await session.scalars(select(AssistedParticipation))).all()
        assert (row.name, row.wishes) == ("", None)
        # She still counts, anonymously.
        assert (await challenge_figures(session, challenge.id)).assisted == 1
    # The old button, pressed again, erases nothing more.
    calls = await member.press_data(AccompaniedCb(assisted_id=row.id, confirm=True).pack())
    assert alert_of(calls)["show_alert"] is True
