"""The ontology, the records schema and the JSON-LD context agree with each other."""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Namespace, URIRef
from rdflib.namespace import SKOS

from kg.build import load_ontology
from kg.convert import load_context
from kg.records import load_schema

SKG = Namespace("https://w3id.org/sarcoma-kg/ontology/")
ONTOLOGY: Graph = load_ontology()
SCHEMA = load_schema()


def _enum_fields() -> list[tuple[str, str, str]]:
    """(record kind, field, value) for every enumerated field whose values are ontology terms."""
    vocab_fields = {"type", "endpoint", "outcome", "direction", "design_category"}
    found = []
    for kind, definition in SCHEMA["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            if field in vocab_fields and "enum" in spec:
                found.extend((kind, field, value) for value in spec["enum"])
    return found


@pytest.mark.parametrize(("kind", "field", "value"), _enum_fields())
def test_schema_enum_value_is_an_ontology_term(kind: str, field: str, value: str) -> None:
    term = SKG[value]
    expected = OWL.Class if field == "type" else OWL.NamedIndividual
    assert (term, RDF.type, expected) in ONTOLOGY, f"{kind}.{field}: {value} is not a {expected} of the ontology"


def test_record_classes_are_ontology_classes() -> None:
    classes = {d["x-class"] for d in SCHEMA["$defs"].values() if "x-class" in d}
    missing = sorted(c for c in classes if (SKG[c], RDF.type, OWL.Class) not in ONTOLOGY)
    assert not missing, f"x-class values without an ontology class: {missing}"


def test_context_properties_are_declared() -> None:
    context = load_context()["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))}
    missing = []
    for key, value in context.items():
        iri = value["@id"] if isinstance(value, dict) else value
        if key.startswith("@") or key in prefixes or not isinstance(iri, str) or iri.startswith("@"):
            continue
        prefix, _, local = iri.partition(":")
        full = URIRef(prefixes[prefix] + local) if prefix in prefixes else URIRef(iri)
        if str(full).startswith(str(SKG)) and not any(ONTOLOGY.triples((full, RDF.type, None))):
            missing.append(key)
    assert not missing, f"context terms mapped to undeclared ontology terms: {missing}"


def test_every_ontology_term_has_label_and_definition() -> None:
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
        for term in ONTOLOGY.subjects(RDF.type, kind):
            if str(term).startswith(str(SKG)):
                assert ONTOLOGY.value(term, RDFS.label) is not None, f"{term} has no label"
                assert ONTOLOGY.value(term, SKOS.definition) is not None, f"{term} has no definition"


def test_every_record_field_is_a_context_term() -> None:
    """Regression: 'symbol' had no context term, so the context's @vocab made an undeclared
    skg:symbol and the built graph was no longer OWL 2 DL."""
    context = load_context()["@context"]
    missing = sorted(
        f"{kind}.{field}" for kind, definition in SCHEMA["$defs"].items() if "x-class" in definition
        for field in definition.get("properties", {}) if field not in context and field not in {"id", "type"}
    )
    assert not missing, f"record fields with no term in data/schema/context.jsonld (add one, mapped to a declared property): {missing}"


def test_every_ontology_predicate_in_the_graph_is_declared(built) -> None:
    used = {p for p in set(built.graph.predicates()) if str(p).startswith(str(SKG))}
    undeclared = sorted(str(p) for p in used if not any(ONTOLOGY.triples((p, RDF.type, None))))
    assert not undeclared, f"the graph uses ontology properties the ontology does not declare: {undeclared}"


def test_the_version_iri_is_the_package_version() -> None:
    """The server answers the owl:versionIRI of the shipped ontology; it must be this release's."""
    from kg.identifiers import ONTOLOGY_IRI, ONTOLOGY_VERSION_IRI

    ontology = load_ontology()
    assert ontology.value(URIRef(ONTOLOGY_IRI), OWL.versionIRI) == URIRef(ONTOLOGY_VERSION_IRI), (
        "ontology/sarcoma-kg.ttl's owl:versionIRI differs from the package version (kg/__init__.py): update one")
    assert ontology.value(URIRef(ONTOLOGY_IRI), OWL.versionInfo) is not None
