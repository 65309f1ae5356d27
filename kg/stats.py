"""Counts of the graph's contents by kind (``sarcoma-kg stats``)."""

from __future__ import annotations

import pyoxigraph as ox

from kg.queries import get_query
from kg.store import select

__all__ = ["statistics"]


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
