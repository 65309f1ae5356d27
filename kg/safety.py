"""What the public endpoint refuses before a query runs.

The endpoint is read-only and never makes the server read a file or reach the network:
SPARQL Update (including LOAD), SERVICE, and FROM / FROM NAMED (the dataset is fixed; in
other engines these fetch graphs) are refused with a clear message.

The check reads the query the way a SPARQL parser does: it splits it into the terminals of
the SPARQL 1.1 grammar (IRIs, the four kinds of strings, comments, which end at a line feed
or a carriage return, prefixed names with their ``\\``-escapes, variables, language tags) and
looks for the keywords among what is left, so ``?service``, ``ex:from``, ``ex:gene-copy-number``,
``"LOAD"`` and ``"x"@en-with`` do not trip it. SPARQL lets ``\\uXXXX`` escapes stand for any
character anywhere in a query (section 19.2), so the text is read both as sent and with
those escapes replaced, and a keyword found in either is refused. The query workers cannot
open network sockets either (:mod:`kg.workers`), should a query ever get past this check.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kg.errors import QueryError

__all__ = ["QueryRefused", "check_read_only", "is_deterministic", "undeclared_prefixes", "update_keyword"]


class QueryRefused(QueryError):
    """A well-formed request the endpoint will not run (HTTP 403)."""


_PN_CHARS = r"\w\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
# One terminal at a time, tried in this order at each position; the read-only check looks at
# KEYWORD, :func:`undeclared_prefixes` at KEYWORD and PNAME. Anything else (punctuation, a
# stray character) is taken one character at a time, a backslash with the character it escapes.
_TERMINAL = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|#[^\r\n]*"
    r"|[?$][" + _PN_CHARS + r"]+"
    r"|@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*"
    # a blank node label, which looks like a name with the prefix "_" (greedy about dots, as
    # Oxigraph's and rdflib's tokenisers are)
    r"|_:[" + _PN_CHARS + r"][" + _PN_CHARS + r".\-]*"
    # a prefixed name: optional prefix, a colon, an optional local part
    r"|(?P<PNAME>(?:[" + _PN_CHARS + r"][" + _PN_CHARS + r".\-]*)?:(?:(?:[" + _PN_CHARS + r":]|" + _PLX + r")"
    r"(?:[" + _PN_CHARS + r".:\-]|" + _PLX + r")*)?)"
    # a keyword is letters only: ``true.SERVICE`` is the literal true, a dot and SERVICE
    r"|(?P<KEYWORD>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\\.|[\s\S]",
    re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_UPDATE = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
# The built-in functions whose value changes from one run of the same query to the next.
_NONDETERMINISTIC = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE"})


def _keywords(query: str) -> set[str]:
    """The bare words of a query outside strings, IRIs, comments, names and language tags."""
    return {match["KEYWORD"].upper() for match in _TERMINAL.finditer(query) if match["KEYWORD"]}


def _unescape_codepoints(query: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = int(match[1] or match[2], 16)
        return chr(code) if code <= 0x10FFFF else match[0]

    return _CODEPOINT.sub(replace, query)


@lru_cache(maxsize=1024)
def _refusal(query: str) -> str | None:
    """The reason to refuse a query, or None (cached: dashboards send the same queries again)."""
    tokens = _keywords(query) | _keywords(_unescape_codepoints(query))
    if found := sorted(tokens & _UPDATE):
        return f"SPARQL Update ({found[0]}) is not allowed: this endpoint is read-only"
    if "SERVICE" in tokens:
        return "SERVICE is not allowed: this endpoint does not query other services"
    if "FROM" in tokens:
        return "FROM and FROM NAMED are not allowed: the dataset is fixed (query the default graph)"
    return None


def update_keyword(query: str) -> str | None:
    """The first SPARQL Update keyword of a request (``INSERT``, ``DROP`` ...), if it has one.

    :param query: SPARQL text
    :returns: the keyword, or None for a query with none
    """
    found = sorted((_keywords(query) | _keywords(_unescape_codepoints(query))) & _UPDATE)
    return found[0] if found else None


def is_deterministic(query: str) -> bool:
    """Whether running the same query on the same graph does the same work each time.

    A query that calls ``RAND()``, ``NOW()``, ``UUID()``, ``STRUUID()`` or ``BNODE()`` is not:
    one run can be fast and the next slow (``FILTER(RAND() < 0.01)`` before a large join).

    :param query: SPARQL text
    :returns: False if the query calls one of those functions (read as the check reads keywords)
    """
    tokens = _keywords(query) | _keywords(_unescape_codepoints(query))
    return not tokens & _NONDETERMINISTIC


def undeclared_prefixes(query: str) -> list[str]:
    """The prefixes a query uses in prefixed names without declaring them, in order of use.

    :param query: SPARQL text
    :returns: prefix names (``""`` for the empty prefix), each once
    """
    declared: set[str] = set()
    used: dict[str, None] = {}
    after_prefix = False
    for match in _TERMINAL.finditer(query):
        if match["KEYWORD"]:
            after_prefix = match["KEYWORD"].upper() == "PREFIX"
        elif match["PNAME"]:
            name = match["PNAME"].split(":", 1)[0]
            if after_prefix:
                declared.add(name)
            else:
                used.setdefault(name, None)
            after_prefix = False
        elif not match[0].isspace() and not match[0].startswith("#"):
            after_prefix = False
    return [name for name in used if name not in declared]


def check_read_only(query: str) -> None:
    """Refuse a query that would change data, fetch a graph or call another service.

    :param query: SPARQL text as received
    :raises QueryRefused: naming what is not allowed and why
    """
    if (reason := _refusal(query)) is not None:
        raise QueryRefused(reason)
