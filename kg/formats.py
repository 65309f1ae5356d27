"""Every serialisation format the project reads or writes, described once.

One record per RDF format (the graph's exports, CONSTRUCT/DESCRIBE results, entity pages)
and one per SPARQL result format (SELECT/ASK results): its short name, its media types, the
aliases clients send in a ``format`` parameter (YASGUI's and other clients' short names), its file suffix, its rdflib and
Oxigraph names, and its term in the W3C format registry (``http://www.w3.org/ns/formats/``)
that the Service Description lists. Every table of media types, file names or serialiser
names elsewhere is derived from these two tuples: adding a format is one entry.

>>> rdf_format("ttl").media_type
'text/turtle'
>>> RDF_MEDIA_TYPES["application/rdf+xml"].name
'xml'
>>> result_format("json").oxigraph == ox.QueryResultsFormat.JSON
True
>>> rdf_format("json").name  # a CONSTRUCT result asked for as "json" is JSON-LD
'jsonld'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox

__all__ = [
    "EXPORT_FORMATS", "RDF_FORMATS", "RDF_MEDIA_TYPES", "RESULT_FORMATS", "RESULT_MEDIA_TYPES", "RdfFormat",
    "ResultFormat", "UnknownFormat", "rdf_format", "result_format",
]


class UnknownFormat(ValueError):
    """A format name that no record here has."""


@dataclass(frozen=True)
class RdfFormat:
    """An RDF syntax the graph is written in.

    :param name: the short name of ``sarcoma-kg export --format`` (``ttl``)
    :param media_type: its media type, as served (``text/turtle``)
    :param aliases: more names a client may give in a ``format`` parameter
    :param suffix: the file suffix of the graph written in it (``.ttl``)
    :param rdflib: rdflib's serialiser and parser name
    :param oxigraph: pyoxigraph's format
    :param w3c: its local name in ``http://www.w3.org/ns/formats/``
    """

    name: str
    media_type: str
    aliases: tuple[str, ...]
    suffix: str
    rdflib: str
    oxigraph: ox.RdfFormat
    w3c: str


@dataclass(frozen=True)
class ResultFormat:
    """A SPARQL 1.1 query results format (SELECT and ASK).

    :param name: the short name of ``sarcoma-kg query --format`` and of a ``format`` parameter
    :param media_types: the media types it is served as, the canonical one first
    :param oxigraph: pyoxigraph's format
    :param w3c: its local name in ``http://www.w3.org/ns/formats/``
    """

    name: str
    media_types: tuple[str, ...]
    oxigraph: ox.QueryResultsFormat
    w3c: str


#: The RDF formats, the default (Turtle) first.
RDF_FORMATS: tuple[RdfFormat, ...] = (
    RdfFormat("ttl", "text/turtle", ("turtle", "ttl"), ".ttl", "turtle", ox.RdfFormat.TURTLE, "Turtle"),
    RdfFormat("nt", "application/n-triples", ("nt", "ntriples", "n-triples"), ".nt", "nt", ox.RdfFormat.N_TRIPLES,
              "N-Triples"),
    RdfFormat("jsonld", "application/ld+json", ("jsonld", "json-ld", "json"), ".jsonld", "json-ld",
              ox.RdfFormat.JSON_LD, "JSON-LD"),
    RdfFormat("xml", "application/rdf+xml", ("rdfxml", "rdf", "xml"), ".rdf", "xml", ox.RdfFormat.RDF_XML,
              "RDF_XML"),
)

#: The SPARQL result formats, the default (JSON) first.
RESULT_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", ("application/sparql-results+json", "application/json"), ox.QueryResultsFormat.JSON,
                 "SPARQL_Results_JSON"),
    ResultFormat("xml", ("application/sparql-results+xml",), ox.QueryResultsFormat.XML, "SPARQL_Results_XML"),
    ResultFormat("csv", ("text/csv",), ox.QueryResultsFormat.CSV, "SPARQL_Results_CSV"),
    ResultFormat("tsv", ("text/tab-separated-values",), ox.QueryResultsFormat.TSV, "SPARQL_Results_TSV"),
)

#: Every format of ``sarcoma-kg export``: the graph in each RDF format, the SSSOM mappings,
#: the VoID description and the FHIR R5 Evidence bundle (:mod:`kg.publish.export`).
EXPORT_FORMATS = (*(fmt.name for fmt in RDF_FORMATS), "sssom", "void", "fhir")

#: Media type → RDF format, the default first (the offers of content negotiation).
RDF_MEDIA_TYPES: dict[str, RdfFormat] = {fmt.media_type: fmt for fmt in RDF_FORMATS}
#: Media type → result format, the default first; ``application/json`` after the canonical four.
RESULT_MEDIA_TYPES: dict[str, ResultFormat] = {
    **{fmt.media_types[0]: fmt for fmt in RESULT_FORMATS},
    **{media_type: fmt for fmt in RESULT_FORMATS for media_type in fmt.media_types[1:]},
}
_RDF_BY_ALIAS: dict[str, RdfFormat] = {alias: fmt for fmt in RDF_FORMATS for alias in (fmt.name, *fmt.aliases)}
_RESULT_BY_NAME: dict[str, ResultFormat] = {fmt.name: fmt for fmt in RESULT_FORMATS}


F = TypeVar("F", RdfFormat, ResultFormat)


def _lookup(name: str, by_name: Mapping[str, F], by_media_type: Mapping[str, F], *, what: str) -> F:
    """The format a name (case-insensitive) or a media type names, else :class:`UnknownFormat`."""
    key = name.strip().lower()
    found = by_name.get(key) or by_media_type.get(key)
    if found is None:
        names = ", ".join(dict.fromkeys(fmt.name for fmt in by_name.values()))
        raise UnknownFormat(f"unknown {what} {name!r}; choose one of {names}")
    return found


def rdf_format(name: str) -> RdfFormat:
    """The RDF format of a short name, alias or media type.

    :param name: ``ttl``, ``turtle``, ``text/turtle`` ... (case-insensitive)
    :returns: its record
    :raises UnknownFormat: for a name no RDF format has

    >>> rdf_format("RDF").name
    'xml'
    """
    return _lookup(name, _RDF_BY_ALIAS, RDF_MEDIA_TYPES, what="RDF format")


def result_format(name: str) -> ResultFormat:
    """The SPARQL result format of a short name or media type.

    :param name: ``json``, ``csv``, ``text/csv`` ... (case-insensitive)
    :returns: its record
    :raises UnknownFormat: for a name no result format has

    >>> result_format("text/tab-separated-values").name
    'tsv'
    """
    return _lookup(name, _RESULT_BY_NAME, RESULT_MEDIA_TYPES, what="result format")
