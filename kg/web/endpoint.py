"""The SPARQL 1.1 Protocol endpoint as a mountable Starlette router.

``/sparql`` answers queries by GET, by POST form-encoded and by POST
``application/sparql-query``; SELECT/ASK results as JSON, XML, CSV or TSV and
CONSTRUCT/DESCRIBE results as Turtle, N-Triples, JSON-LD or RDF/XML, by content
negotiation. Without a query it returns the SPARQL 1.1 Service Description. Updates,
SERVICE and FROM are refused (403); malformed or too deeply nested queries get a 400 with
the parser's message; a query string longer than the request limit a 414; queries past the
time limit a 503; errors come back as JSON. Relative IRIs in a query resolve against the
endpoint's URL, as the Oxigraph server does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import parse_qsl

import mimeparse
import pyoxigraph as ox
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from kg.errors import ResultTooLarge
from kg.formats import RDF_MEDIA_TYPES, RESULT_MEDIA_TYPES, UnknownFormat, rdf_format, result_format
from kg.web.pool import QueryPool, QueryResult

__all__ = [
    "SparqlEndpoint", "error_response", "format_media_type", "negotiate", "requested_media_types", "run_protocol_query",
    "sparql_router",
]

def error_response(status: int, error: str, message: str, *, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A JSON error body: ``{"error": ..., "message": ...}``.

    :param status: the HTTP status
    :param error: a short error name
    :param message: the message for people (the parser's message for a syntax error)
    :param headers: more response headers (``Retry-After``)
    :returns: the response
    """
    return JSONResponse({"error": error, "message": message, "status": status}, status_code=status, headers=headers)


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
        # media types are case-insensitive (RFC 9110, 8.3.1); the offers are lower case
        best = mimeparse.best_match(list(reversed(offers)), accept.lower())
    except ValueError:
        return default
    return best or default


def requested_media_types(request: Request, params: Mapping[str, str]) -> tuple[str, str]:
    """The media types to answer with: a ``format`` parameter, else the Accept header.

    :param request: the request (for its Accept header)
    :param params: the request's parameters
    :returns: the media type for SELECT/ASK results and the one for CONSTRUCT/DESCRIBE results
    """
    return _media_types(request.headers.get("accept"), params)


def _media_types(accept: str | None, params: Mapping[str, str]) -> tuple[str, str]:
    """For each query form, the first entry of ``format`` (a comma-separated list of short
    names or media types) that it can be answered in, else what the Accept header prefers."""
    result_type, rdf_type = None, None
    for entry in (params.get("format") or params.get("output") or "").lower().split(","):
        name = entry.strip()
        if result_type is None:
            result_type = _result_media_type(name)
        if rdf_type is None:
            rdf_type = format_media_type(name)
    return result_type or negotiate(accept, RESULT_MEDIA_TYPES), rdf_type or negotiate(accept, RDF_MEDIA_TYPES)


def _result_media_type(name: str) -> str | None:
    """The result media type a ``format`` entry names (a media type as given, or a short name)."""
    if name in RESULT_MEDIA_TYPES:
        return name
    try:
        return result_format(name).media_types[0]
    except UnknownFormat:
        return None


def format_media_type(name: str) -> str | None:
    """The RDF media type a ``format`` parameter names, if any: a short name, an alias
    (``turtle``, ``rdf``, ``json`` for JSON-LD) or a media type.

    :param name: the parameter's value
    :returns: the media type, or None for a name that is no RDF format
    """
    try:
        return rdf_format(name).media_type
    except UnknownFormat:
        return None


async def _answer(pool: QueryPool, query: str, result_type: str, rdf_type: str, *, max_rows: int | None = None,
                  too_large_advice: str | None = None, base_iri: str | None = None,
                  outside: bool = True) -> QueryResult:
    """Check and run a query; its errors go to the app's handler (:mod:`kg.errors` says how each is answered).

    ``too_large_advice`` replaces the worker's advice ("add a LIMIT") on a result over the cap.
    """
    try:
        return await pool.query(query, result_type=result_type, rdf_type=rdf_type, max_rows=max_rows,
                                base_iri=base_iri, outside=outside)
    except ResultTooLarge as error:
        if too_large_advice is None:
            raise
        raise ResultTooLarge(error.fact, advice=too_large_advice) from None


def _content_type(result: QueryResult) -> str:
    media_type = result.media_type
    if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json")):
        media_type += "; charset=utf-8"
    return media_type


async def run_protocol_query(pool: QueryPool, query: str, result_type: str, rdf_type: str, *,
                             max_rows: int | None = None, empty_is_missing: str | None = None,
                             too_large_advice: str | None = None, outside: bool = True) -> Response:
    """Check and run a query and answer with its result.

    :param pool: the query workers
    :param query: SPARQL text
    :param result_type: media type for SELECT/ASK
    :param rdf_type: media type for CONSTRUCT/DESCRIBE
    :param max_rows: the row cap instead of the pool's (for the server's own queries)
    :param empty_is_missing: answer a CONSTRUCT/DESCRIBE result with no triples with a 404
        saying that this IRI is not in the graph
    :param too_large_advice: what to do about a result over the cap, for callers who cannot
        add a LIMIT (the stored-query API)
    :param outside: the text comes from a client; False only for text rendered from the
        project's own query files with values bound as escaped terms (see :meth:`QueryPool.query`)
    :returns: the result (or a 404 for ``empty_is_missing``)
    :raises QueryError: as :meth:`kg.web.pool.QueryPool.query` (the app's handler answers it)
    """
    answer = await _answer(pool, query, result_type, rdf_type, max_rows=max_rows, too_large_advice=too_large_advice,
                           outside=outside)
    if empty_is_missing is not None and answer.rows == 0:
        return error_response(404, "not found", f"{empty_is_missing} is not in the graph", headers={"Vary": "Accept"})
    return Response(answer.body, media_type=_content_type(answer), headers={"Vary": "Accept"})


class _TooLarge(Exception):
    """The request body is larger than the endpoint accepts."""


class SparqlEndpoint:
    """The ``/sparql`` ASGI application.

    It reads the request straight from the ASGI scope and sends the worker's bytes back
    as they are: Starlette's request and response objects cost about 0.08 ms a query on a
    2-core machine, a good share of what HTTP adds to a sub-millisecond query.

    :param pool: the query workers
    :param max_request_bytes: the largest request body (and query string) accepted
    :param description: makes what a GET without a query returns (the Service Description)
    """

    def __init__(self, pool: QueryPool, *, max_request_bytes: int = 100_000,
                 description: Callable[[Request], Response] | None = None) -> None:
        self.pool = pool
        self.max_request_bytes = max_request_bytes
        self.description = description

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self._respond(scope, receive)
        if isinstance(answer, Response):
            await answer(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", _content_type(answer).encode("latin-1")),
            (b"content-length", str(len(answer.body)).encode("latin-1")),
            (b"vary", b"Accept"),
        ]})
        await send({"type": "http.response.body", "body": answer.body})

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_request_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _respond(self, scope: Scope, receive: Receive) -> QueryResult | Response:
        limit = self.max_request_bytes
        query_string: bytes = scope.get("query_string", b"")
        if len(query_string) > limit:
            return error_response(414, "URI too long", f"the query string is longer than {limit} bytes; "
                                                       "POST a long query as application/sparql-query")
        try:
            pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            return _not_utf8("the query string")
        params = dict(pairs)
        queries = sum(1 for name, _ in pairs if name == "query")
        headers = {name: value.decode("latin-1") for name, value in scope["headers"]
                   if name in (b"accept", b"content-type", b"content-length")}
        if scope["method"] == "POST":
            length = headers.get(b"content-length") or "0"
            if not length.isascii() or not length.isdigit():
                return error_response(400, "bad request", f"Content-Length is not a number: {length!r}")
            if int(length) > limit:
                return error_response(413, "request too large", f"the request is larger than {limit} bytes")
            try:
                body = await self._body(receive)
            except _TooLarge:
                return error_response(413, "request too large", f"the request is larger than {limit} bytes")
            content_type = headers.get(b"content-type", "").split(";")[0].strip().lower()
            if content_type == "application/sparql-query":
                try:
                    params["query"] = body.decode("utf-8")
                except UnicodeDecodeError:
                    return _not_utf8("the request body")
                queries += 1
            elif content_type == "application/x-www-form-urlencoded":
                try:
                    form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
                except UnicodeDecodeError:
                    return _not_utf8("the request body")
                params.update(form)
                queries += sum(1 for name, _ in form if name == "query")
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
        if queries > 1:
            return error_response(400, "more than one query", "give exactly one query (SPARQL 1.1 Protocol, 2.1)")
        query = params.get("query")
        if query is not None and not query.strip():
            return error_response(400, "missing query", "the query is empty")
        if query is None:
            if self.description is not None and scope["method"] in ("GET", "HEAD"):
                return self.description(Request(scope, receive))
            return error_response(400, "missing query", "give the query in the 'query' parameter")
        result_type, rdf_type = _media_types(headers.get(b"accept"), params)
        return await _answer(self.pool, query, result_type, rdf_type, base_iri=_endpoint_url(scope))


def _endpoint_url(scope: Scope) -> str | None:
    """The URL the request was sent to, without its query string: the base of relative IRIs."""
    scheme = scope.get("scheme", "http")
    host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), None)
    if host is None and scope.get("server"):
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    url = f"{scheme}://{host or 'localhost'}{scope.get('root_path', '')}{scope['path']}"
    try:
        ox.NamedNode(url)
    except ValueError:  # a Host header that makes no IRI: relative IRIs then resolve against nothing
        return None
    return url


def _not_utf8(what: str) -> JSONResponse:
    return error_response(400, "bad request", f"{what} is not UTF-8 (percent-encoded UTF-8 in a form or URL)")


def sparql_router(pool: QueryPool, *, max_request_bytes: int = 100_000,
                  description: Callable[[Request], Response] | None = None) -> Router:
    """Build the ``/sparql`` router.

    :param pool: the query workers
    :param max_request_bytes: the largest request body (and query string) accepted
    :param description: makes what a GET without a query returns (the Service Description)
    :returns: a router to mount or include in an app
    """
    endpoint = SparqlEndpoint(pool, max_request_bytes=max_request_bytes, description=description)
    return Router(routes=[Route("/sparql", endpoint, methods=["GET", "POST"])])
