"""The package is typed (it ships ``py.typed``) and follows the project's lint settings.

mypy and ruff read their settings from ``pyproject.toml``; ruff is pinned in the test
extra so that a new release's default rules cannot fail a build that changed nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_finds_no_type_errors(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
                            check=False, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, f"fix the type errors mypy reports:\n{result.stdout}{result.stderr}"


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "kg", "tests"],
                            check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, f"fix what ruff reports (ruff check --fix mends most):\n{result.stdout}{result.stderr}"


def _modules_with_examples() -> list[str]:
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts) for path in (ROOT / "kg").rglob("*.py")
                  if ">>>" in path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", _modules_with_examples())
def test_the_examples_in_the_docstrings_run(name: str) -> None:
    """Every ``>>>`` example of a module's docstrings runs and prints what it shows."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted and result.failed == 0
