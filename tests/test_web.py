"""The web interface in-process (Starlette's TestClient): search, case-insensitive ids, the
forest plot's SVG, HTML error pages for browsers and JSON for programs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from kg.pipeline.build import BuildResult
from kg.web.app import create_app
from kg.web.pages import templates
from kg.web.plots import ForestRow, forest_plot
from kg.web.search import SearchIndex

ID = "https://w3id.org/sarcoma-kg/id/"
SVG = "{http://www.w3.org/2000/svg}"
UPS = "/id/undifferentiated-pleomorphic-sarcoma"


@pytest.fixture(scope="module")
def client(built: BuildResult) -> Iterator[TestClient]:
    assert built.output is not None
    with TestClient(create_app(built.output, workers=1)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def search(client: TestClient) -> SearchIndex:
    return client.app.state.search  # type: ignore[attr-defined]


@pytest.mark.parametrize(("query", "label", "field"), [
    ("UPS", "undifferentiated pleomorphic sarcoma", "abbreviation"),
    ("ups", "undifferentiated pleomorphic sarcoma", "abbreviation"),
    ("MFS", "myxofibrosarcoma", "abbreviation"),
    ("CTLA4", "CTLA-4", "gene symbol"),
    ("nct02301039", "SARC028", "NCT id"),
    ("SARC028", "SARC028", "acronym"),
    ("soft tissue sarcoma", "soft tissue sarcoma", "label"),
    ("10.1182/blood-2017-08-802926", "Akahori 2018", "DOI"),
])
def test_an_exact_name_ranks_first(search: SearchIndex, query: str, label: str, field: str) -> None:
    hits = search.search(query)
    assert hits and (hits[0].label, hits[0].field, hits[0].match) == (label, field, "exact"), hits[:3]


def test_ranks_go_exact_then_prefix_then_substring_then_quotes(search: SearchIndex) -> None:
    ranks = ["exact", "exact synonym", "prefix", "substring", "quote"]
    for query in ["pembro", "sarcoma", "tertiary lymphoid", "UPS"]:
        hits = search.search(query, limit=200)
        order = [ranks.index(hit.match) for hit in hits]
        assert order == sorted(order), query
        assert len({hit.entity for hit in hits}) == len(hits), "one hit per entity"
    assert search.search("pembro")[0].match == "prefix"
    assert any(hit.match == "quote" for hit in search.search("tertiary lymphoid", limit=200))


def test_a_search_for_nothing_finds_nothing(search: SearchIndex) -> None:
    assert search.search("  ") == [] and search.search("--") == []
    assert search.search("zzzz-no-such-name") == []


def test_api_search_returns_json_in_the_openapi_shape(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "ups", "limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "ups" and 1 <= len(body["results"]) <= 5
    first = body["results"][0]
    assert first["url"] == UPS and first["id"] == ID + "undifferentiated-pleomorphic-sarcoma"
    schema = client.get("/openapi.json").json()
    assert "/api/search" in schema["paths"]
    assert set(first) == set(schema["components"]["schemas"]["SearchResults"]["properties"]["results"]["items"]["properties"])


@pytest.mark.parametrize("params", [{}, {"q": " "}, {"q": "ups", "limit": "0"}, {"q": "ups", "limit": "x"},
                                   {"q": "ups", "limit": "201"}])
def test_api_search_refuses_what_it_cannot_answer(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 400 and response.json()["error"] == "invalid parameter"


def test_search_page_lists_hits_with_links(client: TestClient) -> None:
    html = client.get("/search", params={"q": "NCT02301039"}).text
    assert 'href="/id/sarc028"' in html and "NCT id: NCT02301039" in html
    assert 'value="NCT02301039"' in html  # the header's box keeps the query
    assert "Nothing in the graph" in client.get("/search", params={"q": "zzzz-no-such-name"}).text


def test_every_page_has_the_search_box(client: TestClient) -> None:
    for path in ["/", UPS, "/query", "/search", "/ontology/ImmuneCheckpointInhibitor"]:
        assert re.search(r'<form class="search" role="search" action="/search"', client.get(path).text), path


@pytest.mark.parametrize(("path", "target"), [
    ("/id/SARC028", "/id/sarc028"),
    ("/id/Undifferentiated-Pleomorphic-Sarcoma", UPS),
    ("/id/PEMBROLIZUMAB?format=ttl", "/id/pembrolizumab?format=ttl"),
])
def test_an_id_in_another_case_redirects_to_its_page(client: TestClient, path: str, target: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in {307, 308} and response.headers["location"] == target
    assert client.get(path).status_code == 200


def test_an_unknown_id_in_any_case_is_still_a_404(client: TestClient) -> None:
    assert client.get("/id/No-Such-Thing", follow_redirects=False).status_code == 404


def _forest(html: str) -> ET.Element:
    match = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="forest".*?</svg>', html, re.DOTALL)
    assert match, "no forest plot"
    return ET.fromstring(match.group(0))


def test_forest_plot_points_link_to_measurements_and_show_n(client: TestClient) -> None:
    svg = _forest(client.get(UPS).text)
    assert svg.get("viewBox") and svg.get("width") == "100%"
    assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
    rows = svg.findall(f".//{SVG}g[@class='row']") + svg.findall(f".//{SVG}g[@class='row small']")
    assert len(rows) >= 5
    for row in rows:
        point = row.find(f"{SVG}a[@class='point']")
        assert point is not None and point.get("href") == "/id/" + row.get("data-measurement").removeprefix(ID)
        assert client.get(point.get("href")).status_code == 200
        n = row.find(f"{SVG}text[@class]")
        texts = ["".join(t.itertext()) for t in row.iter(f"{SVG}text")]
        assert any(re.match(r"N (\d+\*?|\?)", text) for text in texts), texts
        assert n is not None
        study = row.find(f".//{SVG}a[@class='study']")
        assert study is not None and study.get("href").startswith("/id/")


def test_forest_plot_marks_derived_intervals_and_small_groups(client: TestClient) -> None:
    html = client.get(UPS).text
    svg = _forest(html)
    intervals = svg.findall(f".//{SVG}line[@class='ci derived']")
    assert intervals, "the UPS page has values with a printed count and N"
    captions = " ".join(" ".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    assert re.search(r"95% CI [\d.]+–[\d.]+% \(derived\s+from\s+\d+/\d+\)", " ".join(captions.split())), captions
    assert svg.findall(f".//{SVG}g[@class='row small']"), "UPS has values on fewer than 10 patients"
    assert "N&lt;10" in html and "derived</em>" in html  # the table under the plot says so too


def test_subtype_page_plots_median_pfs_and_os_in_months_without_intervals(client: TestClient) -> None:
    html = client.get("/id/soft-tissue-sarcoma").text
    plots = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="forest".*?</svg>', html, re.DOTALL)
    titles = ["".join(ET.fromstring(plot).find(f"{SVG}title").itertext()) for plot in plots]
    assert [title.split(" (")[0] for title in titles] == [
        "Reported objective response rates by regimen", "Reported median progression-free survival by regimen",
        "Reported median overall survival by regimen"], titles
    for plot in plots[1:]:
        svg = ET.fromstring(plot)
        assert not svg.findall(f".//{SVG}line[@class='ci derived']"), "a median has no interval"
        ticks = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"]
        assert "0 mo" in ticks and len(set(ticks)) <= 9
        for point in svg.iter(f"{SVG}a"):
            if point.get("class") == "point":
                assert "months" not in point.get("href") and point.get("href").startswith("/id/")
    assert html.count('id="forest-orr-title"') == 1 and html.count('id="forest-os-title"') == 1


def test_forest_rows_are_grouped_by_regimen_and_wrapped_not_clipped() -> None:
    long = "an extremely long regimen name that would never fit beside the plot on a narrow phone screen"
    rows = [ForestRow(ID + f"m{i}", ID + "r", long if i < 2 else "b regimen", rate, "ORR 23%", "UPS", ID + "s",
                      "a study", "Wu 2025", "Table 2" if i else "text", 9, 40, None, None, None, i == 2, None)
            for i, rate in enumerate([23, 40, 100])]
    layout = forest_plot(rows)
    assert [g["label"] for g in layout["groups"]] == [long, "b regimen"]
    assert len(layout["groups"]) == 2 and len(layout["groups"][0]["lines"]) > 1
    assert all(len(line) <= 56 for group in layout["groups"] for line in group["lines"])
    assert [r["filled"] for r in layout["rows"]] == [False, True, True]
    ys = [r["y"] for r in layout["rows"]]
    assert ys == sorted(ys) and layout["height"] > ys[-1]
    assert all(0 <= r["x"] <= layout["width"] for r in layout["rows"])


def test_the_forest_plot_escapes_what_it_shows() -> None:
    hostile = '<script>alert("x")</script>'
    row = ForestRow(ID + "m", ID + "r", hostile, 50, hostile, hostile, ID + "s", hostile, hostile, hostile)
    html = templates.get_template("forest.html").render(forest=forest_plot([row]))
    assert "<script>alert" not in html and "&lt;script&gt;" in html


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(("path", "status"), [("/no/such/page", 404), ("/api/queries/no-such-query", 404),
                                              ("/id/no-such-thing", 404)])
def test_a_browser_gets_an_html_error_page(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == status and response.headers["content-type"].startswith("text/html")
    assert '<form class="search"' in response.text


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_a_program_gets_a_json_error(client: TestClient, accept: str | None) -> None:
    response = client.get("/no/such/page", headers={"Accept": accept} if accept else {})
    assert response.status_code == 404 and response.json()["error"] == "not found"


def test_a_wrong_method_says_which_are_allowed_on_a_page_too(client: TestClient) -> None:
    response = client.delete("/id/sarc028", headers={"Accept": BROWSER})
    assert response.status_code == 405 and "GET" in response.headers["allow"]
    assert response.headers["content-type"].startswith("text/html")


def test_sparql_without_a_query_sends_a_browser_to_the_editor(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": BROWSER}, follow_redirects=False)
    assert response.status_code in {302, 303, 307} and response.headers["location"] == "/query"
    for accept in [None, "*/*", "text/turtle"]:
        description = client.get("/sparql", headers={"Accept": accept} if accept else {}, follow_redirects=False)
        assert description.status_code == 200 and description.headers["content-type"].startswith("text/turtle")
    query = client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": BROWSER}, follow_redirects=False)
    assert query.status_code == 200, "a query from a browser is answered, not redirected"


def test_property_headings_are_labels_not_curies(client: TestClient) -> None:
    html = client.get("/id/pembrolizumab").text
    assert 'title="skos:exactMatch">exact match</span>:' in html
    assert ">skos:exactMatch:" not in html and "<th>skos:" not in html


def test_the_access_log_has_a_line_per_request() -> None:
    """On an app of its own: the session's app talks to its query workers on its own event loop,
    which a second TestClient (another loop) must not use."""
    import io

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from kg.web.server import AccessLog

    async def page(request: object) -> PlainTextResponse:
        return PlainTextResponse("a page")

    stream = io.StringIO()
    logged = TestClient(AccessLog(Starlette(routes=[Route("/id/sarc028", page)]), stream=stream))
    logged.get("/id/sarc028?format=ttl")
    logged.get("/no/such/page")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"GET /id/sarc028 200 \d+\.\d ms", lines[0]), lines[0]
    assert re.fullmatch(r"GET /no/such/page 404 \d+\.\d ms", lines[1]), lines[1]


def test_serve_has_a_quiet_flag() -> None:
    from click.testing import CliRunner

    from kg.cli import main

    assert "--quiet" in CliRunner().invoke(main, ["serve", "--help"]).output


@pytest.mark.parametrize(("numeric", "unit", "label", "expected"), [
    ("19.7", "http://purl.obolibrary.org/obo/UO_0000035", "month", "19.7 months"),
    ("1", "http://purl.obolibrary.org/obo/UO_0000036", "year", "1 year"),
    ("49", "http://purl.obolibrary.org/obo/UO_0000034", "week", "49 weeks"),
    ("23", "http://purl.obolibrary.org/obo/UO_0000187", "percent", ""),  # "23%" says it
    ("46", "http://purl.obolibrary.org/obo/UO_0000189", "count unit", ""),
    (None, "http://purl.obolibrary.org/obo/UO_0000035", "month", ""),
])
def test_a_reading_names_the_unit_where_the_print_does_not(numeric: str | None, unit: str, label: str,
                                                          expected: str) -> None:
    from kg.web.pages import reading

    assert reading(numeric, unit, label) == expected


def test_19_7_ms_reads_as_months_beside_the_value_as_printed(client: TestClient) -> None:
    """'19.7 ms' is the source's abbreviation of months; the page keeps it and adds the reading."""
    measurement = client.get("/id/m-huang-acse-9").text
    assert "<strong>19.7 ms</strong>" in measurement and "(read as 19.7 months)" in measurement
    study = client.get("/id/blay-2023-acse-pembrolizumab").text
    assert re.search(r">19\.7 ms</a> <span class=\"reading\"[^>]*>\(19\.7 months\)</span>", study)
    assert re.search(r">2\.75 ms</a> <span class=\"reading\"[^>]*>\(2\.75 months\)</span>", study)
    assert not re.search(r"%</a> <span class=\"reading\"", study), "no reading beside a percentage"


# --- the home page, summaries, stored-query pages and downloads (issue 22 items 2, 3, 4, 6) ---

def _links(html: str) -> dict[str, str]:
    """The link texts of a page by their target."""
    return {href: re.sub(r"<[^>]+>", "", text).strip() for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', html)}


def test_the_home_page_starts_with_the_subtype_tree_with_counts(client: TestClient) -> None:
    html = client.get("/").text
    tree = html[html.index("<h2>Sarcoma subtypes</h2>"):html.index("<h2>Questions</h2>")]
    # sarcoma > soft tissue sarcoma > UPS, nested lists in that order
    sarcoma, soft, ups = (tree.index(f'href="/id/{name}"') for name in
                          ["sarcoma", "soft-tissue-sarcoma", "undifferentiated-pleomorphic-sarcoma"])
    assert sarcoma < soft < ups and tree.count("<ul>") > 3
    assert "bone-sarcoma" in tree and "osteosarcoma" in tree
    assert re.search(r'href="/id/undifferentiated-pleomorphic-sarcoma">undifferentiated pleomorphic sarcoma</a>'
                     r' <abbr>\(UPS\)</abbr>\s*<span class="counts">\d+ studies · \d+ measurements</span>', tree)


def test_the_home_page_counts_agree_with_graph_statistics(client: TestClient) -> None:
    html = client.get("/").text
    counts = client.get("/api/queries/graph-statistics", headers={"Accept": "application/json"}).json()
    for row in counts["results"]["bindings"]:
        assert f"<tr><th>{row['kind']['value']}</th><td>{row['count']['value']}</td></tr>" in html, row


def test_the_home_page_lists_therapy_classes_and_questions_that_open(client: TestClient) -> None:
    from kg.web.pages import QUESTIONS

    html = client.get("/").text
    classes = html[html.index("<h2>Therapy classes</h2>"):]
    assert classes.index("immune checkpoint inhibitor") < classes.index("PD-1 inhibitor")
    assert re.search(r'PD-1 inhibitor</a>\s*<span class="counts">\d+ therap', classes)
    links = _links(html)
    for name in QUESTIONS:
        assert f"/queries/{name}" in links, name
    assert client.get(f"/queries/{QUESTIONS[0]}").status_code == 200


@pytest.mark.parametrize(("rows", "expected"), [
    ([{"id": "a"}, {"id": "b", "parent": "a"}, {"id": "c", "parent": "b"}], ["a", ["b", ["c"]]]),
    ([{"id": "b", "parent": "a"}, {"id": "a"}], ["a", ["b"]]),  # a child listed before its parent
    ([{"id": "x", "parent": "elsewhere"}, {"id": "y"}], ["x", "y"]),  # an unknown parent: a root
    ([{"id": "a"}, {"id": "c", "parent": "a"}, {"id": "c", "parent": "b"}, {"id": "b"}], ["a", ["c"], "b", ["c"]]),
])
def test_tree_nests_rows_by_their_parent(rows: list[dict[str, str]], expected: list[object]) -> None:
    from kg.web.pages import tree

    def flat(nodes: list[dict[str, object]]) -> list[object]:
        out: list[object] = []
        for node in nodes:
            out.append(node["id"])
            if node["children"]:
                out.append(flat(node["children"]))  # type: ignore[arg-type]
        return out

    assert flat(tree(rows, key="id")) == expected


def _summary_row(**values: str) -> dict[str, str]:
    base = {"study": ID + "s", "studyLabel": "S", "arm": ID + "a", "armLabel": "A", "regimen": ID + "r",
            "regimenLabel": "R", "population": "UPS", "reviewLabel": "Wu 2025", "location": "Table 2"}
    return {**base, **values}


def test_a_summary_keeps_both_values_of_a_cell_and_never_mixes_populations() -> None:
    from kg.web.pages import summary_rows

    rows = [_summary_row(measurement=ID + "m1", column="ORR", value="ORR 23%"),
            _summary_row(measurement=ID + "m2", column="ORR", value="23% (9/40)", reviewLabel="Huang 2025",
                         location="text", conflicts="yes"),
            _summary_row(measurement=ID + "m3", column="N", value="40 UPS"),
            _summary_row(measurement=ID + "m4", column="ORR", value="ORR 10%", population="LPS")]
    lines = summary_rows(rows, by_regimen=False)
    assert [line["population"] for line in lines] == ["LPS", "UPS"]
    ups = lines[1]
    assert [cell["value"] for cell in ups["cells"]["ORR"]] == ["ORR 23%", "23% (9/40)"]
    assert [cell["conflicts"] for cell in ups["cells"]["ORR"]] == [False, True]
    assert ups["cells"]["N"][0]["value"] == "40 UPS" and ups["cells"]["DCR"] == []
    assert ups["sources"] == ["Wu 2025, Table 2", "Huang 2025, text"]


def test_a_study_page_opens_with_one_line_per_arm_and_population(client: TestClient) -> None:
    html = client.get("/id/sarc028").text
    assert html.index('<h2 id="summary">') < html.index("<h2>Outcome measurements")
    table = html[html.index('data-name="summary"'):]
    table = table[:table.index("</table>")]
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", table)
    assert headers[-6:] == ["N", "ORR", "DCR", "median PFS", "median OS", "Sources"]
    ups = next(row for row in table.split("<tr>") if "<td>UPS</td>" in row and "UPS cohort with its expansion" in row)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", ups, re.DOTALL)]
    # N, ORR, DCR, median PFS and OS of the UPS cohort as Wu's Table 2 prints them, each linked to its measurement
    assert cells[4:9] == ["40 UPS", "ORR 23%", "", "mPFS 3 months", "mOS 12 months"], cells
    assert all(client.get(href).status_code == 200 for href in re.findall(r'href="(/id/m-[^"]+)"', ups))


def test_a_subtype_page_opens_with_its_plots_then_a_summary_by_regimen(client: TestClient) -> None:
    html = client.get(UPS).text
    assert html.index('class="forest"') < html.index('<h2 id="summary">') < html.index("<h2>Outcome measurements")
    table = html[html.index('data-name="summary"'):]
    lines = table[table.index("<tbody>"):table.index("</table>")].split("<tr>")[1:]
    regimens = [re.sub(r"<[^>]+>", "", re.findall(r"<td>(.*?)</td>", line, re.DOTALL)[2]).strip() for line in lines]
    assert len(regimens) > 5 and regimens == sorted(regimens, key=lambda label: (label or "~").lower())


def test_long_tables_are_sortable_and_filterable_by_subtype_endpoint_review_location_and_level(client: TestClient) -> None:
    html = client.get(UPS).text
    assert '<script src="/static/tables.js" defer></script>' in html
    table = html[html.index('data-name="measurements"'):]
    filters = re.findall(r"<th data-filter>([^<]+)</th>", table[:table.index("</thead>")])
    assert {"Subtype", "Endpoint", "Review", "Location", "Evidence level"} <= set(filters)
    assert client.get("/static/tables.js").status_code == 200


def test_the_forest_plot_downloads_as_an_svg_file(client: TestClient) -> None:
    html = client.get(UPS).text
    href = "/plots/orr/undifferentiated-pleomorphic-sarcoma.svg"
    assert f'<a href="{href}" download>SVG</a>' in html and f'data-svg="{href}"' in html
    response = client.get(href)
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["content-disposition"] == \
        'attachment; filename="undifferentiated-pleomorphic-sarcoma-orr.svg"'
    svg = ET.fromstring(response.text)
    assert svg.get("width") and svg.get("height") and svg.find(f"{SVG}style") is not None
    assert "svg.forest text" in svg.find(f"{SVG}style").text
    legend = " ".join("".join(text.itertext()) for text in svg.find(f"{SVG}g[@class='legend']").iter(f"{SVG}text"))
    assert "Wu 2025" in legend and "filled: printed in a table" in legend and "derived" in legend  # the file explains itself
    points = [a.get("href") for a in svg.iter(f"{SVG}a") if a.get("class") == "point"]
    assert points and all(point.startswith("http://testserver/id/") for point in points)


@pytest.mark.parametrize("path", ["/plots/nope/undifferentiated-pleomorphic-sarcoma.svg",
                                  "/plots/orr/undifferentiated-pleomorphic-sarcoma",
                                  "/plots/orr/no-such-thing.svg", "/plots/os/pd-l1.svg", "/plots/orr/a%20b.svg"])
def test_a_plot_that_is_not_there_is_a_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_stored_queries_are_listed_as_pages(client: TestClient) -> None:
    from kg.query.queries import load_queries

    html = client.get("/queries").text
    for query in load_queries().values():
        assert (f'href="/queries/{query.name}"' in html) != query.is_violation_check, query.name


def test_a_stored_query_page_has_its_form_a_labelled_table_and_its_links(client: TestClient) -> None:
    response = client.get("/queries/regimens-ranked-by-orr", params={"subtype": "MFS"})
    html = response.text
    assert response.status_code == 200
    assert re.search(r'<input id="param-subtype" name="subtype" value="MFS"\s+data-picker list="picker-subtype"', html)
    headers = re.findall(r"<th>([^<]+)</th>", html[html.index('data-name="regimens-ranked-by-orr"'):])
    assert "measurement" in headers and "regimenLabel" in headers, headers
    api = client.get("/api/queries/regimens-ranked-by-orr", params={"subtype": "MFS"},
                     headers={"Accept": "application/json"}).json()["results"]["bindings"]
    assert html.count("<tr><td>") == len(api) > 0
    first = api[0]
    assert f'<a href="/id/{first["measurement"]["value"].removeprefix(ID)}">' in html
    assert f'<td>{first["regimenLabel"]["value"]}</td>' in html  # a label without its IRI: plain text
    assert 'href="/api/queries/regimens-ranked-by-orr?subtype=MFS&amp;format=csv"' in html
    csv = client.get("/api/queries/regimens-ranked-by-orr", params={"subtype": "MFS", "format": "csv"})
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == len(api) + 1
    editor = re.search(r'<a class="editor" href="/query\?([^"]+)"', html)
    assert editor
    from html import unescape
    from urllib.parse import parse_qs
    opened = parse_qs(unescape(editor.group(1)))
    assert opened["tabTitle"] == ["Regimens ranked by objective response rate for a subtype"]
    assert "VALUES ?_subtype_iri { <https://w3id.org/sarcoma-kg/id/myxofibrosarcoma> }" in opened["query"][0]


@pytest.mark.parametrize("name", ["trials-for-subtype", "compare-regimens", "figures-by-outcome", "biomarker-findings",
                                  "graph-statistics"])
def test_a_stored_query_page_runs_on_its_defaults(client: TestClient, name: str) -> None:
    response = client.get(f"/queries/{name}")
    assert response.status_code == 200 and "<tbody>" in response.text and 'class="error"' not in response.text


def test_a_figures_default_outcome_shows_as_a_curie(client: TestClient) -> None:
    html = client.get("/queries/figures-by-outcome").text
    assert 'name="outcome" value="skg:OverallSurvivalOutcome"' in html
    assert 'name="subtype" value="soft-tissue-sarcoma"' in html


@pytest.mark.parametrize(("params", "message"), [
    ({"subtype": "no-such-subtype-anywhere"}, "no-such-subtype-anywhere"),
    ({"subtype": "pembrolizumab"}, "pembrolizumab"),  # not a subtype
    ({"colour": "red"}, "no parameter colour"),
    ({"subtype": '<script>alert("x")</script>'}, "&lt;script&gt;"),
])
def test_a_stored_query_page_says_what_is_wrong_beside_its_form(client: TestClient, params: dict[str, str],
                                                               message: str) -> None:
    response = client.get("/queries/regimens-ranked-by-orr", params=params)
    assert response.status_code == 400 and '<p class="error" role="alert">' in response.text
    assert message in response.text and "<script>alert" not in response.text
    assert '<form class="query-form"' in response.text


def test_an_unknown_stored_query_page_is_a_404(client: TestClient) -> None:
    assert client.get("/queries/no-such-query", headers={"Accept": BROWSER}).status_code == 404


def test_result_table_merges_label_columns_and_keeps_literals_as_written() -> None:
    from kg.web.pages import result_table

    result = {"head": {"vars": ["study", "studyLabel", "orr", "other"]}, "results": {"bindings": [
        {"study": {"type": "uri", "value": ID + "sarc028"}, "studyLabel": {"type": "literal", "value": "SARC028"},
         "orr": {"type": "literal", "value": "23.0", "datatype": "http://www.w3.org/2001/XMLSchema#decimal"},
         "other": {"type": "uri", "value": "https://w3id.org/sarcoma-kg/ontology/Study"}},
        {"studyLabel": {"type": "literal", "value": "no IRI"}}]}}
    table = result_table(result)
    assert table["columns"] == ["study", "orr", "other"]
    assert table["rows"][0] == [{"text": "SARC028", "href": "/id/sarc028"}, {"text": "23.0", "href": None},
                                {"text": "skg:Study", "href": "/ontology/Study"}]
    assert table["rows"][1] == [{"text": "no IRI", "href": None}, None, None]
