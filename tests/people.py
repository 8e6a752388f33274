"""People who have been through onboarding, for the tests of what comes after it."""

from __future__ import annotations

from tests.conversation import Person


async def onboard(person: Person, organisation: str | None = None) -> None:
    """An English-speaking citizen of the 3rd (or a member of `organisation`), into culture."""
    await person.send("/start")
    await person.press("English")
    await person.press("I have read it, continue")
    if organisation:
        await person.press("Association")
        await person.send(organisation)
    else:
        await person.press("Citizen")
    await person.press("3")
    await person.press("Culture")
    await person.press("Done")
    await person.press("No")
    await person.press("No, thanks")
