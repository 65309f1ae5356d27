"""Answer a stored query or a SPARQL text on a built graph, formatted: what ``sarcoma-kg query``
and ``sarcoma-kg sparql`` print.

Each is one call that opens the store, runs the query and formats its result, reporting
every problem as an error of :mod:`kg.errors` (an unknown query or parameter before a
missing graph; a query's run-time error as a :class:`~kg.errors.QueryError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kg.errors import ConfigurationError
from kg.query.queries import get_query
from kg.query.results import format_results
from kg.query.store import open_store, read_results, run_query

__all__ = ["answer_sparql", "answer_stored_query", "read_query_file"]


def answer_stored_query(name: str, values: Mapping[str, str], *, graph_file: Path, store_dir: Path | None = None,
                        fmt: str = "table") -> str:
    """Run a stored query with parameter values on the built graph and format its result.

    :param name: the stored query's name (``queries/NAME.rq``)
    :param values: parameter name to value (an IRI, a CURIE, an id, or a label or synonym)
    :param graph_file: the built graph
    :param store_dir: an on-disk Oxigraph store to use (bulk-loaded once, then reopened)
    :param fmt: a format of :data:`kg.query.results.RESULT_FORMATS`
    :returns: the formatted result
    :raises QueryError: for an unknown query or parameter (checked before the graph is
        opened), a value that names nothing, or an error while the query runs
    :raises ConfigurationError: if the graph cannot be loaded
    """
    query = get_query(name)  # an unknown name is reported before a missing graph
    query.check_names(values)  # and so are unknown parameters
    store = open_store(graph_file, store_dir=store_dir)
    return read_results(lambda: format_results(query.run(store, values), fmt))


def answer_sparql(text: str, *, graph_file: Path, store_dir: Path | None = None, fmt: str = "table") -> str:
    """Run a SPARQL text on the built graph and format its result.

    :param text: the query
    :param graph_file: the built graph
    :param store_dir: an on-disk Oxigraph store to use
    :param fmt: a format of :data:`kg.query.results.RESULT_FORMATS`
    :returns: the formatted result
    :raises QueryError: if the query is malformed, an update, or fails while it runs
    :raises ConfigurationError: if the graph cannot be loaded
    """
    store = open_store(graph_file, store_dir=store_dir)
    return read_results(lambda: format_results(run_query(store, text), fmt))


def read_query_file(path: Path) -> str:
    """Read a query file.

    :param path: a ``.rq`` file
    :returns: its text
    :raises ConfigurationError: if it is missing, unreadable or not UTF-8
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"query file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise ConfigurationError(f"{path}: not UTF-8 (byte {error.start}: {error.reason}); save it as UTF-8") from None
    except OSError as error:
        raise ConfigurationError(f"cannot read the query file {path}: {error.strerror or error}") from None
