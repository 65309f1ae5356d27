"""What the public endpoint refuses before a query runs.

The endpoint is read-only and never makes the server read a file or reach the network:
SPARQL Update (including LOAD), SERVICE, and FROM / FROM NAMED (the dataset is fixed; in
other engines these fetch graphs) are refused with a clear message. Three layers decide it,
and a query runs only when all three accept it (see ``SECURITY.md``). The first two are
:func:`check_query`, which the query worker runs before the query (off the server's event
loop, within the query's time limit):

1. :func:`screen`, before any parser reads the text: a cheap reading of the
   text as SPARQL terminals (IRIs, the four kinds of strings, comments, names, variables,
   language tags, read both as sent and with ``\\uXXXX`` escapes replaced, SPARQL 1.1
   section 19.2) that refuses the keywords of updates, SERVICE and FROM, and brackets nested
   deeper than :data:`MAX_NESTING`. A tokeniser can read a text differently from a parser
   (``FILTER(?a<?b)SERVICE#>`` looks like one IRI to it), so this layer only refuses early;
   it never accepts on its own.
2. :func:`check_parsed`: what a SPARQL 1.1 parser (rdflib's) makes of the text. A query with a SERVICE pattern or
   a dataset clause anywhere in its parse tree is refused; a text the parser cannot read
   is not run.
3. The sandbox (:mod:`kg.web.sandbox`): no process that runs a query can open a network socket.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from kg.errors import QueryError, QueryRefused

__all__ = [
    "MAX_NESTING", "QueryUnreadable", "check_parsed", "check_query", "check_read_only",
    "nesting_depth", "screen", "undeclared_prefixes", "update_keyword",
]

#: The deepest nesting of ``{``, ``(`` and ``[`` a query may have. Real queries stay far below
#: it (the stored ones nest at most 7 deep); engines' recursive parsers crash far above it
#: (Oxigraph between 1,000 and 3,000 levels).
MAX_NESTING = 64
#: The Python recursion limit while rdflib's parser reads a query: enough for
#: :data:`MAX_NESTING` levels with room to spare, and it stops the parser with a
#: ``RecursionError`` a few hundred levels deep, well before Oxigraph's own parser would
#: crash on the same text.
_PARSE_RECURSION_LIMIT = 10_000


class QueryUnreadable(QueryError):
    """A text the safety parser cannot read, which is therefore not run (HTTP 400)."""


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
_OPENING, _CLOSING = frozenset("{(["), frozenset("})]")


def _keywords(query: str) -> set[str]:
    """The bare words of a query outside strings, IRIs, comments, names and language tags."""
    return {match["KEYWORD"].upper() for match in _TERMINAL.finditer(query) if match["KEYWORD"]}


def _unescape_codepoints(query: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = int(match[1] or match[2], 16)
        return chr(code) if code <= 0x10FFFF else match[0]

    return _CODEPOINT.sub(replace, query)


def _scan(query: str) -> tuple[set[str], int]:
    """One pass over a query's terminals: its bare words (upper case) and its deepest bracket
    nesting; the words of its ``\\u`` unescaped form too when it has such an escape."""
    keywords: set[str] = set()
    depth = deepest = 0
    for match in _TERMINAL.finditer(query):
        if match["KEYWORD"]:
            keywords.add(match["KEYWORD"].upper())
            continue
        token = match[0]
        if token in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif token in _CLOSING:
            depth = max(0, depth - 1)
    if _CODEPOINT.search(query):
        keywords |= _keywords(_unescape_codepoints(query))
    return keywords, deepest


def _keyword_refusal(keywords: set[str]) -> str | None:
    """The reason to refuse a query with these bare words, or None."""
    if found := sorted(keywords & _UPDATE):
        return f"SPARQL Update ({found[0]}) is not allowed: this endpoint is read-only"
    if "SERVICE" in keywords:
        return "SERVICE is not allowed: this endpoint does not query other services"
    if "FROM" in keywords:
        return "FROM and FROM NAMED are not allowed: the dataset is fixed (query the default graph)"
    return None


def update_keyword(query: str) -> str | None:
    """The first SPARQL Update keyword of a request (``INSERT``, ``DROP`` ...), if it has one.

    :param query: SPARQL text
    :returns: the keyword, or None for a query with none
    """
    found = sorted(_scan(query)[0] & _UPDATE)
    return found[0] if found else None


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
    if (reason := _keyword_refusal(_scan(query)[0])) is not None:
        raise QueryRefused(reason)


def nesting_depth(query: str) -> int:
    """How deep ``{``, ``(`` and ``[`` nest in a query, outside strings, IRIs and comments.

    :param query: SPARQL text
    :returns: the deepest level reached (0 for a text with no brackets)

    >>> nesting_depth('SELECT * WHERE { ?s ?p "{{{" FILTER((1)) }')
    3
    """
    return _scan(query)[1]


def screen(query: str, *, max_nesting: int = MAX_NESTING) -> None:
    """The cheap checks made before any parser reads a query (layer 1).

    :param query: SPARQL text as received
    :param max_nesting: the deepest bracket nesting accepted
    :raises QueryRefused: for an update keyword, SERVICE or FROM
    :raises QueryError: for brackets nested deeper than ``max_nesting``
    """
    if (refusal := _screen_refusal(query, max_nesting)) is not None:
        error, message = refusal
        raise error(message)


def _screen_refusal(query: str, max_nesting: int) -> tuple[type[QueryError], str] | None:
    """What :func:`screen` refuses: the text is read once, for its words and its nesting."""
    keywords, depth = _scan(query)
    if (reason := _keyword_refusal(keywords)) is not None:
        return QueryRefused, reason
    if depth > max_nesting:
        return QueryError, (f"the query nests brackets {depth} levels deep; the most this endpoint accepts is "
                            f"{max_nesting}")
    return None


def _nodes(tree: Any) -> Iterator[Any]:
    """Every node of an rdflib parse tree, without recursion (a tree may be hundreds deep)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, CompValue):
            stack.extend(node.values())
        elif isinstance(node, (ParseResults, list, tuple)):
            stack.extend(node)


def _parsed_refusal(query: str) -> tuple[type[QueryError], str] | None:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _PARSE_RECURSION_LIMIT))
    try:
        # A comment ends at a carriage return too (SPARQL 1.1 section 19.4), where rdflib's
        # grammar reads on to the next line feed: with CR as LF, both read the same comments
        # (CR may stand in no IRI or short string, and a long string's value is not used here).
        # parseQuery replaces \u escapes first, as section 19.2 says.
        tree = parseQuery(query.replace("\r", "\n"))
    except ParseBaseException as error:
        return QueryUnreadable, f"the query is not SPARQL 1.1 as this endpoint reads it: {error}"
    except RecursionError:
        return QueryUnreadable, "the query nests too deeply to be read"
    finally:
        sys.setrecursionlimit(limit)
    for node in _nodes(tree):
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                return QueryRefused, "SERVICE is not allowed: this endpoint does not query other services"
            if dict.get(node, "datasetClause"):  # CompValue.get answers a missing key with its name
                return QueryRefused, ("FROM and FROM NAMED are not allowed: the dataset is fixed (query the "
                                      "default graph)")
    return None


def check_parsed(query: str) -> None:
    """Refuse a query by what a SPARQL 1.1 parser makes of it (layer 2; run in the worker).

    The text is read by rdflib's SPARQL 1.1 grammar, which accepts only queries (an update
    does not parse); the parse tree must hold no SERVICE pattern and no dataset clause.
    Results are cached by text. A parse takes milliseconds to a few seconds, so it runs
    where the query's time limit holds.

    :param query: SPARQL text as received
    :raises QueryRefused: for a SERVICE pattern or a FROM / FROM NAMED clause
    :raises QueryUnreadable: when the parser cannot read the text (malformed, or nested so deep
        that the parser gives up)

    >>> try:
    ...     check_parsed("SELECT * WHERE { ?a ?p ?b FILTER(?a<?b)SERVICE#>\\n<http://127.0.0.1/> { ?x ?y ?z } }")
    ... except QueryRefused as error:
    ...     print(error)
    SERVICE is not allowed: this endpoint does not query other services
    """
    if (refusal := _parsed_refusal(query)) is not None:
        error, message = refusal
        raise error(message)


def check_query(query: str) -> None:
    """The one verdict on a query from outside: :func:`screen`, then :func:`check_parsed`.

    The text is scanned once and parsed once; the verdict is cached by text (dashboards and
    the stored-query pages send the same texts again and again).

    :param query: SPARQL text as received
    :raises QueryRefused: for an update, SERVICE or a dataset clause
    :raises QueryUnreadable: when the safety parser cannot read the text
    :raises QueryError: for brackets nested deeper than :data:`MAX_NESTING`
    """
    if (refusal := _verdict(query)) is not None:
        error, message = refusal
        raise error(message)


@lru_cache(maxsize=256)
def _verdict(query: str) -> tuple[type[QueryError], str] | None:
    return _screen_refusal(query, MAX_NESTING) or _parsed_refusal(query)
