"""Format SPARQL results for people (a table) and programs (SPARQL JSON, CSV, TSV, XML).

Machine formats are written by pyoxigraph's own serialisers (the W3C result formats);
only the human-readable table is formatted here, with IRIs shortened to CURIEs by the
project's converter.
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.errors import QueryError
from kg.formats import RDF_FORMATS, rdf_format
from kg.formats import RESULT_FORMATS as SPARQL_RESULT_FORMATS
from kg.identifiers import get_converter

__all__ = ["RESULT_FORMATS", "format_results", "solutions_to_rows"]

#: Result format name → pyoxigraph format (None: the text table): the table, then the
#: SPARQL result formats of :mod:`kg.formats`.
RESULT_FORMATS: dict[str, ox.QueryResultsFormat | None] = {
    "table": None, **{fmt.name: fmt.oxigraph for fmt in SPARQL_RESULT_FORMATS},
}


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return get_converter().compress(term.value, passthrough=True)
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def solutions_to_rows(solutions: ox.QuerySolutions) -> tuple[list[str], list[dict[str, str]]]:
    """Read all solutions as plain strings (IRIs as CURIEs where a prefix is known).

    :param solutions: SELECT results
    :returns: the variable names and one dict per row
    """
    variables = [variable.value for variable in solutions.variables]
    rows = [{name: _cell(solution[name]) for name in variables} for solution in solutions]
    return variables, rows


#: Result format name → the RDF syntax a CONSTRUCT or DESCRIBE result is written in: the
#: table's is N-Triples (a line per triple), and a result format's is the RDF format of that
#: name (JSON-LD for ``json``, RDF/XML for ``xml``), if one has it.
_RDF_NAMES = {name for fmt in RDF_FORMATS for name in (fmt.name, *fmt.aliases)}
_RDF_FORMATS = {"table": rdf_format("nt").oxigraph,
                **{name: rdf_format(name).oxigraph for name in RESULT_FORMATS if name in _RDF_NAMES}}


def _line_ended(text: str) -> str:
    """End the text with a line break (pyoxigraph's JSON, and an ASK's CSV, have none)."""
    return text if text.endswith("\n") else text + "\n"


def _text(serialised: bytes | None) -> str:
    """The text pyoxigraph serialised (it returns bytes when given no output file)."""
    assert serialised is not None
    return serialised.decode("utf-8")


def format_results(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, fmt: str = "table") -> str:
    """Format a query result.

    :param result: the result of ``kg.query.store.run_query``
    :param fmt: ``table``, ``json``, ``csv``, ``tsv`` or ``xml`` for SELECT and ASK; for
        CONSTRUCT and DESCRIBE, ``table`` gives N-Triples, ``json`` JSON-LD and ``xml`` RDF/XML
    :returns: the formatted text, ending with a line break
    :raises ValueError: for an unknown format
    :raises QueryError: for CSV or TSV asked of a CONSTRUCT or DESCRIBE
    """
    if fmt not in RESULT_FORMATS:
        raise ValueError(f"unknown result format {fmt!r}; choose one of {', '.join(RESULT_FORMATS)}")
    if isinstance(result, ox.QueryTriples):
        if fmt not in _RDF_FORMATS:
            raise QueryError(f"a CONSTRUCT or DESCRIBE result is RDF: choose {', '.join(_RDF_FORMATS)}, not {fmt!r}")
        return _line_ended(_text(result.serialize(format=_RDF_FORMATS[fmt])))
    target = RESULT_FORMATS[fmt]
    if target is not None:
        return _line_ended(_text(result.serialize(format=target)))
    if isinstance(result, ox.QueryBoolean):
        return "true\n" if bool(result) else "false\n"
    variables, rows = solutions_to_rows(result)
    widths = {name: min(60, max([len(name)] + [len(row[name]) for row in rows])) for name in variables}
    def line(cells: dict[str, str]) -> str:
        return "  ".join(cells[name][: widths[name]].ljust(widths[name]) for name in variables).rstrip()
    out = [line({name: name for name in variables}), line({name: "-" * widths[name] for name in variables})]
    out.extend(line(row) for row in rows)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
