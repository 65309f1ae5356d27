"""The query UI in a real browser: Debian's Chromium driven by Playwright.

The browser loads the page from the real server, runs a stored query in YASGUI and shows
its results; every request it makes must stay on this server (the UI assets are bundled).
"""

from __future__ import annotations

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
    page.wait_for_function("window.sarcomaKgReady === true", timeout=30_000)
    tabs = page.locator(".tabPanel, .tab, [role=tab]").all_inner_texts()
    assert any("trials-for-subtype" in text for text in tabs), tabs
    page.locator(".yasqe_queryButton").first.click()
    page.wait_for_selector(".yasr table tbody tr, .yasr .dataTable tbody tr", timeout=30_000)
    rows = page.locator(".yasr table tbody tr").all_inner_texts()
    # the rows shown are the stored query's rows, in its order (its default subtype is UPS)
    expected = httpx.get(f"{server}/api/queries/trials-for-subtype", headers={"Accept": "application/json"}).json()
    first = expected["results"]["bindings"][0]
    assert rows and first["study"]["value"] in rows[0] and first["measurement"]["value"] in rows[0], (rows[0], first)
    assert outside == [], f"the UI reached outside the server: {outside}"


@pytest.mark.slow
def test_subtype_page_chart_in_the_browser(browser, server: str) -> None:
    page, outside = _page(browser, server)
    page.goto(f"{server}/id/undifferentiated-pleomorphic-sarcoma")
    circles = page.locator("svg.chart circle")
    assert circles.count() > 3
    title = circles.first.locator("title").text_content()
    assert "%" in title
    page.locator("svg.chart a").first.click()
    page.wait_for_load_state()
    assert "/id/" in page.url and page.locator("h1").inner_text()
    assert outside == []
