"""«Finding where to help»: which of a challenge's activities fit what a person can give."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from storage.models import Challenge

# The time a person can give, as the quiz offers it: the most hours a month, None for no limit.
TIME_CHOICES: Mapping[str, int | None] = {"s": 2, "m": 5, "l": None}


def where_matters(challenge: Challenge) -> bool:
    """Where a person could go on site decides something only for a challenge that takes place
    in some arrondissements (whether theirs is one of them); for one that takes place anywhere
    the question is not asked."""
    return bool(challenge.arrondissements)


def matching_activities(
    challenge: Challenge,
    *,
    on_site: bool,
    remote: bool,
    hours: int | None,
    wanted: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The challenge's activities, in their order, that can be done the way the person can
    (on site, remotely), ask no more hours a month than `hours` (None: any), and are among
    `wanted` — nothing wanted in particular means any of them."""
    found = []
    for activity in challenge.activities:
        if not ((on_site and activity.get("on_site")) or (remote and activity.get("remote"))):
            continue
        needed = int(activity.get("hours_per_month") or 0)
        if hours is not None and needed > hours:
            continue
        if wanted and activity.get("code") not in wanted:
            continue
        found.append(activity)
    return found
