"""The SSSOM mapping set: generated from verified identifiers only, valid SSSOM, equal to the graph."""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path

import pytest
from rdflib import SKOS, Graph, URIRef

from kg.errors import DataError
from kg.identifiers import DATA_NAMESPACE, ONTOLOGY_NAMESPACE, get_converter, verified_ids
from kg.pipeline.records import Record, RecordSet
from kg.publish.generated import update_generated
from kg.publish.mappings import COLUMNS, default_mappings_path, mappings

COMMITTED = default_mappings_path()
SSSOM = Path(sysconfig.get_path("scripts")) / "sssom"


def test_committed_generated_files_are_what_the_code_generates() -> None:
    """The SSSOM table and the JSON-LD context; a stale one is named, with the command that rewrites it."""
    assert update_generated(check=True) == []


def test_sssom_validate_accepts_the_table() -> None:
    if not SSSOM.is_file():
        pytest.fail("the sssom command is missing: pip install -e '.[test]'")
    result = subprocess.run([str(SSSOM), "validate", str(COMMITTED)], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "error" not in (result.stdout + result.stderr).lower(), result.stderr


@pytest.mark.filterwarnings("ignore:::sssom")  # pandas deprecations inside the sssom library
def test_sssom_library_reads_back_the_same_rows(built) -> None:
    from sssom.parsers import parse_sssom_table

    mapping_set = parse_sssom_table(COMMITTED)
    assert list(mapping_set.df.columns) == list(COLUMNS)
    read = {tuple(row) for row in mapping_set.df[list(COLUMNS)].itertuples(index=False)}
    assert read == {tuple(vars(row).values()) for row in mappings(built.records, ontology=built.graph)}
    assert mapping_set.metadata["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert mapping_set.converter.expand("skgid:pembrolizumab") == DATA_NAMESPACE + "pembrolizumab"


def test_rows_are_the_graph_mappings_and_verified_rows(built) -> None:
    converter = get_converter()
    rows = mappings(built.records, ontology=built.graph)
    predicates = {"skos:exactMatch": SKOS.exactMatch, "skos:closeMatch": SKOS.closeMatch,
                  "skos:broadMatch": SKOS.broadMatch, "skos:relatedMatch": SKOS.relatedMatch}
    from_table = {(URIRef(converter.expand(row.subject_id)), predicates[row.predicate_id],
                   URIRef(converter.expand(row.object_id))) for row in rows}
    in_graph = {(s, p, o) for p in predicates.values() for s, o in built.graph.subject_objects(p)
                if str(s).startswith((DATA_NAMESPACE, ONTOLOGY_NAMESPACE))}
    assert from_table == in_graph
    known = verified_ids()
    for row in rows:
        assert row.object_id in known, row
        assert (row.object_label, row.comment) == (known[row.object_id].label, known[row.object_id].evidence)
        assert row.mapping_justification == "semapv:ManualMappingCuration"
    assert {row.predicate_id for row in rows} == set(predicates)
    assert any(row.subject_id == "skg:ClinicalTrial" and row.object_id == "OBI:0003699" for row in rows)
    # a rate of a response category is not close to the category (NCIt: "Overall Response")
    assert any(row.subject_id == "skg:ORR" and row.predicate_id == "skos:relatedMatch" and row.object_id == "NCIT:C96613"
               for row in rows)


def _records(*xrefs: str) -> RecordSet:
    record = Record("therapies", {"id": "x", "label": "x", "xrefs": list(xrefs)}, "entities/therapies.yaml", 0)
    return RecordSet((record,), {"x": record})


def test_unverified_xref_is_refused() -> None:
    # durvalumab's NCIt code is a verified=no row of the reference table
    with pytest.raises(DataError, match="verified-identifier"):
        mappings(_records("NCIT:C103194"), ontology=Graph())


@pytest.mark.parametrize("target", [
    "http://purl.obolibrary.org/obo/NCIT_C103194",  # a verified=no row
    "http://purl.obolibrary.org/obo/EFO_0000638",  # not the Bioregistry IRI of EFO:0000638
])
def test_ontology_mapping_to_an_unverified_iri_is_refused(target: str) -> None:
    ontology = Graph()
    ontology.add((URIRef(ONTOLOGY_NAMESPACE + "Thing"), SKOS.exactMatch, URIRef(target)))
    with pytest.raises(DataError, match="ontology/sarcoma-kg.ttl"):
        mappings(_records(), ontology=ontology)


def test_a_target_is_the_same_as_its_protein_and_close_to_its_gene(built) -> None:
    """Regression: each target was an exactMatch of its UniProt protein and of its HGNC and
    NCBI Gene gene, which (exactMatch being transitive) made the gene and the protein one."""
    from rdflib import SKOS, URIRef

    pd1 = URIRef("https://w3id.org/sarcoma-kg/id/pd-1")
    exact = {str(o) for o in built.graph.objects(pd1, SKOS.exactMatch)}
    close = {str(o) for o in built.graph.objects(pd1, SKOS.closeMatch)}
    assert exact == {"http://purl.uniprot.org/uniprot/Q15116"}
    assert {iri.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for iri in close} >= {"8760", "5133"}


@pytest.mark.parametrize(("entity", "close"), [
    ("cd4-t-cell", "CL_0000624"),  # CD4-positive, alpha-beta T cell
    ("cd8-t-cell", "CL_0000625"),  # CD8-positive, alpha-beta T cell
    ("cd8-cytotoxic-t-cell", "CL_0000794"),  # CD8-positive, alpha-beta cytotoxic T cell
])
def test_a_t_cell_subset_is_close_to_cls_alpha_beta_class_and_under_cls_t_cell(built, entity: str, close: str) -> None:
    """Regression: CD4+ T cell, CD8+ T cell and CD8+ cytotoxic T cell were exact matches of CL's
    narrower alpha-beta classes (CL has no plain CD4- or CD8-positive T cell class)."""
    subject = URIRef(DATA_NAMESPACE + entity)
    obo = "http://purl.obolibrary.org/obo/"
    assert not set(built.graph.objects(subject, SKOS.exactMatch))
    assert set(built.graph.objects(subject, SKOS.closeMatch)) == {URIRef(obo + close)}
    assert set(built.graph.objects(subject, SKOS.broadMatch)) == {URIRef(obo + "CL_0000084")}  # T cell
