"""The pool of query worker processes: start them, hand each query to a free one under its time
limit, and replace a worker that runs past it (what a worker does is :mod:`kg.web.execution`).

pyoxigraph offers no query timeout, and a Python signal does not stop a running query;
so each query runs in a worker process that holds its own store, and a worker that runs
past the limit is killed and replaced while the other workers go on serving, and a query
that finds no worker free within the limit is refused as busy (:class:`ServerBusy`). Results are
serialised in the worker by pyoxigraph (the W3C result formats and RDF syntaxes) and
capped in rows and bytes. Every query runs in a worker, under the time limit, never in the
server process. A worker checks an outside query, with a SPARQL parser, before it runs it
(:func:`kg.query.safety.check_query`), and cannot open Internet sockets (:mod:`kg.web.sandbox`), so a
``SERVICE`` query that got past both checks still reaches no other host.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import pickle
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import (
    ConfigurationError,
    QueryError,
    QueryRefused,
    QueryTimeout,
    ResultTooLarge,
    SarcomaKGError,
    ServerBusy,
    WorkerError,
)
from kg.web.execution import FRAME, Limits, QueryResult, Request, frame, serve_queries

__all__ = [
    "MAX_RETRY_SECONDS", "OWN_MAX_ROWS", "Limits", "PoolStatus", "QueryPool", "QueryResult", "WorkerHook", "retry_delay",
]

#: The row cap of the server's own queries (entity pages, parameter lookups, statistics),
#: which the public endpoint's ``--max-rows`` must not break; the byte cap still applies.
OWN_MAX_ROWS = 1_000_000

#: The longest pause between two attempts to start a replacement worker.
MAX_RETRY_SECONDS = 60.0

#: A coroutine function awaited with each worker's process id as the process starts (see
#: :class:`QueryPool`).
WorkerHook = Callable[[int], Awaitable[None]]


def retry_delay(attempt: int) -> float:
    """The pause before trying again to start a replacement worker that failed to start.

    :param attempt: how many attempts have failed before (0 for the first retry)
    :returns: 1, 2, 4 ... seconds, never more than :data:`MAX_RETRY_SECONDS`, however many attempts
    """
    return min(MAX_RETRY_SECONDS, 2.0 ** min(attempt, 16))


@dataclass(frozen=True)
class PoolStatus:
    """What a :class:`QueryPool` holds at one moment.

    :param running: whether the pool has been started and not stopped since
    :param idle: workers free to take a query
    :param starting: workers being started in place of one that was stopped, loading their
        store (a replacement that failed to start and waits to be tried again is not counted:
        queries may be refused as busy meanwhile; its retry is a background task)
    :param pids: the process ids of the pool's worker processes (loaded or loading), in the
        order they were started
    :param background: the pool's background tasks (replacements and their retries)
    """

    running: bool
    idle: int
    starting: int
    pids: tuple[int, ...]
    background: int

    @property
    def busy(self) -> int:
        """Workers running a query: the loaded workers not free."""
        return max(0, len(self.pids) - self.idle - self.starting)

_logger = logging.getLogger(__name__)

#: How much of a reply the event loop buffers before it stops reading from the worker.
_STREAM_LIMIT = 1024 * 1024


#: The errors a worker reports by name, each raised again in the server as it was raised there.
_QUERY_ERRORS: dict[str, type[QueryError]] = {error.__name__: error for error in (QueryError, QueryRefused)}


class _Worker:
    """One worker process and the event loop's stream to it.

    The stream stays registered with the event loop for the worker's life, so a query
    costs one write and one read, not a watch set up and torn down per query.
    """

    def __init__(self, context: Any, graph_file: Path, store_dir: Path | None, limits: Limits) -> None:
        parent, child = socket.socketpair()
        self.process = context.Process(
            target=serve_queries, args=(child, str(graph_file), str(store_dir) if store_dir else None, limits), daemon=True
        )
        self.process.start()
        child.close()
        self.socket = parent
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self, timeout: float) -> None:
        """Open the stream and wait until the worker has loaded its store."""
        self.reader, self.writer = await asyncio.open_unix_connection(sock=self.socket, limit=_STREAM_LIMIT)
        try:
            async with asyncio.timeout(timeout):
                status, message = await self.receive()
        except TimeoutError:
            self.kill()
            raise WorkerError("a query worker did not start in time") from None
        except asyncio.IncompleteReadError:
            self.kill()
            raise WorkerError("a query worker stopped while loading the store") from None
        if status == "ConfigurationError":
            self.kill()
            raise ConfigurationError(f"a query worker cannot load the graph: {message}")
        if status != "ready":
            self.kill()
            raise WorkerError("a query worker failed to start")

    def send(self, message: object) -> None:
        assert self.writer is not None
        self.writer.write(frame(message))

    async def receive(self) -> Any:
        assert self.reader is not None
        header = await self.reader.readexactly(FRAME.size)
        return pickle.loads(await self.reader.readexactly(FRAME.unpack(header)[0]))

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(timeout=5)
        with contextlib.suppress(Exception):
            if self.writer is not None:
                self.writer.close()
            else:
                self.socket.close()


class QueryPool:
    """A pool of worker processes, each with its own copy of the store.

    Every query runs in a worker, under the time limit; the server process runs none (an
    earlier fast path ran repeated fast queries in the server process, where no time limit
    and no sandbox could hold them: see ``SECURITY.md``).

    :param graph_file: the built graph each worker loads
    :param store_dir: an on-disk Oxigraph store each worker opens read-only (instead of
        loading ``graph_file``)
    :param workers: how many queries may run at once
    :param limits: time and size limits of one query
    :param on_worker_start: awaited with each worker's process id as soon as the process has
        started, while it loads the store (at the pool's start and for each replacement): for
        logging, or to inject faults in tests. A :class:`~kg.errors.SarcomaKGError` it raises
        fails that worker's start as a store that cannot be loaded would (the worker is
        stopped; :meth:`start` raises it, a replacement is tried again later), and a delay
        delays the worker's start
    """

    def __init__(self, graph_file: Path, *, store_dir: Path | None = None, workers: int = 2,
                 limits: Limits | None = None, on_worker_start: WorkerHook | None = None) -> None:
        self.graph_file = graph_file
        self.store_dir = store_dir
        self.size = workers
        self.limits = limits or Limits()
        self.on_worker_start = on_worker_start
        self._context = multiprocessing.get_context("spawn")
        # Last in, first out: a lone client keeps getting the worker it just used, whose
        # caches are warm.
        self._idle: asyncio.LifoQueue[_Worker] | None = None
        self._all: list[_Worker] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = False
        self._starting = 0  # workers being replaced

    async def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self.graph_file, self.store_dir, self.limits)
        self._all.append(worker)
        try:
            if self.on_worker_start is not None:
                await self.on_worker_start(worker.process.pid)
            await worker.connect(timeout=600)
        except BaseException:
            worker.kill()
            if worker in self._all:  # stop() may have cleared the list meanwhile
                self._all.remove(worker)
            raise
        return worker

    @property
    def running(self) -> bool:
        """Whether the pool has been started and not stopped since."""
        return self._idle is not None and not self._stopped

    def status(self) -> PoolStatus:
        """How many workers are free, busy and being started, and their processes.

        :returns: a snapshot (it does not change as the pool does)
        """
        return PoolStatus(running=self.running, idle=self._idle.qsize() if self._idle is not None else 0,
                          starting=self._starting, pids=tuple(worker.process.pid for worker in self._all),
                          background=len(self._tasks))

    async def start(self) -> None:
        """Start the workers and wait until each has loaded the store.

        :raises ConfigurationError: if a worker cannot load the graph or open the store
        :raises WorkerError: if a worker does not start in time or stops while starting
        """
        self._stopped = False
        self._idle = asyncio.LifoQueue()
        spawns = [asyncio.ensure_future(self._spawn()) for _ in range(self.size)]
        try:
            workers = await asyncio.gather(*spawns)
        except BaseException:
            # One failed (or start was cancelled): stop the others, loading or loaded, then report it.
            for spawn in spawns:
                spawn.cancel()
            for result in await asyncio.gather(*spawns, return_exceptions=True):
                if isinstance(result, _Worker):
                    result.kill()
                    if result in self._all:
                        self._all.remove(result)
            raise
        for worker in workers:
            self._idle.put_nowait(worker)

    async def stop(self) -> None:
        """Stop every worker, and the replacements being started."""
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self._all:
            worker.kill()
        self._all.clear()

    async def _replace(self, worker: _Worker | None, *, attempt: int = 0) -> None:
        """Kill a worker and start another (counted in ``_starting`` from :meth:`_retire` on).

        A replacement that fails to start (the graph file was removed, the machine is out of
        memory) is logged and tried again later, with a growing pause during which queries
        may be refused as busy, so the pool does not shrink for good.
        """
        try:
            if worker is not None:
                worker.kill()
                if worker in self._all:
                    self._all.remove(worker)
            replacement = await self._spawn()
        except (SarcomaKGError, OSError) as error:
            delay = retry_delay(attempt)
            _logger.error("a query worker could not be replaced (%s); trying again in %g s", error, delay)
            self._in_background(self._replace_later(delay, attempt=attempt + 1))
            return
        finally:
            self._starting -= 1
        assert self._idle is not None
        self._idle.put_nowait(replacement)

    async def _replace_later(self, delay: float, *, attempt: int) -> None:
        await asyncio.sleep(delay)
        if not self._stopped:
            self._starting += 1
            await self._replace(None, attempt=attempt)

    def _in_background(self, coroutine: Any) -> asyncio.Task[Any]:
        """Run a task the pool keeps a reference to until it ends (the loop keeps only a weak one)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _acquire(self) -> _Worker:
        """A free worker, waiting for one at most the time limit while every worker runs a query.

        Time spent while a worker is being replaced (loading its store) does not count: the
        replacement will be free, and a store may take longer to load than the limit. One
        wait on the queue is kept throughout, so requests get workers in the order they came.
        """
        assert self._idle is not None, "start() the pool first"
        if not self._idle.empty():  # no timer to set up when a worker is free
            return self._idle.get_nowait()
        waiting = asyncio.ensure_future(self._idle.get())
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=self.limits.timeout)
                if done:
                    return waiting.result()
                if not self._starting:
                    raise ServerBusy(f"all {self.size} query workers stayed busy for {self.limits.timeout:g} s, "
                                     "so the query was not run; try again later",
                                     retry_after=max(1, math.ceil(self.limits.timeout)))
        finally:
            # a wait given up (busy, or the request cancelled) leaves its place; a worker it was
            # just woken for stays in the queue for the next request (asyncio.Queue.get's contract)
            waiting.cancel()

    async def _roundtrip(self, worker: _Worker, message: Request) -> tuple[str, Any] | None:
        """Send a query, wait for the reply up to the time limit, and settle the worker.

        The worker goes back to the idle ones after its reply. It is replaced when it ran past
        the limit (``None`` is returned), when its stream broke, and when the caller is
        cancelled: its query may still be running, and part of its reply may have been read,
        so it can be neither given the next query nor kept out of the pool for ever.
        """
        try:
            worker.send(message)
            async with asyncio.timeout(self.limits.timeout):
                reply: tuple[str, Any] = await worker.receive()
        except TimeoutError:
            self._retire(worker)
            return None
        except (asyncio.IncompleteReadError, OSError):
            self._retire(worker)
            raise WorkerError("the query worker stopped unexpectedly") from None
        except asyncio.CancelledError:
            self._retire(worker)
            raise
        assert self._idle is not None
        self._idle.put_nowait(worker)
        return reply

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker and start its replacement in the background (none once stopped)."""
        if self._stopped:
            worker.kill()
        else:
            self._starting += 1
            self._in_background(self._replace(worker))

    async def query(self, text: str, *, result_type: str = "application/sparql-results+json",
                    rdf_type: str = "text/turtle", max_rows: int | None = None, base_iri: str | None = None,
                    outside: bool = True) -> QueryResult:
        """Run a query in a free worker.

        :param text: SPARQL query text
        :param result_type: media type for SELECT/ASK results
        :param rdf_type: media type for CONSTRUCT/DESCRIBE results
        :param max_rows: the row cap of this query instead of the pool's (for the server's
            own queries, such as the entity pages'); the byte cap and time limit still apply
        :param base_iri: what relative IRIs in the query resolve against (the endpoint's URL)
        :param outside: the text comes from a client, not from the project's own query files
            with values bound as escaped terms: the worker checks it (:func:`kg.query.safety.check_query`)
            before it runs it
        :returns: the serialised result
        :raises QueryRefused: for an update, a SERVICE or a dataset clause
        :raises QueryError: with the parser's message for a malformed query
        :raises QueryTimeout: if the query runs past the time limit (its worker is replaced)
        :raises ServerBusy: if no worker becomes free within the time limit
        :raises ResultTooLarge: if the result is over the row or byte cap
        """
        worker = await self._acquire()
        request = Request(text, (result_type, rdf_type), max_rows=max_rows, base_iri=base_iri, outside=outside)
        reply = await self._roundtrip(worker, request)
        if reply is None:
            raise QueryTimeout(f"the query ran longer than the limit of {self.limits.timeout:g} s and was stopped")
        status, payload = reply
        if status == "ok":
            return payload
        if status == "ResultTooLarge":
            fact, advice = payload
            raise ResultTooLarge(fact, advice=advice)
        if status in _QUERY_ERRORS:
            raise _QUERY_ERRORS[status](payload)
        raise WorkerError(payload)

    async def rows(self, text: str) -> list[dict[str, str]]:
        """Run one of the server's own SELECT queries (row cap :data:`OWN_MAX_ROWS`).

        :param text: SPARQL SELECT text
        :returns: its rows, each variable's value as a plain string (unbound ones left out)
        :raises QueryError: as :meth:`query`
        """
        result = await self.query(text, max_rows=OWN_MAX_ROWS, outside=False)
        return [{name: cell["value"] for name, cell in row.items()} for row in json.loads(result.body)["results"]["bindings"]]
