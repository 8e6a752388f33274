"""Habits of the test suite itself, checked so that they hold."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_test_module_imports_another() -> None:
    """Shared steps and data live in the tests' setup modules (`*_setup.py`, `people.py`,
    `conversation.py`); a test module is never a library for another one."""
    found = []
    for path in sorted(TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            found += [
                f"{path.name}:{node.lineno} {m}" for m in modules if m.startswith("tests.test_")
            ]
    assert found == []
