"""Dereferenceable IRIs: HTML pages for people, RDF for programs.

``/id/{id}`` (data) and ``/ontology/{term}`` (ontology) answer with an HTML page (label,
definition, types, external identifiers as links, related trials and measurements with
their provenance, links to related entities) or, when the Accept header asks for it, with
Turtle, N-Triples, JSON-LD or RDF/XML. Every value shown is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

import curies
import pyoxigraph as ox
import rdflib
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, Router

from kg.build import load_ontology
from kg.endpoint import error_response, format_media_type, negotiate, run_protocol_query
from kg.errors import QueryError
from kg.export import serialize
from kg.forest import MONTHS, PERCENT, Axis, forest_plot, forest_rows
from kg.formats import RDF_MEDIA_TYPES
from kg.identifiers import DATA_NAMESPACE, ONTOLOGY_NAMESPACE, ONTOLOGY_VERSION_IRI, get_converter
from kg.ontology_doc import reference_html
from kg.queries import page_query
from kg.resources import resource_path
from kg.search import SearchIndex
from kg.workers import OWN_MAX_ROWS, QueryPool

__all__ = ["error_page", "local_path", "pages_router", "prefers_html", "property_label", "reading", "templates"]

templates = Environment(loader=PackageLoader("kg", "templates"), autoescape=select_autoescape(default=True))

_HTML = "text/html"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_DEFINITION = "http://www.w3.org/2004/02/skos/core#definition"
_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LINKS = {"http://www.w3.org/2004/02/skos/core#exactMatch", "http://www.w3.org/2004/02/skos/core#closeMatch",
          "http://www.w3.org/2004/02/skos/core#broadMatch", "http://www.w3.org/2004/02/skos/core#narrowMatch",
          "http://www.w3.org/2004/02/skos/core#relatedMatch", "http://www.w3.org/2000/01/rdf-schema#seeAlso"}


def local_path(iri: str) -> str | None:
    """The path at which this server serves an IRI of the graph, or None for external IRIs.

    :param iri: an IRI
    """
    if iri.startswith(DATA_NAMESPACE):
        return "/id/" + iri.removeprefix(DATA_NAMESPACE)
    if iri.startswith(ONTOLOGY_NAMESPACE):
        return "/ontology/" + iri.removeprefix(ONTOLOGY_NAMESPACE)
    return None


def _href(iri: str) -> str | None:
    """A link target for an IRI: a local path, or the IRI itself if it is http(s)."""
    path = local_path(iri)
    if path:
        return path
    return iri if iri.startswith(("http://", "https://")) else None


@cache
def _display_converter() -> curies.Converter:
    """The project's prefixes, then rdflib's core ones (rdf, rdfs, owl, xsd), which the
    Bioregistry table of ``data/reference`` has no row for, so that a page shows
    ``rdfs:comment`` rather than its full IRI."""
    return curies.chain([get_converter(), curies.Converter.from_rdflib(rdflib.Graph(bind_namespaces="core"))])


_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def property_label(iri: str, label: str | None = None) -> str:
    """A property's heading for people: its ``rdfs:label`` where the graph has one, else its
    name in words ("exactMatch" -> "exact match", "rdf:type" -> "type"), never a CURIE.

    :param iri: the property's IRI
    :param label: its label, if the graph gives one
    """
    if label:
        return label
    name = re.split(r"[#/:]", iri.rstrip("/#"))[-1]
    return _WORD_BREAK.sub(" ", name).replace("_", " ").lower() or iri


def prefers_html(request: Request) -> bool:
    """True when the Accept header prefers HTML to JSON (a browser; ``*/*`` and none mean JSON).

    :param request: the request
    """
    return negotiate(request.headers.get("accept"), {"application/json": None, _HTML: None}) == _HTML


def error_page(request: Request, status: int, error: str, message: str, *,
               headers: dict[str, str] | None = None) -> Response:
    """An error as an HTML page for a browser, as the JSON error body for anyone else.

    :param request: the request (its Accept header decides)
    :param status: the HTTP status
    :param error: a short name of the error ("not found")
    :param message: what went wrong, for people
    :param headers: extra headers (Allow, Retry-After)
    """
    if not prefers_html(request):
        return error_response(status, error, message, headers=headers)
    html = templates.get_template("error.html").render(status=status, error=error, message=message)
    return HTMLResponse(html, status_code=status, headers={**(headers or {}), "Vary": "Accept"})


#: Units whose printed form needs no reading beside it ("23%", "46 patients"): percent and count.
_SELF_EVIDENT_UNITS = {"http://purl.obolibrary.org/obo/UO_0000187", "http://purl.obolibrary.org/obo/UO_0000189"}
_SKG_NUMERIC = ONTOLOGY_NAMESPACE + "numericValue"
_SKG_UNIT = ONTOLOGY_NAMESPACE + "unit"
_SKG_VALUE_TEXT = ONTOLOGY_NAMESPACE + "valueText"


def reading(numeric: str | None, unit: str | None, unit_label: str | None) -> str:
    """The number written in a value with its unit in words, to show beside the printed value
    ("19.7 ms" -> "19.7 months"); empty where the printed form says it already (percent, counts)
    or the model has no number or unit.

    :param numeric: the number as written (``skg:numericValue``'s lexical form)
    :param unit: the unit's IRI
    :param unit_label: the unit's label
    """
    if not numeric or not unit or not unit_label or unit in _SELF_EVIDENT_UNITS:
        return ""
    return f"{numeric} {unit_label if numeric in {'1', '1.0'} else unit_label + 's'}"


templates.filters["href"] = _href
templates.filters["reading"] = lambda row: reading(row.get("numeric"), row.get("unit"), row.get("unitLabel"))
templates.filters["property_label"] = property_label
templates.filters["curie"] = lambda iri: _display_converter().compress(iri, passthrough=True)


async def _rows(pool: QueryPool, name: str, entity: str | None, **values: str) -> list[dict[str, str]]:
    text = page_query(name).render({"entity": entity, **values} if entity else values)
    return await pool.rows(text)


@dataclass(frozen=True)
class _ForestSpec:
    """One forest plot of an entity page: its key, heading, page query (and outcome) and axis."""

    key: str
    heading: str
    query: str
    axis: Axis
    outcome: str | None = None


#: The forest plots of a subtype's, therapy's or regimen's page, in order.
_FORESTS = (
    _ForestSpec("orr", "Reported objective response rates by regimen", "forest-response", PERCENT),
    _ForestSpec("pfs", "Reported median progression-free survival by regimen (months)", "forest-median", MONTHS,
                ONTOLOGY_NAMESPACE + "ProgressionFreeSurvivalOutcome"),
    _ForestSpec("os", "Reported median overall survival by regimen (months)", "forest-median", MONTHS,
                ONTOLOGY_NAMESPACE + "OverallSurvivalOutcome"),
)


async def _page(pool: QueryPool, iri: str) -> dict[str, Any] | None:
    properties = await _rows(pool, "entity-properties", iri)
    if not properties:
        return None
    own = [row for row in properties if not row.get("node")]
    nested: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in properties:
        if row.get("node"):
            nested[row["node"]].append(row)
    label = next((row["value"] for row in own if row["property"] == _LABEL), iri.rsplit("/", 1)[-1])
    page: dict[str, Any] = {
        "iri": iri, "label": label,
        "definitions": [row["value"] for row in own if row["property"] == _DEFINITION],
        "types": [row for row in own if row["property"] == _TYPE],
        "external": [row for row in own if row["property"] in _LINKS],
        "facts": [row for row in own if row["property"] not in _LINKS | {_TYPE, _LABEL, _DEFINITION}],
        "reading": "",
        "nested": dict(nested),
        "nested_titles": {row["value"]: property_label(row["property"], row.get("propertyLabel"))
                          for row in own if row["value"] in nested},
        "incoming": [], "measurements": [], "findings": [],
        "forests": [],
    }
    values = {row["property"]: row for row in own}
    if _SKG_VALUE_TEXT in values and _SKG_NUMERIC in values and _SKG_UNIT in values:
        unit = values[_SKG_UNIT]
        page["reading"] = reading(values[_SKG_NUMERIC]["value"], unit["value"], unit.get("valueLabel"))
        page["printed"] = values[_SKG_VALUE_TEXT]["value"]
    kinds = {row["value"].removeprefix(ONTOLOGY_NAMESPACE) for row in page["types"]}
    # the lists' and plots' queries run at once (on as many workers as are free): a subtype's
    # page waits for its slowest query rather than for their sum
    lists = ["entity-incoming", "entity-measurements", "entity-findings"]
    forests = _FORESTS if kinds & _FOREST_KINDS else ()
    results = await asyncio.gather(
        *(_rows(pool, name, iri) for name in lists),
        *(_rows(pool, spec.query, iri, **({"outcome": spec.outcome} if spec.outcome else {})) for spec in forests))
    page["incoming"], page["measurements"], page["findings"] = results[:len(lists)]
    for spec, rows in zip(forests, results[len(lists):], strict=True):
        plotted = forest_rows(rows)
        if plotted:
            page["forests"].append({"heading": spec.heading, "plot": forest_plot(plotted, axis=spec.axis,
                                                                                  title=spec.heading, key=spec.key)})
    return page


def _wanted(request: Request) -> str:
    """The media type a page request asks for: ``?format=`` first, then the Accept header (HTML by default)."""
    offers = {_HTML: None, **RDF_MEDIA_TYPES}
    fmt = request.query_params.get("format")
    wanted = (format_media_type(fmt) or fmt.lower()) if fmt else negotiate(request.headers.get("accept"), offers)
    return wanted if wanted in offers else _HTML


@cache
def _ontology_document(media_type: str) -> bytes:
    """The shipped ontology in an RDF syntax (the Turtle file as it is)."""
    if media_type == "text/turtle":
        return resource_path("ontology", "sarcoma-kg.ttl").read_bytes()
    return serialize(load_ontology(), RDF_MEDIA_TYPES[media_type].name)


#: The kinds of entity whose page draws the forest plot of response rates.
_FOREST_KINDS = {"SarcomaSubtype", "Therapy", "Regimen"}

#: The most hits the search page lists.
_SEARCH_PAGE_HITS = 100


def pages_router(pool: QueryPool, search: SearchIndex) -> Router:
    """Build the router of ``/``, ``/query``, ``/search``, ``/id/{id}``, ``/ontology`` and ``/ontology/{term}``.

    :param pool: the query workers
    :param search: the search index (filled when the app starts)
    :returns: a router to mount or include in an app
    """

    async def entity(request: Request) -> Response:
        namespace = DATA_NAMESPACE if request.url.path.startswith("/id/") else ONTOLOGY_NAMESPACE
        if namespace + request.path_params["path"] == ONTOLOGY_VERSION_IRI:
            return await ontology(request)  # this version's IRI: this ontology
        return await describe(request, namespace + request.path_params["path"])

    async def ontology(request: Request) -> Response:
        """The ontology's own IRI: the whole ontology in an RDF syntax, or its page in HTML."""
        wanted = _wanted(request)
        if wanted == _HTML:  # the reference of every class and property (kg.ontology_doc)
            return HTMLResponse(reference_html(stylesheet="/static/style.css", home="/"), headers={"Vary": "Accept"})
        return Response(_ontology_document(wanted), media_type=wanted, headers={"Vary": "Accept"})

    def not_found(iri: str) -> Response:
        html = templates.get_template("not_found.html").render(iri=iri)
        return HTMLResponse(html, status_code=404, headers={"Vary": "Accept"})

    async def describe(request: Request, iri: str) -> Response:
        wanted = _wanted(request)
        if iri.startswith(DATA_NAMESPACE) and iri != iri.lower():  # ids are lower case: /id/SARC028 is sarc028
            try:
                found = await _rows(pool, "entity-exists", iri.lower())
            except (QueryError, ValueError):  # not an IRI at all: the 404 below says so
                found = []
            if found:
                target = local_path(iri.lower()) or iri.lower()
                return RedirectResponse(target + (f"?{request.url.query}" if request.url.query else ""),
                                        status_code=308)
        try:
            ox.NamedNode(iri)
        except ValueError as error:  # a path such as /id/a%20b makes no IRI, so nothing in the graph has it
            if wanted == _HTML:
                return not_found(iri)
            return error_response(404, "not found", f"{iri!r} is not a valid IRI ({error}), so it is not in the graph",
                                  headers={"Vary": "Accept"})
        # a query's error (a timeout, a busy server) goes to the app's handler (kg.errors)
        if wanted != _HTML:
            text = page_query("entity-description").render({"entity": iri})
            return await run_protocol_query(pool, text, "application/sparql-results+json", wanted,
                                            max_rows=OWN_MAX_ROWS, empty_is_missing=iri, outside=False)
        page = await _page(pool, iri)
        if page is None:
            return not_found(iri)
        return HTMLResponse(templates.get_template("entity.html").render(page=page), headers={"Vary": "Accept"})

    async def index(request: Request) -> Response:
        rows = await _rows(pool, "index-entities", None)
        kinds: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            kinds[row["kind"].removeprefix(ONTOLOGY_NAMESPACE)].append(row)
        return HTMLResponse(templates.get_template("index.html").render(kinds=kinds))

    async def search_page(request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        hits = search.search(text, limit=_SEARCH_PAGE_HITS) if text else []
        return HTMLResponse(templates.get_template("search.html").render(query=text, hits=hits,
                                                                          limit=_SEARCH_PAGE_HITS))

    async def query_ui(request: Request) -> Response:
        return HTMLResponse(templates.get_template("query.html").render())

    return Router(routes=[
        Route("/", index, methods=["GET"]),
        Route("/query", query_ui, methods=["GET"]),
        Route("/search", search_page, methods=["GET"]),
        Route("/id/{path:path}", entity, methods=["GET"]),
        Route("/ontology", ontology, methods=["GET"]),
        Route("/ontology/{path:path}", entity, methods=["GET"]),
    ])
