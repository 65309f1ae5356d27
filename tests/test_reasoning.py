"""OWL reasoning with HermiT: the built graph is consistent, types are materialised, and an
inconsistency is reported as a data error (exit 1)."""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Namespace

from kg.build import load_ontology
from kg.errors import ConfigurationError, DataError
from kg.reasoning import reason

SKG = Namespace("https://w3id.org/sarcoma-kg/ontology/")
ID = Namespace("https://w3id.org/sarcoma-kg/id/")


def test_built_graph_has_materialised_superclasses(built) -> None:
    graph = built.graph
    assert (ID["pembrolizumab"], RDF.type, SKG.ImmuneCheckpointInhibitor) in graph
    assert (ID["pembrolizumab"], RDF.type, SKG.PharmacologicAgent) in graph
    assert built.counts["inferred"] > 0


def test_every_pd1_inhibitor_is_found_as_a_checkpoint_inhibitor(built) -> None:
    pd1 = set(built.graph.subjects(RDF.type, SKG.PD1Inhibitor))
    icis = set(built.graph.subjects(RDF.type, SKG.ImmuneCheckpointInhibitor))
    assert pd1 and pd1 <= icis


def test_disjoint_classes_make_the_graph_inconsistent() -> None:
    graph = load_ontology()
    graph.add((ID["x"], RDF.type, SKG.PD1Inhibitor))
    graph.add((ID["x"], RDF.type, SKG.Chemotherapy))
    with pytest.raises(DataError) as raised:
        reason(graph)
    assert raised.value.problems[0].rule == "owl-consistency"


def test_range_violation_makes_the_graph_inconsistent() -> None:
    graph = load_ontology()
    graph.add((ID["a-study"], RDF.type, SKG.Study))
    graph.add((ID["an-arm"], RDF.type, SKG.Arm))
    graph.add((ID["an-arm"], SKG.regimen, ID["a-study"]))  # range Regimen, but Study and Regimen are disjoint
    with pytest.raises(DataError):
        reason(graph)


def test_missing_java_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigurationError, match="Java runtime"):
        reason(Graph())
