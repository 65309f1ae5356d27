"""The HTML reference of the ontology (issue 21, item 4): every class and property with its
IRI, label, definition, super- and subclasses, domain and range and mappings, served at
/ontology and complete in its metadata for a registry (OBO Foundry, BioPortal)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from starlette.testclient import TestClient

from kg.identifiers import ONTOLOGY_IRI, ONTOLOGY_NAMESPACE
from kg.pipeline.ontology import load_ontology
from kg.publish.ontology_doc import ontology_reference, reference_html

ONTOLOGY: Graph = load_ontology()
DCTERMS = "http://purl.org/dc/terms/"
IAO_DEFINITION = URIRef("http://purl.obolibrary.org/obo/IAO_0000115")


class _Articles(HTMLParser):
    """The text of each term's <article>, by its id."""

    def __init__(self) -> None:
        super().__init__()
        self.articles: dict[str, str] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self._current = dict(attrs)["id"]
            self.articles[self._current or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.articles[self._current] += data


@pytest.fixture(scope="module")
def articles() -> dict[str, str]:
    parser = _Articles()
    parser.feed(reference_html())
    return {key: re.sub(r"\s+", " ", text) for key, text in parser.articles.items()}


def _own_terms(kind: URIRef) -> list[URIRef]:
    return sorted(s for s in set(ONTOLOGY.subjects(RDF.type, kind))
                  if isinstance(s, URIRef) and str(s).startswith(ONTOLOGY_NAMESPACE))


@pytest.mark.parametrize("kind", [OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty])
def test_every_term_has_an_entry_with_iri_label_and_definition(articles: dict[str, str], kind: URIRef) -> None:
    terms = _own_terms(kind)
    assert terms
    for term in terms:
        local = str(term).removeprefix(ONTOLOGY_NAMESPACE)
        assert local in articles, f"no entry for {term}"
        text = articles[local]
        assert str(term) in text
        label = str(next(ONTOLOGY.objects(term, RDFS.label)))
        definition = str(next(ONTOLOGY.objects(term, IAO_DEFINITION)))
        assert label in text and re.sub(r"\s+", " ", definition) in text, term


def test_an_entry_shows_hierarchy_domain_range_and_mappings(articles: dict[str, str]) -> None:
    ici = articles["ImmuneCheckpointInhibitor"]
    assert "superclasses drug or biologic" in ici and "subclasses" in ici and "PD-1 inhibitor" in ici
    assert "in the domain of" in articles["Therapy"] and "targets" in articles["Therapy"]
    targets = articles["targets"]
    assert "domain therapy" in targets and "range molecular target" in targets
    trial = articles["ClinicalTrial"]
    assert "exact match" in trial and "OBI:0003699" in trial
    union = articles["factor"]
    assert "(immune cell type or tumour microenvironment feature or molecular target)" in union


def test_the_class_tree_places_each_class_under_its_parents() -> None:
    tree = ontology_reference().tree
    therapy = next(node for node in tree if node.link.href == "#Therapy")
    agents = next(node for node in therapy.children if node.link.href == "#PharmacologicAgent")
    assert "#ImmuneCheckpointInhibitor" in {node.link.href for node in agents.children}


def test_the_metadata_is_complete_for_a_registry() -> None:
    """OBO Foundry and BioPortal ask for a title, description, license, version IRI,
    creators and imports; each is stated on the ontology and shown in the reference."""
    ontology = URIRef(ONTOLOGY_IRI)
    for predicate in (DCTERMS + "title", DCTERMS + "description", DCTERMS + "license", DCTERMS + "creator",
                      str(OWL.versionIRI), str(OWL.versionInfo), str(OWL.imports)):
        assert ONTOLOGY.value(ontology, URIRef(predicate)) is not None, f"the ontology has no {predicate}"
    assert ONTOLOGY.value(ontology, URIRef(DCTERMS + "license")) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    metadata = dict(ontology_reference().metadata)
    assert {"dcterms:title", "dcterms:license", "owl:versionIRI", "owl:imports", "dcterms:creator"} <= set(metadata)
    assert [link.href for link in metadata["owl:imports"]] == [f"{ONTOLOGY_IRI}/imports/external-terms"]


def test_the_reference_escapes_what_it_shows() -> None:
    graph = load_ontology()
    graph.add((URIRef(ONTOLOGY_NAMESPACE + "Evil"), RDF.type, OWL.Class))
    graph.add((URIRef(ONTOLOGY_NAMESPACE + "Evil"), RDFS.label, Literal("<script>alert(1)</script>")))
    terms = {term.anchor: term for _, _, entries in ontology_reference(graph).sections for term in entries}
    assert terms["Evil"].label == "<script>alert(1)</script>"  # escaped by the template (autoescape)
    assert "<script>" not in reference_html()


def test_the_ontology_iri_serves_the_reference_in_html(client: TestClient) -> None:
    response = client.get("/ontology", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "accept" in response.headers["vary"].lower()
    html = response.text
    assert 'id="class-tree"' in html and 'id="Biomarker"' in html and 'href="/static/style.css"' in html
    assert 'style="' not in html  # the Content-Security-Policy allows no inline style


def test_a_regimen_page_links_its_steps(client: TestClient) -> None:
    """The steps of a regimen (issue 21) are nodes with pages of their own: therapy, order, setting."""
    regimen = "/id/neoadjuvant-pembrolizumab-radiotherapy-surgery-adjuvant-pembrolizumab"
    page = client.get(regimen, headers={"Accept": "text/html"})
    assert page.status_code == 200 and f"{regimen}/steps-4" in page.text
    step = client.get(f"{regimen}/steps-4", headers={"Accept": "text/html"})
    assert step.status_code == 200 and "pembrolizumab" in step.text and "adjuvant" in step.text
