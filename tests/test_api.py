"""Stored queries over HTTP: the REST API, its OpenAPI description, and equal answers.

The application runs in-process (the ``client`` fixture); tests/test_endpoint.py queries a
real server.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from kg.errors import ServerBusy, WorkerError
from kg.query.queries import load_queries
from kg.query.results import solutions_to_rows

QUERIES = load_queries()


def test_openapi_document_is_valid(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    for name, query in QUERIES.items():
        operation = document["paths"][f"/api/queries/{name}"]["get"]
        assert operation["summary"] == query.summary
        assert {p["name"] for p in operation["parameters"]} == {p.name for p in query.parameters}
    target = document["paths"]["/api/queries/therapies-by-target"]["get"]["parameters"][0]
    assert target["description"].endswith("it must name a skg:MolecularTarget")  # the '#+ types:' entry


def test_openapi_document_names_every_error_the_endpoint_sends() -> None:
    from kg.web.api import openapi_document

    document = openapi_document(QUERIES)
    sparql = document["paths"]["/sparql"]["get"]["responses"]
    assert {"400", "403", "413", "422", "503"} <= set(sparql)
    assert "Retry-After" in sparql["503"]["headers"]
    stored = document["paths"]["/api/queries/trials-for-subtype"]["get"]["responses"]
    assert {"400", "422", "503"} <= set(stored) and "Retry-After" in stored["503"]["headers"]


def test_query_listing(client: TestClient) -> None:
    listing = {item["name"]: item for item in client.get("/api/queries").json()}
    assert set(listing) == set(QUERIES)
    assert listing["trials-for-subtype"]["parameters"][0]["default"].endswith("undifferentiated-pleomorphic-sarcoma")


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_api_answers_like_the_embedded_store(client: TestClient, store: ox.Store, name: str) -> None:
    response = client.get(f"/api/queries/{name}")
    assert response.status_code == 200, response.text
    over_http = response.json()["results"]["bindings"]
    _, in_process = solutions_to_rows(QUERIES[name].run(store))
    assert len(over_http) == len(in_process)


def test_parameters_are_bound_as_values(client: TestClient) -> None:
    rows = client.get("/api/queries/therapies-by-target", params={"target": "pd-l1"}).json()
    labels = {row["therapyLabel"]["value"] for row in rows["results"]["bindings"]}
    assert "atezolizumab" in labels and "pembrolizumab" not in labels


@pytest.mark.parametrize("value", ["pd-1> . ?s ?p ?o } #", "a b", '" } ; DROP ALL #'])
def test_injection_attempts_are_rejected(client: TestClient, value: str) -> None:
    response = client.get("/api/queries/therapies-by-target", params={"target": value})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid parameter"


def test_unknown_query_and_parameter(client: TestClient) -> None:
    assert client.get("/api/queries/nope").status_code == 404
    response = client.get("/api/queries/therapies-by-target", params={"tagret": "pd-1"})
    assert response.status_code == 400 and "has no parameter" in response.json()["message"]


def test_api_csv(client: TestClient) -> None:
    response = client.get("/api/queries/subtype-hierarchy", headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0].startswith("subtype,label")


def test_an_empty_iri_parameter_is_refused(client: TestClient) -> None:
    """Regression: subtype= was bound to the bare data namespace and answered 200 with no rows."""
    response = client.get("/api/queries/regimens-ranked-by-orr", params={"subtype": ""})
    assert response.status_code == 400
    assert "subtype" in response.json()["message"]


def test_output_names_the_result_format_as_on_sparql(client: TestClient) -> None:
    response = client.get("/api/queries/therapies-by-target", params={"target": "pd-1", "output": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("value", ["UPS", "ups", "Undifferentiated-Pleomorphic-Sarcoma", "undifferentiated pleomorphic sarcoma",
                                   "skgid:undifferentiated-pleomorphic-sarcoma"])
def test_a_subtype_may_be_named_by_id_label_or_abbreviation_in_any_case(client: TestClient, value: str) -> None:
    """Regression: subtype=UPS (and Leiomyosarcoma, or a MONDO CURIE) answered 200 with no rows."""
    expected = client.get("/api/queries/regimens-ranked-by-orr",
                         params={"subtype": "undifferentiated-pleomorphic-sarcoma"}).json()
    response = client.get("/api/queries/regimens-ranked-by-orr", params={"subtype": value})
    assert response.status_code == 200 and response.json() == expected
    assert expected["results"]["bindings"], "the UPS answer has rows"


def test_a_mapped_identifier_names_its_entity(client: TestClient) -> None:
    by_mondo = client.get("/api/queries/trials-for-subtype", params={"subtype": "MONDO:0005058"}).json()
    by_id = client.get("/api/queries/trials-for-subtype", params={"subtype": "leiomyosarcoma"}).json()
    assert by_mondo == by_id and by_id["results"]["bindings"]


def test_a_value_that_names_nothing_is_a_400_that_says_so(client: TestClient) -> None:
    response = client.get("/api/queries/regimens-ranked-by-orr", params={"subtype": "no-such-sarcoma"})
    assert response.status_code == 400
    assert "nothing in the graph is 'no-such-sarcoma'" in response.json()["message"]


@pytest.mark.parametrize(("query", "params", "message"), [
    ("therapies-by-target", {"target": "sarcoma"}, "'sarcoma' names skgid:sarcoma (sarcoma), which is not a skg:MolecularTarget"),
    ("regimens-ranked-by-orr", {"subtype": "CIK cells"}, "none of which is a skg:SarcomaSubtype"),
    ("study-publications", {"study": "pembrolizumab"}, "which is not a skg:Study"),
])
def test_a_value_that_names_an_entity_of_the_wrong_kind_is_a_400(client: TestClient, query: str, params: dict,
                                                                 message: str) -> None:
    """Regression: target=sarcoma answered 200 with no rows, as if no therapy had that target."""
    response = client.get(f"/api/queries/{query}", params=params)
    assert response.status_code == 400 and message in response.json()["message"], response.text


def test_a_parameter_given_twice_is_a_400(client: TestClient) -> None:
    """Regression: subtype=ups&subtype=mfs silently used the last value."""
    response = client.get("/api/queries/trials-for-subtype", params=[("subtype", "ups"), ("subtype", "mfs")])
    assert response.status_code == 400 and "subtype given more than once" in response.json()["message"]


def test_a_busy_server_while_a_parameter_is_looked_up_is_a_503_with_retry_after(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: ServerBusy, raised while /api/queries looked up a parameter's entity, is a
    QueryError too, and came back as 400 "invalid parameter" instead of 503."""
    async def busy(text: str) -> list[dict[str, str]]:
        raise ServerBusy("all 2 query workers stayed busy for 2 s, so the query was not run", retry_after=2)

    monkeypatch.setattr(client.app.state.pool, "rows", busy)  # type: ignore[attr-defined]
    response = client.get("/api/queries/trials-for-subtype", params={"subtype": "UPS"})
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"] == "server busy"


def test_a_failed_worker_is_a_json_500_for_programs_and_a_page_for_browsers(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a WorkerError in the stored-query API or on an entity page became
    Starlette's plain-text 500 instead of the JSON error body (or the HTML error page)."""
    async def failed(text: str) -> list[dict[str, str]]:
        raise WorkerError("the query worker stopped unexpectedly")

    monkeypatch.setattr(client.app.state.pool, "rows", failed)  # type: ignore[attr-defined]
    response = client.get("/api/queries/trials-for-subtype", params={"subtype": "UPS"})
    assert response.status_code == 500
    assert response.json() == {"error": "query failed", "message": "the query worker stopped unexpectedly",
                               "status": 500}
    page = client.get("/id/sarc028", headers={"Accept": "text/html"})
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "the query worker stopped unexpectedly" in page.text
    assert client.get("/id/sarc028", headers={"Accept": "application/json"}).json()["error"] == "query failed"
