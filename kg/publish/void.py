"""VoID and SPARQL Service Description of the dataset, as RDF graphs.

Both are built with rdflib from the dataset's statistics (the ``void-statistics`` page
query); the endpoint serves them and ``sarcoma-kg export --format void`` writes the VoID.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyoxigraph as ox
from rdflib import DCTERMS, OWL, RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import VOID

from kg import __version__
from kg.formats import RDF_FORMATS, RESULT_FORMATS
from kg.identifiers import DATA_LICENSE, DATA_NAMESPACE, ONTOLOGY_NAMESPACE
from kg.query.queries import StoredQuery, page_query
from kg.query.store import select

__all__ = ["DATASET", "dataset_statistics", "service_description", "statistics_query", "void_graph"]

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
W3C_FORMATS = Namespace("http://www.w3.org/ns/formats/")
DATASET = URIRef("https://w3id.org/sarcoma-kg/dataset")
#: The two reviews, as described in the graph (citation, DOI where there is one, licence).
SOURCES = (URIRef(DATA_NAMESPACE + "huang2025"), URIRef(DATA_NAMESPACE + "wu2025"))


def statistics_query() -> StoredQuery:
    """The query whose rows :func:`void_graph` takes."""
    return page_query("void-statistics")


def dataset_statistics(store: ox.Store) -> dict[str, int]:
    """Run :func:`statistics_query` on a store.

    :param store: a store holding the built graph (in process)
    :returns: class IRI (or ``triples``, ``entities``, ``properties``) to count, as
        :func:`void_graph` takes them
    """
    return {solution["class"].value: int(solution["count"].value)
            for solution in select(store, statistics_query().text)}


def void_graph(statistics: Mapping[str, int], *, endpoint: str | None = None) -> Graph:
    """Describe the dataset in VoID.

    :param statistics: the rows of ``void-statistics``: class IRI (or ``triples``,
        ``entities``, ``properties``) to count
    :param endpoint: the SPARQL endpoint's URL, if served
    :returns: the VoID description
    """
    graph = Graph()
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    graph.add((DATASET, RDF.type, VOID.Dataset))
    graph.add((DATASET, DCTERMS.title, Literal("Sarcoma-KG", lang="en")))
    graph.add((DATASET, DCTERMS.description, Literal(
        "Knowledge graph of the evidence on immunotherapy for sarcoma, curated from two CC BY 4.0 reviews.", lang="en")))
    graph.add((DATASET, DCTERMS.license, URIRef(DATA_LICENSE)))
    # dcterms:hasVersion would name another resource (a version of this one), not a number
    graph.add((DATASET, OWL.versionInfo, Literal(__version__)))
    for source in SOURCES:
        graph.add((DATASET, DCTERMS.source, source))
    graph.add((DATASET, VOID.uriSpace, Literal(DATA_NAMESPACE)))
    graph.add((DATASET, VOID.vocabulary, URIRef(ONTOLOGY_NAMESPACE)))
    graph.add((DATASET, VOID.feature, W3C_FORMATS.Turtle))
    if endpoint:
        graph.add((DATASET, VOID.sparqlEndpoint, URIRef(endpoint)))
    for key, field in (("triples", VOID.triples), ("entities", VOID.entities), ("properties", VOID.properties)):
        if key in statistics:
            graph.add((DATASET, field, Literal(statistics[key], datatype=XSD.integer)))
    for cls, count in sorted(statistics.items()):
        if cls.startswith("http"):
            partition = URIRef(f"{DATASET}/class/{cls.rsplit('/', 1)[-1].rsplit('#', 1)[-1]}")
            graph.add((DATASET, VOID.classPartition, partition))
            graph.add((partition, VOID["class"], URIRef(cls)))
            graph.add((partition, VOID.entities, Literal(count, datatype=XSD.integer)))
    return graph


def service_description(endpoint: str, statistics: Mapping[str, int]) -> Graph:
    """Describe the SPARQL endpoint (SPARQL 1.1 Service Description) with its dataset.

    :param endpoint: the endpoint's URL
    :param statistics: as for :func:`void_graph`
    :returns: the service description, including the VoID of the default dataset
    """
    graph = void_graph(statistics, endpoint=endpoint)
    graph.bind("sd", SD)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for w3c in (*(fmt.w3c for fmt in RESULT_FORMATS), *(fmt.w3c for fmt in RDF_FORMATS)):
        graph.add((service, SD.resultFormat, W3C_FORMATS[w3c]))
    dataset = BNode("dataset")
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default_graph = BNode("defaultGraph")
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    graph.add((default_graph, RDF.type, VOID.Dataset))
    graph.add((default_graph, DCTERMS.source, DATASET))
    if "triples" in statistics:
        graph.add((default_graph, VOID.triples, Literal(statistics["triples"], datatype=XSD.integer)))
    return graph
