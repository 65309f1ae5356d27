"""Measure what HTTP adds to a fast query under three ways of running the query in a server.

Issue 6 asks that a query returning up to 100 rows take at most twice as long over HTTP as
in-process. ``sarcoma-kg serve`` runs a query in a worker process, the only place where a
query that runs past the time limit can be stopped (pyoxigraph offers no timeout, and a
thread cannot be stopped), and one whose network access can be taken away without taking
the server's. This script asks what each way costs, in one run,
with the same client and method as ``sarcoma-kg bench`` (requests alternating with
in-process runs on one keep-alive connection):

* ``event-loop``: a bare ASGI app that runs the query on the event loop's own thread
  (no time limit possible, and every other request waits while a query runs);
* ``thread``: the same app handing the query to a thread pool, as an asyncio server must to
  stay responsive (still no time limit: the thread cannot be stopped);
* ``serve``: ``sarcoma-kg serve``, every query in a worker process (time limit, result caps,
  sandbox).

Usage: ``python scripts/dispatch_overhead.py [--graph dist/sarcoma-kg.ttl] [--repeat 9]``
(the graph must have been built: ``sarcoma-kg build``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import kg.bench.run as bench  # the benchmark's own client and pairing, so the figures compare
from kg.query.queries import load_queries
from kg.query.store import open_store

#: The stored queries with the shortest in-process times (the hardest for the 2x target).
FAST_QUERIES = ("cell-therapy-antigens", "subtype-hierarchy", "negative-results", "regimens-ranked-by-orr")
MODES = ("event-loop", "thread", "serve")


def bare_app(graph: Path, *, in_thread: bool):  # type: ignore[no-untyped-def]
    """A minimal ASGI app answering a POSTed query as SPARQL JSON (no checks, no limits)."""
    store = open_store(graph)

    def run(text: str) -> bytes:
        return bench._in_process(store, text)

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        text = b"".join(chunks).decode("utf-8")
        body = await asyncio.get_running_loop().run_in_executor(None, run, text) if in_thread else run(text)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/sparql-results+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def _start(mode: str, graph: Path) -> tuple[str, subprocess.Popen[bytes]]:
    if mode == "serve":  # as the benchmark starts it
        url, process, _ = bench._start_server(graph, 2)
        return url, process
    port = bench._free_port()
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, __file__, "--serve", mode, "--port", str(port), "--graph", str(graph)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    bench._wait_until_answering(url, process, start)
    return url, process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", type=Path, default=Path("dist/sarcoma-kg.ttl"))
    parser.add_argument("--repeat", type=int, default=9, help="pairs of runs per query at least")
    parser.add_argument("--serve", choices=MODES[:2], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import uvicorn

        uvicorn.run(bare_app(args.graph, in_thread=args.serve == "thread"), port=args.port,
                    log_level="warning", access_log=False)
        return
    if not args.graph.is_file():
        raise SystemExit(f"graph not found: {args.graph} (run 'sarcoma-kg build' first)")
    queries = load_queries()
    texts = {name: queries[name].render() for name in FAST_QUERIES}
    store = open_store(args.graph)
    print(f"{'mode':16} {'query':24} {'HTTP med ms':>12} {'paired in-proc ms':>18} {'HTTP/in-proc':>13}")
    for mode in MODES:
        url, process = _start(mode, args.graph)
        try:
            results = bench._http_timings(url, texts, args.repeat, store)
        finally:
            process.terminate()
            process.wait(timeout=30)
        ratios = []
        for name, ((http_median, _), (paired_median, _)) in results.items():
            ratios.append(http_median / paired_median)
            print(f"{mode:16} {name:24} {http_median:>12.2f} {paired_median:>18.2f} {ratios[-1]:>13.2f}")
        print(f"{mode:16} {'(median, max)':24} {'':>12} {'':>18} {statistics.median(ratios):>6.2f} {max(ratios):>5.2f}")


if __name__ == "__main__":
    main()
