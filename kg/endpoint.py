"""The SPARQL 1.1 Protocol endpoint as a mountable Starlette router.

``/sparql`` answers queries by GET, by POST form-encoded and by POST
``application/sparql-query``; SELECT/ASK results as JSON, XML, CSV or TSV and
CONSTRUCT/DESCRIBE results as Turtle, N-Triples, JSON-LD or RDF/XML, by content
negotiation. Without a query it returns the SPARQL 1.1 Service Description. Updates,
SERVICE and FROM are refused (403); malformed queries get a 400 with the parser's
message; queries past the time limit a 503; errors come back as JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import parse_qsl

import mimeparse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from kg.errors import QueryError
from kg.safety import QueryRefused, check_read_only
from kg.workers import RDF_TYPES, RESULT_TYPES, QueryPool, QueryResult, QueryTimeout, ResultTooLarge

__all__ = ["error_response", "negotiate", "requested_media_types", "run_protocol_query", "sparql_router"]

#: Short names accepted in a ``format`` parameter (as YASGUI and many clients send).
FORMAT_ALIASES = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
    "csv": "text/csv", "tsv": "text/tab-separated-values", "turtle": "text/turtle", "ttl": "text/turtle",
    "nt": "application/n-triples", "ntriples": "application/n-triples", "jsonld": "application/ld+json",
    "json-ld": "application/ld+json", "rdfxml": "application/rdf+xml",
}


def error_response(status: int, error: str, message: str) -> JSONResponse:
    """A JSON error body: ``{"error": ..., "message": ...}``.

    :param status: the HTTP status
    :param error: a short error name
    :param message: the message for people (the parser's message for a syntax error)
    """
    return JSONResponse({"error": error, "message": message, "status": status}, status_code=status)


def negotiate(accept: str | None, offers: Mapping[str, object]) -> str:
    """Pick the offered media type the Accept header prefers (the first offer by default).

    :param accept: the Accept header
    :param offers: the media types on offer, the default first
    :returns: one of the offers
    """
    return _negotiate(accept or "", tuple(offers))


@lru_cache(maxsize=512)
def _negotiate(accept: str, offers: tuple[str, ...]) -> str:
    """Negotiate once per distinct Accept header (clients send the same few again and again)."""
    default = offers[0]
    if not accept:
        return default
    try:
        best = mimeparse.best_match(list(reversed(offers)), accept)
    except ValueError:
        return default
    return best or default


def requested_media_types(request: Request, params: Mapping[str, str]) -> tuple[str, str]:
    fmt = params.get("format") or params.get("output")
    if fmt:
        chosen = FORMAT_ALIASES.get(fmt.lower(), fmt)
        return chosen, chosen
    accept = request.headers.get("accept")
    return negotiate(accept, RESULT_TYPES), negotiate(accept, RDF_TYPES)


async def run_protocol_query(pool: QueryPool, query: str, result_type: str, rdf_type: str) -> Response:
    """Check and run a query, turning every failure into a clear JSON error.

    :param pool: the query workers
    :param query: SPARQL text
    :param result_type: media type for SELECT/ASK
    :param rdf_type: media type for CONSTRUCT/DESCRIBE
    :returns: the result or a JSON error response
    """
    try:
        check_read_only(query)
        result: QueryResult = await pool.query(query, result_type=result_type, rdf_type=rdf_type)
    except QueryRefused as error:
        return error_response(403, "query refused", str(error))
    except QueryTimeout as error:
        return error_response(503, "query timeout", str(error))
    except ResultTooLarge as error:
        return error_response(422, "result too large", str(error))
    except QueryError as error:
        return error_response(400, "malformed query", str(error))
    except RuntimeError as error:
        return error_response(500, "query failed", str(error))
    media_type = result.media_type
    if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json")):
        media_type += "; charset=utf-8"
    return Response(result.body, media_type=media_type, headers={"Vary": "Accept"})


def sparql_router(pool: QueryPool, *, max_request_bytes: int = 100_000,
                  description: Callable[[Request], Response] | None = None) -> Router:
    """Build the ``/sparql`` router.

    :param pool: the query workers
    :param max_request_bytes: the largest request body (and query string) accepted
    :param description: makes what a GET without a query returns (the Service Description)
    :returns: a router to mount or include in an app
    """

    async def sparql(request: Request) -> Response:
        params: dict[str, str] = dict(request.query_params)
        if len(str(request.url.query)) > max_request_bytes:
            return error_response(413, "request too large", f"the query is longer than {max_request_bytes} bytes")
        if request.method == "POST":
            declared = int(request.headers.get("content-length") or 0)
            if declared > max_request_bytes:
                return error_response(413, "request too large", f"the request is larger than {max_request_bytes} bytes")
            body = await request.body()
            if len(body) > max_request_bytes:
                return error_response(413, "request too large", f"the request is larger than {max_request_bytes} bytes")
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type == "application/sparql-query":
                params["query"] = body.decode("utf-8", errors="replace")
            elif content_type == "application/x-www-form-urlencoded":
                params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
            elif content_type == "application/sparql-update":
                return error_response(403, "query refused", "SPARQL Update is not allowed: this endpoint is read-only")
            else:
                return error_response(415, "unsupported media type",
                                      "POST a query as application/sparql-query or application/x-www-form-urlencoded")
        if "update" in params:
            return error_response(403, "query refused", "SPARQL Update is not allowed: this endpoint is read-only")
        if "default-graph-uri" in params or "named-graph-uri" in params:
            return error_response(403, "query refused",
                                  "default-graph-uri and named-graph-uri are not allowed: the dataset is fixed")
        query = params.get("query")
        if not query:
            if description is not None and request.method == "GET":
                return description(request)
            return error_response(400, "missing query", "give the query in the 'query' parameter")
        result_type, rdf_type = requested_media_types(request, params)
        return await run_protocol_query(pool, query, result_type, rdf_type)

    return Router(routes=[Route("/sparql", sparql, methods=["GET", "POST"])])
