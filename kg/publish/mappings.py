"""Mappings to external ontologies and databases as data: an SSSOM mapping set.

The table ``data/mappings/sarcoma-kg.sssom.tsv`` is generated, never edited by hand, from

- the ``xrefs`` curated on records: each is a verified row of
  ``data/reference/external-ids.csv`` (``kg.pipeline.records`` refuses any other) and becomes a
  ``skos:exactMatch`` of the record's entity, as in the graph;
- the ``skos:exactMatch``, ``skos:closeMatch`` and ``skos:relatedMatch`` annotations the
  ontology puts on its own terms (a class such as ``skg:ClinicalTrial``, endpoints such as
  ``skg:MedianOS``; a rate or count of a response category, such as ``skg:ORR``, is only
  related to that category), which must be verified rows too.

Each row takes its ``object_label`` and its ``comment`` (the evidence, strength tag first)
from the verified row. CURIEs and the ``curie_map`` come from the project's one converter.
The table is written with the standard library (SSSOM/TSV: a YAML header in ``#`` lines,
then tab-separated columns); ``sssom validate`` checks it in the test suite. Regenerate it
with ``sarcoma-kg update-generated`` (:mod:`kg.publish.generated`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import yaml
from rdflib import RDFS, SKOS, Graph, Literal, URIRef

from kg import __version__
from kg.errors import DataError, Problem
from kg.identifiers import (
    BIOREGISTRY_VERSION,
    DATA_LICENSE,
    DATA_NAMESPACE,
    ONTOLOGY_NAMESPACE,
    get_converter,
    verified_ids,
)
from kg.output import write_atomically
from kg.pipeline.records import XREF_FIELDS, RecordSet
from kg.resources import resource_path

__all__ = [
    "MAPPINGS_FILE",
    "MAPPING_SET_ID",
    "Mapping",
    "default_mappings_path",
    "mapping_set_metadata",
    "mappings",
    "sssom_table",
    "write_mappings",
]

#: The file name of the mapping set (in ``data/mappings`` and in a release).
MAPPINGS_FILE = "sarcoma-kg.sssom.tsv"
MAPPING_SET_ID = f"https://w3id.org/sarcoma-kg/mappings/{MAPPINGS_FILE}"
JUSTIFICATION = "semapv:ManualMappingCuration"
#: Where the prefixes, IRIs and identifier patterns of every mapping come from.
MAPPING_TOOL = f"Bioregistry {BIOREGISTRY_VERSION}"
_PREDICATES = {SKOS.exactMatch: "skos:exactMatch", SKOS.closeMatch: "skos:closeMatch",
               SKOS.broadMatch: "skos:broadMatch", SKOS.narrowMatch: "skos:narrowMatch",
               SKOS.relatedMatch: "skos:relatedMatch"}


@dataclass(frozen=True, order=True)
class Mapping:
    """One row of the SSSOM table (the field names are the SSSOM column names).

    :param subject_id: the Sarcoma-KG entity or ontology term (``skgid:pembrolizumab``)
    :param subject_label: its label
    :param predicate_id: ``skos:exactMatch``, or ``skos:closeMatch`` where not exact,
        ``skos:broadMatch`` (``narrowMatch``) where the external term is broader (narrower), or
        ``skos:relatedMatch`` where only associated
    :param object_id: the external identifier, as the converter writes it (``NCIT:C106432``)
    :param object_label: the label of the verified row
    :param mapping_justification: always ``semapv:ManualMappingCuration``
    :param mapping_tool: the Bioregistry release the prefixes and patterns come from
    :param comment: the evidence column of the verified row
    """

    subject_id: str
    subject_label: str
    predicate_id: str
    object_id: str
    object_label: str
    mapping_justification: str
    mapping_tool: str
    comment: str


#: The SSSOM columns, in order.
COLUMNS = tuple(field.name for field in fields(Mapping))


def default_mappings_path() -> Path:
    """Return the path of the committed mapping table (``data/mappings``)."""
    return resource_path("data", "mappings", MAPPINGS_FILE)


def _row(subject: str, label: str, predicate: str, curie: str) -> Mapping:
    verified = verified_ids()[curie]
    return Mapping(subject, label, predicate, curie, verified.label, JUSTIFICATION, MAPPING_TOOL, verified.evidence)


def _record_mappings(records: RecordSet) -> Iterable[Mapping | Problem]:
    converter = get_converter()
    known = verified_ids()
    for record in records.records:
        subject = converter.compress(DATA_NAMESPACE + record.id, strict=True)
        for field, predicate in XREF_FIELDS.items():  # exactMatch, closeMatch (a target's gene), broadMatch
            for xref in record.data.get(field, []) or []:
                curie = converter.standardize_curie(xref, strict=False)
                if curie is None or curie not in known:
                    yield Problem(record.file, record.id, "verified-identifier",
                                  f"xref {xref!r} is not a verified row of data/reference/external-ids.csv")
                    continue
                yield _row(subject, str(record.data["label"]), predicate, curie)


def _ontology_mappings(ontology: Graph) -> Iterable[Mapping | Problem]:
    converter = get_converter()
    known = verified_ids()
    for predicate, name in _PREDICATES.items():
        for term, target in ontology.subject_objects(predicate):
            if not (isinstance(term, URIRef) and str(term).startswith(ONTOLOGY_NAMESPACE)):
                continue
            subject = converter.compress(str(term), strict=True)
            curie = converter.compress(str(target)) if isinstance(target, URIRef) else None
            if curie is None or curie not in known:
                yield Problem("ontology/sarcoma-kg.ttl", subject, "verified-identifier",
                              f"{name} {target} is not a verified row of data/reference/external-ids.csv")
                continue
            labels = sorted(str(label) for label in ontology.objects(term, RDFS.label)
                            if isinstance(label, Literal) and label.language in (None, "en"))
            yield _row(subject, labels[0] if labels else "", name, curie)


def mappings(records: RecordSet, *, ontology: Graph) -> list[Mapping]:
    """Build the mapping rows from the records' xrefs and the ontology's own mappings.

    :param records: checked records
    :param ontology: a graph holding the ontology (the built graph will do)
    :returns: the rows, sorted by subject, predicate and object
    :raises DataError: if an xref or an ontology mapping is not a verified row of the
        reference table (``kg.pipeline.records`` already refuses such xrefs; this is the last guard)
    """
    rows: set[Mapping] = set()
    problems: list[Problem] = []
    for item in [*_record_mappings(records), *_ontology_mappings(ontology)]:
        if isinstance(item, Problem):
            problems.append(item)
        else:
            rows.add(item)
    if problems:
        raise DataError(problems, stage="mappings")
    return sorted(rows)


def mapping_set_metadata(rows: Iterable[Mapping]) -> dict[str, object]:
    """The mapping set's YAML header: ``curie_map`` (the prefixes the rows use) and metadata.

    :param rows: the mapping rows
    :returns: the header as a mapping, in the order it is written
    """
    converter = get_converter()
    used = {"semapv", "skos"}
    for row in rows:
        used.update(curie.split(":", 1)[0] for curie in (row.subject_id, row.predicate_id, row.object_id))
    prefix_map = converter.prefix_map
    return {
        "curie_map": {prefix: prefix_map[prefix] for prefix in sorted(used, key=str.lower)},
        "mapping_set_id": MAPPING_SET_ID,
        "mapping_set_version": __version__,
        "mapping_set_title": "Sarcoma-KG mappings to external ontologies and databases",
        "mapping_set_description": (
            "Exact, close and broader matches of the curated entities and ontology terms of Sarcoma-KG, taken only "
            "from the verified rows of data/reference/external-ids.csv; the comment of each row is the "
            f"evidence for the identifier. Prefixes and IRIs as in Bioregistry {BIOREGISTRY_VERSION}."
        ),
        "license": DATA_LICENSE,
    }


def sssom_table(rows: Iterable[Mapping]) -> str:
    """Write mapping rows as SSSOM/TSV with the YAML metadata header.

    :param rows: the mapping rows
    :returns: the table's text (deterministic: the same rows give the same text)
    """
    rows = list(rows)
    header = yaml.safe_dump(mapping_set_metadata(rows), sort_keys=False, allow_unicode=True, width=10_000)
    out = io.StringIO()
    out.writelines(f"# {line}\n" for line in header.splitlines())
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(row) for row in rows)
    return out.getvalue()


def write_mappings(records: RecordSet, output: Path, *, ontology: Graph) -> Path:
    """Write the SSSOM table of the records and the ontology, atomically.

    :param records: checked records
    :param output: the file to write (replaced only once fully written)
    :param ontology: a graph holding the ontology
    :returns: the written path
    :raises DataError: as for :func:`mappings`
    """
    return write_atomically(output, sssom_table(mappings(records, ontology=ontology)).encode("utf-8"))
