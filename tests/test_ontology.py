"""The ontology, the records schema and the JSON-LD context agree with each other."""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Namespace, URIRef
from rdflib.namespace import SKOS

from kg.pipeline.convert import load_records_context
from kg.pipeline.ontology import load_ontology
from kg.pipeline.records import load_schema

SKG = Namespace("https://w3id.org/sarcoma-kg/ontology/")
IAO_DEFINITION = URIRef("http://purl.obolibrary.org/obo/IAO_0000115")
ONTOLOGY: Graph = load_ontology()
SCHEMA = load_schema()


def _enum_fields() -> list[tuple[str, str, str]]:
    """(record kind, field, value) for every enumerated field whose values are ontology terms."""
    vocab_fields = {"type", "endpoint", "outcome", "direction", "design_category", "unspecified_member_of"}
    found = []
    for kind, definition in SCHEMA["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            if "$ref" in spec:  # an enum shared by several fields (a therapy class)
                spec = SCHEMA["$defs"][spec["$ref"].removeprefix("#/$defs/")]
            if field in vocab_fields and "enum" in spec:
                found.extend((kind, field, value) for value in spec["enum"])
    return found


@pytest.mark.parametrize(("kind", "field", "value"), _enum_fields())
def test_schema_enum_value_is_an_ontology_term(kind: str, field: str, value: str) -> None:
    term = SKG[value]
    expected = OWL.Class if field in {"type", "unspecified_member_of"} else OWL.NamedIndividual
    assert (term, RDF.type, expected) in ONTOLOGY, f"{kind}.{field}: {value} is not a {expected} of the ontology"


def test_record_classes_are_ontology_classes() -> None:
    classes = {d["x-class"] for d in SCHEMA["$defs"].values() if "x-class" in d}
    missing = sorted(c for c in classes if (SKG[c], RDF.type, OWL.Class) not in ONTOLOGY)
    assert not missing, f"x-class values without an ontology class: {missing}"


def test_context_properties_are_declared() -> None:
    context = load_records_context()["@context"]
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
                assert ONTOLOGY.value(term, IAO_DEFINITION) is not None, f"{term} has no IAO:0000115 definition"


def test_every_record_field_is_a_context_term() -> None:
    """Regression: 'symbol' had no context term, so the context's @vocab made an undeclared
    skg:symbol and the built graph was no longer OWL 2 DL."""
    context = load_records_context()["@context"]
    missing = sorted(
        f"{kind}.{field}" for kind, definition in SCHEMA["$defs"].items() if "x-class" in definition
        for field in definition.get("properties", {}) if field not in context and field not in {"id", "type"}
    )
    assert not missing, f"record fields with no term in data/schema/records.context.jsonld (add one, mapped to a declared property): {missing}"


def test_every_ontology_predicate_in_the_graph_is_declared(built) -> None:
    used = {p for p in set(built.graph.predicates()) if str(p).startswith(str(SKG))}
    undeclared = sorted(str(p) for p in used if not any(ONTOLOGY.triples((p, RDF.type, None))))
    assert not undeclared, f"the graph uses ontology properties the ontology does not declare: {undeclared}"


def test_the_version_iri_is_the_package_version() -> None:
    """The server answers the owl:versionIRI of the shipped ontology; it must be this release's."""
    from kg import __version__
    from kg.identifiers import ONTOLOGY_IRI, ONTOLOGY_VERSION_IRI

    ontology = load_ontology()
    assert ontology.value(URIRef(ONTOLOGY_IRI), OWL.versionIRI) == URIRef(ONTOLOGY_VERSION_IRI), (
        "ontology/sarcoma-kg.ttl's owl:versionIRI differs from the package version (kg/__init__.py): update one")
    assert str(ontology.value(URIRef(ONTOLOGY_IRI), OWL.versionInfo)) == __version__


def _ontology_file() -> Graph:
    from kg.resources import parse_turtle, resource_path

    return parse_turtle(resource_path("ontology", "sarcoma-kg.ttl"), what="the ontology")


def test_the_ontology_asserts_nothing_about_other_ontologies_terms() -> None:
    """Regression: the UO units were typed skg:Unit and given definitions, and OBI, RO, IAO,
    PROV and SKOS terms got labels in ontology/sarcoma-kg.ttl, which collide once merged with
    those ontologies. Their declarations live in the import module; axioms on Sarcoma-KG's own
    terms may name them (skg:ClinicalTrial owl:equivalentClass OBI:0003699)."""
    from kg.identifiers import ONTOLOGY_IRI

    foreign = sorted({f"{s} {p}" for s, p, _ in _ontology_file()
                      if isinstance(s, URIRef) and not str(s).startswith(str(SKG)) and str(s) != ONTOLOGY_IRI})
    assert not foreign, f"move these to ontology/imports/external-terms.ttl (or drop them): {foreign}"


def test_the_import_module_is_declared_and_labels_only_as_the_verified_table() -> None:
    """The ontology imports one module, and the label of each of its external terms, where it
    has one, is the label of its verified row of data/reference/external-ids.csv (never
    written from memory)."""
    from kg.identifiers import get_converter, verified_ids
    from kg.pipeline.ontology import import_paths
    from kg.resources import parse_turtle, resource_path

    path = resource_path("ontology", "sarcoma-kg.ttl")
    modules = import_paths(_ontology_file(), path)
    assert [module.name for module in modules] == ["external-terms.ttl"]
    module = parse_turtle(modules[0], what="the import module")
    known = verified_ids()
    converter = get_converter()
    for term, label in module.subject_objects(RDFS.label):
        curie = converter.compress(str(term))
        assert curie in known, f"{term} has a label but no verified row: leave the label out"
        assert str(label) == known[curie].label, f"{curie}: label {label!r}, the verified row says {known[curie].label!r}"
