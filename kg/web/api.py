"""Stored queries as a REST API (the grlc idea), described in OpenAPI 3.

Every ``.rq`` file of ``queries/`` becomes ``GET /api/queries/{name}``, with its summary,
description and typed parameters. Parameter values are bound as RDF terms by
:meth:`kg.query.queries.StoredQuery.render` (a VALUES clause at the start of the WHERE group), never pasted into the
query text; the query then runs like any other on the worker pool.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from kg import __version__
from kg.errors import QueryError
from kg.formats import RDF_MEDIA_TYPES, RESULT_MEDIA_TYPES
from kg.identifiers import DATA_LICENSE, get_converter
from kg.query.queries import StoredQuery, load_queries
from kg.web.endpoint import error_response, requested_media_types, run_protocol_query
from kg.web.pages import error_page, local_path
from kg.web.pool import OWN_MAX_ROWS, QueryPool
from kg.web.search import MATCHES, SearchIndex

__all__ = ["SEARCH_LIMIT", "api_router", "openapi_document", "search_results"]

#: The most hits a search returns (``limit`` may ask for fewer).
SEARCH_LIMIT = 200


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    """An OpenAPI response of the JSON error body (with the Retry-After header it may carry)."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": {"description": "seconds to wait before trying again (when busy)",
                                               "schema": {"type": "integer"}}}
    return response


_BUSY = "the query ran past the time limit, or no worker was free within it (then with Retry-After)"

# An entity parameter takes ids, CURIEs and labels as well as IRIs, so no "iri" format.
_SCHEMA_TYPES = {"iri": ("string", None), "string": ("string", None), "integer": ("integer", None),
                 "decimal": ("number", None), "boolean": ("boolean", None)}


def _operation(query: StoredQuery) -> dict[str, Any]:
    parameters = []
    for parameter in query.parameters:
        kind, fmt = _SCHEMA_TYPES[parameter.kind]
        schema: dict[str, Any] = {"type": kind}
        if fmt:
            schema["format"] = fmt
        if parameter.default is not None:
            schema["default"] = parameter.default
        description = parameter.description or f"{parameter.kind} value"
        if parameter.kind == "iri":
            description += ("; also a mapped identifier's CURIE (MONDO:0005058), or a label, synonym, abbreviation "
                            "or gene symbol in any case (UPS, CTLA4)")
        if parameter.classes:
            description += "; it must name " + " or ".join(
                f"a {get_converter().compress(iri, passthrough=True)}" for iri in parameter.classes)
        parameters.append({
            "name": parameter.name, "in": "query", "description": description,
            "required": parameter.required and parameter.default is None, "schema": schema,
        })
    results = {media_type: {"schema": {"type": "string"}} for media_type in RESULT_MEDIA_TYPES}
    return {
        "operationId": query.name.replace("-", "_"),
        "summary": query.summary,
        "description": query.description or query.summary,
        "tags": list(query.tags) or ["queries"],
        "parameters": parameters,
        "responses": {
            "200": {"description": "SPARQL results (JSON, XML, CSV or TSV, by Accept)", "content": results},
            "400": _error("a parameter value is missing or invalid"),
            "422": _error("the result is larger than the byte cap"),
            "503": _error(_BUSY, retry_after=True),
        },
    }


def openapi_document(queries: dict[str, StoredQuery], *, server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3 description of the stored-query API and the SPARQL endpoint.

    :param queries: the stored queries
    :param server_url: the server's base URL
    :returns: the OpenAPI document as a dict
    """
    paths: dict[str, Any] = {
        f"/api/queries/{name}": {"get": _operation(query)} for name, query in sorted(queries.items())
    }
    paths["/api/queries"] = {"get": {
        "operationId": "list_queries", "summary": "List the stored queries with their parameters",
        "responses": {"200": {"description": "the stored queries",
                              "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}},
    }}
    paths["/api/search"] = {"get": {
        "operationId": "search", "summary": "Find entities by label, synonym, abbreviation, NCT id, DOI, acronym or quote",
        "description": "Ranked: an exact label, abbreviation, gene symbol, acronym, NCT id or DOI first (case and "
                       "punctuation ignored), then an exact synonym, then names that start with the query, then names "
                       "that contain it (or all its words), then quotes that contain it; one hit per entity.",
        "parameters": [
            {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}, "description": "the text to find"},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": SEARCH_LIMIT, "default": 50},
             "description": "the most hits returned"},
        ],
        "responses": {
            "200": {"description": "the hits, best first", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/SearchResults"}}}},
            "400": _error("q is missing or limit is not a number from 1 to " + str(SEARCH_LIMIT)),
        },
    }}
    paths["/sparql"] = {"get": {
        "operationId": "sparql_query", "summary": "SPARQL 1.1 Protocol query (read-only)",
        "parameters": [{"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "a SPARQL query; without it the Service Description is returned"}],
        "responses": {
            "200": {"description": "results by Accept", "content": {
                **{t: {"schema": {"type": "string"}} for t in RESULT_MEDIA_TYPES},
                **{t: {"schema": {"type": "string"}} for t in RDF_MEDIA_TYPES}}},
            "400": _error("malformed query (the parser's message)"),
            "403": _error("update, SERVICE or FROM refused"),
            "413": _error("the query is longer than the endpoint accepts (POST longer queries)"),
            "422": _error("the result is larger than the byte cap"),
            "503": _error(_BUSY, retry_after=True),
        },
    }}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Sarcoma-KG", "version": __version__,
                 "description": "Stored SPARQL queries over the Sarcoma-KG knowledge graph of immunotherapy "
                                "for sarcoma, and its SPARQL endpoint.",
                 "license": {"name": "CC BY 4.0 (data)", "url": DATA_LICENSE}},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": {"SearchResults": {"type": "object", "required": ["query", "results"], "properties": {
            "query": {"type": "string"},
            "results": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string", "description": "the entity's IRI"},
                "url": {"type": "string", "description": "its page on this server"},
                "label": {"type": "string"}, "kind": {"type": "string"},
                "matched": {"type": "string", "description": "the name or quote that matched"},
                "field": {"type": "string", "description": "what that name is (label, synonym, NCT id, quote ...)"},
                "match": {"type": "string", "enum": list(MATCHES)}}}}}},
            "Error": {"type": "object", "required": ["error", "message"], "properties": {
            "error": {"type": "string"}, "message": {"type": "string"}, "status": {"type": "integer"}}}}},
    }


def search_results(request: Request, search: SearchIndex) -> tuple[str, list[dict[str, str]]] | Response:
    """Run the search a request asks for (``q``, ``limit``), or the 400 that says what is wrong.

    :param request: a request with ``q`` (and ``limit``) in its query string
    :param search: the index
    :returns: the query and its hits as JSON-ready dicts, or an error response
    """
    text = request.query_params.get("q", "").strip()
    raw_limit = request.query_params.get("limit", "50")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= SEARCH_LIMIT:
        return error_response(400, "invalid parameter", f"limit must be a whole number from 1 to {SEARCH_LIMIT}")
    hits = search.search(text, limit=int(raw_limit))
    return text, [{"id": hit.entity, "url": local_path(hit.entity) or hit.entity, "label": hit.label, "kind": hit.kind,
                   "matched": hit.name, "field": hit.field, "match": hit.match} for hit in hits]


def api_router(pool: QueryPool, search: SearchIndex) -> Router:
    """Build the router of ``/api/queries``, ``/api/queries/{name}``, ``/api/search`` and ``/openapi.json``.

    :param pool: the query workers
    :param search: the search index (filled when the app starts)
    :returns: a router to mount or include in an app
    """
    queries = load_queries()

    def example(query: StoredQuery) -> str | None:
        try:
            return query.render()
        except QueryError:
            return None

    listing = [
        {"name": q.name, "summary": q.summary, "description": q.description, "tags": list(q.tags),
         "parameters": [{"name": p.name, "type": p.kind, "required": p.required, "default": p.default,
                         "description": p.description} for p in q.parameters],
         "query": q.text, "example": example(q), "url": f"/api/queries/{q.name}"}
        for q in queries.values()
    ]

    async def list_queries(request: Request) -> Response:
        return JSONResponse(listing)

    async def run(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in queries:
            return error_page(request, 404, "unknown query", f"no stored query named {name!r}")
        repeated = sorted({name for name, _ in request.query_params.multi_items()
                           if len(request.query_params.getlist(name)) > 1})
        if repeated:
            return error_response(400, "invalid parameter", f"{', '.join(repeated)} given more than once; give each once")
        params = dict(request.query_params)
        params.pop("format", None)
        params.pop("output", None)  # as /sparql: the result format
        query = queries[name]
        # A ParameterError is a 400 "invalid parameter"; a busy server or a timeout while a
        # parameter is looked up is answered as such (kg.errors, the app's one handler).
        query.check_names(params)
        found = {name: await pool.rows(text) for name, text in query.lookups(params).items()}
        text = query.render(query.resolve(params, found))
        result_type, rdf_type = requested_media_types(request, dict(request.query_params))
        # A stored query is the project's own text with values bound as escaped terms: no row
        # cap (the ad-hoc one would break it on a larger graph), the byte cap still applies.
        return await run_protocol_query(pool, text, result_type, rdf_type, max_rows=OWN_MAX_ROWS, outside=False,
                                        too_large_advice=("give a parameter that narrows it, or run the query's "
                                                          "text (GET /api/queries) on /sparql with a LIMIT"))

    async def search_api(request: Request) -> Response:
        if not request.query_params.get("q", "").strip():
            return error_response(400, "invalid parameter", "give the text to find as q (/api/search?q=UPS)")
        found = search_results(request, search)
        if isinstance(found, Response):
            return found
        text, results = found
        return JSONResponse({"query": text, "results": results})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(queries, server_url=str(request.base_url)))

    return Router(routes=[
        Route("/api/queries", list_queries, methods=["GET"]),
        Route("/api/queries/{name}", run, methods=["GET"]),
        Route("/api/search", search_api, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ])
