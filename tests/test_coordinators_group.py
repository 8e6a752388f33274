"""The coordinators' group as it changes: people joining or leaving it, and Telegram making it a
supergroup (a new id), which the bot follows — in this process at once, in another at the new
group's first message."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from bot.coordinators import Coordinators
from bot.group_moves import CoordinatorsChat
from bot.standin import make_group
from storage.chat_moves import record_move, where_now
from tests.conversation import Harness, texts
from tests.texts import t

GROUP, SUPERGROUP = -4500, -1004500
MEMBER, STRANGER = 555, 556


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """COORDINATOR_CHAT_ID: the coordinators' group, GROUP."""
    return settings.model_copy(update={"coordinator_chat_id": GROUP})


def group_now(harness: Harness) -> int | None:
    """The group the bot follows; its settings stay as they were read."""
    assert harness.settings.coordinator_chat_id == GROUP
    return harness.dp["coordinators_chat"].id


def in_group(harness: Harness) -> dict[str, Any]:
    """The coordinators' group, a plain group, with one member who is not in COORDINATOR_IDS."""
    harness.standin.add_chat(make_group(GROUP))
    harness.standin.set_chat_member(GROUP, MEMBER, "member")
    return harness.standin.make_user(MEMBER)


async def say(harness: Harness, user_id: int, text: str, chat_id: int) -> list[str]:
    chat = harness.standin.make_group(chat_id)
    user = harness.standin.make_user(user_id)
    mark = len(harness.standin.calls)
    await harness.feed(harness.standin.message_update(user, text, chat=chat))
    return texts(harness.standin.calls[mark:])


def group_menus(harness: Harness) -> list[int]:
    calls = harness.standin.calls_of("setMyCommands")
    return [c.params["scope"]["chat_id"] for c in calls if c.params["scope"]["type"] == "chat"]


async def test_someone_who_leaves_the_group_loses_the_coordinators_rights_at_once(
    harness: Harness,
) -> None:
    member = in_group(harness)
    delivered = [t("fr", "Every message has been delivered.")]
    assert await say(harness, MEMBER, "/failed", GROUP) == delivered
    # Removed from the group, well within the minute membership is remembered.
    harness.standin.set_chat_member(GROUP, MEMBER, "left")
    removal = harness.standin.message_update(
        harness.standin.make_user(42), chat=make_group(GROUP), left_chat_member=member
    )
    await harness.feed(removal)
    refused = [t("fr", "Only the city's coordinators can do this.")]
    assert await say(harness, MEMBER, "/failed", GROUP) == refused
    # Back in the group: the refusal is not remembered either.
    assert await say(harness, STRANGER, "/failed", GROUP) == refused
    harness.standin.set_chat_member(GROUP, STRANGER, "member")
    stranger = harness.standin.make_user(STRANGER)
    await harness.feed(
        harness.standin.message_update(
            stranger, chat=make_group(GROUP), new_chat_members=[stranger]
        )
    )
    assert await say(harness, STRANGER, "/failed", GROUP) == delivered


async def test_the_group_made_a_supergroup_is_followed_there(harness: Harness) -> None:
    member = in_group(harness)
    assert await say(harness, MEMBER, "/failed", GROUP) == [
        t("fr", "Every message has been delivered.")
    ]

    for update in harness.standin.group_upgrade_updates(member, GROUP, SUPERGROUP):
        await harness.feed(update)

    assert group_now(harness) == SUPERGROUP
    async with harness.sessionmaker() as session:
        assert await where_now(session, GROUP) == SUPERGROUP
    # The coordinators' commands in the new group's menu, once.
    assert group_menus(harness) == [SUPERGROUP]
    assert await say(harness, MEMBER, "/failed", SUPERGROUP) == [
        t("fr", "Every message has been delivered.")
    ]
    # Membership is now asked of the supergroup: someone outside it is refused there.
    assert await say(harness, STRANGER, "/failed", SUPERGROUP) == [
        t("fr", "Only the city's coordinators can do this.")
    ]


async def test_the_new_groups_word_alone_is_enough(harness: Harness) -> None:
    """Telegram posts in both chats; the bot may see only the new one's message."""
    member = in_group(harness)
    _, in_new = harness.standin.group_upgrade_updates(member, GROUP, SUPERGROUP)
    await harness.feed(in_new)
    assert group_now(harness) == SUPERGROUP
    assert await say(harness, MEMBER, "/failed", SUPERGROUP) == [
        t("fr", "Every message has been delivered.")
    ]


async def test_another_process_follows_at_the_new_groups_first_message(harness: Harness) -> None:
    in_group(harness)
    harness.standin.move_chat(GROUP, SUPERGROUP)
    async with harness.sessionmaker.begin() as session:
        await record_move(session, GROUP, SUPERGROUP)
    # A process started with the old COORDINATOR_CHAT_ID, before or after the move.
    settings: Settings = harness.settings.model_copy()
    assert settings.coordinator_chat_id == GROUP
    await harness.restart(settings)

    assert await say(harness, MEMBER, "/failed", SUPERGROUP) == [
        t("fr", "Every message has been delivered.")
    ]
    assert group_now(harness) == SUPERGROUP
    assert settings.coordinator_chat_id == GROUP


async def test_a_process_that_missed_the_move_learns_it_when_asking_about_a_member(
    harness: Harness,
) -> None:
    in_group(harness)
    harness.standin.move_chat(GROUP, SUPERGROUP)  # told to nobody yet
    chat = CoordinatorsChat(GROUP)
    coordinators = Coordinators(harness.settings, chat)

    assert await coordinators(harness.bot, MEMBER)

    assert chat.id == SUPERGROUP
    assert not await coordinators(harness.bot, STRANGER)


async def test_another_group_made_a_supergroup_changes_nothing(harness: Harness) -> None:
    in_group(harness)
    other = harness.standin.make_user(MEMBER)
    harness.standin.add_chat(make_group(-4600))
    for update in harness.standin.group_upgrade_updates(other, -4600, -1004600):
        await harness.feed(update)
    assert group_now(harness) == GROUP
    assert group_menus(harness) == []
    # Nobody answers in a group that is not the coordinators'.
    assert await say(harness, MEMBER, "/failed", -1004600) == []


async def test_coordinators_commands_in_a_private_chat_are_pointed_to_the_group(
    harness: Harness,
) -> None:
    coordinator = harness.person(42, language_code="fr")
    stranger = harness.person(1001, language_code="en")
    for command in ("/pending", "/stats week", "/export", "/challenge_stats"):
        assert texts(await coordinator.send(command)) == [
            t("fr", "This command works in the coordinators' group.")
        ]
        assert texts(await stranger.send(command)) == [
            t("en", "Only the city's coordinators can do this.")
        ]
