"""The query UI in a real browser: Debian's Chromium driven by Playwright.

The browser loads the page from the real server, runs a stored query in YASGUI and shows
its results; every request it makes must stay on this server (the UI assets are bundled).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from conftest import debian_package

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, installed by the test setup when missing (the CI machine runs as root)."""
    if debian_package("chromium", "chromium") != CHROMIUM:
        pytest.fail("the UI test needs Debian's chromium: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


def _page(browser, server: str):
    page = browser.new_page()
    outside: list[str] = []
    host = urlparse(server).netloc

    def guard(route) -> None:
        if urlparse(route.request.url).netloc != host and not route.request.url.startswith("data:"):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    # what the browser reports as errors (a failed asset, a script error) fails the test too
    page.on("console", lambda message: outside.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: outside.append(f"page error: {error}"))
    return page, outside


@pytest.mark.slow
def test_query_page_runs_a_stored_query(browser, server: str) -> None:
    page, outside = _page(browser, server)
    page.goto(f"{server}/query")
    # A selector, not wait_for_function: Playwright polls a function with eval, which the
    # page's CSP (script-src 'self') refuses whenever the first check comes too early.
    page.wait_for_selector("[data-ready=yes]", state="attached", timeout=30_000)
    tabs = page.locator(".tabPanel, .tab, [role=tab]").all_inner_texts()
    # tabs are named by the query's summary
    assert any("Trials and their reported outcomes for a sarcoma subtype" in text for text in tabs), tabs
    page.locator(".yasqe_queryButton").first.click()
    page.wait_for_selector(".yasr table tbody tr, .yasr .dataTable tbody tr", timeout=30_000)
    rows = page.locator(".yasr table tbody tr").all_inner_texts()
    # the rows shown are the stored query's rows, in its order (its default subtype is UPS)
    expected = httpx.get(f"{server}/api/queries/trials-for-subtype", headers={"Accept": "application/json"}).json()
    first = expected["results"]["bindings"][0]
    # IRIs show with the project's prefixes (skgid:sarc028), not in full
    curie = "skgid:" + first["study"]["value"].removeprefix("https://w3id.org/sarcoma-kg/id/")
    assert rows and curie in rows[0] and first["measurement"]["value"].rsplit("/", 1)[1] in rows[0], (rows[0], first)
    assert "<https://w3id.org/sarcoma-kg/id/" not in rows[0]
    # the header comments are folded; an edit survives a reload made while typing
    assert page.locator(".tabPanel.active .CodeMirror-foldmarker").count() == 1
    page.locator(".tabPanel.active .CodeMirror").first.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n# an edit")
    page.reload()
    page.locator("#yasgui[data-ready]").wait_for(state="attached", timeout=30_000)
    assert page.evaluate("() => window.sarcomaKgYasgui.getTab().getYasqe().getValue()").endswith("# an edit")
    assert outside == [], f"the UI reached outside the server: {outside}"


@pytest.mark.slow
def test_subtype_page_forest_plot_in_the_browser(browser, server: str) -> None:
    page, outside = _page(browser, server)
    page.goto(f"{server}/id/undifferentiated-pleomorphic-sarcoma")
    points = page.locator("svg.forest a.point")
    assert points.count() > 3
    assert "%" in points.first.locator("title").text_content()
    assert page.locator("svg.forest text.n").first.text_content().startswith("N ")
    href = points.first.get_attribute("href")
    points.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(href) and page.locator("h1").inner_text()
    assert outside == []


@pytest.mark.slow
def test_search_from_the_header(browser, server: str) -> None:
    page, outside = _page(browser, server)
    page.goto(f"{server}/id/pembrolizumab")
    page.fill("header input[name=q]", "nct02301039")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?q=nct02301039")
    page.locator("ol.search-results a").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/id/sarc028") and page.locator("h1").inner_text() == "SARC028"
    assert outside == []


@pytest.mark.slow
def test_filter_sort_and_csv_of_a_table_and_a_stored_query_form(browser, server: str) -> None:
    page, outside = _page(browser, server)
    page.goto(f"{server}/id/undifferentiated-pleomorphic-sarcoma")
    table = page.locator("table[data-name=measurements]")
    rows = table.locator("tbody tr")
    total = rows.count()
    tools = page.locator(".table-tools").filter(has=page.locator("select[aria-label='Only rows with this endpoint']"))
    endpoint = tools.locator("select[aria-label='Only rows with this endpoint']")
    endpoint.select_option(label="objective response rate")
    shown = table.locator("tbody tr:visible")
    assert 0 < shown.count() < total
    assert tools.locator(".row-count").inner_text() == f"{shown.count()} of {total} rows"
    endpoints = {text.strip() for text in table.locator("tbody tr:visible td:nth-child(5)").all_inner_texts()}
    assert endpoints == {"objective response rate"}, endpoints
    # sort by study, then the other way
    table.locator("thead th").first.locator("button").click()
    studies = table.locator("tbody tr:visible td:nth-child(1)").all_inner_texts()
    assert studies == sorted(studies, key=str.casefold)
    assert table.locator("thead th").first.get_attribute("aria-sort") == "ascending"
    table.locator("thead th").first.locator("button").click()
    assert table.locator("tbody tr:visible td:nth-child(1)").all_inner_texts() == sorted(studies, key=str.casefold)[::-1]
    # the CSV holds exactly the rows shown, in their order
    with page.expect_download() as download:
        tools.locator("button", has_text="CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) == shown.count() + 1 and lines[0].startswith("Study")
    # a stored query's form: the entity picker suggests from the search, the result is a table with links
    page.goto(f"{server}/queries/regimens-ranked-by-orr")
    page.fill("#param-subtype", "myxofib")
    # a locator waits without evaluating a string in the page, which the pages' CSP (no 'unsafe-eval') can refuse
    page.locator("#picker-subtype option").first.wait_for(state="attached")
    assert page.locator("#picker-subtype option").first.get_attribute("value") == "myxofibrosarcoma"
    page.fill("#param-subtype", "myxofibrosarcoma")
    page.click("form.query-form button[type=submit]")
    page.wait_for_url("**/queries/regimens-ranked-by-orr?subtype=myxofibrosarcoma")
    result = page.locator("table[data-name=regimens-ranked-by-orr] tbody tr")
    assert result.count() > 0 and result.first.locator("a[href^='/id/']").count() > 0
    assert outside == [], f"the UI reached outside the server: {outside}"


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/id/undifferentiated-pleomorphic-sarcoma", "/id/soft-tissue-sarcoma", "/",
                                  "/id/sarc028", "/queries/regimens-ranked-by-orr"])
def test_a_390_px_screen_shows_the_forest_plot_without_horizontal_overflow(browser, server: str, path: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(f"{server}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than the screen"
        if path.startswith("/id/") and path != "/id/sarc028":
            plots = page.locator("svg.forest")
            assert plots.count() >= 1
            for index in range(plots.count()):
                box = plots.nth(index).bounding_box()
                assert plots.nth(index).is_visible() and box is not None
                assert box["x"] >= 0 and box["x"] + box["width"] <= 390
            # every label of every plot is inside its drawing (nothing clipped at its edges)
            inside = page.evaluate("""() => [...document.querySelectorAll('svg.forest')].every(svg => {
                const outer = svg.getBoundingClientRect();
                return [...svg.querySelectorAll('text')].every(t => {
                    const r = t.getBoundingClientRect();
                    return r.left >= outer.left - 1 && r.right <= outer.right + 1;
                });
            })""")
            assert inside, "a label of the forest plot runs past its edge"
    finally:
        page.close()
