"""The release directory: every file, checksums, atomic writing, and loading without warnings."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import oxigraph_binary, oxigraph_load

from kg.errors import ConfigurationError
from kg.output import replace_directory
from kg.pipeline.serialise import context_path
from kg.publish.mappings import default_mappings_path
from kg.publish.release import write_release
from kg.publish.stats import statistics
from kg.resources import resource_path

#: The RDF files of a release and their rdflib parser names.
RDF_FILES = {
    "sarcoma-kg.ttl": "turtle",
    "sarcoma-kg.nt": "nt",
    "sarcoma-kg.jsonld": "json-ld",
    "sarcoma-kg.rdf": "xml",
    "void.ttl": "turtle",
    "ontology/sarcoma-kg.ttl": "turtle",
    "ontology/imports/external-terms.ttl": "turtle",
    "shapes/sarcoma-kg.shacl.ttl": "turtle",
}
GRAPH_FILES = ("sarcoma-kg.ttl", "sarcoma-kg.nt", "sarcoma-kg.jsonld", "sarcoma-kg.rdf")
OTHER_FILES = ("ontology/sarcoma-kg.html", "sarcoma-kg.context.jsonld", "sarcoma-kg.sssom.tsv", "stats.json", "sarcoma-kg.fhir.json",
               "virtuoso/virtuoso.ini", "virtuoso/load-virtuoso.sql", "SHA256SUMS")


@pytest.fixture(scope="module")
def release_dir(cli_release: tuple[subprocess.CompletedProcess[str], Path]) -> Path:
    """The release ``sarcoma-kg release`` wrote (the session's one build besides ``built``; its
    graph file is byte for byte the session build's, which test_build_is_deterministic checks)."""
    result, target = cli_release
    assert result.returncode == 0, result.stderr
    return target


def test_release_holds_every_file_with_its_checksum(release_dir: Path, built, store: ox.Store) -> None:
    files = sorted(path.relative_to(release_dir).as_posix() for path in release_dir.rglob("*") if path.is_file())
    assert files == sorted([*RDF_FILES, *OTHER_FILES])
    sums = {}
    for line in (release_dir / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert set(sums) == set(files) - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((release_dir / name).read_bytes()).hexdigest() == digest, name
    assert (release_dir / "sarcoma-kg.ttl").read_bytes() == built.output.read_bytes()
    ontology = resource_path("ontology", "sarcoma-kg.ttl")
    assert (release_dir / "ontology/sarcoma-kg.ttl").read_bytes() == ontology.read_bytes()
    assert (release_dir / "sarcoma-kg.sssom.tsv").read_bytes() == default_mappings_path().read_bytes()
    assert (release_dir / "sarcoma-kg.context.jsonld").read_bytes() == context_path().read_bytes()
    assert json.loads((release_dir / "stats.json").read_text(encoding="utf-8")) == statistics(store)


def test_a_failed_release_leaves_the_previous_one(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "release"
    target.mkdir()
    (target / "previous").write_text("kept", encoding="utf-8")
    (target / "SHA256SUMS").write_text("", encoding="utf-8")
    calls = []

    def failing_sha256(data: bytes) -> object:
        calls.append(1)
        if len(calls) > 1:
            raise OSError("disk full")
        return hashlib.sha256(data)

    monkeypatch.setattr("kg.publish.release.release_files", lambda result: {"a.ttl": b"", "b/c.ttl": b""})
    monkeypatch.setattr("kg.publish.release.hashlib.sha256", failing_sha256)
    with pytest.raises(OSError, match="disk full"):
        write_release(built, target)
    assert [path.name for path in tmp_path.iterdir()] == ["release"]
    assert sorted(path.name for path in target.iterdir()) == ["SHA256SUMS", "previous"]


def _rdflib_triples(path: Path, parser: str) -> int:
    graph = rdflib.Dataset() if parser == "json-ld" else rdflib.Graph()
    graph.parse(path, format=parser)
    return sum(1 for _ in graph.quads()) if parser == "json-ld" else len(graph)


def _is_rdflib_internal(warning: warnings.WarningMessage) -> bool:
    """rdflib's own JSON-LD parser calls rdflib APIs that rdflib itself has deprecated."""
    return issubclass(warning.category, DeprecationWarning) and "/rdflib/" in warning.filename


def test_release_loads_without_warnings_into_rdflib_and_pyoxigraph(release_dir: Path, built,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    counts = {}
    with caplog.at_level(logging.WARNING), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, parser in RDF_FILES.items():
            counts[name] = _rdflib_triples(release_dir / name, parser)
    assert [str(w.message) for w in caught if not _is_rdflib_internal(w)] == []
    assert [record.getMessage() for record in caplog.records] == []
    for name in RDF_FILES:
        assert _pyoxigraph_triples(release_dir / name) == counts[name], name
    assert {counts[name] for name in GRAPH_FILES} == {len(built.graph)}


def _pyoxigraph_triples(path: Path) -> int:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix[1:]))
    return len(store)


def test_release_loads_without_warnings_into_the_oxigraph_server(release_dir: Path, tmp_path: Path) -> None:
    expected = {name: _pyoxigraph_triples(release_dir / name) for name in RDF_FILES}
    for position, name in enumerate(RDF_FILES):
        location = tmp_path / f"db-{position}"
        loaded = oxigraph_load(location, release_dir / name)
        assert loaded.returncode == 0, loaded.stderr
        problems = [line for line in loaded.stderr.splitlines() if "warn" in line.lower() or "error" in line.lower()]
        assert not problems, f"{name}: {problems}"
        counted = subprocess.run(
            [str(oxigraph_binary()), "query", "--location", str(location), "--results-format", "csv",
             "--query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"],
            capture_output=True, text=True, timeout=60, check=True)
        assert counted.stdout.split() == ["n", str(expected[name])], name


@pytest.mark.slow
def test_release_command(cli_release: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, target = cli_release
    assert result.returncode == 0, result.stderr
    assert f"release: wrote {len(RDF_FILES) + len(OTHER_FILES)} files" in result.stderr
    check = subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=target,
                           check=False, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_release_refuses_a_directory_that_holds_no_earlier_output(built, tmp_path: Path) -> None:
    """A non-empty directory without SHA256SUMS or build-report.json (a checkout, data/) is never replaced."""
    target = tmp_path / "project"
    (target / "records").mkdir(parents=True)
    (target / "records" / "curated.yaml").write_text("therapies: []\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="holds no earlier build or release"):
        write_release(built, target)
    assert [path.relative_to(target).as_posix() for path in sorted(target.rglob("*"))] == [
        "records", "records/curated.yaml"]
    assert [path.name for path in tmp_path.iterdir()] == ["project"]


def test_release_replaces_an_earlier_release(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "release"
    target.mkdir()
    (target / "SHA256SUMS").write_text("", encoding="utf-8")
    (target / "stale.txt").write_text("from the earlier release", encoding="utf-8")
    # which files a release holds is test_release_holds_every_file_with_its_checksum's concern
    monkeypatch.setattr("kg.publish.release.release_files", lambda result: {"sarcoma-kg.ttl": b"", "ontology/x.ttl": b""})
    write_release(built, target)
    assert not (target / "stale.txt").exists() and (target / "sarcoma-kg.ttl").is_file()
    assert sorted(path.name for path in target.iterdir()) == ["SHA256SUMS", "ontology", "sarcoma-kg.ttl"]


def test_a_write_error_is_a_configuration_error_and_keeps_the_previous_directory(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "build-report.json").write_text("{}", encoding="utf-8")
    # "a" is a file, so "a/b" cannot be written: an OSError half-way through the staging directory.
    with pytest.raises(ConfigurationError, match="cannot write"):
        replace_directory(target, {"a": b"1", "a/b": b"2"})
    assert [path.name for path in tmp_path.iterdir()] == ["out"]
    assert [path.name for path in target.iterdir()] == ["build-report.json"]


@pytest.mark.parametrize("where", ["file-parent", "proc"])
def test_release_to_an_unwritable_place_fails_before_building(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    target = tmp_path / "a-file" / "release" if where == "file-parent" else Path("/proc/sarcoma-kg-release")
    result = subprocess.run([sys.executable, "-m", "kg.cli", "release", str(target)],
                            check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: cannot write {target}"), result.stderr
    assert "Traceback" not in result.stderr and "records:" not in result.stderr  # refused before the build


def test_release_refuses_the_current_directory_of_a_checkout(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("kept", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "kg.cli", "release", "."], cwd=tmp_path,
                            check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "holds no earlier build or release" in result.stderr and "records:" not in result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["README.md"]


def test_release_holds_the_ontology_reference(release_dir: Path) -> None:
    """Issue 21: the HTML reference of every class and property is released beside the ontology,
    standalone (no stylesheet or page of the server linked)."""
    html = (release_dir / "ontology/sarcoma-kg.html").read_text(encoding="utf-8")
    assert 'id="ImmuneCheckpointInhibitor"' in html and 'id="targets"' in html
    assert "/static/" not in html
