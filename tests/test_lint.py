"""The code's checks run with the suite, so that CI needs no second command: ruff's lint and
formatting over the tree, and mypy over bot, handlers and storage (pyproject.toml's settings).
Deselect them locally with `-m "not lint"`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.lint


def _run(*arguments: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(arguments)}:\n{done.stdout}{done.stderr}"


def test_ruff_finds_nothing() -> None:
    _run("ruff", "check", "--no-cache", ".")


def test_ruff_formatting_is_kept() -> None:
    _run("ruff", "format", "--check", "--no-cache", ".")


def test_mypy_finds_nothing() -> None:
    # Its cache (.mypy_cache, ignored by git) makes a run after a small change take a second.
    _run("mypy", "--cache-dir", str(ROOT / ".mypy_cache"))
