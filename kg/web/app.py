"""The web application: a thin Starlette app that mounts the routers.

``/sparql`` (:mod:`kg.web.endpoint`), ``/api`` and ``/openapi.json`` (:mod:`kg.web.api`), ``/``,
``/id/...``, ``/ontology/...`` and ``/query`` (:mod:`kg.web.pages`), ``/.well-known/void``
(:mod:`kg.publish.void`) and the bundled UI assets under ``/static``. All queries run on a
:class:`kg.web.pool.QueryPool` started with the app.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from pathlib import Path

from rdflib import Graph
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.errors import SarcomaKGError
from kg.formats import RDF_MEDIA_TYPES
from kg.identifiers import bind_prefixes
from kg.publish.void import service_description, statistics_query, void_graph
from kg.web.api import api_router
from kg.web.endpoint import negotiate, sparql_router
from kg.web.pages import error_page, pages_router
from kg.web.pool import Limits, QueryPool
from kg.web.search import SearchIndex

__all__ = ["SECURITY_HEADERS", "create_app"]

#: Sent with every response. The pages load scripts, styles, images and data from this server
#: only, and nothing may frame them; YASGUI sets inline styles, hence 'unsafe-inline' for style.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy",
     (b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
     b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")),
    (b"referrer-policy", b"no-referrer"),
)


class _SecurityHeaders:
    """Add :data:`SECURITY_HEADERS` to every response, errors and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

_STATIC = Path(__file__).resolve().parent / "static"


def create_app(graph_file: Path, *, store_dir: Path | None = None, workers: int = 2,
               limits: Limits | None = None, max_request_bytes: int = 100_000) -> Starlette:
    """Create the application.

    :param graph_file: the built graph (``dist/sarcoma-kg.ttl``)
    :param store_dir: an on-disk Oxigraph store to open read-only instead of loading the file
    :param workers: query worker processes (queries that may run at once)
    :param limits: time limit and result caps of one query
    :param max_request_bytes: the largest query accepted
    :returns: the ASGI application
    """
    pool = QueryPool(graph_file, store_dir=store_dir, workers=workers, limits=limits)
    statistics: dict[str, int] = {}
    search = SearchIndex()  # filled when the app starts

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not pool.running:  # ``sarcoma-kg serve`` starts it before the server, to report a bad graph
            await pool.start()
        try:
            for row in await pool.rows(statistics_query().text):  # one row per class, whatever --max-rows says
                statistics[row["class"]] = int(row["count"])
            await search.load(pool)
            yield
        finally:
            await pool.stop()

    def rdf_response(request: Request, make_graph: Callable[[], Graph]) -> Response:
        media_type = negotiate(request.headers.get("accept"), RDF_MEDIA_TYPES)
        graph = bind_prefixes(make_graph())
        return Response(graph.serialize(format=RDF_MEDIA_TYPES[media_type].rdflib, encoding="utf-8"),
                        media_type=media_type, headers={"Vary": "Accept"})

    def description(request: Request) -> Response:
        # a browser opening /sparql wants the editor; programs (any Accept but HTML first) the description
        if negotiate(request.headers.get("accept"), {**RDF_MEDIA_TYPES, "text/html": None}) == "text/html":
            return RedirectResponse("/query", status_code=303)
        endpoint = str(request.base_url).rstrip("/") + "/sparql"
        return rdf_response(request, lambda: service_description(endpoint, statistics))

    async def void(request: Request) -> Response:
        endpoint = str(request.base_url).rstrip("/") + "/sparql"
        return rdf_response(request, lambda: void_graph(statistics, endpoint=endpoint))

    routes = [
        *sparql_router(pool, max_request_bytes=max_request_bytes, description=description).routes,
        *api_router(pool, search).routes,
        Route("/.well-known/void", void, methods=["GET"]),
        Route("/void", void, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
        *pages_router(pool, search).routes,
    ]
    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        # 405 says which methods are allowed; a browser gets a page, a program JSON
        return error_page(request, error.status_code, HTTPStatus(error.status_code).phrase.lower(), error.detail,
                          headers=dict(error.headers or {}))

    async def sarcoma_error(request: Request, error: Exception) -> Response:
        # every error of kg.errors knows its status, title and headers: JSON for programs, a page for browsers
        assert isinstance(error, SarcomaKGError)
        return error_page(request, error.http_status, error.title, str(error), headers=error.http_headers())

    async def server_error(request: Request, error: Exception) -> Response:
        response = error_page(request, 500, "internal server error",
                              "the server failed to answer this request; the error is in its log")
        # Starlette answers an unhandled error outside the app's middleware: add its headers here
        response.headers.update({name.decode(): value.decode() for name, value in SECURITY_HEADERS})
        return response

    # Any web page may query the graph (a YASGUI elsewhere, a notebook in a browser), as on
    # public SPARQL endpoints; no credentials are involved.
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                      allow_headers=["Accept", "Content-Type"])
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(_SecurityHeaders), cors],
                    exception_handlers={HTTPException: http_error, SarcomaKGError: sarcoma_error,
                                        Exception: server_error})
    app.state.pool = pool
    app.state.search = search
    return app
