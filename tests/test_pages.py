"""Dereferenceable IRIs: HTML pages that link to each other, RDF by content negotiation.

The application runs in-process (the ``client`` fixture); tests/test_ui.py loads the pages
from a real server in a browser.
"""

from __future__ import annotations

import re

import pytest
import rdflib
from starlette.testclient import TestClient

from kg.web.pages import templates
from kg.web.plots import ForestRow, forest_plot
from kg.web.pool import Limits

ID = "https://w3id.org/sarcoma-kg/id/"


def test_entity_page_shows_label_types_ids_and_measurements(client: TestClient) -> None:
    html = client.get("/id/pembrolizumab").text
    assert "<h1>pembrolizumab</h1>" in html
    assert 'href="http://purl.obolibrary.org/obo/NCIT_C106432"' in html
    assert "PD-1 inhibitor" in html
    assert "Outcome measurements" in html and "SARC028" in html


def test_pages_name_w3c_properties_in_words_with_their_curie(client: TestClient) -> None:
    # regression: rdf:type and rdfs:comment were shown as full IRIs (no Bioregistry row), then
    # as CURIEs ("skos:exactMatch:"); a heading is the property's label or its name in words
    html = client.get("/id/m-huang-pollack2020-3").text
    assert '<th title="rdfs:comment">comment</th>' in html and '<th title="rdf:type">type</th>' in html
    assert ">http://www.w3.org/" not in html and ">rdf:type<" not in html
    assert re.search(r"<h3>has evidence <small", html), "a nested node is headed by the property that links it"


def test_study_page_shows_provenance(client: TestClient) -> None:
    html = client.get("/id/sarc028").text
    assert "NCT02301039" in html
    assert "Huang 2025" in html and "Wu 2025" in html and "Table 2" in html
    assert 'class="quote"' in html


def test_subtype_page_has_a_chart_with_traceable_points(client: TestClient) -> None:
    html = client.get("/id/undifferentiated-pleomorphic-sarcoma").text
    assert 'class="forest"' in html
    dots = re.findall(r'<a class="point" href="(/id/[^"]+)">', html)
    assert dots, "the chart has no points"
    for href in set(dots):
        assert client.get(href).status_code == 200


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                             ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_entity_as_rdf(client: TestClient, accept: str, fmt: str) -> None:
    response = client.get("/id/m-wu-pollack2020-3", headers={"Accept": accept})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.content, format=fmt)
    evidence = rdflib.URIRef(ID + "m-wu-pollack2020-3/evidence")
    assert (evidence, rdflib.URIRef("https://w3id.org/sarcoma-kg/ontology/quote"), None) in graph


def test_ontology_terms_resolve(client: TestClient) -> None:
    html = client.get("/ontology/ImmuneCheckpointInhibitor").text
    assert "immune checkpoint inhibitor" in html


@pytest.mark.parametrize("accept", ["text/html", "text/turtle", "application/n-triples", "application/ld+json",
                                    "application/rdf+xml"])
def test_unknown_entity_is_404(client: TestClient, accept: str) -> None:
    """Regression: in RDF/XML an unknown entity came back as 200 and an empty rdf:RDF; the
    404 page said nothing of its content negotiation (no Vary: Accept)."""
    response = client.get("/id/no-such-thing", headers={"Accept": accept})
    assert response.status_code == 404
    assert "accept" in response.headers.get("vary", "").lower()


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                             ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_the_ontology_iri_dereferences_to_the_ontology(client: TestClient, accept: str, fmt: str) -> None:
    """Regression: /ontology (the ontology's own IRI) redirected to /ontology/, a 404."""
    response = client.get("/ontology", headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    graph = rdflib.Graph().parse(data=response.content, format=fmt)
    skg = rdflib.Namespace("https://w3id.org/sarcoma-kg/ontology/")
    assert (rdflib.URIRef("https://w3id.org/sarcoma-kg/ontology"), rdflib.RDF.type, rdflib.OWL.Ontology) in graph
    assert (skg.ImmuneCheckpointInhibitor, rdflib.RDF.type, rdflib.OWL.Class) in graph
    assert not any(str(s).startswith("https://w3id.org/sarcoma-kg/id/") for s in graph.subjects()), "the ontology only"


def test_the_ontology_iri_has_a_page(client: TestClient) -> None:
    response = client.get("/ontology", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "Sarcoma-KG" in response.text


def test_pages_are_not_held_to_the_endpoint_row_cap(built) -> None:
    """Regression: with --max-rows 50 an entity page said 'invalid IRI' and the home page
    failed with a 500; the pages' and the stored queries are not the public endpoint's."""
    from conftest import app_client

    with app_client(built.output, workers=1, limits=Limits(max_rows=50)) as client:
        over_cap = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert over_cap.status_code == 422 and over_cap.json()["message"].endswith("; add a LIMIT")
        # a stored query is not held to it either (regression, issue 18: biomarker-findings
        # answered 422 at 1M triples with the default --max-rows)
        stored = client.get("/api/queries/biomarker-findings")
        assert stored.status_code == 200, stored.text
        assert len(stored.json()["results"]["bindings"]) > 50
        page = client.get("/id/pembrolizumab")
        assert page.status_code == 200 and "pembrolizumab" in page.text
        assert client.get("/").status_code == 200
        rdf = client.get("/id/pembrolizumab", headers={"Accept": "text/turtle"})
        assert len(rdflib.Graph().parse(data=rdf.text, format="turtle")) > 5


def test_pages_link_to_each_other(client: TestClient) -> None:
    index = client.get("/").text
    links = sorted(set(re.findall(r'href="(/id/[^"]+)"', index)))
    assert len(links) > 100
    for link in links[::15]:
        page = client.get(link)
        assert page.status_code == 200, link
        assert re.search(r'href="/id/', page.text), f"{link} links to no other entity"


def test_templates_escape_everything() -> None:
    hostile = '<script>alert("x")</script>'
    page = {"iri": ID + "x", "label": hostile, "definitions": [hostile], "types": [],
            "external": [{"property": "http://www.w3.org/2004/02/skos/core#exactMatch", "value": "javascript:alert(1)"}],
            "facts": [{"property": "p", "value": hostile}], "nested": {}, "incoming": [], "measurements": [],
            "findings": [], "forest": forest_plot([ForestRow(ID + "m", ID + "r", hostile, 50, hostile, hostile, ID + "s", hostile,
                                                        hostile, hostile)])}
    html = templates.get_template("entity.html").render(page=page)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html


def test_a_path_that_makes_no_iri_is_a_404_that_says_so(client: TestClient) -> None:
    """Regression: /id/a%20b answered 400 with a message about the internal parameter 'entity'."""
    response = client.get("/id/a%20b", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert "is not a valid IRI" in response.json()["message"] and "parameter" not in response.json()["message"]
    page = client.get("/id/a%20b", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def test_the_ontology_version_iri_dereferences_to_the_ontology(client: TestClient) -> None:
    """Regression: the owl:versionIRI (/ontology/0.1.0) was a 404."""
    ontology = rdflib.Graph().parse(data=client.get("/ontology", headers={"Accept": "text/turtle"}).content,
                                    format="turtle")
    version = ontology.value(rdflib.URIRef("https://w3id.org/sarcoma-kg/ontology"), rdflib.OWL.versionIRI)
    assert version is not None
    response = client.get(str(version).removeprefix("https://w3id.org/sarcoma-kg"), headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/sarcoma-kg/ontology"), rdflib.OWL.versionIRI, version) in graph
