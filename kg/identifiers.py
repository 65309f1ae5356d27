"""Prefixes, CURIEs and the verified external identifiers.

One ``curies.Converter`` makes every CURIE and IRI of the project. It is built from the
Bioregistry 0.15.6 prefix table shipped in ``data/reference/recommended-prefixes.csv``
plus the project's own two namespaces. This module is also the one place that assembles
prefixes for everything else: :data:`W3C_PREFIXES` (the W3C vocabularies and ``obo``, which
the Bioregistry table has no row for), :func:`common_prefixes` (small results),
:func:`all_prefixes` (the JSON-LD context, error messages), :func:`bind_prefixes` (rdflib
graphs) and :func:`display_converter` (pages); nothing else writes a prefix by hand.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import curies

from kg import __version__
from kg.errors import ConfigurationError
from kg.resources import resource_path

if TYPE_CHECKING:
    from rdflib import Graph

__all__ = [
    "BIOREGISTRY_VERSION",
    "DATA_LICENSE",
    "DATA_NAMESPACE",
    "ONTOLOGY_IRI",
    "ONTOLOGY_NAMESPACE",
    "ONTOLOGY_VERSION_IRI",
    "REFERENCE_FILES",
    "W3C_PREFIXES",
    "VerifiedId",
    "all_prefixes",
    "bind_prefixes",
    "common_prefixes",
    "display_converter",
    "get_converter",
    "reference_dir",
    "sync_reference",
    "verified_ids",
]

#: The Bioregistry release the prefix table of ``data/reference`` was taken from.
BIOREGISTRY_VERSION = "0.15.6"

ONTOLOGY_NAMESPACE = "https://w3id.org/sarcoma-kg/ontology/"
#: The licence of the curated data and of the two reviews it comes from (CC BY 4.0).
DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
#: The IRI of the ontology itself (its terms are in :data:`ONTOLOGY_NAMESPACE`).
ONTOLOGY_IRI = "https://w3id.org/sarcoma-kg/ontology"
#: The ontology's owl:versionIRI (this release's version, as in ``ontology/sarcoma-kg.ttl``).
ONTOLOGY_VERSION_IRI = f"{ONTOLOGY_IRI}/{__version__}"
DATA_NAMESPACE = "https://w3id.org/sarcoma-kg/id/"

#: Namespaces of the project itself, which have no row in the Bioregistry prefix table of
#: ``data/reference``.
_PROJECT_PREFIXES = {
    "skg": ONTOLOGY_NAMESPACE,
    "skgid": DATA_NAMESPACE,
}


#: The W3C vocabularies the graph uses and ``obo`` (the OBO PURL namespace): none has a row in
#: the Bioregistry prefix table of ``data/reference``.
W3C_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "obo": "http://purl.obolibrary.org/obo/",
}


@dataclass(frozen=True)
class VerifiedId:
    """A verified row of ``external-ids.csv``.

    :param label: the label the reference table gives
    :param kind: the entity kind (drug/biologic, sarcoma subtype ...)
    :param curie: the CURIE, with the preferred prefix
    :param iri: the IRI made by the converter
    :param evidence: the evidence column, strength tag first
    """

    label: str
    kind: str
    curie: str
    iri: str
    evidence: str


@cache
def get_converter() -> curies.Converter:
    """Return the project's CURIE/IRI converter.

    :returns: a converter whose preferred prefixes are those of the reference table
        (``NCIT``, ``CHEBI``, ``drugbank`` ...) with Bioregistry prefixes as synonyms
    :raises ConfigurationError: if the prefix table is missing
    """
    path = resource_path("data", "reference", "recommended-prefixes.csv")
    if not path.is_file():
        raise ConfigurationError(f"prefix table not found: {path}")
    records: dict[str, curies.Record] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            preferred = row["preferred_curie_prefix"]
            if preferred in records:
                continue
            synonyms = sorted({row["bioregistry_prefix"]} - {preferred})
            records[preferred] = curies.Record(
                prefix=preferred,
                prefix_synonyms=synonyms,
                uri_prefix=row[f"uri_prefix_bioregistry_{BIOREGISTRY_VERSION}"],
                pattern=row["pattern"] or None,
            )
    for prefix, uri_prefix in _PROJECT_PREFIXES.items():
        records[prefix] = curies.Record(prefix=prefix, uri_prefix=uri_prefix)
    return curies.Converter(list(records.values()))


def common_prefixes() -> dict[str, str]:
    """The prefixes nearly every Sarcoma-KG result uses: the project's, the W3C vocabularies' and ``obo``.

    For serialisers that declare every prefix they are given (pyoxigraph's Turtle), where
    the full set of :func:`all_prefixes` would head a small result with forty lines.

    :returns: prefix → namespace IRI

    >>> common_prefixes()["skg"]
    'https://w3id.org/sarcoma-kg/ontology/'
    """
    return {**_PROJECT_PREFIXES, **W3C_PREFIXES}


@cache
def all_prefixes() -> dict[str, str]:
    """Every prefix of the project: the W3C vocabularies', ``obo``, then the converter's
    (the Bioregistry table's preferred prefixes and the project's own).

    :returns: prefix → namespace IRI

    >>> all_prefixes()["NCIT"], all_prefixes()["owl"]
    ('http://purl.obolibrary.org/obo/NCIT_', 'http://www.w3.org/2002/07/owl#')
    """
    return {**W3C_PREFIXES, **{record.prefix: record.uri_prefix for record in get_converter().records}}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on a graph, replacing rdflib's defaults.

    rdflib writes a prefixed name only where the IRI splits at "/" or "#"; OBO terms
    (``NCIT_C2654``, ``CL_0000625``) split at "obo/", so they are written ``obo:NCIT_C2654``
    and only the prefixes whose IRI ends with "/" or "#" are bound.

    :param graph: the graph to bind prefixes on (modified)
    :returns: the same graph
    """
    manager = graph.namespace_manager
    for prefix, namespace in all_prefixes().items():
        if namespace.endswith(("/", "#")):
            manager.bind(prefix, namespace, override=True, replace=True)
    return graph


@cache
def display_converter() -> curies.Converter:
    """The converter pages show IRIs with: the project's prefixes, then the W3C vocabularies'
    (so that a page shows ``rdfs:comment`` rather than its full IRI).

    :returns: a converter that compresses with the project's prefixes first

    >>> display_converter().compress("http://www.w3.org/2000/01/rdf-schema#comment")
    'rdfs:comment'
    """
    return curies.chain([get_converter(), curies.Converter.from_prefix_map(W3C_PREFIXES)])


#: The files of the shared reference directory (``../shared/reference``) the project keeps a
#: copy of in ``data/reference``: the verified identifiers and the Bioregistry prefixes.
REFERENCE_FILES = ("external-ids.csv", "recommended-prefixes.csv")


def reference_dir() -> Path:
    """Return the project's copy of the reference directory (``data/reference``)."""
    return resource_path("data", "reference")


def _reference_path() -> Path:
    return reference_dir() / "external-ids.csv"


def sync_reference(source: Path, *, target: Path | None = None) -> list[Path]:
    """Copy the shared reference files byte for byte over the project's copy.

    :param source: the shared reference directory (``../shared/reference``)
    :param target: the directory to update (default: the project's ``data/reference``)
    :returns: the files that changed (an empty list when the copy was current)
    :raises ConfigurationError: if a reference file is missing from ``source`` or cannot
        be written
    """
    target = reference_dir() if target is None else target
    missing = [name for name in REFERENCE_FILES if not (source / name).is_file()]
    if missing:
        raise ConfigurationError(f"{source}: no {', '.join(missing)}; give the shared reference directory")
    changed: list[Path] = []
    try:
        for name in REFERENCE_FILES:
            destination = target / name
            if destination.is_file() and destination.read_bytes() == (source / name).read_bytes():
                continue
            shutil.copyfile(source / name, destination)
            changed.append(destination)
    except OSError as error:
        raise ConfigurationError(f"cannot update {target}: {error.strerror or error}") from None
    get_converter.cache_clear()
    verified_ids.cache_clear()
    return changed


@cache
def verified_ids() -> dict[str, VerifiedId]:
    """Return the verified identifiers of the reference table, keyed by CURIE.

    Rows marked ``verified=no`` are left out: their identifiers must never be used.

    :returns: a mapping from standardized CURIE to its verified row
    :raises ConfigurationError: if the table is missing or a verified row has a prefix
        the converter does not know
    """
    path = _reference_path()
    if not path.is_file():
        raise ConfigurationError(f"external identifier table not found: {path}")
    converter = get_converter()
    result: dict[str, VerifiedId] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["verified"] != "yes" or not row["local_id"]:
                continue
            curie = converter.standardize_curie(f"{row['prefix']}:{row['local_id']}", strict=False)
            if curie is None:
                raise ConfigurationError(f"{path.name}: unknown prefix {row['prefix']!r} in row {row['label']!r}")
            iri = converter.expand(curie, strict=True)
            result[curie] = VerifiedId(
                label=row["label"], kind=row["kind"], curie=curie, iri=iri, evidence=row["evidence"]
            )
    return result
