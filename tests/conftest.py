"""Shared fixtures: one build of the shipped records per test session."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
import pytest

from kg.pipeline.build import BuildResult, build
from kg.pipeline.records import default_records_dir
from kg.query.store import open_store
from kg.web.pool import Limits

if TYPE_CHECKING:
    from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parent.parent
#: The reviews' text, shipped in the repository (CC BY 4.0, credited in sources/README.md).
SOURCES = REPO / "sources"
#: The project's shared folder beside a developer's checkout; a clone has none, so the tests
#: that compare the repository's copies with it skip when it is absent.
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    """The reviews' text (read only by the quote checks)."""
    return SOURCES


def shared_file(*parts: str) -> Path:
    """A file of ``../shared``, skipping the calling test in one line when it is absent.

    :param parts: the path inside ``../shared``
    :returns: the file's path
    """
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"no {path} beside the repository (nothing to compare the repository's copy with)")
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The shipped records, built once into a temporary output directory."""
    return build(tmp_path_factory.mktemp("dist") / "dist")


@pytest.fixture(scope="session")
def cli_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``sarcoma-kg release DIR`` run once as a user runs it: the run's only build besides ``built``.

    :returns: the finished process (its stderr holds the build's progress) and the release directory
    """
    target = tmp_path_factory.mktemp("cli-release") / "release"
    result = subprocess.run([sys.executable, "-m", "kg.cli", "release", str(target)],
                            check=False, capture_output=True, text=True, timeout=300)
    return result, target


@pytest.fixture(scope="session")
def store(built: BuildResult) -> ox.Store:
    """An in-memory Oxigraph store with the built graph."""
    assert built.output is not None
    return open_store(built.output)


@pytest.fixture()
def records_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped records, for tests that break them on purpose."""
    target = tmp_path / "records"
    shutil.copytree(default_records_dir(), target)
    return target


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(graph: Path, *extra: str) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``sarcoma-kg serve`` (a real uvicorn server) on a free loopback port."""

    port = _free_port()
    # stderr goes to a file, not a pipe nobody reads: a server that logs much would block on a full pipe.
    log = Path(tempfile.mkdtemp(prefix="sarcoma-kg-server-")) / "stderr.log"
    with log.open("wb") as stderr:  # the server keeps its own copy of the file open
        process = subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "serve", "--graph", str(graph), "--port", str(port), *extra],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    _wait_until_answering(process, f"{url}/sparql", log=log, seconds=60)
    return url, process


def _wait_until_answering(process: subprocess.Popen[bytes], endpoint: str, *, log: Path, seconds: float) -> None:
    """Wait until a SPARQL endpoint answers ASK {}, failing with its log if its process exits first."""

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{endpoint} exited: {log.read_text(encoding='utf-8', errors='replace')}")
        try:
            with urllib.request.urlopen(f"{endpoint}?query=ASK%7B%7D", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{endpoint} did not answer within {seconds} s")


@pytest.fixture(scope="session")
def served(built: BuildResult) -> tuple[str, subprocess.Popen[bytes]]:
    """A real server on the built graph (2 s query time limit, 5,000 rows at most): its base URL and process."""
    assert built.output is not None
    url, process = start_server(built.output, "--timeout", "2", "--max-rows", "5000")
    yield url, process
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def server(served: tuple[str, subprocess.Popen[bytes]]) -> str:
    """The base URL of the real server of :func:`served`."""
    return served[0]


def debian_package(command: str, package: str) -> str | None:
    """The path of a command from Debian's package, installed when missing if the tests run as
    root (as on CI); None when it is missing and cannot be installed here."""
    import os

    if (found := shutil.which(command)) is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600, env=environment)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, timeout=900, env=environment,
                   stdout=subprocess.DEVNULL)
    return shutil.which(command)


#: The graph a Virtuoso server holds the release in (deploy/virtuoso/load-virtuoso.sql).
VIRTUOSO_GRAPH = "urn:sarcoma-kg"


@pytest.fixture(scope="session")
def virtuoso_server(built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SPARQL URL of a Virtuoso server (Debian's virtuoso-opensource) that has loaded the
    Turtle export as the README says: ``deploy/virtuoso/virtuoso.ini`` (other ports) and
    ``isql-vt PORT dba dba load-virtuoso.sql``."""
    server, client = debian_package("virtuoso-t", "virtuoso-opensource"), shutil.which("isql-vt")
    if server is None or client is None:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource) and the tests cannot install it")
    assert built.output is not None
    folder = tmp_path_factory.mktemp("virtuoso")
    deploy = REPO / "deploy" / "virtuoso"
    isql_port, http_port = _free_port(), _free_port()
    settings = (deploy / "virtuoso.ini").read_text(encoding="utf-8")
    settings = settings.replace("127.0.0.1:1111", f"127.0.0.1:{isql_port}").replace("127.0.0.1:8890",
                                                                                    f"127.0.0.1:{http_port}")
    (folder / "virtuoso.ini").write_text(settings, encoding="utf-8")
    shutil.copy(deploy / "load-virtuoso.sql", folder / "load-virtuoso.sql")
    shutil.copy(built.output, folder / "sarcoma-kg.ttl")
    with (folder / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen([server, "-f", "-c", "virtuoso.ini"], cwd=folder, stdout=subprocess.DEVNULL,
                                   stderr=stderr)
    url = f"http://127.0.0.1:{http_port}/sparql"
    try:
        _wait_until_answering(process, url, log=folder / "virtuoso.log", seconds=60)
        loaded = subprocess.run([client, str(isql_port), "dba", "dba", "load-virtuoso.sql"], cwd=folder,
                                capture_output=True, text=True, timeout=120, check=False)
        assert loaded.returncode == 0 and "Error" not in loaded.stdout + loaded.stderr, loaded.stdout + loaded.stderr
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def app_client(graph: Path, *, workers: int = 2, limits: Limits | None = None) -> TestClient:
    """The application in-process (Starlette's TestClient), as ``sarcoma-kg serve`` configures it.

    Enter it with ``with``: that runs the app's lifespan, which starts the query workers.

    :param graph: the built graph
    :param workers: query worker processes
    :param limits: the query caps (``serve``'s defaults if not given)
    :returns: a client whose requests go straight to the app, without a socket
    """
    from starlette.testclient import TestClient

    from kg.web.app import create_app

    app = create_app(graph, workers=workers, limits=limits)
    return TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.fixture(scope="session")
def client(built: BuildResult) -> Iterator[TestClient]:
    """The application in-process on the built graph, with the ``server`` fixture's caps: what
    negotiation, errors, the API and the pages are tested on (no uvicorn, no socket)."""
    assert built.output is not None
    with app_client(built.output, limits=Limits(timeout=2, max_rows=5000)) as test_client:
        yield test_client


@contextlib.contextmanager
def counting_listener(*, answer: bool = True) -> Iterator[tuple[list[object], int]]:
    """A loopback listener that counts the connections it gets (for the network-sandbox tests):
    it hangs each up at once, or (``answer`` False) accepts it and never answers, as a slow
    internal service would.

    :param answer: hang up at once (True) or hold the connection open (False)
    :returns: the list of callers' addresses (filled as they call) and the port
    """
    import socket
    import threading

    called: list[object] = []
    held: list[socket.socket] = []
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.05)

        def accept() -> None:
            while not stop.is_set():
                try:
                    connection, address = listener.accept()
                except TimeoutError:
                    continue
                called.append(address)
                if answer:
                    connection.close()
                else:
                    held.append(connection)

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield called, listener.getsockname()[1]
        finally:
            stop.set()
            thread.join(timeout=5)
            for connection in held:
                connection.close()


def oxigraph_binary() -> Path:
    """The ``oxigraph`` command of the ``oxigraph`` PyPI package (a test dependency)."""
    import sysconfig

    binary = Path(sysconfig.get_path("scripts")) / "oxigraph"
    if not binary.is_file():
        pytest.fail(f"the oxigraph server is not installed at {binary}: pip install -e '.[test]'")
    return binary


def oxigraph_load(location: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """Load RDF files (format by extension) into an Oxigraph database directory with ``oxigraph load``."""

    return subprocess.run([str(oxigraph_binary()), "load", "--location", str(location),
                           *(arg for file in files for arg in ("--file", str(file)))],
                          check=False, capture_output=True, text=True, timeout=120)


def start_oxigraph(location: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Serve an Oxigraph database read-only on a free loopback port; returns its SPARQL query URL."""

    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="oxigraph-server-")) / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(oxigraph_binary()), "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}/query"
    _wait_until_answering(process, url, log=log, seconds=30)
    return url, process


@pytest.fixture(scope="session")
def oxigraph_server(built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SPARQL query URL of a separate Oxigraph server holding the Turtle export."""
    assert built.output is not None
    location = tmp_path_factory.mktemp("oxigraph") / "db"
    loaded = oxigraph_load(location, built.output)
    assert loaded.returncode == 0, loaded.stderr
    url, process = start_oxigraph(location)
    yield url
    process.terminate()
    process.wait(timeout=20)
