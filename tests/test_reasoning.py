"""OWL reasoning with HermiT: the built graph is consistent, types are materialised, and an
inconsistency is reported as a data error (exit 1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Namespace, URIRef

import kg
from kg.errors import ConfigurationError, DataError
from kg.pipeline.ontology import load_ontology
from kg.pipeline.reasoning import reason, unsatisfiable_classes
from kg.resources import resource_path

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


@pytest.mark.parametrize(("first", "second"), [
    ("PD1Inhibitor", "TILTherapy"),  # a drug is no cell product (the product-type axis)
    ("CARTCellTherapy", "Radiotherapy"),  # a cell product is no procedure
    ("Radiotherapy", "Surgery"),  # two kinds of procedure
])
def test_disjoint_classes_make_the_graph_inconsistent(first: str, second: str) -> None:
    graph = load_ontology()
    graph.add((ID["x"], RDF.type, SKG[first]))
    graph.add((ID["x"], RDF.type, SKG[second]))
    with pytest.raises(DataError) as raised:
        reason(graph)
    assert raised.value.problems[0].rule == "owl-consistency"


def test_agents_with_several_mechanisms_are_consistent() -> None:
    """Regression (issue 21): mechanism classes were pairwise disjoint, so a PD-1 x IL-2 fusion
    protein, a PD-1 x CTLA-4 bispecific, an ADC that targets PD-L1 or CAR-engineered CIK cells
    made the graph inconsistent. Mechanisms lie on their own axis, with no disjointness."""
    graph = load_ontology()
    for name, classes in {
        "pd1-il2-fusion": ["PD1Inhibitor", "IL2PathwayAgonist"],
        "pd1-ctla4-bispecific": ["PD1Inhibitor", "CTLA4Inhibitor"],
        "pdl1-adc": ["PDL1Inhibitor", "AntibodyDrugConjugate"],
        "ici-vaccine": ["ImmuneCheckpointInhibitor", "CancerVaccine", "Chemotherapy"],
        "car-cik": ["CARTCellTherapy", "CIKCellTherapy"],
    }.items():
        for cls in classes:
            graph.add((ID[name], RDF.type, SKG[cls]))
    added = reason(graph).added
    assert (ID["pd1-il2-fusion"], RDF.type, SKG.Cytokine) in added
    assert (ID["pdl1-adc"], RDF.type, SKG.TargetedTherapy) in added


def test_classification_finds_no_unsatisfiable_class() -> None:
    assert unsatisfiable_classes(load_ontology()) == []


def test_classification_finds_a_class_below_two_disjoint_classes() -> None:
    """The check above can fail: a class under a drug and a cell product can have no member."""
    graph = load_ontology()
    graph.add((SKG.Impossible, RDF.type, OWL.Class))
    graph.add((SKG.Impossible, RDFS.subClassOf, SKG.PD1Inhibitor))
    graph.add((SKG.Impossible, RDFS.subClassOf, SKG.TILTherapy))
    assert unsatisfiable_classes(graph) == [str(SKG.Impossible)]


def _classes_the_queries_name() -> set[URIRef]:
    ontology = load_ontology()
    named = set()
    for path in sorted(resource_path("queries").rglob("*.rq")) + sorted((Path(kg.__file__).parent / "page_queries").glob("*.rq")):
        for local in re.findall(r"\bskg:([A-Z]\w*)", path.read_text(encoding="utf-8")):
            if (SKG[local], RDF.type, OWL.Class) in ontology:
                named.add(SKG[local])
    return named


def test_built_graph_has_every_inferred_type_the_queries_rely_on(built) -> None:
    """Each class a stored or page query names has as members every node typed with a class
    below it (the asserted subclass closure), as classification with the disjointness axioms gives."""
    graph = built.graph
    classes = _classes_the_queries_name()
    assert {SKG.ImmuneCheckpointInhibitor, SKG.Therapy, SKG.Regimen} <= classes
    for cls in classes:
        below = set(graph.transitive_subjects(RDFS.subClassOf, cls))
        expected = {node for sub in below for node in graph.subjects(RDF.type, sub) if isinstance(node, URIRef)}
        missing = expected - set(graph.subjects(RDF.type, cls))
        assert not missing, f"{cls}: not typed although under it: {sorted(missing)[:5]}"


def test_tertiary_lymphoid_structures_are_a_biomarker_by_their_findings(built) -> None:
    """Regression (issue 21): Biomarker was a subclass of TMEFeature, so TLS (predictive of
    response) and immune cell types were never biomarkers; it is now a role derived from findings."""
    graph = built.graph
    assert (ID["tertiary-lymphoid-structure"], RDF.type, SKG.Biomarker) in graph
    assert (ID["cd8-t-cell"], RDF.type, SKG.Biomarker) in graph
    assert (SKG.Biomarker, RDFS.subClassOf, SKG.TMEFeature) not in graph


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
