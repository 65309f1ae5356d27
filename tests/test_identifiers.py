"""One prefix source: every external identifier in the graph is a Bioregistry CURIE of the converter.

The converter is built from ``data/reference/recommended-prefixes.csv`` (Bioregistry 0.15.6);
its records carry each prefix's identifier pattern.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import RDFS, SKOS, Graph, URIRef

from kg.identifiers import DATA_NAMESPACE, ONTOLOGY_NAMESPACE, bind_prefixes, get_converter

REPO = Path(__file__).resolve().parent.parent
#: Links to other resources: the mappings, and the ClinicalTrials.gov, DOI and PubMed pages.
LINKS = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, RDFS.seeAlso)


def _external_links(graph: Graph) -> list[tuple[URIRef, URIRef, URIRef]]:
    return sorted((s, p, o) for p in LINKS for s, o in graph.subject_objects(p)
                  if isinstance(o, URIRef) and not str(o).startswith((DATA_NAMESPACE, ONTOLOGY_NAMESPACE)))


def test_every_external_identifier_is_a_curie_matching_its_bioregistry_pattern(built) -> None:
    converter = get_converter()
    patterns = {record.prefix: record.pattern for record in converter.records}
    links = _external_links(built.graph)
    assert len(links) > 300
    problems = []
    for subject, predicate, target in links:
        curie = converter.compress(str(target))
        if curie is None:
            problems.append(f"{subject} {predicate} {target}: no prefix of the converter expands to it")
            continue
        prefix, local = curie.split(":", 1)
        pattern = patterns[prefix]
        if pattern and not re.match(pattern, local):
            problems.append(f"{subject} {predicate} {curie}: {local!r} does not match {prefix}'s pattern {pattern}")
    assert not problems, "\n".join(problems)


def test_no_external_identifier_names_two_entities(built) -> None:
    """skos:exactMatch is transitive: two entities matching one identifier would be one."""
    holders = defaultdict(set)
    for subject, target in built.graph.subject_objects(SKOS.exactMatch):
        holders[target].add(subject)
    shared = {str(target): sorted(map(str, subjects)) for target, subjects in holders.items() if len(subjects) > 1}
    assert not shared, shared


def _declared_prefixes(path: Path) -> list[tuple[str, str]]:
    return re.findall(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", path.read_text(encoding="utf-8"),
                      flags=re.MULTILINE | re.IGNORECASE)


SPARQL_FILES = sorted([*REPO.glob("queries/**/*.rq"), *REPO.glob("kg/query/page_queries/*.rq"),
                       *REPO.glob("ontology/rules/*.rq")])


@pytest.mark.parametrize("path", SPARQL_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_sparql_prefixes_agree_with_the_converter(path: Path) -> None:
    """A PREFIX in a query means what the converter (or the exports' W3C prefixes) says it means."""
    converter = get_converter()
    known = {prefix: str(namespace) for prefix, namespace in bind_prefixes(Graph(bind_namespaces="none")).namespaces()}
    known.update(converter.prefix_map)
    extra = {"wdt": "http://www.wikidata.org/prop/direct/"}  # Wikidata's properties (federated query)
    for prefix, namespace in _declared_prefixes(path):
        expected = known.get(prefix, extra.get(prefix))
        assert expected is not None, f"{path.name}: prefix {prefix!r} is not one of the converter's"
        assert namespace == expected, f"{path.name}: {prefix}: is <{namespace}>, the converter says <{expected}>"


def test_sync_reference_copies_the_shared_files_byte_for_byte(tmp_path: Path) -> None:
    from kg.identifiers import REFERENCE_FILES, sync_reference

    source, target = tmp_path / "shared", tmp_path / "copy"
    source.mkdir()
    target.mkdir()
    for name in REFERENCE_FILES:
        (source / name).write_bytes(b"label,kind\r\nnew,row\n")
        (target / name).write_bytes(b"label,kind\nold,row\n")
    assert sync_reference(source, target=target) == [target / name for name in REFERENCE_FILES]
    assert all((target / name).read_bytes() == b"label,kind\r\nnew,row\n" for name in REFERENCE_FILES)
    assert sync_reference(source, target=target) == []  # current: nothing to do


def test_sync_reference_refuses_a_directory_without_the_table(tmp_path: Path) -> None:
    from kg.errors import ConfigurationError
    from kg.identifiers import sync_reference

    with pytest.raises(ConfigurationError, match="external-ids.csv"):
        sync_reference(tmp_path, target=tmp_path / "copy")
