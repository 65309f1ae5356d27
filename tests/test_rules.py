"""The inference rules (``ontology/rules/*.rq``): a rules directory that cannot be used fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from kg.errors import ConfigurationError
from kg.rules import apply_rules, default_rules_dir


def test_every_shipped_rule_runs_and_derives_nothing_from_nothing() -> None:
    result = apply_rules(Graph(), default_rules_dir())
    assert result.derived == {path.name: 0 for path in default_rules_dir().glob("*.rq")}
    assert len(result.added) == 0


def test_a_rule_that_does_not_parse_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.rq").write_text("CONSTRUCT { ?s ?p } WHERE { ?s ?p ?o }", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"rule broken\.rq: .*error at"):
        apply_rules(Graph(), tmp_path)


def test_a_rule_that_is_not_a_construct_is_named(tmp_path: Path) -> None:
    (tmp_path / "select.rq").write_text("SELECT * WHERE { ?s ?p ?o }", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"rule select\.rq: expected a CONSTRUCT or DESCRIBE query"):
        apply_rules(Graph(), tmp_path)


def test_an_empty_rules_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no rules"):
        apply_rules(Graph(), tmp_path)
