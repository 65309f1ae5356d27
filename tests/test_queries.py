"""Every stored query parses, runs on the curated graph and returns what its expectation says.

Expectations live in expected/queries.yaml: for each query, the parameters to use, the
least number of rows, and rows (some of their columns) that must be among the results.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from rdflib import Graph

from kg.errors import QueryError
from kg.pipeline.rules import apply_rules
from kg.query.queries import get_query, load_queries, quality_queries
from kg.query.results import solutions_to_rows

QUERIES = load_queries()
EXPECTED = yaml.safe_load((Path(__file__).parent / "expected" / "queries.yaml").read_text(encoding="utf-8"))
CASES = [(name, case) for name, cases in EXPECTED.items() for case in cases]


def test_at_least_twelve_stored_queries() -> None:
    assert len(QUERIES) >= 12


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_has_header_and_expectation(name: str) -> None:
    query = QUERIES[name]
    assert query.summary and query.description or not query.parameters, f"{name}: describe the query and its parameters"
    assert name in EXPECTED, f"{name}: add its expected results to tests/expected/queries.yaml"
    for parameter in query.parameters:
        assert parameter.required is False or parameter.default is not None or any(
            parameter.name in (case.get("params") or {}) for case in EXPECTED.get(name, [])
        ), f"{name}: required parameter {parameter.name} has no default"


def _cell(value: object) -> str:
    """A cell as compared: the parts of a " | "-separated GROUP_CONCAT sorted (their order is undefined)."""
    return " | ".join(sorted(str(value).split(" | ")))


@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_query_returns_expected_rows(name: str, case: dict, store: ox.Store) -> None:
    _, rows = solutions_to_rows(get_query(name).run(store, case.get("params")))
    rows = [{k: _cell(v) for k, v in row.items()} for row in rows]
    assert len(rows) >= case.get("min_rows", 1), f"{name}: {len(rows)} rows, expected at least {case.get('min_rows', 1)}"
    if "max_rows" in case:
        assert len(rows) <= case["max_rows"], f"{name}: {len(rows)} rows, expected at most {case['max_rows']}"
    for expected in case.get("contains", []):
        assert any(all(row.get(k) == _cell(v) for k, v in expected.items()) for row in rows), (
            f"{name}: no row matches {expected}"
        )
    for unexpected in case.get("excludes", []):
        assert not any(all(row.get(k) == _cell(v) for k, v in unexpected.items()) for row in rows), (
            f"{name}: a row matches {unexpected}, which should not be there"
        )


VIOLATIONS = Path(__file__).parent / "fixtures" / "violations"


@pytest.mark.parametrize("query", list(quality_queries()), ids=lambda q: q.name)
def test_violation_query_says_why_and_how_to_fix(query) -> None:
    assert query.summary and query.description, f"{query.path}: add '#+ description:' saying why the rule matters"


@pytest.mark.parametrize("query", list(quality_queries()), ids=lambda q: q.name)
def test_violation_query_fires_on_its_fixture(query) -> None:
    """A violation query that can never return a row checks nothing: each has a small graph in
    fixtures/violations that breaks its rule, whose header names the nodes it must report
    (``# expect-row:``) and nodes that keep the rule and must not be reported (``# expect-absent:``)."""
    fixture = VIOLATIONS / f"{query.name}.ttl"
    assert fixture.is_file(), f"add {fixture.relative_to(Path(__file__).parent)}: a graph on which {query.name} returns rows"
    header = [line.removeprefix("# ").split(": ", 1) for line in fixture.read_text(encoding="utf-8").splitlines()
              if line.startswith("# expect-")]
    expected = {value for key, value in header if key == "expect-row"}
    absent = {value for key, value in header if key == "expect-absent"}
    assert expected, f"{fixture.name} needs a '# expect-row: <IRI>' header line"
    # as in the build, the quality checks see the graph with what the rules derive from it
    store = apply_rules(Graph().parse(fixture, format="turtle")).store
    reported = {term.value for solution in store.query(query.text) for term in solution if term is not None}
    assert expected <= reported, f"{query.name} did not report {sorted(expected - reported)} on {fixture.name}"
    assert not absent & reported, f"{query.name} reported {sorted(absent & reported)}, which keep its rule"


@pytest.mark.parametrize("value", [
    "pd-1> . ?s ?p ?o } #",
    'x" } DROP ALL #',
    "https://example.org/a b",
    "<https://w3id.org/sarcoma-kg/id/pd-1>",
])
def test_parameter_values_cannot_change_the_query(value: str) -> None:
    with pytest.raises(QueryError):
        get_query("therapies-by-target").render({"target": value})


def test_parameters_are_bound_at_the_start_of_the_where_group() -> None:
    text = get_query("therapies-by-target").render({"target": "pd-1"})
    head, _, rest = text.partition("WHERE {")
    assert rest.lstrip().startswith("VALUES ?__target_iri { <https://w3id.org/sarcoma-kg/id/pd-1> }")
    assert "VALUES" not in head


def test_string_values_are_escaped_by_pyoxigraph() -> None:
    from kg.query.queries import Parameter

    parameter = Parameter(name="text", variable="_text", kind="string", required=True)
    assert str(parameter.term('a" } DROP ALL #')) == '"a\\" } DROP ALL #"'


@pytest.mark.parametrize(("kind", "value"), [
    ("decimal", "nan"), ("decimal", "inf"), ("decimal", "-Infinity"), ("decimal", "1e3"), ("decimal", "1_000"),
    ("decimal", "."), ("decimal", ""), ("integer", "1_000"), ("integer", "1.5"), ("integer", "\uff11\uff12"),
])
def test_numeric_values_must_be_xsd_lexical_forms(kind: str, value: str) -> None:
    """Regression: a decimal parameter took anything float() reads, and passed "nan", "inf"
    and "1e3" on as xsd:decimal literals that are not valid decimals."""
    from kg.query.queries import Parameter

    with pytest.raises(QueryError, match=f"is not a valid {kind}"):
        Parameter(name="n", variable=f"_n_{kind}", kind=kind, required=True).term(value)


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("decimal", "20", '"20"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
    ("decimal", " -0.5 ", '"-0.5"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
    ("decimal", ".5", '".5"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
    ("integer", "+7", '"7"^^<http://www.w3.org/2001/XMLSchema#integer>'),
])
def test_numeric_values_in_xsd_lexical_forms_are_kept(kind: str, value: str, expected: str) -> None:
    from kg.query.queries import Parameter

    assert str(Parameter(name="n", variable=f"_n_{kind}", kind=kind, required=True).term(value)) == expected


def test_where_inside_strings_and_comments_is_skipped() -> None:
    from kg.query.queries import Parameter, StoredQuery

    text = '# WHERE { in a comment\nSELECT ?x WHERE { BIND ("WHERE {" AS ?x) ?_y_iri ?p ?o }'
    query = StoredQuery(name="q", path=Path("q.rq"), text=text, summary="s",
                        parameters=(Parameter(name="y", variable="_y_iri", kind="iri", required=True),))
    assert query.render({"y": "pd-1"}).startswith("# WHERE { in a comment\nSELECT ?x WHERE {\n  VALUES ?_y_iri")


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(QueryError, match="has no parameter"):
        get_query("therapies-by-target").render({"tagret": "pd-1"})


def test_malformed_query_reports_the_parser_message(store: ox.Store) -> None:
    from kg.query.store import run_query

    with pytest.raises(QueryError, match="error at"):
        run_query(store, "SELECT * WHERE { ?s ?p }")


def test_python_callers_may_name_entities_as_the_cli_and_http_do(store: ox.Store) -> None:
    """StoredQuery.run looks IRI parameters up as the CLI and /api do (label, abbreviation, CURIE)."""
    query = get_query("trials-for-subtype")
    _, by_iri = solutions_to_rows(query.run(store, {"subtype": "https://w3id.org/sarcoma-kg/id/undifferentiated-pleomorphic-sarcoma"}))
    assert by_iri
    for name in ("UPS", "undifferentiated pleomorphic sarcoma", "skgid:undifferentiated-pleomorphic-sarcoma"):
        _, rows = solutions_to_rows(query.run(store, {"subtype": name}))
        assert rows == by_iri, name
    with pytest.raises(QueryError, match="nothing in the graph is 'no such subtype'"):
        query.run(store, {"subtype": "no such subtype"})


def test_an_id_in_another_case_wins_over_a_label_of_another_entity() -> None:
    """Regression: 'Interleukin-2' (the id interleukin-2 in another case) was ambiguous with
    the regimen labelled 'interleukin-2'."""
    from kg.query.queries import Parameter, resolve_entity

    rows = [{"match": "https://w3id.org/sarcoma-kg/id/interleukin-2", "label": "interleukin-2"},
            {"match": "https://w3id.org/sarcoma-kg/id/interleukin-2-monotherapy", "label": "interleukin-2"}]
    parameter = Parameter(name="thing", variable="__thing_iri", kind="iri", required=False)
    assert resolve_entity(parameter, "Interleukin-2", rows) == "https://w3id.org/sarcoma-kg/id/interleukin-2"
    with pytest.raises(QueryError, match="could be skgid:interleukin-2 .*skgid:interleukin-2-monotherapy"):
        resolve_entity(parameter, "IL-2 the label", rows)


def test_a_small_group_never_ranks_above_a_whole_cohort(store: ox.Store) -> None:
    """regimens-ranked-by-orr: "100% (4 UPS)" came first, above "23% (9/40)"; values on fewer than
    10 patients (or a case report) now follow every whole-cohort value, each part highest first."""
    _, rows = solutions_to_rows(get_query("regimens-ranked-by-orr").run(store, {}))
    flags = [row["smallGroup"] for row in rows]
    assert "true" in flags and "false" in flags
    assert flags == sorted(flags), "whole-cohort values (false) come before small-group values (true)"
    first_small = flags.index("true")
    for part in (rows[:first_small], rows[first_small:]):
        rates = [float(row["orr"]) for row in part]
        assert rates == sorted(rates, reverse=True)
