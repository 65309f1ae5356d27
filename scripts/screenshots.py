"""Regenerate the README's screenshots: the home page, a subtype page and a study page.

Usage: python scripts/screenshots.py [--server URL]

Without ``--server`` it starts ``sarcoma-kg serve`` on the built graph (``dist/sarcoma-kg.ttl``;
run ``sarcoma-kg build`` first) on a free loopback port and stops it afterwards. Debian's
Chromium (``/usr/bin/chromium``) is driven by Playwright, as in the UI tests; every request
it makes must stay on the server. The PNGs go to ``docs/screenshots/`` (the first screen of
each page, 1024 x 700 px: under 200 kB each; with Pillow installed, 256 colours).
"""

from __future__ import annotations

import argparse
import io
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
#: Each screenshot: its file name and the page it shows.
PAGES = (("home.png", "/"), ("subtype.png", "/id/undifferentiated-pleomorphic-sarcoma"), ("study.png", "/id/sarc028"))
CHROMIUM = "/usr/bin/chromium"


def _start(graph: Path) -> tuple[str, subprocess.Popen[bytes]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", "--graph", str(graph), "--port", str(port),
                                "--quiet"], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("error: the server stopped while starting")
        try:
            with urllib.request.urlopen(f"{url}/sparql?query=ASK%7B%7D", timeout=2):
                return url, process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("error: the server did not answer within 120 s")


def _small_png(png: bytes) -> bytes:
    """The screenshot with at most 256 colours (Pillow, when installed; else as taken)."""
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def take(server: str) -> list[Path]:
    """Take the screenshots of :data:`PAGES` from a running server.

    :param server: its base URL
    :returns: the files written
    """
    from playwright.sync_api import sync_playwright

    host = urlparse(server).netloc
    outside: list[str] = []
    written = []
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1024, "height": 700})

        def guard(route) -> None:  # type: ignore[no-untyped-def]
            if urlparse(route.request.url).netloc != host and not route.request.url.startswith("data:"):
                outside.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", guard)
        for name, path in PAGES:
            page.goto(server + path)
            page.wait_for_load_state("networkidle")
            target = OUT / name
            target.write_bytes(_small_png(page.screenshot()))
            written.append(target)
        browser.close()
    if outside:
        raise SystemExit(f"error: the pages reached outside the server: {outside}")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="the base URL of a running server (default: start one)")
    args = parser.parse_args()
    process = None
    server = args.server
    if not server:
        graph = ROOT / "dist" / "sarcoma-kg.ttl"
        if not graph.exists():
            raise SystemExit("error: no built graph; run sarcoma-kg build first")
        server, process = _start(graph)
    try:
        for path in take(server.rstrip("/")):
            print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} kB")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
