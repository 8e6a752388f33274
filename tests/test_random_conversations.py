"""Random conversations with invariants: a hypothesis state machine interleaving a few people —
citizens, an association's member, a coordinator in the group — each step one whole short
dialog with the real bot (tests/random_world.py), the bot restarted between steps at random,
and after every step the promises checked against the database, the outbox, the exports and
what the stand-in received:

- nobody takes part in a closed challenge (joined after it closed);
- at most one response per person per survey;
- /stats shows the rows' counts, and no fewer-than-5 figure as 1 to 4;
- an erased person's words appear nowhere: any table (dialogs, outbox), the exports, what the
  bot sent since, the group's cards once their rewriting is delivered;
- nothing unsolicited waits for, or is delivered to, someone who said STOP (or may not
  receive it: `open_to_unsolicited`), nor leaves in the quiet hours; nothing waits for someone
  erased;
- no handler raises.

The budget in CI is fixed and small (CI below); `HYPOTHESIS_PROFILE=long` runs many more and
longer conversations by hand. Every failure found is kept as a plain test in
tests/test_random_regressions.py.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.random_world import CAST, LOCALES, World, open_world

PEOPLE = sorted(CAST)
HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
CI = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=HEALTH,
)
LONG = settings(
    max_examples=int(os.environ.get("RANDOM_EXAMPLES", "400")),
    stateful_step_count=40,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=HEALTH,
)


class RandomConversations(RuleBasedStateMachine):
    template: ClassVar[Path]
    # How many times each rule ran, and how many examples: the run's figures.
    tally: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self.tally["examples"] += 1
        self.loop = asyncio.new_event_loop()
        self.context = open_world(self.template)
        self.world: World = self.run(self.context.__aenter__())

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        self.tally[sys._getframe(1).f_code.co_name] += 1
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        try:
            self.run(self.context.__aexit__(None, None, None))
        finally:
            self.loop.close()

    def pick(self, data: st.DataObject, onboarded: bool = True) -> int:
        chosen = [pid for pid in PEOPLE if self.world.people[pid].onboarded == onboarded]
        return data.draw(st.sampled_from(chosen), label="person")

    def someone_onboarded(self) -> bool:
        return bool(self.world.onboarded())

    def someone_new(self) -> bool:
        return len(self.world.onboarded()) < len(PEOPLE)

    # -- citizens and members

    @initialize(
        data=st.data(),
        older=st.lists(st.booleans(), min_size=2, max_size=2),
        alerts=st.lists(st.booleans(), min_size=2, max_size=2),
    )
    def first_two(self, data: st.DataObject, older: list[bool], alerts: list[bool]) -> None:
        """Two people onboard before anything else happens, so that every step has someone;
        two more were onboarded long ago."""
        self.run(self.world.onboarded_long_ago())
        for index in range(2):
            self.run(
                self.world.onboard(
                    self.pick(data, onboarded=False), older[index], alerts[index], index == 0
                )
            )

    @precondition(someone_new)
    @rule(data=st.data(), older=st.booleans(), alerts=st.booleans(), contact=st.booleans())
    def onboard(self, data: st.DataObject, older: bool, alerts: bool, contact: bool) -> None:
        self.run(self.world.onboard(self.pick(data, onboarded=False), older, alerts, contact))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def report_need(self, data: st.DataObject) -> None:
        self.run(self.world.report_need(self.pick(data)))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def propose(self, data: st.DataObject) -> None:
        self.run(self.world.propose(self.pick(data)))

    @precondition(someone_onboarded)
    @rule(data=st.data(), need=st.booleans())
    def half_way(self, data: st.DataObject, need: bool) -> None:
        self.run(self.world.half_way(self.pick(data), need))

    @precondition(someone_onboarded)
    @rule(data=st.data(), pick=st.integers(0, 9), follow=st.booleans())
    def support(self, data: st.DataObject, pick: int, follow: bool) -> None:
        self.run(self.world.support(self.pick(data), pick, follow))

    @precondition(someone_onboarded)
    @rule(
        data=st.data(),
        kind=st.integers(0, 3),
        activity=st.integers(0, 9),
        words=st.booleans(),
    )
    def join(self, data: st.DataObject, kind: int, activity: int, words: bool) -> None:
        self.run(self.world.join(self.pick(data), kind, activity, words))

    @precondition(someone_onboarded)
    @rule(data=st.data(), kind=st.integers(0, 3))
    def half_join(self, data: st.DataObject, kind: int) -> None:
        self.run(self.world.half_join(self.pick(data), kind))

    @precondition(someone_onboarded)
    @rule(data=st.data(), choices=st.lists(st.integers(0, 9), min_size=1, max_size=6))
    def carry_on(self, data: st.DataObject, choices: list[int]) -> None:
        self.run(self.world.carry_on(self.pick(data), choices))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def join_from_old_button(self, data: st.DataObject) -> None:
        self.run(self.world.join_from_old_button(self.pick(data)))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        self.run(self.world.leave(self.pick(data)))

    @precondition(someone_onboarded)
    @rule(data=st.data(), choices=st.lists(st.integers(0, 9), min_size=0, max_size=6))
    def answer_survey(self, data: st.DataObject, choices: list[int]) -> None:
        self.run(self.world.answer_survey(self.pick(data), choices))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def stop(self, data: st.DataObject) -> None:
        self.run(self.world.stop(self.pick(data)))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        self.run(self.world.resume(self.pick(data)))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def toggle_alerts(self, data: st.DataObject) -> None:
        self.run(self.world.toggle_alerts(self.pick(data)))

    @precondition(someone_onboarded)
    @rule(data=st.data(), locale=st.sampled_from(LOCALES))
    def language(self, data: st.DataObject, locale: str) -> None:
        self.run(self.world.language(self.pick(data), locale))

    @precondition(someone_onboarded)
    @rule(data=st.data())
    def forget(self, data: st.DataObject) -> None:
        self.run(self.world.forget(self.pick(data)))

    # -- the coordinators

    @rule(decision=st.sampled_from(["approve", "reject", "changes"]), pick=st.integers(0, 9))
    def moderate(self, decision: str, pick: int) -> None:
        self.run(self.world.moderate(decision, pick))

    @rule()
    def open_or_close_challenge(self) -> None:
        self.run(self.world.toggle_challenge())

    @rule()
    def post_news(self) -> None:
        self.run(self.world.post_news())

    @precondition(lambda self: len(self.world.surveys) < 2)
    @rule()
    def send_survey(self) -> None:
        self.run(self.world.send_survey())

    @precondition(lambda self: "open" in self.world.surveys.values())
    @rule(pick=st.integers(0, 9))
    def close_survey(self, pick: int) -> None:
        self.run(self.world.close_survey(pick))

    @rule()
    def stats(self) -> None:
        self.run(self.world.stats())

    # -- the machinery

    @rule(quiet=st.booleans())
    def deliver(self, quiet: bool) -> None:
        self.run(self.world.deliver(quiet))

    @rule(hours=st.sampled_from([0, 30, 200]))
    def tick(self, hours: int) -> None:
        self.run(self.world.tick(hours))

    @rule()
    def restart(self) -> None:
        self.run(self.world.restart())

    @invariant()
    def promises_hold(self) -> None:
        problems = self.run(self.world.invariants())
        assert problems == [], problems


def test_random_conversations_keep_every_promise(sqlite_template: Path) -> None:
    RandomConversations.template = sqlite_template
    chosen = LONG if os.environ.get("HYPOTHESIS_PROFILE") == "long" else CI
    RandomConversations.tally.clear()
    try:
        run_state_machine_as_test(RandomConversations, settings=chosen)
    finally:
        print("random conversations:", dict(RandomConversations.tally.most_common()))
