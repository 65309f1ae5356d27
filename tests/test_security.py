"""The endpoint under attack (issue 18), against a real server (uvicorn and its query workers).

Each probe is sent several times, so that no cache or fast path can let a later copy through;
a listener on loopback counts the connections that any process of the server opens. Then
the applicable tests of the W3C SPARQL 1.1 Protocol manifest (``tests/fixtures/w3c-protocol``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import rdflib
from conftest import counting_listener

MANIFEST = Path(__file__).resolve().parent / "fixtures" / "w3c-protocol" / "manifest.ttl"
REPEAT = 4


def probes(port: int) -> list[str]:
    target = f"<http://127.0.0.1:{port}/x>"
    return [
        # the report's probe: a tokeniser reads <?b)SERVICE#> as one IRI
        f"SELECT * WHERE {{ ?a ?p ?b FILTER(?a<?b)SERVICE#>\nSILENT {target} {{ ?x ?y ?z }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?a ?p ?b FILTER(?a<?b)SERVICE#>\n{target} {{ ?x ?y ?z }} }} LIMIT 1",
        f"SELECT * WHERE {{ SERVICE SILENT {target} {{ ?x ?y ?z }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE {target} {{ ?x ?y ?z }} }}",
        f"SELECT * WHERE {{ ?a ?p ?b SERVICESILENT{target}{{ ?x ?y ?z }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o # a comment ended by a bare CR\rSERVICE {target} {{ ?x ?y ?z }}\n}}",
        f"ASK FROM#>\n{target} {{ }}",
        f"LOAD {target}",
    ]


@pytest.mark.parametrize("answer", [True, False], ids=["hangs-up", "never-answers"])
def test_no_probe_reaches_the_network_and_every_one_is_refused(server: str, answer: bool) -> None:
    with counting_listener(answer=answer) as (called, port):
        for query in probes(port):
            for _ in range(REPEAT):
                started = time.monotonic()
                response = httpx.post(f"{server}/sparql", content=query.encode(),
                                      headers={"Content-Type": "application/sparql-query"}, timeout=30)
                assert response.status_code in (400, 403), (query, response.text)
                assert response.json()["message"], query
                assert time.monotonic() - started < 5, f"a refusal took long: {query!r}"
        assert called == [], "a probe reached the network"


def test_the_server_keeps_serving_while_it_is_probed(server: str) -> None:
    """Against a listener that never answers, the probes came back after 60 s each and every
    other request waited (issue 18). Now each is refused, and other requests go on."""
    with counting_listener(answer=False) as (called, port):
        probing = threading.Event()

        def probe() -> None:
            with httpx.Client(timeout=30) as client:
                while not probing.is_set():
                    for query in probes(port):
                        client.post(f"{server}/sparql", data={"query": query})

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        try:
            with httpx.Client(timeout=10) as client:
                for _ in range(20):
                    started = time.monotonic()
                    answer = client.get(f"{server}/sparql", params={"query": "ASK { ?s ?p ?o }"})
                    assert answer.status_code == 200 and answer.json()["boolean"] is True
                    assert time.monotonic() - started < 2
        finally:
            probing.set()
            thread.join(timeout=30)
        assert called == []


@pytest.mark.skipif(sys.platform != "linux", reason="the network sandbox uses seccomp (Linux)")
def test_the_server_process_and_its_workers_are_sandboxed(served: tuple[str, subprocess.Popen[bytes]]) -> None:
    """No process that could run a query can open a network socket: the server process drops
    the right once its port is bound, each worker before it loads the store (seccomp mode 2)."""
    _, process = served
    pids = [process.pid, *(int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children")
                           .read_text().split())]
    assert len(pids) >= 3, "the server and its two workers"
    for pid in pids:
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":\t" in line)
        assert status["Seccomp"].strip() == "2", f"process {pid} has no seccomp filter"


@pytest.mark.parametrize("query", [
    "SELECT * WHERE " + "{" * 10_000 + "?s ?p ?o" + "}" * 10_000,
    "SELECT * WHERE { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "SELECT * WHERE {" + "OPTIONAL {" * 3_000 + "?s ?p ?o" + "}" * 3_000 + "}",
    # out of the tokeniser's sight (inside what it reads as one IRI): the worker's parser stops it
    "SELECT * WHERE { ?a ?p ?b FILTER(?a<?b)" + "{" * 5_000 + "#>\n" + "}" * 5_000 + " }",
], ids=["braces", "parentheses", "optionals", "hidden-braces"])
def test_deep_nesting_is_a_400_and_no_worker_dies(server: str, query: str) -> None:
    """Regression (issue 18): each such ~20 kB POST killed a worker (500) and forced a reload."""
    for _ in range(REPEAT):
        response = httpx.post(f"{server}/sparql", content=query.encode(),
                              headers={"Content-Type": "application/sparql-query"}, timeout=30)
        assert response.status_code == 400, response.text
        assert "nest" in response.json()["message"]
    started = time.monotonic()
    assert httpx.get(f"{server}/sparql", params={"query": "ASK {}"}).status_code == 200
    assert time.monotonic() - started < 0.5, "a worker was being reloaded"


def test_relative_iris_resolve_against_the_endpoint_url(server: str) -> None:
    """Regression (issue 18): a 400 'IRI parsing failed'; the Oxigraph server resolves them."""
    response = httpx.post(f"{server}/sparql", content=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
                          headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"})
    assert response.status_code == 200, response.text
    graph = rdflib.Graph().parse(data=response.text, format="nt")
    assert set(graph) == {(rdflib.URIRef(f"{server}/s"), rdflib.URIRef(f"{server}/p"), rdflib.Literal(1))}


def test_a_long_get_is_a_json_414(server: str) -> None:
    """Regression (issue 18): a 100 KB GET got uvicorn's plain-text 400."""
    import http.client
    import json
    from urllib.parse import quote, urlsplit

    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 100_000
    address = urlsplit(server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)  # httpx refuses such URLs
    try:
        connection.request("GET", f"/sparql?query={quote(query)}")
        response = connection.getresponse()
        assert response.status == 414
        assert response.getheader("content-type", "").startswith("application/json")
        assert "POST" in json.loads(response.read())["message"]
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/sparql?query=ASK%7B%7D", 200), ("GET", "/sparql?query=ASK%7B", 400), ("GET", "/", 200),
    ("GET", "/static/style.css", 200), ("GET", "/no/such/page", 404), ("GET", "/api/queries", 200),
    ("PUT", "/sparql", 405),
])
def test_every_response_says_nosniff_and_its_content_security_policy(server: str, method: str, path: str,
                                                                       status: int) -> None:
    """Regression (issue 18): JSON error bodies came without X-Content-Type-Options: nosniff."""
    response = httpx.request(method, f"{server}{path}")
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


# --- The W3C SPARQL 1.1 Protocol tests ----------------------------------------------------

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
#: What this endpoint answers instead of the manifest's success: it is read-only (updates are
#: refused) and its dataset is fixed (dataset parameters and FROM are refused), each with a 403.
#: The same holds for any request with a default-graph-uri or named-graph-uri.
REFUSED_BY_POLICY = ("update_", "query_dataset_", "query_multiple_dataset")
FORMATS = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json"},
}


def _manifest() -> list[tuple[str, dict[str, object]]]:
    graph = rdflib.Graph().parse(MANIFEST)
    entries = rdflib.collection.Collection(graph, next(graph.objects(predicate=MF.entries)))
    tests = []
    for test in entries:
        connection = graph.value(test, MF.action)
        first = next(iter(rdflib.collection.Collection(graph, graph.value(connection, HT.requests))))
        body = graph.value(first, HT.body)
        headers = graph.value(first, HT.headers)
        response = graph.value(first, HT.resp)
        tests.append((str(test).rsplit("#", 1)[1], {
            "method": str(graph.value(first, HT.methodName)),
            "path": str(graph.value(first, HT.absolutePath)),
            "body": None if body is None else (str(graph.value(body, CNT.chars)),
                                               str(graph.value(body, CNT.characterEncoding))),
            "headers": {} if headers is None else {
                str(graph.value(header, HT.fieldName)): str(graph.value(header, HT.fieldValue))
                for header in rdflib.collection.Collection(graph, headers)},
            "statuses": {str(status).rsplit("#", 1)[1] for status in graph.objects(response, MF.expectedStatus)},
            "boolean": graph.value(response, MF.expectedBoolean),
            "format": graph.value(response, MF.expectedFormat),
        }))
    return tests


def _cases() -> list[tuple[str, dict[str, object]]]:
    """Each manifest test as written, and each query test that carries dataset parameters
    only in passing (``ASK {}`` with a default-graph-uri) also without them."""
    cases = []
    for name, test in _manifest():
        cases.append((name, test))
        if not name.startswith(REFUSED_BY_POLICY) and _DATASET_PARAMETER.search(str(test["path"])):
            path = _DATASET_PARAMETER.sub("", str(test["path"])).replace("?&", "?").rstrip("?")
            cases.append((f"{name}-without-dataset-parameters", {**test, "path": path}))
    return cases


_DATASET_PARAMETER = re.compile(r"&?(?:default|named)-graph-uri=[^&]*")


@pytest.mark.parametrize(("name", "test"), _cases(), ids=[name for name, _ in _cases()])
def test_w3c_protocol(server: str, name: str, test: dict) -> None:
    # the manifest's service is at /sparql/, this one at /sparql
    url = server + str(test["path"]).replace("/sparql/", "/sparql", 1)
    content = None
    if test["body"] is not None:
        chars, encoding = test["body"]  # type: ignore[misc]
        content = chars.encode("utf-16" if encoding == "UTF-16" else "utf-8")  # UTF-16 with its BOM
    response = httpx.request(str(test["method"]), url, content=content, headers=test["headers"], timeout=30)
    expects_success = "StatusCode4xx" not in test["statuses"]  # type: ignore[operator]
    if expects_success and (name.startswith(REFUSED_BY_POLICY) or _DATASET_PARAMETER.search(url)):
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "query refused"
        return
    statuses = test["statuses"]
    assert f"StatusCode{str(response.status_code)[0]}xx" in statuses, (response.status_code, response.text)  # type: ignore[operator]
    if test["format"] is not None:
        assert response.headers["content-type"].split(";")[0] in FORMATS[str(test["format"])]
    if test["boolean"] is not None:
        assert response.json()["boolean"] is True
