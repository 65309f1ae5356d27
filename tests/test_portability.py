"""The exports load anywhere: every stored query answers alike on four SPARQL engines.

Each stored query (and each quality check), rendered with its defaults, runs on the embedded
store (pyoxigraph), on a separate Oxigraph server and on a Virtuoso server (Debian's
virtuoso-opensource), each loaded from the Turtle export as the README says and queried over
the SPARQL 1.1 Protocol, and on rdflib's own engine. Answers are compared as multisets of rows
of string values: ORDER BY may break ties differently, so rows are compared unordered.
Numbers are compared by value: Oxigraph keeps xsd:decimal in canonical form ("100") where
rdflib keeps the lexical form of the Turtle file ("100.0", the form Turtle needs to write a
decimal without a datatype).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
import yaml
from conftest import VIRTUOSO_GRAPH, oxigraph_load, start_oxigraph

from kg.query.queries import StoredQuery, load_queries, quality_queries
from kg.resources import resource_path

QUERIES = [*load_queries().values(), *quality_queries()]
#: Every query with its defaults, and the parameters of tests/expected/queries.yaml.
_EXPECTED = yaml.safe_load((Path(__file__).parent / "expected" / "queries.yaml").read_text(encoding="utf-8"))
CASES = [(query, None) for query in QUERIES] + [
    (query, case["params"]) for query in QUERIES for case in _EXPECTED.get(query.name, []) if case.get("params")
]
CASE_IDS = [query.name + ("" if params is None else "-" + "-".join(f"{k}={v}" for k, v in params.items()))
            for query, params in CASES]
_XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {_XSD + name for name in (
    "decimal", "integer", "double", "float", "long", "int", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte")}
Rows = tuple[tuple[str, ...], Counter[tuple[str, ...]]]


def _literal(value: str, datatype: str | None) -> str:
    if datatype == _XSD + "boolean":  # "1" and "0" (Virtuoso) are lexical forms of true and false
        return {"1": "true", "0": "false"}.get(value, value)
    if datatype in _NUMERIC:
        try:
            return format(Decimal(value).normalize(), "f")
        except InvalidOperation:
            return value
    # GROUP_CONCAT's order is undefined in SPARQL 1.1 (engines differ), so a concatenation
    # (the stored queries separate with "; " or " | ") is compared as its sorted parts
    for separator in (" | ", "; "):
        if separator in value:
            return separator.join(sorted(value.split(separator)))
    return value


def _embedded(store: ox.Store, query: StoredQuery, params: dict[str, str] | None) -> Rows:
    solutions = store.query(query.render(params))
    variables = tuple(variable.value for variable in solutions.variables)

    def cell(term: object) -> str:
        if term is None:
            return ""
        if isinstance(term, ox.Literal):
            return _literal(term.value, term.datatype.value)
        return "_:" if isinstance(term, ox.BlankNode) else term.value

    return variables, Counter(tuple(cell(solution[name]) for name in variables) for solution in solutions)


def _over_http(url: str, query: StoredQuery, params: dict[str, str] | None, *, graph: str | None = None) -> Rows:
    form = {"query": query.render(params), **({"default-graph-uri": graph} if graph else {})}
    response = httpx.post(url, data=form,
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    document = response.json()
    variables = tuple(document["head"]["vars"])

    def cell(binding: dict[str, str] | None) -> str:
        if binding is None:
            return ""
        if binding["type"] in ("literal", "typed-literal"):
            return _literal(binding["value"], binding.get("datatype"))
        return "_:" if binding["type"] == "bnode" else binding["value"]

    return variables, Counter(tuple(cell(row.get(name)) for name in variables)
                              for row in document["results"]["bindings"])


def _rdflib(graph: rdflib.Graph, query: StoredQuery, params: dict[str, str] | None) -> Rows:
    result = graph.query(query.render(params))
    variables = tuple(str(variable) for variable in result.vars)

    def cell(term: object) -> str:
        if term is None:
            return ""
        if isinstance(term, rdflib.Literal):
            return _literal(str(term), str(term.datatype) if term.datatype else None)
        return "_:" if isinstance(term, rdflib.BNode) else str(term)

    return variables, Counter(tuple(cell(row[name]) for name in variables) for row in result)


def _differences(expected: Rows, actual: Rows) -> str:
    (variables, rows), (other_variables, other_rows) = expected, actual
    if variables != other_variables:
        return f"variables {variables} != {other_variables}"
    missing, extra = rows - other_rows, other_rows - rows
    return f"{sum(missing.values())} row(s) missing, e.g. {list(missing)[:2]}; " \
           f"{sum(extra.values())} extra, e.g. {list(extra)[:2]}"


@pytest.fixture(scope="module")
def rdflib_graph(built) -> rdflib.Graph:
    """The Turtle export parsed by rdflib (queries then run on rdflib's own SPARQL engine)."""
    return rdflib.Graph().parse(built.output, format="turtle")


@pytest.mark.parametrize(("query", "params"), CASES, ids=CASE_IDS)
def test_oxigraph_server_answers_like_the_embedded_store(query: StoredQuery, params: dict[str, str] | None,
                                                        store: ox.Store, oxigraph_server: str) -> None:
    expected, actual = _embedded(store, query, params), _over_http(oxigraph_server, query, params)
    assert expected == actual, _differences(expected, actual)
    assert query.is_violation_check or sum(expected[1].values()) > 0


@pytest.mark.slow
@pytest.mark.parametrize(("query", "params"), CASES, ids=CASE_IDS)
def test_virtuoso_answers_like_the_embedded_store(query: StoredQuery, params: dict[str, str] | None,
                                                  store: ox.Store, virtuoso_server: str) -> None:
    """Regressions: on Virtuoso 7.2 therapies-by-target gave 77 rows instead of 28 (NOT EXISTS
    over rdfs:subClassOf+), outcomes-by-therapy stopped with SP031 (a BIND inside an OPTIONAL),
    and subtype-outside-hierarchy found every subtype (skos:broader+ inside MINUS); compare-regimens
    got no rows (a UNION whose branches joined on the parameters' VALUES)."""
    expected, actual = _embedded(store, query, params), _over_http(virtuoso_server, query, params,
                                                                  graph=VIRTUOSO_GRAPH)
    if query.name in VIRTUOSO_UNBOUND_COLUMNS:
        column = VIRTUOSO_UNBOUND_COLUMNS[query.name][0]
        expected, actual = _without(expected, column), _without(actual, column)
    assert expected == actual, _differences(expected, actual)


#: Known Virtuoso 7.2.5 deviations: an OPTIONAL column it leaves unbound on some rows in some
#: cases (not all), and why the query is not rewritten; every other column must agree.
VIRTUOSO_UNBOUND_COLUMNS = {
    "figures-by-outcome": ("finding", ("OPTIONAL { ?finding skg:hasValue ?measurement } is left unbound for three figures "
                           "of findings (f-wu-32, f-wu-46); every placement Virtuoso answers fully made rdflib's "
                           "engine run for minutes (a required pattern after an OPTIONAL is evaluated on its own)")),
}


def _without(rows: Rows, column: str) -> Rows:
    variables, counts = rows
    index = variables.index(column)
    kept: Counter[tuple[str, ...]] = Counter()
    for row, count in counts.items():
        kept[row[:index] + row[index + 1:]] += count
    return variables[:index] + variables[index + 1:], kept


@pytest.mark.parametrize(("query", "params"), CASES, ids=CASE_IDS)
def test_rdflib_answers_like_the_embedded_store(query: StoredQuery, params: dict[str, str] | None,
                                               store: ox.Store, rdflib_graph: rdflib.Graph) -> None:
    """Regression: cell-therapy-antigens' GROUP_CONCAT over an OPTIONAL value failed on rdflib
    (NotBoundError), which only the benchmark noticed."""
    expected, actual = _embedded(store, query, params), _rdflib(rdflib_graph, query, params)
    assert expected == actual, _differences(expected, actual)


FEDERATED = resource_path("queries", "federated", "wikidata-clinical-trials.rq")
WIKIDATA_SAMPLE = Path(__file__).parent / "fixtures" / "federation" / "wikidata-sample.nt"


def test_federated_query_joins_wikidata_items_on_the_nct_id(oxigraph_server: str, tmp_path: Path) -> None:
    """The README's federated query, with a local stand-in for Wikidata's endpoint (no network)."""
    loaded = oxigraph_load(tmp_path / "wikidata", WIKIDATA_SAMPLE)
    assert loaded.returncode == 0, loaded.stderr
    stand_in, process = start_oxigraph(tmp_path / "wikidata")
    try:
        text = FEDERATED.read_text(encoding="utf-8")
        assert "SERVICE <https://query.wikidata.org/sparql>" in text
        # Only the endpoint's IRI changes: the stand-in holds items shaped like Wikidata's.
        text = text.replace("<https://query.wikidata.org/sparql>", f"<{stand_in}>")
        response = httpx.post(oxigraph_server, data={"query": text},
                              headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert response.status_code == 200, response.text
        rows = [{name: value["value"] for name, value in row.items()}
                for row in response.json()["results"]["bindings"]]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert rows == [
        {"study": "https://w3id.org/sarcoma-kg/id/sarc028", "label": "SARC028", "nct": "NCT02301039",
         "item": "https://example.org/wikidata-sample/item-1", "itemLabel": "SARC028 (test item)"},
        {"study": "https://w3id.org/sarcoma-kg/id/alliance-a091401", "label": "Alliance A091401",
         "nct": "NCT02500797", "item": "https://example.org/wikidata-sample/item-2"},
    ]
