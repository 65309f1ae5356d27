"""Counts of the graph's contents by kind (``sarcoma-kg stats``)."""

from __future__ import annotations

import json

import pyoxigraph as ox

from kg.query.queries import get_query
from kg.query.store import select

__all__ = ["format_statistics", "statistics"]


def statistics(store: ox.Store) -> dict[str, int]:
    """Count the graph's contents by kind, using the stored query ``graph-statistics``.

    :param store: the store holding the built graph
    :returns: kind → count, plus ``measurements with a quote (%)``
    """
    counts = {solution["kind"].value: int(solution["count"].value)
              for solution in select(store, get_query("graph-statistics").text)}
    measurements = counts.get("measurements", 0)
    quoted = counts.get("measurements with a quote", 0)
    counts["measurements with a quote (%)"] = round(100 * quoted / measurements) if measurements else 100
    return counts


def format_statistics(counts: dict[str, int], *, fmt: str = "table") -> str:
    """Format counts for people (aligned columns) or programs (JSON).

    :param counts: kind → count, as :func:`statistics` returns them
    :param fmt: ``table`` or ``json``
    :returns: the text, ending with a line break
    :raises ValueError: for another format
    """
    if fmt == "json":
        return json.dumps(counts, indent=2) + "\n"
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; choose table or json")
    width = max((len(kind) for kind in counts), default=0)
    return "".join(f"{kind.ljust(width)}  {count}\n" for kind, count in counts.items())
