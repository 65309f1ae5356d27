"""Run the web application with uvicorn (``sarcoma-kg serve``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import uvicorn

from kg.app import create_app
from kg.build import build
from kg.workers import Limits

__all__ = ["serve"]


def serve(graph_file: Path, *, host: str = "127.0.0.1", port: int = 8000, store_dir: Path | None = None,
          rebuild: bool = False, workers: int = 2, timeout: float = 10.0, max_rows: int = 10_000,
          progress: Callable[[str], None] | None = None) -> None:
    """Serve the graph over HTTP until interrupted, building it first if needed.

    :param graph_file: the built graph; built into its directory if missing or ``rebuild``
    :param host: the interface to listen on (loopback by default)
    :param port: the TCP port
    :param store_dir: an on-disk Oxigraph store (bulk-loaded once, then reopened)
    :param rebuild: build even if the graph file exists
    :param workers: query worker processes
    :param timeout: seconds a query may run
    :param max_rows: the most rows a result may have
    :param progress: called with a line for each step
    """
    say = progress or (lambda line: None)
    if rebuild or not graph_file.is_file():
        build(graph_file.parent, progress=progress)
    if store_dir is not None:
        from kg.store import open_store

        open_store(graph_file, store_dir=store_dir)  # bulk-load once; workers reopen it read-only
    app = create_app(graph_file, store_dir=store_dir, workers=workers,
                     limits=Limits(timeout=timeout, max_rows=max_rows))
    say(f"serving {graph_file} at http://{host}:{port}/ (SPARQL endpoint: /sparql, UI: /query)")
    # Requests are not logged (uvicorn would format an access line per request only to drop it at
    # this level); errors and warnings still are.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
