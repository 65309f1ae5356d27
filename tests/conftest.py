"""Shared fixtures: one build of the shipped records per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build import BuildResult, build
from kg.records import default_records_dir
from kg.store import open_store

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO.parent / "shared" / "sources"


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    """The reviews' text (read only by the quote checks)."""
    if not SOURCES.is_dir():
        pytest.fail(f"the reviews' text is expected at {SOURCES} (../shared/sources beside the repository)")
    return SOURCES


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The shipped records, built once into a temporary output directory."""
    return build(tmp_path_factory.mktemp("dist") / "dist")


@pytest.fixture(scope="session")
def store(built: BuildResult) -> ox.Store:
    """An in-memory Oxigraph store with the built graph."""
    assert built.output is not None
    return open_store(built.output)


@pytest.fixture()
def records_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped records, for tests that break them on purpose."""
    target = tmp_path / "records"
    shutil.copytree(default_records_dir(), target)
    return target
