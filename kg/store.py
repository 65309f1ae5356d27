"""The embedded SPARQL store: Oxigraph (pyoxigraph), in memory or on disk.

Queries run on Oxigraph directly, never through oxrdflib (which silently falls back to
rdflib's slow engine for prepared queries); rdflib is used for parsing, building and SHACL.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.errors import ConfigurationError, QueryError

__all__ = ["construct", "graph_to_store", "open_store", "run_query", "select"]


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


def open_store(graph_file: Path, *, store_dir: Path | None = None) -> ox.Store:
    """Open a store holding a built graph.

    :param graph_file: the built graph (Turtle or N-Triples, by extension)
    :param store_dir: an on-disk Oxigraph directory. It is bulk-loaded from ``graph_file``
        once and reopened as it is afterwards (no re-parsing); it is loaded again only when
        the graph file has changed since (its SHA-256 is kept beside the store).
    :returns: the store
    :raises ConfigurationError: if the graph file is missing or cannot be parsed
    """
    if store_dir is not None and (store_dir / _SOURCE_MARKER).is_file():
        recorded = (store_dir / _SOURCE_MARKER).read_text(encoding="utf-8").strip()
        if not graph_file.is_file() or recorded == _digest(graph_file):
            return ox.Store(str(store_dir))
        shutil.rmtree(store_dir)
    if not graph_file.is_file():
        raise ConfigurationError(f"built graph not found: {graph_file} (run 'sarcoma-kg build' first)")
    rdf_format = ox.RdfFormat.N_TRIPLES if graph_file.suffix == ".nt" else ox.RdfFormat.TURTLE
    try:
        if store_dir is not None:
            if store_dir.exists() and any(store_dir.iterdir()):
                raise ConfigurationError(f"{store_dir} is not empty and holds no Sarcoma-KG store; give an empty directory")
            store_dir.mkdir(parents=True, exist_ok=True)
            store = ox.Store(str(store_dir))
            store.bulk_load(path=str(graph_file), format=rdf_format)
            store.optimize()
            store.flush()
            (store_dir / _SOURCE_MARKER).write_text(_digest(graph_file) + "\n", encoding="utf-8")
            return store
        store = ox.Store()
        store.load(path=str(graph_file), format=rdf_format)
    except (OSError, SyntaxError, ValueError) as error:
        raise ConfigurationError(f"cannot load {graph_file}: {error}") from error
    return store


def run_query(store: ox.Store, query: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Run a SPARQL query on the store.

    :param store: an Oxigraph store
    :param query: SPARQL 1.1 query text
    :returns: pyoxigraph's result object
    :raises QueryError: with the parser's message if the query is malformed
    """
    try:
        return store.query(query)
    except SyntaxError as error:
        raise QueryError(str(error)) from error


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
