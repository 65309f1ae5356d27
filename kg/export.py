"""Serialise the graph: Turtle first (deterministic), then N-Triples, JSON-LD, RDF/XML.

Prefixes come from the project's one converter (Bioregistry prefixes plus the project's
own) and rdflib's W3C namespaces; nothing else names a prefix.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD, Graph

from kg.errors import ConfigurationError
from kg.identifiers import get_converter

__all__ = ["FORMATS", "bind_prefixes", "export_file", "serialize"]

#: Export format name → rdflib serializer name.
FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml"}

_W3C = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS, "prov": PROV, "sh": SH}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on a graph, replacing rdflib's defaults.

    :param graph: the graph to bind prefixes on (modified)
    :returns: the same graph
    """
    manager = graph.namespace_manager
    for prefix, namespace in _W3C.items():
        manager.bind(prefix, namespace, override=True, replace=True)
    # rdflib writes a prefixed name only where the IRI splits at "/" or "#"; OBO terms
    # (NCIT_C2654, CL_0000625) split at "obo/", so they are written obo:NCIT_C2654.
    for record in get_converter().records:
        if record.uri_prefix.endswith(("/", "#")):
            manager.bind(record.prefix, record.uri_prefix, override=True, replace=True)
    manager.bind("obo", "http://purl.obolibrary.org/obo/", override=True, replace=True)
    return graph


def serialize(graph: Graph, fmt: str = "ttl") -> bytes:
    """Serialise a graph in one of the export formats.

    Turtle output is deterministic: the same graph gives byte-identical output (the
    graph has no blank nodes; subjects, predicates and objects are written sorted).

    :param graph: the graph
    :param fmt: ``ttl``, ``nt``, ``jsonld`` or ``xml``
    :returns: the serialisation as UTF-8 bytes
    :raises ValueError: for an unknown format
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Graph(bind_namespaces="none")
    out += graph
    bind_prefixes(out)
    if fmt == "nt":
        lines = sorted(out.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
        return ("\n".join(line for line in lines if line) + "\n").encode("utf-8")
    return out.serialize(format=FORMATS[fmt], encoding="utf-8")


def export_file(graph_file: Path, output: Path, fmt: str = "ttl") -> Path:
    """Read a built graph and write it in an export format, atomically.

    :param graph_file: the built graph (Turtle)
    :param output: the file to write (replaced only once fully written)
    :param fmt: an export format (see :data:`FORMATS`)
    :returns: the written path
    :raises ConfigurationError: if the built graph is missing or cannot be parsed
    """
    if not graph_file.is_file():
        raise ConfigurationError(f"built graph not found: {graph_file} (run 'sarcoma-kg build' first)")
    try:
        graph = Graph().parse(graph_file, format="turtle")
    except (SyntaxError, ValueError) as error:
        raise ConfigurationError(f"cannot parse {graph_file}: {error}") from error
    data = serialize(graph, fmt)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    partial.write_bytes(data)
    partial.replace(output)
    return output
