"""Dereferenceable IRIs: HTML pages for people, RDF for programs.

``/id/{id}`` (data) and ``/ontology/{term}`` (ontology) answer with an HTML page (label,
definition, types, external identifiers as links, related trials and measurements with
their provenance, links to related entities) or, when the Accept header asks for it, with
Turtle, N-Triples, JSON-LD or RDF/XML. Every value shown is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, Router

from kg.errors import ParameterError, QueryError
from kg.formats import RDF_MEDIA_TYPES
from kg.identifiers import (
    DATA_NAMESPACE,
    ONTOLOGY_NAMESPACE,
    ONTOLOGY_VERSION_IRI,
    all_prefixes,
    display_converter,
    get_converter,
)
from kg.pipeline.ontology import load_ontology
from kg.pipeline.serialise import serialize
from kg.publish.ontology_doc import reference_html
from kg.query.queries import load_queries, page_query
from kg.resources import resource_path
from kg.web.endpoint import error_response, format_media_type, negotiate, run_protocol_query
from kg.web.plots import MONTHS, PERCENT, Axis, forest_plot, forest_rows
from kg.web.pool import OWN_MAX_ROWS, QueryPool
from kg.web.search import SearchIndex

__all__ = ["QUESTIONS", "SUMMARY_COLUMNS", "error_page", "local_path", "pages_router", "prefers_html", "property_label",
           "reading", "summary_rows", "templates", "tree"]

templates = Environment(loader=PackageLoader("kg.web", "templates"), autoescape=select_autoescape(default=True))

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
templates.filters["curie"] = lambda iri: display_converter().compress(iri, passthrough=True)


async def _rows(pool: QueryPool, name: str, entity: str | None, **values: str) -> list[dict[str, str]]:
    text = page_query(name).render({"entity": entity, **values} if entity else values)
    return await pool.rows(text)


#: The columns of a summary table, in order (the names ``entity-measurements.rq`` gives its values as ?column).
SUMMARY_COLUMNS = ("N", "ORR", "DCR", "median PFS", "median OS")

#: The stored queries the home page offers as its questions, most asked first.
QUESTIONS = ("trials-for-subtype", "regimens-ranked-by-orr", "survival-by-regimen", "compare-regimens",
             "checkpoint-inhibitor-combinations", "biomarker-findings", "cell-therapy-antigens", "disagreements",
             "negative-results", "therapies-by-target")


def summary_rows(rows: list[dict[str, str]], *, by_regimen: bool) -> list[dict[str, Any]]:
    """Set the values of N, ORR, DCR, median PFS and OS side by side: one line per study, arm and
    population as written, a list of values per column (two values for one cell, as where the
    sources disagree, both stay; none is merged, rounded or taken from another group).

    :param rows: the rows of ``entity-measurements.rq`` (those without a ``column`` are left out)
    :param by_regimen: order the lines by regimen first (a subtype's or therapy's page), else by
        study, arm and population
    :returns: the lines, each with its study, arm, regimen, population, sources and ``cells``
        (column name to its values, each with its measurement, review, location and flags)
    """
    lines: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        if row.get("column") not in SUMMARY_COLUMNS:
            continue
        key = (row["study"], row.get("arm", ""), row["population"])
        line = lines.setdefault(key, {
            "study": row["study"], "studyLabel": row["studyLabel"], "arm": row.get("arm"),
            "armLabel": row.get("armLabel"), "regimen": row.get("regimen"), "regimenLabel": row.get("regimenLabel"),
            "population": row["population"], "sources": [], "cells": {column: [] for column in SUMMARY_COLUMNS}})
        source = f"{row['reviewLabel']}, {row['location']}"
        if source not in line["sources"]:
            line["sources"].append(source)
        line["cells"][row["column"]].append({
            "value": row["value"], "measurement": row["measurement"], "source": source,
            "small": row.get("smallGroup") in {"true", "1"}, "conflicts": bool(row.get("conflicts"))})
    def order(line: dict[str, Any]) -> tuple[str, ...]:
        place = (line["studyLabel"].lower(), (line["armLabel"] or "").lower(), line["population"].lower())
        return ((line["regimenLabel"] or "~").lower(), *place) if by_regimen else place

    return sorted(lines.values(), key=order)


def tree(rows: list[dict[str, str]], *, key: str, parent: str = "parent") -> list[dict[str, Any]]:
    """Nest rows by a parent column: each row gets ``children``; rows whose parent is not among
    the rows are the roots. A row listed under several parents appears under each.

    :param rows: the rows (their order is kept among siblings)
    :param key: the column that names a row
    :param parent: the column that names its parent
    :returns: the roots
    """
    nodes: dict[str, dict[str, Any]] = {}
    for row in rows:
        nodes.setdefault(row[key], {**row, "children": []})
    roots: list[dict[str, Any]] = []
    placed: set[tuple[str, str]] = set()
    for row in rows:
        node, above = nodes[row[key]], row.get(parent)
        if above in nodes and above != row[key]:
            if (above, row[key]) not in placed:
                nodes[above]["children"].append(node)
                placed.add((above, row[key]))
        elif node not in roots:
            roots.append(node)
    return roots


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
        "forests": [], "summary": [], "summary_columns": SUMMARY_COLUMNS,
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
    if kinds & _SUMMARY_KINDS:  # from the measurement list's rows: no query of its own
        page["summary"] = summary_rows(page["measurements"], by_regimen="Study" not in kinds)
    page["path"] = local_path(iri)
    for spec, rows in zip(forests, results[len(lists):], strict=True):
        plotted = forest_rows(rows)
        if plotted:
            page["forests"].append({"heading": spec.heading, "key": spec.key,
                                    "svg": f"/plots/{spec.key}/{iri.removeprefix(DATA_NAMESPACE)}.svg"
                                    if iri.startswith(DATA_NAMESPACE) else None,
                                    "plot": forest_plot(plotted, axis=spec.axis, title=spec.heading, key=spec.key)})
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

#: The kinds of entity whose page opens with the summary table (one line per arm and population).
_SUMMARY_KINDS = {"Study", "SarcomaSubtype", "Therapy", "Regimen"}

#: The most hits the search page lists.
_SEARCH_PAGE_HITS = 100


def _shown_default(default: str | None) -> str:
    """A parameter's default as the form shows it: a Sarcoma-KG entity by its id, anything else as written."""
    if default is None:
        return ""
    if default.startswith(DATA_NAMESPACE):
        return default.removeprefix(DATA_NAMESPACE)
    return get_converter().compress(default, passthrough=True)


@cache
def _result_prefixes() -> dict[str, str]:
    """The prefixes the query editor shows results with: the project's, one per namespace (its
    first, canonical prefix), beside those a query declares itself."""
    first: dict[str, str] = {}
    for prefix, namespace in all_prefixes().items():
        first.setdefault(namespace, prefix)
    return {prefix: namespace for namespace, prefix in first.items()}


@cache
def _forest_style() -> str:
    """The rules of the stylesheet that draw a forest plot, for a standalone SVG file."""
    return "\n".join(line for line in (Path(__file__).resolve().parent / "static" / "style.css").read_text(encoding="utf-8").splitlines()
                     if "forest" in line.split("{")[0])


def result_table(result: dict[str, Any]) -> dict[str, Any]:
    """A SELECT result (SPARQL JSON) as a table for people: a column ``x`` with a column ``xLabel``
    beside it becomes one column of labels linked to ``x``'s page; IRIs without a label show
    as CURIEs and link to their page; literals (numbers included) show as written.

    :param result: the SPARQL 1.1 JSON result
    :returns: ``columns`` (names) and ``rows`` (per column: ``text`` and ``href``, or None)
    """
    names = result["head"]["vars"]
    labelled = {name for name in names if name + "Label" in names}
    columns = [name for name in names if not (name.endswith("Label") and name.removesuffix("Label") in labelled)]
    rows = []
    for binding in result["results"]["bindings"]:
        row = []
        for name in columns:
            cell = binding.get(name)
            if cell is None:
                label = binding.get(name + "Label")
                row.append({"text": label["value"], "href": None} if label else None)
            elif cell["type"] == "uri":
                label = binding.get(name + "Label")
                row.append({"text": label["value"] if label else display_converter().compress(cell["value"], passthrough=True),
                            "href": _href(cell["value"])})
            else:
                row.append({"text": cell["value"], "href": None})
        rows.append(row)
    return {"columns": columns, "rows": rows}


def pages_router(pool: QueryPool, search: SearchIndex) -> Router:
    """Build the router of ``/``, ``/query``, ``/search``, ``/queries``, ``/queries/{name}``,
    ``/plots/{plot}/{id}.svg``, ``/id/{id}``, ``/ontology`` and ``/ontology/{term}``.

    :param pool: the query workers
    :param search: the search index (filled when the app starts)
    :returns: a router to mount or include in an app
    """

    queries = {name: query for name, query in load_queries().items() if not query.is_violation_check}

    async def entity(request: Request) -> Response:
        namespace = DATA_NAMESPACE if request.url.path.startswith("/id/") else ONTOLOGY_NAMESPACE
        if namespace + request.path_params["path"] == ONTOLOGY_VERSION_IRI:
            return await ontology(request)  # this version's IRI: this ontology
        return await describe(request, namespace + request.path_params["path"])

    async def ontology(request: Request) -> Response:
        """The ontology's own IRI: the whole ontology in an RDF syntax, or its page in HTML."""
        wanted = _wanted(request)
        if wanted == _HTML:  # the reference of every class and property (kg.publish.ontology_doc)
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
        rows, subtypes, classes, counts = await asyncio.gather(
            _rows(pool, "index-entities", None), _rows(pool, "subtype-tree", None),
            _rows(pool, "therapy-classes", None), pool.rows(queries["graph-statistics"].render()))
        kinds: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            kinds[row["kind"].removeprefix(ONTOLOGY_NAMESPACE)].append(row)
        questions = [queries[name] for name in QUESTIONS if name in queries]
        return HTMLResponse(templates.get_template("index.html").render(
            kinds=kinds, subtypes=tree(subtypes, key="subtype"), classes=tree(classes, key="class"),
            counts=counts, questions=questions))

    async def forest_svg(request: Request) -> Response:
        """One forest plot of an entity page as a standalone SVG file (styles inside, absolute links)."""
        key, path = request.path_params["key"], request.path_params["path"]
        spec = next((spec for spec in _FORESTS if spec.key == key), None)
        if spec is None or not path.endswith(".svg"):
            return error_page(request, 404, "not found", f"no forest plot {key!r} (plots: "
                              + ", ".join(spec.key for spec in _FORESTS) + "; the path ends in .svg)")
        iri = DATA_NAMESPACE + path.removesuffix(".svg")
        try:
            ox.NamedNode(iri)
            rows = await _rows(pool, spec.query, iri, **({"outcome": spec.outcome} if spec.outcome else {}))
        except ValueError:
            rows = []
        plotted = forest_rows(rows)
        if not plotted:
            return error_page(request, 404, "not found", f"{iri} has no values for the plot {key!r}")
        plot = forest_plot(plotted, axis=spec.axis, title=spec.heading, key=spec.key)
        svg = templates.get_template("forest_svg.html").render(
            forest=plot, standalone=True, base=str(request.base_url).rstrip("/"), style=_forest_style())
        name = f"{path.removesuffix('.svg')}-{key}.svg"
        return Response(svg, media_type="image/svg+xml",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def query_index(request: Request) -> Response:
        return HTMLResponse(templates.get_template("queries.html").render(queries=list(queries.values())))

    async def query_page(request: Request) -> Response:
        """A stored query as a page: the form of its parameters, its result as a table."""
        name = request.path_params["name"]
        query = queries.get(name)
        if query is None:
            return error_page(request, 404, "unknown query", f"no stored query named {name!r} (see /queries)")
        given = {key: value for key, value in request.query_params.items() if value.strip()}
        values = {parameter.name: given.get(parameter.name, _shown_default(parameter.default))
                  for parameter in query.parameters}
        context: dict[str, Any] = {"query": query, "values": values, "error": None, "table": None,
                                   "params": {key: value for key, value in values.items() if value}}
        missing = [p.name for p in query.parameters if p.required and not values.get(p.name)]
        status = 200
        if missing:
            context["error"] = f"give a value for {', '.join(missing)}"
        else:
            try:
                params = {key: value for key, value in values.items() if value}
                query.check_names(given)
                found = {key: await pool.rows(text) for key, text in query.lookups(params).items()}
                text = query.render(query.resolve(params, found))
                result = await pool.query(text, max_rows=OWN_MAX_ROWS, outside=False)
                context["table"] = result_table(json.loads(result.body))
                context["text"] = text
            except ParameterError as error:  # shown beside the form; other errors go to the app's handler
                context["error"], status = str(error), 400
        return HTMLResponse(templates.get_template("stored_query.html").render(**context), status_code=status)

    async def search_page(request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        hits = search.search(text, limit=_SEARCH_PAGE_HITS) if text else []
        return HTMLResponse(templates.get_template("search.html").render(query=text, hits=hits,
                                                                          limit=_SEARCH_PAGE_HITS))

    async def query_ui(request: Request) -> Response:
        return HTMLResponse(templates.get_template("query.html").render(prefixes=_result_prefixes()))

    return Router(routes=[
        Route("/", index, methods=["GET"]),
        Route("/query", query_ui, methods=["GET"]),
        Route("/search", search_page, methods=["GET"]),
        Route("/queries", query_index, methods=["GET"]),
        Route("/queries/{name}", query_page, methods=["GET"]),
        Route("/plots/{key}/{path:path}", forest_svg, methods=["GET"]),
        Route("/id/{path:path}", entity, methods=["GET"]),
        Route("/ontology", ontology, methods=["GET"]),
        Route("/ontology/{path:path}", entity, methods=["GET"]),
    ])
