"""What the public endpoint refuses before a query runs.

The endpoint is read-only and never makes the server read a file or reach the network:
SPARQL Update (including LOAD), SERVICE, and FROM / FROM NAMED (the dataset is fixed; in
other engines these fetch graphs) are refused with a clear message. The check scans the
query's keywords outside strings, IRIs and comments, so ``?service``, ``ex:from`` or
``"LOAD"`` do not trip it.
"""

from __future__ import annotations

import re

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
_KEYWORD = r"(?<![\w?$:])(?:{})(?![\w:])"
_UPDATE = re.compile(
    _KEYWORD.format("INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH"), re.IGNORECASE
)
_SERVICE = re.compile(_KEYWORD.format("SERVICE"), re.IGNORECASE)
_FROM = re.compile(_KEYWORD.format("FROM"), re.IGNORECASE)


def check_read_only(query: str) -> None:
    """Refuse a query that would change data, fetch a graph or call another service.

    :param query: SPARQL text as received
    :raises QueryRefused: naming what is not allowed and why
    """
    code = _SKIP.sub(" ", query)
    if match := _UPDATE.search(code):
        raise QueryRefused(
            f"SPARQL Update ({match.group(0).upper()}) is not allowed: this endpoint is read-only"
        )
    if _SERVICE.search(code):
        raise QueryRefused("SERVICE is not allowed: this endpoint does not query other services")
    if _FROM.search(code):
        raise QueryRefused(
            "FROM and FROM NAMED are not allowed: the dataset is fixed (query the default graph)"
        )
