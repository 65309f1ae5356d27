"""One export of the built graph, in one format (``sarcoma-kg export``).

The graph in each RDF format of :mod:`kg.formats`, the SSSOM mappings, the VoID description
and the FHIR R5 Evidence bundle; each written atomically, after its output is checked.
"""

from __future__ import annotations

from pathlib import Path

from kg.formats import EXPORT_FORMATS, RDF_FORMATS
from kg.output import check_output_file, write_atomically
from kg.pipeline.ontology import load_ontology
from kg.pipeline.records import load_records
from kg.pipeline.serialise import parse_graph, serialize
from kg.publish.mappings import write_mappings
from kg.publish.void import dataset_statistics, void_graph
from kg.query.store import open_store

__all__ = ["export"]

_GRAPH_FORMATS = frozenset(fmt.name for fmt in RDF_FORMATS)


def export(graph_file: Path, output: Path, fmt: str = "ttl", *, records_dir: Path | None = None) -> Path:
    """Write one export, atomically.

    :param graph_file: the built graph (Turtle); not read for ``sssom``
    :param output: the file to write
    :param fmt: one of :data:`EXPORT_FORMATS`: ``ttl``, ``nt``, ``jsonld``, ``xml`` (the
        graph), ``sssom`` (the mappings, made from the records and the ontology),
        ``void`` (Turtle, with statistics computed on an in-process store) or ``fhir``
        (a FHIR R5 Bundle of Evidence resources, JSON; :mod:`kg.publish.fhir`)
    :param records_dir: the records the SSSOM mappings are made from (default: the shipped ones)
    :returns: the written path
    :raises ValueError: for an unknown format
    :raises ConfigurationError: if the output cannot be written (checked first), or the built
        graph (or a record file) cannot be loaded
    :raises DataError: if the records fail a check (``sssom``)
    """
    check_output_file(output)
    if fmt in _GRAPH_FORMATS:
        return write_atomically(output, serialize(parse_graph(graph_file), fmt))
    if fmt == "void":
        statistics_rows = dataset_statistics(open_store(graph_file))
        return write_atomically(output, serialize(void_graph(statistics_rows), "ttl"))
    if fmt == "sssom":
        return write_mappings(load_records(records_dir), output, ontology=load_ontology())
    if fmt == "fhir":
        from kg.publish.fhir import fhir_json  # fhir.resources' models take 0.4 s to import: only when asked

        return write_atomically(output, fhir_json(open_store(graph_file)))
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
