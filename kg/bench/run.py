"""Measure speed honestly, in one run (``sarcoma-kg bench``).

For each size (the curated graph, then graphs grown by :mod:`kg.bench.scale`) it measures:
the load time and peak memory of the embedded store; every stored query's median and p95
latency on the embedded store (Oxigraph) and on rdflib's own SPARQL engine over the same
data (each rdflib query in a forked process, killed at the cap and counted as the cap; on
both engines a run is the query plus serialising its result as SPARQL JSON);
and, over HTTP against a running ``sarcoma-kg serve``, every stored query's median and p95
latency and the throughput of concurrent clients. On the curated graph it also times the
build stages, how soon a freshly started server answers its first query, and the HTML pages
of the two largest subtypes (UPS and soft tissue sarcoma; target: under 300 ms).

In-process times are ``store.query`` plus serialising the result as SPARQL JSON, the same
work the server does before sending it; HTTP times add the request, the worker and the
transport, measured with the standard library's ``http.client`` over one keep-alive
connection per client (a lean client, so the figure is the server's cost and not a client
library's). Ratios compare figures taken side by side, because this machine's speed drifts
by up to half within minutes: the speedup over rdflib uses Oxigraph runs made just before
rdflib's runs of the same query, and the HTTP/in-process ratio in-process runs alternating
with the requests.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from kg.bench.scale import write_grown
from kg.pipeline.build import BuildResult, build_graph, write_output
from kg.query.queries import StoredQuery, load_queries
from kg.query.store import open_store, select

__all__ = ["HTTP_MIN_SECONDS", "BenchReport", "QueryTiming", "SizeReport", "format_report", "parse_sizes", "run_bench"]


@dataclass
class QueryTiming:
    """One stored query at one size.

    :param name: the query's name
    :param rows: result rows
    :param oxigraph: median and p95 in ms on the embedded store
    :param rdflib: median and p95 in ms on rdflib's engine (the cap where it was capped)
    :param rdflib_capped: whether rdflib ran past the cap
    :param beside: median and p95 in ms on the embedded store, measured in the same process
        just before rdflib's runs of the same query (the speedup compares these with rdflib's
        figures, so that the machine's speed drifting between phases of the run does not
        show up as speedup)
    :param http: median and p95 in ms over HTTP
    :param paired: median and p95 in ms in-process, measured alternately with the HTTP
        requests (the HTTP/in-process ratio compares these, so that a machine whose speed
        drifts during the run affects both sides alike)
    """

    name: str
    rows: int
    oxigraph: tuple[float, float]
    rdflib: tuple[float, float] | None = None
    rdflib_capped: bool = False
    beside: tuple[float, float] | None = None
    http: tuple[float, float] | None = None
    paired: tuple[float, float] | None = None


@dataclass
class SizeReport:
    """The measurements at one size.

    :param label: the size as the report names it (``curated``, ``100k`` ...)
    :param triples: the graph's triples
    :param load_seconds: Oxigraph's load of the graph
    :param peak_memory_mb: the peak resident memory of the process that loaded and queried the store
    :param queries: each stored query's timings
    :param rdflib_load_seconds: rdflib's parse of the same graph, where measured
    :param throughput: requests a second the clients got over HTTP (the stored queries of up to 100 rows), where measured
    :param first_query_seconds: from ``sarcoma-kg serve`` to the first answered query
    :param pages: entity page path → (median, p95) milliseconds over HTTP (curated size only)
    """

    label: str
    triples: int
    load_seconds: float
    peak_memory_mb: float
    queries: list[QueryTiming] = field(default_factory=list)
    rdflib_load_seconds: float | None = None
    throughput: float | None = None
    first_query_seconds: float | None = None
    pages: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class BenchReport:
    """A whole benchmark run."""

    sizes: list[SizeReport]
    build_stages: dict[str, float]
    rdflib_cap: float
    clients: int


_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<suffix>[km]?)")


def parse_sizes(value: str) -> list[int | None]:
    """Read the graph sizes to measure: comma-separated triple counts, ``curated``, or with a k/m suffix.

    :param value: e.g. ``curated,100k,1m`` or ``50000`` (``_`` and spaces are ignored)
    :returns: the sizes, in order (``None`` for the curated graph)
    :raises ValueError: for anything else (an empty item, ``k``, ``foo``, 0, ``1.5``), saying what is wrong
    """
    sizes: list[int | None] = []
    for raw in value.split(","):
        item = raw.strip().lower().replace("_", "")
        if item == "curated":
            sizes.append(None)
            continue
        match = _SIZE.fullmatch(item)
        scale = {"k": 1_000, "m": 1_000_000, "": 1}[match["suffix"]] if match else 1
        size = int(float(match["number"]) * scale) if match and (scale > 1 or "." not in item) else 0
        if size < 1:
            raise ValueError(
                f"{raw.strip()!r} is not a size: give 'curated' or a number of triples such as 50000, 100k or 1m")
        sizes.append(size)
    return sizes


def _quantiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return round(statistics.median(ordered) * 1000, 3), round(p95 * 1000, 3)


_T = TypeVar("_T")


@dataclass(frozen=True)
class _StoreMeasure:
    """What the child process measured on the embedded store."""

    load: float
    peak_mb: float
    triples: int
    timings: dict[str, tuple[list[float], int]]


def _oxigraph_runs(store: ox.Store, text: str, repeat: int) -> tuple[list[float], bytes]:
    """Run a query ``repeat`` times (query plus SPARQL JSON): the seconds of each run, and the last result."""
    samples: list[float] = []
    body = b""
    for _ in range(repeat):
        start = time.perf_counter()
        body = _in_process(store, text)
        samples.append(time.perf_counter() - start)
    return samples, body


def _oxigraph_child(path: str, texts: dict[str, str], repeat: int) -> _StoreMeasure:
    """Load the store and time every query (run in a fresh process, for its peak memory)."""
    start = time.perf_counter()
    store = open_store(Path(path))
    load = time.perf_counter() - start
    timings: dict[str, tuple[list[float], int]] = {}
    for name, text in texts.items():
        samples, body = _oxigraph_runs(store, text, repeat)
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        timings[name] = (samples, sum(1 for _ in parsed) if isinstance(parsed, ox.QuerySolutions) else 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return _StoreMeasure(load, peak, len(store), timings)


def _run_in_child(function: Callable[..., _T], *args: object) -> _T:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)


def _rdflib_query(graph: object, text: str, repeat: int, conn: object) -> None:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        # The same work as on Oxigraph: evaluate, then serialise as SPARQL JSON (what
        # rdflib-endpoint does to answer).
        graph.query(text).serialize(format="json")  # type: ignore[attr-defined]
        samples.append(time.perf_counter() - start)
        conn.send(samples)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _RdflibMeasure:
    """rdflib's figures for one query, and Oxigraph's measured just before them."""

    rdflib: tuple[float, float]
    capped: bool
    beside: tuple[float, float]


def _rdflib_timings(path: Path, texts: dict[str, str], repeat: int, cap: float,
                    oxigraph_repeat: int) -> tuple[float, dict[str, _RdflibMeasure]]:
    """rdflib's engine: parse once, then run each query in a forked process killed at the cap.

    Right before each query's rdflib runs, the same query runs ``oxigraph_repeat`` times on
    Oxigraph in this process, so that the two engines' figures are taken side by side.
    """
    import rdflib

    start = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(path, format="nt")
    load = time.perf_counter() - start
    store = open_store(path)
    fork = multiprocessing.get_context("fork")
    results: dict[str, _RdflibMeasure] = {}
    for name, text in texts.items():
        beside, _ = _oxigraph_runs(store, text, oxigraph_repeat)
        parent, child = fork.Pipe(duplex=False)
        process = fork.Process(target=_rdflib_query, args=(graph, text, repeat, child), daemon=True)
        start = time.monotonic()
        process.start()
        child.close()
        samples: list[float] = []
        # The first run may take up to the cap; further runs share repeat × cap in all.
        while len(samples) < repeat:
            deadline = start + (cap if not samples else cap * repeat)
            if not parent.poll(max(0.0, deadline - time.monotonic())):
                break
            samples = parent.recv()
        process.kill()
        process.join()
        parent.close()
        rdflib_figures = _quantiles(samples) if samples else (cap * 1000, cap * 1000)
        results[name] = _RdflibMeasure(rdflib_figures, not samples, _quantiles(beside))
    del graph, store
    return load, results


def _post(conn: http.client.HTTPConnection, text: str) -> bytes:
    """POST a query on a keep-alive connection and return the body (raising on an error status)."""
    conn.request("POST", "/sparql", body=text.encode("utf-8"),
                 headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"the server answered {response.status}: {body[:300].decode('utf-8', 'replace')}")
    return body


def _connect(url: str, timeout: float = 120) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def _in_process(store: ox.Store, text: str) -> bytes:
    """One in-process run: the query and its result serialised as SPARQL JSON."""
    body = select(store, text).serialize(format=ox.QueryResultsFormat.JSON)
    assert body is not None  # pyoxigraph returns the bytes when given no output file
    return body


#: A fast query gets more pairs of runs (HTTP, in-process) than ``repeat``, so that a burst
#: of load on the machine cannot move its median: pairs go on until its HTTP runs have
#: taken this long (seconds; ``run_bench(http_min_seconds=...)`` for one run), or this many
#: pairs have run.
HTTP_MIN_SECONDS = 0.5
_HTTP_MAX_PAIRS = 101


def _http_timings(url: str, texts: dict[str, str], repeat: int, store: ox.Store, *,
                  min_seconds: float | None = None) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
    """Each query over HTTP and in-process, alternately: (HTTP, in-process) median and p95.

    Each query runs ``repeat`` pairs at least, and more (up to ``_HTTP_MAX_PAIRS``) until
    its HTTP runs have taken ``min_seconds`` (default :data:`HTTP_MIN_SECONDS`).
    """
    if min_seconds is None:
        min_seconds = HTTP_MIN_SECONDS
    results = {}
    conn = _connect(url)
    try:
        for name, text in texts.items():
            _post(conn, text)
            _in_process(store, text)
            over_http: list[float] = []
            in_process: list[float] = []
            while len(over_http) < repeat or (
                    len(over_http) < _HTTP_MAX_PAIRS and sum(over_http) < min_seconds):
                start = time.perf_counter()
                _post(conn, text)
                over_http.append(time.perf_counter() - start)
                start = time.perf_counter()
                _in_process(store, text)
                in_process.append(time.perf_counter() - start)
            results[name] = (_quantiles(over_http), _quantiles(in_process))
    finally:
        conn.close()
    return results


#: The entity pages timed on the curated graph: the subtypes with the most rows and plot points.
BENCH_PAGES = ("/id/undifferentiated-pleomorphic-sarcoma", "/id/soft-tissue-sarcoma")


def _page_timings(url: str, paths: Sequence[str], repeat: int) -> dict[str, tuple[float, float]]:
    """Each HTML page's median and p95 in ms over HTTP (its queries, the forest plot, the template).

    :param url: the server's base URL
    :param paths: the pages
    :param repeat: requests per page (after one to warm up)
    """
    results = {}
    conn = _connect(url)
    try:
        for path in paths:
            samples = []
            for index in range(repeat + 1):
                start = time.perf_counter()
                conn.request("GET", path, headers={"Accept": "text/html"})
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: the server answered {response.status}: {body[:300]!r}")
                if index:
                    samples.append(time.perf_counter() - start)
            results[path] = _quantiles(samples)
    finally:
        conn.close()
    return results


def _throughput(url: str, texts: list[str], clients: int, seconds: float) -> float:
    """Requests per second that ``clients`` keep-alive clients get, each posting in turn.

    :raises RuntimeError: if a client's request failed (the figure would be too low)
    """
    done = [0] * clients
    failures: list[BaseException] = []
    stop = time.monotonic() + seconds

    def client_loop(index: int) -> None:
        conn = _connect(url)
        try:
            position = index
            while time.monotonic() < stop:
                _post(conn, texts[position % len(texts)])
                done[index] += 1
                position += 1
        except Exception as error:  # noqa: BLE001 - reported by the caller's thread
            failures.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"the throughput run failed: {failures[0]}") from failures[0]
    return round(sum(done) / (time.monotonic() - start), 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], start: float) -> float:
    """Poll a starting server with a stored query until it answers: the seconds since ``start``."""
    first = load_queries()["therapies-by-target"].render()
    while True:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        conn = _connect(url, timeout=5)
        try:
            _post(conn, first)
            return time.monotonic() - start
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        if time.monotonic() - start > 300:
            process.kill()
            raise RuntimeError("the server did not answer within 300 s")
        time.sleep(0.02)


def _start_server(graph: Path, workers: int, *options: str) -> tuple[str, subprocess.Popen[bytes], float]:
    """Start ``sarcoma-kg serve`` on a free port (with more ``options`` of the command): its
    URL, its process and how soon it answered."""
    port = _free_port()
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--graph", str(graph), "--port", str(port),
         "--workers", str(workers), "--timeout", "60", "--max-rows", "1000000", "--quiet", *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    return url, process, _wait_until_answering(url, process, start)


def run_bench(
    sizes: Sequence[int | None] = (None, 100_000, 1_000_000),
    *,
    repeat: int = 5,
    rdflib_cap: float = 20.0,
    rdflib_max_triples: int = 1_000_000,
    http: bool = True,
    clients: int = 4,
    http_seconds: float = 5.0,
    http_min_seconds: float | None = None,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    prebuilt: BuildResult | None = None,
) -> BenchReport:
    """Run the benchmark.

    :param sizes: triples per size; ``None`` is the curated graph as built
    :param repeat: runs of each query per engine (median and p95 over them)
    :param rdflib_cap: seconds an rdflib query may run before it is killed and counted as the cap
    :param rdflib_max_triples: skip rdflib above this size (its parse alone takes 42 s at 1M triples)
    :param http: also measure over HTTP against a real server
    :param clients: concurrent HTTP clients for the throughput figure
    :param http_seconds: how long the throughput run lasts
    :param http_min_seconds: the least time a query's HTTP runs fill, with more pairs of runs
        than ``repeat`` for a fast query (default :data:`HTTP_MIN_SECONDS`; 0 runs ``repeat`` pairs only)
    :param workers: the server's query workers
    :param seed: the scale generator's seed
    :param progress: called with a line as each step ends
    :param prebuilt: the curated graph already built in this process (the tests' session
        build): it is measured as it is, and its stage timings are reported without an end to
        end time; by default the graph is built and written here, and the build timed
    :returns: every figure measured
    """
    say = progress or (lambda line: None)
    queries: dict[str, StoredQuery] = load_queries()
    texts = {name: query.render() for name, query in queries.items()}
    with tempfile.TemporaryDirectory(prefix="sarcoma-kg-bench-") as tmp:
        work = Path(tmp)
        if prebuilt is None:
            start = time.perf_counter()
            built = build_graph()
            write_output(built, work / "dist")
            stages = dict(built.timings)
            # Wall time: the Turtle export overlaps the checks, so the stages do not add up to it.
            stages["end to end"] = round(time.perf_counter() - start, 3)
            say(f"build of the curated graph: {stages['end to end']} s")
        else:
            built = prebuilt
            stages = dict(built.timings)
        base = built.graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
        reports = []
        for size in sizes:
            label = "curated" if size is None else f"{size:,}"
            path = work / f"graph-{label.replace(',', '')}.nt"
            if size is None:
                path.write_text(base, encoding="utf-8")
            else:
                write_grown(base, built.records, size, path, seed=seed)
            measured = _run_in_child(_oxigraph_child, str(path), texts, repeat)
            report = SizeReport(label, measured.triples, round(measured.load, 3), round(measured.peak_mb, 1))
            report.queries = [QueryTiming(name, rows, _quantiles(samples))
                              for name, (samples, rows) in measured.timings.items()]
            say(f"{label}: {report.triples} triples, loaded in {report.load_seconds} s, peak {report.peak_memory_mb} MB")
            if report.triples <= rdflib_max_triples:
                rdflib_load, rdflib_results = _rdflib_timings(path, texts, min(repeat, 3), rdflib_cap, repeat)
                report.rdflib_load_seconds = round(rdflib_load, 3)
                for timing in report.queries:
                    measure = rdflib_results[timing.name]
                    timing.rdflib, timing.rdflib_capped, timing.beside = measure.rdflib, measure.capped, measure.beside
                say(f"{label}: rdflib parsed in {report.rdflib_load_seconds} s and ran every query")
            if http:
                url, process, first = _start_server(path, workers)
                try:
                    report.first_query_seconds = round(first, 3)
                    store = open_store(path)
                    http_results = _http_timings(url, texts, max(repeat, 9), store, min_seconds=http_min_seconds)
                    del store
                    for timing in report.queries:
                        timing.http, timing.paired = http_results[timing.name]
                    small = [texts[t.name] for t in report.queries if t.rows <= 100]
                    report.throughput = _throughput(url, small or list(texts.values()), clients, http_seconds)
                    if size is None:
                        report.pages = _page_timings(url, BENCH_PAGES, max(repeat, 9))
                finally:
                    process.terminate()
                    process.wait(timeout=30)
                say(f"{label}: HTTP measured ({report.throughput} requests/s with {clients} clients)")
            reports.append(report)
    return BenchReport(reports, stages, rdflib_cap, clients)


def _geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def format_report(report: BenchReport) -> str:
    """The report as text: one table per size, then the one-line summary.

    :param report: a benchmark run
    :returns: text ending in the summary line
    """
    lines = ["build of the curated graph (s): " + ", ".join(f"{k} {v}" for k, v in report.build_stages.items())]
    summary_speedup = ""
    summary_triples = 0
    slowest = ""
    overheads: list[float] = []
    for size in report.sizes:
        lines.append("")
        lines.append(f"== {size.label} triples ({size.triples}): load {size.load_seconds} s, peak memory "
                     f"{size.peak_memory_mb} MB" + (f", rdflib parse {size.rdflib_load_seconds} s"
                                                    if size.rdflib_load_seconds is not None else "")
                     + (f", first query {size.first_query_seconds} s after serve start"
                        if size.first_query_seconds is not None else "")
                     + (f", HTTP throughput {size.throughput} req/s ({report.clients} clients)"
                        if size.throughput is not None else ""))
        lines.append(f"{'query':36} {'rows':>6} {'oxigraph med/p95 ms':>22} {'rdflib med/p95 ms':>24} "
                     f"{'oxigraph beside':>16} {'speedup':>9} {'HTTP med/p95 ms':>20} {'paired in-proc':>15} "
                     f"{'HTTP/in-proc':>12}")
        speedups = []
        for q in size.queries:
            rdflib_text, beside_text, speedup_text = "-", "-", "-"
            if q.rdflib is not None:
                prefix = "> " if q.rdflib_capped else ""
                rdflib_text = f"{prefix}{q.rdflib[0]:.1f}/{prefix}{q.rdflib[1]:.1f}"
                beside_text = f"{q.beside[0]:.2f}" if q.beside else "-"
                speedup = q.rdflib[0] / max((q.beside or q.oxigraph)[0], 1e-3)
                speedups.append(speedup)
                speedup_text = f"{'>' if q.rdflib_capped else ''}{speedup:.0f}x"
            http_text, paired_text, ratio_text = "-", "-", "-"
            if q.http is not None:
                http_text = f"{q.http[0]:.2f}/{q.http[1]:.2f}"
                paired_text = f"{q.paired[0]:.2f}" if q.paired else "-"
                ratio = q.http[0] / max((q.paired or q.oxigraph)[0], 1e-3)
                ratio_text = f"{ratio:.2f}"
                if q.rows <= 100:
                    overheads.append(ratio)
            lines.append(f"{q.name:36} {q.rows:>6} {q.oxigraph[0]:>10.2f}/{q.oxigraph[1]:<11.2f} {rdflib_text:>24} "
                         f"{beside_text:>16} {speedup_text:>9} {http_text:>20} {paired_text:>15} {ratio_text:>12}")
        if size.pages:
            lines.append("entity pages over HTTP, med/p95 ms (target: under 300): " + ", ".join(
                f"{path} {median:.1f}/{p95:.1f}" for path, (median, p95) in size.pages.items()))
        # The summary speaks of the size nearest 100k triples that rdflib ran on (the target's size).
        if speedups and (not summary_speedup or abs(size.triples - 100_000) < abs(summary_triples - 100_000)):
            summary_triples = size.triples
            summary_speedup = (f"speedup vs rdflib at {size.triples} triples: geomean {_geomean(speedups):.0f}x, "
                               f"min {min(speedups):.1f}x")
        worst = max(size.queries, key=lambda q: q.oxigraph[0])
        slowest = f"slowest stored query at {size.triples} triples: {worst.oxigraph[0]:.1f} ms ({worst.name})"
    # The target speaks of queries returning up to 100 rows, at every size measured.
    overhead = (f"HTTP overhead: median {statistics.median(overheads):.2f}x, max {max(overheads):.2f}x in-process "
                f"(queries of <= 100 rows)" if overheads else "HTTP overhead: -")
    lines.append("")
    lines.append(f"{summary_speedup}; {slowest}; {overhead}")
    return "\n".join(lines) + "\n"
