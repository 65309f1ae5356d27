"""Run the web application with uvicorn (``sarcoma-kg serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.app import create_app
from kg.build import GRAPH_FILE, build
from kg.errors import ConfigurationError
from kg.workers import Limits

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
          inline_seconds: float = 0.01, access_log: bool = True,
          progress: Callable[[str], None] | None = None) -> None:
    """Serve the graph over HTTP until interrupted, building it first if needed.

    The port is bound and the query workers load the graph before the server starts, so a
    port in use or a graph that cannot be loaded ends the command with a one-line error.

    :param graph_file: the built graph; when it is missing (or ``rebuild``) and named
        ``sarcoma-kg.ttl``, the graph is built into its directory first
    :param host: the interface to listen on (loopback by default)
    :param port: the TCP port
    :param store_dir: an on-disk Oxigraph store (bulk-loaded once, then reopened)
    :param rebuild: build even if the graph file exists
    :param workers: query worker processes
    :param timeout: seconds a query may run
    :param max_rows: the most rows a result may have
    :param inline_seconds: a query a worker answered within this time runs in the server
        process the next time (0: every query in a worker; see :class:`kg.workers.QueryPool`)
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
        from kg.store import open_store

        open_store(graph_file, store_dir=store_dir)  # bulk-load once; workers reopen it read-only
    listeners = _listen(host, port)
    app = create_app(graph_file, store_dir=store_dir, workers=workers,
                     limits=Limits(timeout=timeout, max_rows=max_rows), inline_seconds=inline_seconds)
    # uvicorn's own access log is off (it would format a line per request only to drop it at this
    # level); AccessLog writes one line per request with its time, unless access_log is False.
    config = uvicorn.Config(AccessLog(app) if access_log else app, log_level="warning", access_log=False)
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
