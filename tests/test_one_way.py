"""Rules written once, kept so by a look at the code: a dialog's data is read and written only
through a draft (handlers/draft.py), and the coordinators' group's id is read from the holder
that follows it (bot/group_moves.py), never from the settings, which hold it as read at start."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def attributes_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def modules_using(names: set[str], folder: str, *, but: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if name not in but and attributes_used(path) & names:
            found.append(name)
    return found


def test_dialog_data_only_through_drafts() -> None:
    raw = {"get_data", "set_data", "update_data"}
    assert modules_using(raw, "handlers", but={"handlers/draft.py"}) == []


def test_the_coordinators_group_is_read_from_its_holder() -> None:
    # The holder is made from the settings where the dispatcher, the sender and a job's
    # context are built; everything else asks the holder.
    builders = {"bot/factory.py", "bot/delivery.py", "bot/jobs.py", "bot/config.py"}
    assert modules_using({"coordinator_chat_id"}, "handlers", but=set()) == []
    assert modules_using({"coordinator_chat_id"}, "bot", but=builders) == []
