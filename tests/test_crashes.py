"""The crash benchmark, short: the bot as a real process (`collective run`, long polling the
stand-in in a process of its own) killed with SIGKILL three times while a few people play the
update benchmark's mix and the outbox sends alerts, invitations and the daily summary; nothing
acknowledged is lost or doubled, every outbox row is delivered, every interrupted dialog goes on
where it stopped. `python -m bench crashes` is the long version (bench/crashes.py).

It waits on conditions only (the bot started, every update confirmed, the outbox empty), with
generous limits: a slow machine makes it longer, not different."""

from __future__ import annotations

from pathlib import Path

from bench.crashes import run


async def test_the_bot_killed_three_times_loses_and_doubles_nothing(tmp_path: Path) -> None:
    report = await run(
        ["--kills", "3", "--people", "4", "--audience", "10", "--keep", str(tmp_path)]
    )
    details = report["details"]
    assert report["kills"] == 3
    # Each person played the whole mix, every update confirmed by the end.
    assert report["updates"] == report["acknowledged"] > 4 * 30, details
    assert report["lost"] == 0, details
    assert report["doubled_effects"] == 0, details
    assert report["undelivered"] == 0, details
    assert report["dialogs_broken"] == 0, details
    # Alerts, invitations, the group's notes and the summary went through the outbox.
    assert report["outbox_rows"] >= 2 * 10, details
    assert report["summary_posted"] in (1, 2), details
    assert report["summary_posted"] == 1 or report["resent_in_flight"] >= 1, details
