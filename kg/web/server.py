"""Run the web application with uvicorn (``sarcoma-kg serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kg.errors import ConfigurationError
from kg.pipeline.build import GRAPH_FILE, build
from kg.web.app import SECURITY_HEADERS, create_app
from kg.web.pool import Limits
from kg.web.sandbox import deny_network

__all__ = ["AccessLog", "serve"]


class AccessLog:
    """ASGI middleware that writes one line per HTTP request: method, path, status, time in ms.

    ``GET /id/sarc028 200 41.3 ms``; the query string is left out (a SPARQL query can be
    64 kB long, and the path says which page or service was asked).

    :param app: the application
    :param stream: where the lines go (standard error by default)
    """

    def __init__(self, app: ASGIApp, *, stream: TextIO | None = None) -> None:
        self.app = app
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it starts a response

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            stream = self.stream or sys.stderr
            stream.write(f"{scope['method']} {scope['path']} {status} {elapsed:.1f} ms\n")
            stream.flush()

_logger = logging.getLogger(__name__)

#: The longest request target httptools can parse (its URL offsets are 16-bit).
_PARSER_URL_LIMIT = 65_535


class _HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, whose own refusals are JSON like the app's.

    A request the HTTP parser refuses never reaches the app: uvicorn answers it with a plain
    text 400, also for a URL longer than httptools can parse. Here the answer is the app's
    JSON error body with its security headers, and a 414 for a URL that is too long.
    """

    def send_400_response(self, msg: str) -> None:
        too_long = len(getattr(self, "url", b"")) > _PARSER_URL_LIMIT
        status, reason = (414, b"URI Too Long") if too_long else (400, b"Bad Request")
        message = ("the request URL is longer than this server reads; POST a long query as "
                   "application/sparql-query" if too_long else msg)
        body = json.dumps({"error": reason.decode().lower(), "message": message, "status": status}).encode()
        head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [name + b": " + value + b"\r\n" for name, value in SECURITY_HEADERS]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body),
                 b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def _listen(host: str, port: int) -> list[socket.socket]:
    """Bind the listening sockets first, so that a port in use is a clear error, not a traceback.

    Every address the host name resolves to is bound (``localhost``: 127.0.0.1 and ::1 where
    both are configured), as uvicorn does when given the host.
    """
    sockets: list[socket.socket] = []
    try:
        addresses = dict.fromkeys((family, address[:2]) for family, _, _, _, address
                                  in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        for family, address in addresses:
            sock = socket.create_server(address, family=family, dualstack_ipv6=False)
            sockets.append(sock)
    except OSError as error:
        for sock in sockets:
            sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    return sockets


def serve(graph_file: Path, *, host: str = "127.0.0.1", port: int = 8000, store_dir: Path | None = None,
          rebuild: bool = False, workers: int = 2, timeout: float = 10.0, max_rows: int = 10_000,
          access_log: bool = True, progress: Callable[[str], None] | None = None) -> None:
    """Serve the graph over HTTP until interrupted, building it first if needed.

    The port is bound and the query workers load the graph before the server starts, so a
    port in use or a graph that cannot be loaded ends the command with a one-line error.
    Once the port is bound, the server process drops its right to open network sockets
    (:func:`kg.web.sandbox.deny_network`), as each query worker does: it only accepts
    connections on the sockets it already holds.

    :param graph_file: the built graph; when it is missing (or ``rebuild``) and named
        ``sarcoma-kg.ttl``, the graph is built into its directory first
    :param host: the interface to listen on (loopback by default)
    :param port: the TCP port
    :param store_dir: an on-disk Oxigraph store (bulk-loaded once, then reopened)
    :param rebuild: build even if the graph file exists
    :param workers: query worker processes
    :param timeout: seconds a query may run
    :param max_rows: the most rows a result of ``/sparql`` may have
    :param access_log: write a line per request to standard error (method, path, status, ms)
    :param progress: called with a line for each step
    :raises ConfigurationError: if the port cannot be bound, the graph is missing and cannot be
        built where it is named, or the graph or store cannot be loaded
    :raises DataError: if the graph had to be built and the data fails a check
    """
    say = progress or (lambda line: None)
    if rebuild or not graph_file.is_file():
        if graph_file.name != GRAPH_FILE:  # a build writes <output dir>/sarcoma-kg.ttl, not this file
            problem = f"--rebuild cannot write {graph_file}" if rebuild else f"graph not found: {graph_file}"
            raise ConfigurationError(f"{problem}; a build writes DIR/{GRAPH_FILE}: give --graph DIR/{GRAPH_FILE}"
                                     f"{'' if rebuild else ', or an existing graph'}")
        build(graph_file.parent, progress=progress)
    if store_dir is not None:
        from kg.query.store import open_store

        open_store(graph_file, store_dir=store_dir)  # bulk-load once; workers reopen it read-only
    listeners = _listen(host, port)
    if (reason := deny_network()) is not None:
        _logger.warning("the server process is not sandboxed: %s", reason)
    app = create_app(graph_file, store_dir=store_dir, workers=workers,
                     limits=Limits(timeout=timeout, max_rows=max_rows))
    # uvicorn's own access log is off (it would format a line per request only to drop it at this
    # level); AccessLog writes one line per request with its time, unless access_log is False.
    # What the HTTP parser refuses is answered in JSON too (_HttpProtocol).
    config = uvicorn.Config(AccessLog(app) if access_log else app, log_level="warning", access_log=False,
                            http=_HttpProtocol)
    pool = app.state.pool

    async def main() -> None:
        try:
            await pool.start()  # the app's lifespan finds it started
            say(f"serving {graph_file} at http://{host}:{port}/ (SPARQL endpoint: /sparql, UI: /query)")
            await uvicorn.Server(config).serve(sockets=listeners)
        finally:
            await pool.stop()

    try:
        # uvicorn stops on Ctrl-C and then raises it again; stopping is what was asked for.
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner, \
                contextlib.suppress(KeyboardInterrupt):
            runner.run(main())
    finally:
        for listener in listeners:
            listener.close()
