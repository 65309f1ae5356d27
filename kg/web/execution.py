"""What a query worker process does: check an outside query, run it on its store, serialise
and cap the result, and answer over its socket.

The server side of the same socket is :mod:`kg.web.pool`; the two speak in length-prefixed
pickles (:func:`frame`). A worker first denies itself the network (:mod:`kg.web.sandbox`),
then loads the store, then answers one :class:`Request` at a time.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import pickle
import signal
import socket
import struct
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import QueryError, ResultTooLarge, SarcomaKGError
from kg.formats import RDF_MEDIA_TYPES, RESULT_MEDIA_TYPES, RdfFormat, ResultFormat
from kg.identifiers import common_prefixes
from kg.query.safety import QueryUnreadable, check_query
from kg.query.store import open_store, syntax_error_message
from kg.web.sandbox import deny_network

__all__ = ["FRAME", "Limits", "QueryResult", "Request", "execute", "frame", "serve_queries"]


@dataclass(frozen=True)
class Limits:
    """Caps on what one query may take and return.

    :param timeout: seconds a query may run
    :param max_rows: rows of a SELECT result, triples of a CONSTRUCT result
    :param max_bytes: bytes of a serialised result
    """

    timeout: float = 10.0
    max_rows: int = 10_000
    max_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True)
class QueryResult:
    """A serialised result.

    :param media_type: the media type of ``body``
    :param body: the serialised result
    :param rows: the number of triples (CONSTRUCT), of rows (SELECT) when the result is large
        enough to be counted against the cap, else 1
    """

    media_type: str
    body: bytes
    rows: int


class _Capped(io.BytesIO):
    """A byte sink that stops a serialiser once it has written too much."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.exceeded = False

    def write(self, data: Any) -> int:
        written = super().write(data)
        if self.tell() > self.limit:
            self.exceeded = True
            raise OSError("result too large")
        return written


def _pick(media_type: str, offers: Mapping[str, RdfFormat | ResultFormat]) -> tuple[str, Any]:
    """The media type asked for (else the default, the first offer) and its Oxigraph format."""
    chosen = media_type if media_type in offers else next(iter(offers))
    return chosen, offers[chosen].oxigraph


def _count_rows(body: bytes, results_format: ox.QueryResultsFormat) -> int:
    """Count the rows of serialised SELECT results (CSV and TSV cannot be parsed back to RDF)."""
    if results_format == ox.QueryResultsFormat.CSV:
        return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1)
    if results_format == ox.QueryResultsFormat.TSV:
        return max(0, body.count(b"\n") - 1)  # TSV escapes line breaks inside values
    results = ox.parse_query_results(body, format=results_format)
    return sum(1 for _ in results) if isinstance(results, ox.QuerySolutions) else 1


@dataclass(frozen=True)
class Request:
    """One query as it goes to a worker.

    :param text: the SPARQL text
    :param media_types: the media type for SELECT/ASK results and the one for CONSTRUCT/DESCRIBE
    :param max_rows: the row cap instead of the pool's
    :param base_iri: what relative IRIs in the query resolve against
    :param outside: the text comes from outside the server (not rendered from the project's
        own query files): it is checked (:func:`kg.query.safety.check_query`) before it runs
    """

    text: str
    media_types: tuple[str, str]
    max_rows: int | None = None
    base_iri: str | None = None
    outside: bool = True


#: Oxigraph's recursive parser crashes the process on brackets nested a few thousand deep; a
#: text with at most this many opening brackets cannot nest deeper than that.
_OXIGRAPH_SAFE_BRACKETS = 500


def _unreadable_message(text: str, base_iri: str | None, unreadable: QueryUnreadable) -> str:
    """Oxigraph's own message for a text the safety parser cannot read, when Oxigraph cannot
    read it either (it names the line and column and an undeclared prefix)."""
    if sum(text.count(bracket) for bracket in "{([") <= _OXIGRAPH_SAFE_BRACKETS:
        try:
            ox.Store().query(text, base_iri=base_iri)  # parsed only: the result is never read
        except SyntaxError as error:
            return syntax_error_message(text, error)
    return f"{unreadable}; this endpoint runs only queries that it can check first"


def execute(store: ox.Store, request: Request, limits: Limits) -> QueryResult:
    """Check an outside query, run it and serialise its result (in the worker)."""
    text, media_types = request.text, request.media_types
    if request.outside:
        try:
            check_query(text)
        except QueryUnreadable as unreadable:
            raise QueryError(_unreadable_message(text, request.base_iri, unreadable)) from None
    try:
        result = store.query(text, base_iri=request.base_iri)
    except SyntaxError as error:
        raise QueryError(syntax_error_message(text, error)) from error
    sink = _Capped(limits.max_bytes)
    if isinstance(result, ox.QueryTriples):
        media_type, rdf_format = _pick(media_types[1], RDF_MEDIA_TYPES)
        triples = []
        for count, triple in enumerate(result, start=1):
            if count > limits.max_rows:
                raise ResultTooLarge(f"the result has more than {limits.max_rows} triples", advice="narrow the query")
            triples.append(triple)
        try:
            prefixes = common_prefixes() if rdf_format == ox.RdfFormat.TURTLE else None
            ox.serialize(triples, sink, format=rdf_format, prefixes=prefixes)
        except OSError:
            if sink.exceeded:
                raise ResultTooLarge(f"the result is larger than {limits.max_bytes} bytes",
                                     advice="narrow the query") from None
            raise
        return QueryResult(media_type, sink.getvalue(), len(triples))
    media_type, results_format = _pick(media_types[0], RESULT_MEDIA_TYPES)
    try:
        result.serialize(sink, format=results_format)
    except OSError:
        if sink.exceeded:
            raise ResultTooLarge(f"the result is larger than {limits.max_bytes} bytes", advice="add a LIMIT") from None
        raise
    body = sink.getvalue()
    rows = 1
    # A row takes at least two bytes (one, a line feed, in TSV), so only a larger body can
    # break the cap.
    smallest_row = 1 if results_format == ox.QueryResultsFormat.TSV else 2
    if isinstance(result, ox.QuerySolutions) and len(body) > smallest_row * limits.max_rows:
        rows = _count_rows(body, results_format)
        if rows > limits.max_rows:
            raise ResultTooLarge(f"the result has {rows} rows, more than the limit of {limits.max_rows}",
                                  advice="add a LIMIT")
    return QueryResult(media_type, body, rows)


#: The header of a message on a worker's socket: its length in bytes (then its pickle).
FRAME = struct.Struct("!Q")


def frame(message: object) -> bytes:
    """One message as it goes over the socket, either way: its length, then its pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = sock.recv_into(view[received:])
        if count == 0:
            return None
        received += count
    return bytes(buffer)


def serve_queries(sock: socket.socket, graph_file: str, store_dir: str | None, limits: Limits) -> None:
    """The worker process: keep off the network, load the store, then answer queries until
    the server closes the socket.

    :param sock: the worker's end of the socket pair; the first message says ``ready`` (or
        why the store cannot be loaded), then each :class:`Request` gets one reply
    :param graph_file: the built graph, loaded when ``store_dir`` is not given
    :param store_dir: an Oxigraph store directory, opened read-only
    :param limits: the caps of every query (a request may lower the row cap)
    """
    # Ctrl-C in a terminal reaches the whole process group; the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    check_query("ASK {}")  # imports the safety parser now, not during a query's time limit
    if (reason := deny_network()) is not None:
        warnings.warn(f"query worker: network not sandboxed: {reason}", RuntimeWarning, stacklevel=1)
    try:
        store = open_store(Path(graph_file)) if store_dir is None else ox.Store.read_only(store_dir)
    except (SarcomaKGError, OSError) as error:
        sock.sendall(frame(("ConfigurationError", str(error))))
        return
    sock.sendall(frame(("ready", None)))
    while True:
        header = _recv_exactly(sock, FRAME.size)
        data = header and _recv_exactly(sock, FRAME.unpack(header)[0])
        if not data:
            return
        request: Request = pickle.loads(data)
        query_limits = limits if request.max_rows is None else dataclasses.replace(limits, max_rows=request.max_rows)
        try:
            reply: tuple[str, object] = ("ok", execute(store, request, query_limits))
        except ResultTooLarge as error:
            reply = ("ResultTooLarge", (error.fact, error.advice))
        except QueryError as error:
            reply = (type(error).__name__, str(error))
        except Exception as error:  # noqa: BLE001 - reported to the client as a server error
            reply = ("error", f"{type(error).__name__}: {error}")
        sock.sendall(frame(reply))
