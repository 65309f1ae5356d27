"""The query workers' transport: large replies, workers that die, time limits.

These run a :class:`kg.web.pool.QueryPool` on a one-triple graph, so they need no build.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import counting_listener

from kg.errors import ConfigurationError, QueryTimeout, ResultTooLarge, ServerBusy, WorkerError
from kg.web.pool import MAX_RETRY_SECONDS, Limits, QueryPool, WorkerHook, retry_delay

LONG = "x" * 1000
#: 40 x 100 rows of about 1 kB each: a reply several times the event loop's read buffer.
BIG = (
    "SELECT ?a ?b ?text WHERE { "
    f"VALUES ?a {{ {' '.join(str(n) for n in range(40))} }} "
    f"VALUES ?b {{ {' '.join(str(n) for n in range(100))} }} "
    f'BIND (CONCAT(STR(?a), "-", STR(?b), "{LONG}") AS ?text) }}'
)
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{n} {{ {' '.join(map(str, range(60)))} }}" for n in range(6)) + " }"


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.ttl"
    path.write_text("<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n", encoding="utf-8")
    return path


def run_with_pool(graph: Path, body: Callable[[QueryPool], Awaitable[None]], *,
                  on_worker_start: WorkerHook | None = None, **limits: float) -> None:
    async def main() -> None:
        pool = QueryPool(graph, workers=1, limits=Limits(**limits),  # type: ignore[arg-type]
                         on_worker_start=on_worker_start)
        await pool.start()
        try:
            await body(pool)
        finally:
            await pool.stop()

    asyncio.run(main())


def kill_worker(pid: int) -> None:
    """Kill a worker process from outside the pool, and wait until it is dead (left for the pool to reap)."""
    os.kill(pid, signal.SIGKILL)
    if hasattr(os, "waitid"):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def gone(pid: int) -> bool:
    """Whether a child process has ended (reaping it if nobody has)."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] != 0
    except ChildProcessError:  # already reaped
        return True


def test_a_reply_larger_than_the_read_buffer_arrives_whole(graph: Path) -> None:
    async def body(pool: QueryPool) -> None:
        result = await pool.query(BIG)
        assert len(result.body) > 4 * 1024 * 1024
        rows = json.loads(result.body)["results"]["bindings"]
        assert len(rows) == 4000
        assert {row["text"]["value"] for row in rows} == {f"{a}-{b}{LONG}" for a in range(40) for b in range(100)}
        # the stream is still in step: the next reply is the next query's
        assert json.loads((await pool.query("ASK { ?s ?p ?o }")).body)["boolean"] is True

    run_with_pool(graph, body, max_rows=10_000, max_bytes=64 * 1024 * 1024)


def test_the_status_counts_free_and_busy_workers(graph: Path) -> None:
    async def body(pool: QueryPool) -> None:
        status = pool.status()
        assert (status.running, status.idle, status.busy, status.starting, len(status.pids)) == (True, 1, 0, 0, 1)
        running = asyncio.create_task(pool.query(MEDIUM))
        await asyncio.sleep(0.1)
        assert (pool.status().idle, pool.status().busy) == (0, 1)
        await running
        assert (pool.status().idle, pool.status().busy) == (1, 0)

    run_with_pool(graph, body, timeout=30)


def test_a_worker_that_dies_is_reported_and_replaced(graph: Path) -> None:
    async def body(pool: QueryPool) -> None:
        (pid,) = pool.status().pids
        kill_worker(pid)
        with pytest.raises(WorkerError, match="stopped unexpectedly"):
            await pool.query("ASK { ?s ?p ?o }")
        for _ in range(100):  # the replacement loads the store in the background
            status = pool.status()
            if status.pids and status.pids[0] != pid and status.idle:
                break
            await asyncio.sleep(0.1)
        assert json.loads((await pool.query("ASK { ?s ?p ?o }")).body)["boolean"] is True

    run_with_pool(graph, body)


def test_a_query_past_the_limit_is_stopped_and_the_pool_answers_again(graph: Path) -> None:
    async def body(pool: QueryPool) -> None:
        with pytest.raises(QueryTimeout, match="limit of 0.5 s"):
            await pool.query(SLOW)
        result = await pool.query("SELECT ?o WHERE { ?s ?p ?o }")
        assert json.loads(result.body)["results"]["bindings"][0]["o"]["value"] == "http://example.org/o"

    run_with_pool(graph, body, timeout=0.5)


def test_a_worker_that_cannot_load_the_graph_fails_the_start_with_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://example.org/s> <http://example.org/p> .\n", encoding="utf-8")

    async def main() -> None:
        pool = QueryPool(broken, workers=1)
        try:
            with pytest.raises(ConfigurationError, match=r"cannot load the graph: cannot load .*broken\.ttl"):
                await pool.start()
        finally:
            await pool.stop()

    asyncio.run(main())


def test_a_replacement_that_cannot_start_is_tried_again(graph: Path) -> None:
    """Regression: a replacement worker that failed to start was never reported nor tried
    again, so the pool shrank for good and then refused every query as busy."""
    async def body(pool: QueryPool) -> None:
        graph.rename(graph.with_suffix(".moved"))  # the replacement cannot load the graph
        with pytest.raises(QueryTimeout):
            await pool.query(SLOW)
        for _ in range(50):
            if not pool.status().starting:
                break
            await asyncio.sleep(0.1)
        assert pool.status().background >= 1, "no retry was scheduled"
        with pytest.raises(ServerBusy):  # no worker while the retry waits
            await pool.query("ASK { ?s ?p ?o }")
        graph.with_suffix(".moved").rename(graph)
        for _ in range(300):  # a retry (after 1 s, then 2 s, ...) finds the graph again
            if pool.status().idle:
                break
            await asyncio.sleep(0.1)
        assert json.loads((await pool.query("ASK { ?s ?p ?o }")).body)["boolean"] is True

    run_with_pool(graph, body, timeout=0.5)


def test_a_result_over_the_byte_cap_is_refused_and_the_pool_answers_again(graph: Path) -> None:
    async def body(pool: QueryPool) -> None:
        with pytest.raises(ResultTooLarge, match="larger than 100000 bytes"):
            await pool.query(BIG)
        assert json.loads((await pool.query("ASK { ?s ?p ?o }")).body)["boolean"] is True

    run_with_pool(graph, body, max_rows=10_000, max_bytes=100_000)


def test_a_worker_cannot_reach_the_network(graph: Path) -> None:
    """Regression: SERVICE got past the endpoint's check (a comment ended by a bare CR), and
    the worker fetched a URL. The worker itself must not be able to connect anywhere."""
    import sys

    from kg.web.sandbox import deny_network  # noqa: F401 - the module under test must import

    if sys.platform != "linux":
        pytest.skip("the network sandbox uses seccomp (Linux)")
    with counting_listener() as (called, port):
        query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"

        async def body(pool: QueryPool) -> None:
            with pytest.raises(WorkerError, match="not permitted"):
                await pool.query(query, outside=False)  # as if the safety parser had let it through
            assert json.loads((await pool.query("ASK { ?s ?p ?o }")).body)["boolean"] is True

        run_with_pool(graph, body)
    assert called == [], "the worker reached the network"


#: About a second of work on this machine: long enough to cancel, well inside the limit.
MEDIUM = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{n} {{ {' '.join(map(str, range(25)))} }}" for n in range(5)) + " }"


def test_a_cancelled_query_leaves_its_worker_to_the_next_query(graph: Path) -> None:
    """Regression: a caller cancelled while its query ran (``asyncio.wait_for``, a client gone)
    took the worker with it, and the pool's next query waited for ever. Now the worker is
    replaced (its query may still run, part of its reply may have been read)."""
    async def body(pool: QueryPool) -> None:
        running = asyncio.create_task(pool.query(MEDIUM))
        await asyncio.sleep(0.2)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        async with asyncio.timeout(8):
            result = await pool.query("SELECT ?o WHERE { ?s ?p ?o }")
        # the reply is this query's, not the cancelled one's count left in the stream
        assert json.loads(result.body)["results"]["bindings"] == [
            {"o": {"type": "uri", "value": "http://example.org/o"}}]

    run_with_pool(graph, body, timeout=8)


def test_a_query_that_finds_no_free_worker_within_the_limit_is_refused_as_busy(graph: Path) -> None:
    """Two slow queries hold the only worker in turn (the first past the limit, while the
    second waits for its replacement: loading does not count); the third waits a limit's
    length while the second runs and is refused."""
    async def body(pool: QueryPool) -> None:
        first = asyncio.create_task(pool.query(SLOW))
        await asyncio.sleep(0.02)
        second = asyncio.create_task(pool.query(SLOW))
        await asyncio.sleep(0.03)
        with pytest.raises(ServerBusy, match="all 1 query workers stayed busy for 2 s") as refused:
            await pool.query("ASK { ?s ?p ?o }")
        assert refused.value.retry_after == 2
        for running in (first, second):
            with pytest.raises(QueryTimeout, match="limit of 2 s"):
                await running
        async with asyncio.timeout(30):  # the replacement loads the store, then answers
            assert json.loads((await pool.query("ASK { ?s ?p ?o }")).body)["boolean"] is True

    run_with_pool(graph, body, timeout=2)


def test_a_query_waits_for_a_replacement_that_loads_longer_than_the_limit(graph: Path) -> None:
    """Regression: with a 0.5 s limit, the query after a timeout waited for the replacement
    worker, which took longer than 0.5 s to start on a loaded machine, and was refused as busy."""
    load_seconds = {"extra": 0.0}

    async def on_worker_start(pid: int) -> None:
        await asyncio.sleep(load_seconds["extra"])

    async def body(pool: QueryPool) -> None:
        with pytest.raises(QueryTimeout):
            await pool.query(SLOW)
        load_seconds["extra"] = 1.0  # from now on, a store that takes twice the limit to load
        with pytest.raises(QueryTimeout):
            await pool.query(SLOW)
        result = await pool.query("SELECT ?o WHERE { ?s ?p ?o }")
        assert json.loads(result.body)["results"]["bindings"][0]["o"]["value"] == "http://example.org/o"

    run_with_pool(graph, body, on_worker_start=on_worker_start, timeout=0.5)


def test_a_failed_start_stops_the_other_workers_cleanly(graph: Path) -> None:
    """Regression: when one worker failed to start, the others went on loading and, cancelled
    at shutdown, raised 'list.remove(x): x not in list' into asyncio's error log."""
    started: list[int] = []

    async def on_worker_start(pid: int) -> None:
        started.append(pid)
        if len(started) == 1:
            await asyncio.sleep(0.2)  # while the other worker loads the store
            raise ConfigurationError("the first worker cannot load the graph")

    errors: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
        pool = QueryPool(graph, workers=2, on_worker_start=on_worker_start)
        try:
            with pytest.raises(ConfigurationError, match="first worker"):
                await pool.start()
        finally:
            await pool.stop()
        assert pool.status().pids == ()

    asyncio.run(main())
    assert errors == []
    assert len(started) == 2 and all(gone(pid) for pid in started)


def test_the_retry_pause_stays_bounded_however_many_attempts() -> None:
    """Regression (found in review): 2.0 ** attempt overflowed after about 17 hours of failed
    attempts, and the OverflowError ended the retries for good. The pool waits
    :func:`kg.web.pool.retry_delay` between attempts."""
    assert [retry_delay(attempt) for attempt in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_delay(1024) == retry_delay(10**6) == MAX_RETRY_SECONDS


#: A SERVICE that a tokeniser reads as part of the IRI ``<?b)SERVICE#>`` and the SPARQL parser as
#: ``<``, ``?b``, ``)``, SERVICE and a comment (issue 18).
DISGUISED = ("SELECT * WHERE {{ ?a ?p ?b FILTER(?a<?b)SERVICE#>\nSILENT <http://127.0.0.1:{port}/x> "
             "{{ ?x ?y ?z }} }} LIMIT 1")


def test_a_disguised_service_is_refused_by_the_worker_however_often_it_is_sent(graph: Path) -> None:
    """Regression (issue 18): the token check let a disguised SERVICE SILENT through; answered
    fast (the sandbox refused the connection, SILENT hid it), it then ran in the server process
    and reached the network. The worker now reads the query with a SPARQL parser first."""
    from kg.errors import QueryRefused

    with counting_listener() as (called, port):
        async def body(pool: QueryPool) -> None:
            for _ in range(4):  # repeated: no cache or fast path may let it through later
                with pytest.raises(QueryRefused, match="SERVICE"):
                    await pool.query(DISGUISED.format(port=port))

        run_with_pool(graph, body)
    assert called == [], "a query the endpoint refuses reached the network"


def test_a_repeated_fast_query_still_waits_for_a_worker(graph: Path) -> None:
    """Regression (issue 18): a text a worker had answered fast ran in the server process the
    next time, with no time limit and no sandbox. Every run of every query now takes a worker:
    with the only worker busy, the fast query waits."""
    quick = "SELECT ?o WHERE { ?s ?p ?o }"

    async def body(pool: QueryPool) -> None:
        first = await pool.query(quick)
        await pool.query(quick)
        busy = asyncio.create_task(pool.query(SLOW))
        await asyncio.sleep(0.1)
        again = asyncio.create_task(pool.query(quick))
        await asyncio.sleep(0.1)
        assert not again.done(), "the query ran outside the workers"
        with pytest.raises(QueryTimeout):
            await busy
        assert await again == first

    run_with_pool(graph, body, timeout=3)


def test_relative_iris_resolve_against_the_base_iri(graph: Path) -> None:
    """Regression (issue 18): ``CONSTRUCT { <s> <p> 1 } WHERE {}`` was a 400 'IRI parsing failed'."""
    async def body(pool: QueryPool) -> None:
        result = await pool.query("CONSTRUCT { <s> <p> 1 } WHERE {}", rdf_type="application/n-triples",
                                  base_iri="http://127.0.0.1:8000/sparql")
        assert result.body.decode() == '<http://127.0.0.1:8000/s> <http://127.0.0.1:8000/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'

    run_with_pool(graph, body)


@pytest.mark.parametrize("deep", [
    # nested out of the tokeniser's sight, inside what it reads as one IRI, so that only the
    # worker's parser sees it
    "SELECT * WHERE { ?a ?p ?b FILTER(?a<?b)" + "{" * 5000 + "#>\n" + "}" * 5000 + " }",
    "SELECT * WHERE { ?a ?p ?b FILTER(?a<?b #>\n" + "(" * 5000 + "1" + ")" * 5000 + ") }",
])
def test_nesting_too_deep_for_the_parser_is_a_query_error_and_the_worker_lives(graph: Path, deep: str) -> None:
    """Regression (issue 18): 10,000 nested braces or parentheses crashed a worker (500) and
    forced a reload of the store. The worker's parser gives up first, and the same worker
    answers the next query."""
    from kg.errors import QueryError

    async def body(pool: QueryPool) -> None:
        pids = pool.status().pids
        with pytest.raises(QueryError):
            await pool.query(deep)
        assert json.loads((await pool.query("ASK { ?s ?p ?o }")).body)["boolean"] is True
        assert pool.status().pids == pids

    run_with_pool(graph, body, timeout=30)
