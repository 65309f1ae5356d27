"""The embedded SPARQL store: Oxigraph (pyoxigraph), in memory or on disk.

Queries run on Oxigraph directly, never through oxrdflib (which silently falls back to
rdflib's slow engine for prepared queries); rdflib is used for parsing, building and SHACL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from rdflib import Graph

from kg.errors import ConfigurationError, QueryError
from kg.identifiers import all_prefixes
from kg.query.safety import undeclared_prefixes, update_keyword

__all__ = ["construct", "graph_to_store", "open_store", "read_results", "run_query", "select", "syntax_error_message"]


def graph_to_store(graph: Graph) -> ox.Store:
    """Copy an rdflib graph into a new in-memory Oxigraph store.

    :param graph: any rdflib graph
    :returns: an in-memory store holding the same triples
    """
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


_SOURCE_MARKER = "sarcoma-kg-source.sha256"


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rdf_format(graph_file: Path) -> ox.RdfFormat:
    """The syntax of a built graph, by its extension: N-Triples (``.nt``) or Turtle."""
    return ox.RdfFormat.N_TRIPLES if graph_file.suffix == ".nt" else ox.RdfFormat.TURTLE


def open_store(graph_file: str | os.PathLike[str], *, store_dir: str | os.PathLike[str] | None = None) -> ox.Store:
    """Open a store holding a built graph.

    :param graph_file: the built graph (Turtle or N-Triples, by extension)
    :param store_dir: an on-disk Oxigraph directory. It is bulk-loaded from ``graph_file``
        once and reopened read-only afterwards (no re-parsing, and any number of commands
        and servers may read it at once); it is loaded again only when the graph file has
        changed since (its SHA-256 is kept beside the store). A loaded store is opened
        even when the graph file is gone: the store is all a query needs.
    :returns: the store (read-only when ``store_dir`` is given)
    :raises ConfigurationError: if the graph file is missing (and no loaded store is given)
        or cannot be parsed, or the store directory cannot be opened, loaded or written
    """
    graph_file = Path(graph_file)
    store_dir = None if store_dir is None else Path(store_dir)
    if store_dir is not None and (store_dir / _SOURCE_MARKER).is_file():
        try:
            recorded = (store_dir / _SOURCE_MARKER).read_text(encoding="utf-8").strip()
            if not graph_file.is_file() or recorded == _digest(graph_file):
                return ox.Store.read_only(str(store_dir))
            shutil.rmtree(store_dir)
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"cannot open the store {store_dir}: {error}") from error
    if not graph_file.is_file():
        raise ConfigurationError(f"built graph not found: {graph_file} (run 'sarcoma-kg build' first)")
    if store_dir is not None:
        return _load_store(graph_file, store_dir)
    rdf_format = _rdf_format(graph_file)
    store = ox.Store()
    try:
        store.load(path=str(graph_file), format=rdf_format)
    except (OSError, SyntaxError, ValueError) as error:
        raise ConfigurationError(f"cannot load {graph_file}: {error}") from error
    return store


def _load_store(graph_file: Path, store_dir: Path) -> ox.Store:
    """Bulk-load a graph into a new on-disk store, then reopen it read-only.

    :param graph_file: the built graph
    :param store_dir: an empty or missing directory
    :returns: the store, read-only (the read-write store is closed, so it holds no lock)
    :raises ConfigurationError: if the directory holds anything else, is being loaded by
        another command, or the graph cannot be loaded
    """
    if store_dir.exists() and any(store_dir.iterdir()):
        if (store_dir / "CURRENT").is_file():  # an Oxigraph (RocksDB) store whose load has not finished
            raise ConfigurationError(f"{store_dir} is not empty: another command is loading it, or its load was "
                                     "interrupted; wait, or remove the directory")
        raise ConfigurationError(f"{store_dir} is not empty and holds no Sarcoma-KG store; give an empty directory")
    rdf_format = _rdf_format(graph_file)
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        store = ox.Store(str(store_dir))
    except OSError as error:
        raise ConfigurationError(f"cannot create the store {store_dir}: {error}") from error
    try:
        store.bulk_load(path=str(graph_file), format=rdf_format)
        store.optimize()
        store.flush()
    except (OSError, SyntaxError, ValueError) as error:
        del store
        # Leave the directory as it was (empty), not as a half-loaded store the next run refuses.
        shutil.rmtree(store_dir, ignore_errors=True)
        store_dir.mkdir(parents=True, exist_ok=True)
        raise ConfigurationError(f"cannot load {graph_file} into {store_dir}: {error}") from error
    del store  # closes the read-write store and releases its lock
    try:
        (store_dir / _SOURCE_MARKER).write_text(_digest(graph_file) + "\n", encoding="utf-8")
        return ox.Store.read_only(str(store_dir))
    except OSError as error:
        raise ConfigurationError(f"cannot open the store {store_dir}: {error}") from error


def run_query(store: ox.Store, query: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Run a SPARQL query on the store.

    pyoxigraph evaluates lazily: most errors of a running query (a ``SERVICE`` that cannot
    be reached, an I/O error of the store) are raised while its results are read, so read
    them through :func:`read_results`.

    :param store: an Oxigraph store
    :param query: SPARQL 1.1 query text
    :returns: pyoxigraph's result object
    :raises QueryError: with the parser's message if the query is malformed, or the
        error's message if it fails as it starts (an ``ASK`` with an unreachable ``SERVICE``)
    """
    try:
        return store.query(query)
    except SyntaxError as error:
        if (keyword := update_keyword(query)) is not None:  # the parser would say "expected CONSTRUCT"
            raise QueryError(f"SPARQL Update ({keyword}) is not supported: the graph is read-only "
                             f"(the parser says: {error})") from error
        raise QueryError(syntax_error_message(query, error)) from error
    except (OSError, RuntimeError) as error:
        raise QueryError(f"the query failed: {error}") from error


def syntax_error_message(query: str, error: SyntaxError) -> str:
    """The parser's message, or what to add when the query uses a prefix it does not declare.

    pyoxigraph reports an undeclared prefix as a list of the characters it expected; this
    names the prefix and the ``PREFIX`` line that declares it (with the namespace, for the
    project's, the W3C vocabularies' and the Bioregistry prefixes the graph uses).

    :param query: the SPARQL text
    :param error: what pyoxigraph's parser raised
    :returns: a message for people
    """
    message = str(error)
    missing = undeclared_prefixes(query) if "Prefix not found" in message else []
    if not missing:
        return message
    known = all_prefixes()
    declarations = "; ".join(f"PREFIX {name}: <{known.get(name, '...')}>" for name in missing)
    position = message.split(": expected", 1)[0]
    names = ", ".join(f"'{name}:'" for name in missing)
    what = f"the prefix {names} is" if len(missing) == 1 else f"the prefixes {names} are"
    return f"{position}: {what} not declared; add {declarations}"


T = TypeVar("T")


def read_results(read: Callable[[], T]) -> T:
    """Read (iterate, serialise, format) a query's results, turning its run-time errors into a QueryError.

    :param read: reads the results, e.g. ``lambda: format_results(result, "json")``
    :returns: what ``read`` returns
    :raises QueryError: if the query fails while its results are read (a ``SERVICE`` that
        cannot be reached, an I/O error)
    """
    try:
        return read()
    except (OSError, RuntimeError) as error:
        raise QueryError(f"the query failed: {error}") from error


def select(store: ox.Store, query: str) -> ox.QuerySolutions:
    """Run a SELECT query on the store.

    :param store: an Oxigraph store
    :param query: SPARQL 1.1 SELECT query text
    :returns: the solutions
    :raises QueryError: with the parser's message if the query is malformed, or if it is not a SELECT
    """
    result = run_query(store, query)
    if not isinstance(result, ox.QuerySolutions):
        raise QueryError("expected a SELECT query")
    return result


def construct(store: ox.Store, query: str) -> ox.QueryTriples:
    """Run a CONSTRUCT (or DESCRIBE) query on the store.

    :param store: an Oxigraph store
    :param query: SPARQL 1.1 CONSTRUCT or DESCRIBE query text
    :returns: the triples
    :raises QueryError: with the parser's message if the query is malformed, or if it is not a CONSTRUCT or DESCRIBE
    """
    result = run_query(store, query)
    if not isinstance(result, ox.QueryTriples):
        raise QueryError("expected a CONSTRUCT or DESCRIBE query")
    return result
