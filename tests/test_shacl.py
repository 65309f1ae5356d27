"""SHACL shapes, data-driven as in pySHACL: valid fixtures conform, each invalid one fails
for the reason its header states, on the node it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph

from kg.validation import shacl_problems

FIXTURES = Path(__file__).parent / "fixtures" / "shacl"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


def _graph(path: Path) -> Graph:
    graph = Graph().parse(FIXTURES / "base.ttl", format="turtle")
    return graph.parse(path, format="turtle")


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_conforms(path: Path) -> None:
    assert shacl_problems(_graph(path)) == []


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_fails_for_its_reason(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = re.search(r"^# expect: (\S+)$", text, re.MULTILINE).group(1)
    focus = re.search(r"^# focus: (\S+)$", text, re.MULTILINE).group(1)
    problems = shacl_problems(_graph(path))
    assert problems, f"{path.name} should fail SHACL validation"
    assert any(p.rule == f"shacl:{expected}" and p.record == focus for p in problems), (
        f"{path.name}: expected {expected} on {focus}, got {[(p.record, p.rule) for p in problems]}"
    )


def test_built_graph_conforms(built) -> None:
    assert shacl_problems(built.graph) == []
