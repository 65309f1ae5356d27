"""What the public endpoint refuses before a query runs.

The endpoint is read-only and never makes the server read a file or reach the network:
SPARQL Update (including LOAD), SERVICE, and FROM / FROM NAMED (the dataset is fixed; in
other engines these fetch graphs) are refused with a clear message. The check scans the
query's keywords outside strings, IRIs and comments, so ``?service``, ``ex:from`` or
``"LOAD"`` do not trip it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kg.errors import QueryError

__all__ = ["QueryRefused", "check_read_only"]


class QueryRefused(QueryError):
    """A well-formed request the endpoint will not run (HTTP 403)."""


# Strings (long and short), IRIs and comments: removed before looking for keywords.
_SKIP = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|#[^\n]*",
)
# A keyword is a whole token: a run of word characters and colons, so that prefixed names
# (ex:from, :load) and variables (?service, $from) are never mistaken for one.
_TOKEN = re.compile(r"[?$]?[\w:]+")
_UPDATE = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})


@lru_cache(maxsize=1024)
def _refusal(query: str) -> str | None:
    """The reason to refuse a query, or None (cached: dashboards send the same queries again)."""
    tokens = {token.upper() for token in _TOKEN.findall(_SKIP.sub(" ", query))}
    if found := sorted(tokens & _UPDATE):
        return f"SPARQL Update ({found[0]}) is not allowed: this endpoint is read-only"
    if "SERVICE" in tokens:
        return "SERVICE is not allowed: this endpoint does not query other services"
    if "FROM" in tokens:
        return "FROM and FROM NAMED are not allowed: the dataset is fixed (query the default graph)"
    return None


def check_read_only(query: str) -> None:
    """Refuse a query that would change data, fetch a graph or call another service.

    :param query: SPARQL text as received
    :raises QueryRefused: naming what is not allowed and why
    """
    if (reason := _refusal(query)) is not None:
        raise QueryRefused(reason)
