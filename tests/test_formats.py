"""The format registry (kg.formats): every table of formats elsewhere agrees with it."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from kg.formats import EXPORT_FORMATS, RDF_FORMATS, RESULT_FORMATS, UnknownFormat, rdf_format, result_format
from kg.publish.release import RELEASE_GRAPH_FILES
from kg.publish.void import service_description
from kg.query.results import RESULT_FORMATS as CLI_RESULT_FORMATS
from kg.web.endpoint import format_media_type

SD_RESULT_FORMAT = URIRef("http://www.w3.org/ns/sparql-service-description#resultFormat")


def test_every_rdf_format_is_exported_released_and_described() -> None:
    names = [fmt.name for fmt in RDF_FORMATS]
    assert list(EXPORT_FORMATS[: len(names)]) == names
    assert set(RELEASE_GRAPH_FILES) == set(names)
    described = set(service_description("http://example.org/sparql", {}).objects(None, SD_RESULT_FORMAT))
    expected = {URIRef("http://www.w3.org/ns/formats/" + fmt.w3c) for fmt in (*RDF_FORMATS, *RESULT_FORMATS)}
    assert described == expected


def test_every_result_format_is_a_choice_of_the_query_command() -> None:
    assert set(CLI_RESULT_FORMATS) == {"table", *(fmt.name for fmt in RESULT_FORMATS)}


@pytest.mark.parametrize(("name", "media_type"), [
    ("turtle", "text/turtle"), ("TTL", "text/turtle"), ("json", "application/ld+json"), ("rdf", "application/rdf+xml"),
    ("application/n-triples", "application/n-triples"), ("csv", None), ("html", None),
])
def test_a_format_parameter_names_an_rdf_media_type(name: str, media_type: str | None) -> None:
    assert format_media_type(name) == media_type


def test_unknown_names_are_refused_with_the_choices() -> None:
    with pytest.raises(UnknownFormat, match="choose one of ttl, nt, jsonld, xml"):
        rdf_format("n3")
    with pytest.raises(UnknownFormat, match="choose one of json, xml, csv, tsv"):
        result_format("yaml")


def test_each_rdf_format_round_trips_through_rdflib() -> None:
    graph = Graph().parse(data="<http://example.org/s> <http://example.org/p> 'o' .", format="turtle")
    for fmt in RDF_FORMATS:
        assert len(Graph().parse(data=graph.serialize(format=fmt.rdflib), format=fmt.rdflib)) == 1
