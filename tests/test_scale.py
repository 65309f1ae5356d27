"""The scale generator, the persistent store and the benchmark command."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.bench.scale import write_grown
from kg.query.queries import load_queries
from kg.query.results import solutions_to_rows
from kg.query.store import open_store


@pytest.fixture(scope="module")
def ntriples(built) -> str:
    return built.graph.serialize(format="nt", encoding="utf-8").decode("utf-8")


def test_grown_graph_has_the_requested_size_and_is_deterministic(built, ntriples: str, tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.nt", tmp_path / "b.nt", tmp_path / "c.nt"
    assert write_grown(ntriples, built.records, 60_000, first, seed=1) == 60_000
    write_grown(ntriples, built.records, 60_000, second, seed=1)
    write_grown(ntriples, built.records, 60_000, other, seed=2)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    store = ox.Store()
    store.load(path=str(first), format=ox.RdfFormat.N_TRIPLES)
    assert len(store) == 60_000, "copies must not repeat triples"


def test_grown_graph_keeps_the_shape(built, ntriples: str, tmp_path: Path, store: ox.Store) -> None:
    path = tmp_path / "grown.nt"
    write_grown(ntriples, built.records, 70_000, path)
    grown = ox.Store()
    grown.load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    count = "SELECT ?class (COUNT(?x) AS ?n) WHERE { ?x a ?class } GROUP BY ?class"

    def counts(of: ox.Store) -> dict[str, int]:
        return {row["class"].value.removeprefix("https://w3id.org/sarcoma-kg/ontology/"): int(row["n"].value)
                for row in of.query(count)}

    curated_counts, grown_counts = counts(store), counts(grown)
    for cls, grows in (("OutcomeMeasurement", True), ("Study", True), ("SarcomaSubtype", False), ("Therapy", False)):
        before, after = curated_counts[cls], grown_counts[cls]
        assert (after > before) if grows else (after == before), cls
    for name, query in load_queries().items():
        _, curated_rows = solutions_to_rows(query.run(store))
        _, grown_rows = solutions_to_rows(query.run(grown))
        assert len(grown_rows) >= len(curated_rows) or name == "graph-statistics", name


def test_persistent_store_is_loaded_once_and_reopened(built, tmp_path: Path) -> None:
    directory = tmp_path / "store"
    first = open_store(built.output, store_dir=directory)
    triples = len(first)
    del first
    marker = directory / "sarcoma-kg-source.sha256"
    stamp = marker.stat().st_mtime_ns
    again = open_store(built.output, store_dir=directory)
    assert len(again) == triples and marker.stat().st_mtime_ns == stamp
    del again
    changed = tmp_path / "changed.ttl"
    changed.write_bytes(built.output.read_bytes() + b"\n<urn:a> <urn:b> <urn:c> .\n")
    reloaded = open_store(changed, store_dir=directory)
    assert len(reloaded) == triples + 1


def test_store_directory_with_foreign_files_is_refused(built, tmp_path: Path) -> None:
    from kg.errors import ConfigurationError

    (tmp_path / "keep.txt").write_text("not a store", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not empty"):
        open_store(built.output, store_dir=tmp_path)


def test_a_store_whose_load_fails_is_left_empty(built, tmp_path: Path) -> None:
    """Regression: a failed bulk load left a half-built store, which the next run refused as
    'another command is loading it'."""
    from kg.errors import ConfigurationError

    broken = tmp_path / "broken.ttl"
    broken.write_text("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> .\n", encoding="utf-8")
    directory = tmp_path / "store"
    with pytest.raises(ConfigurationError, match="cannot load .*broken.ttl into"):
        open_store(broken, store_dir=directory)
    assert directory.is_dir() and not any(directory.iterdir())
    assert len(open_store(built.output, store_dir=directory)) > 0


@pytest.mark.slow
def test_bench_prints_its_summary_line(built) -> None:
    from kg.bench.run import format_report, run_bench

    # The report's form is under test, not its figures: the session's graph, rdflib stopped at
    # a quarter of a second (so the capped queries' "> cap" path runs too), and over HTTP only
    # the fixed pairs of runs (not the extra ones that fill half a second per query).
    report = run_bench([None], repeat=1, rdflib_cap=0.25, http=True, http_seconds=1, http_min_seconds=0.0,
                       clients=2, prebuilt=built)
    text = format_report(report)
    last = text.strip().splitlines()[-1]
    assert last.startswith("speedup vs rdflib at ") and "slowest stored query at" in last and "HTTP overhead" in last
    assert all(q.http is not None for q in report.sizes[0].queries)
    assert any(q.rdflib_capped for q in report.sizes[0].queries) and "> " in text
    assert set(report.sizes[0].pages) == {"/id/undifferentiated-pleomorphic-sarcoma", "/id/soft-tissue-sarcoma"}
    assert "entity pages over HTTP, med/p95 ms (target: under 300): /id/undifferentiated-pleomorphic-sarcoma " in text


@pytest.mark.slow
def test_dispatch_overhead_script_measures_each_mode(built, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/dispatch_overhead.py (the evidence behind the HTTP target's note) runs and prints every mode."""
    import runpy
    import sys

    import kg.bench.run as bench

    assert built.output is not None
    script = Path(__file__).resolve().parent.parent / "scripts" / "dispatch_overhead.py"
    # Run in this process, so that only the fixed pairs of runs are made (not the extra ones that
    # fill half a second per query and mode): the table's form is under test, not its figures.
    monkeypatch.setattr(bench, "HTTP_MIN_SECONDS", 0.0)
    monkeypatch.setattr(sys, "argv", [str(script), "--graph", str(built.output), "--repeat", "1"])
    runpy.run_path(str(script), run_name="__main__")
    output = capsys.readouterr().out
    rows = [line.split() for line in output.splitlines()[1:]]
    for mode in ("event-loop", "thread", "serve"):
        measured = [row for row in rows if row[0] == mode and not row[1].startswith("(")]
        assert len(measured) == 4, f"{mode}: {output}"
        assert all(float(row[2]) > 0 and float(row[3]) > 0 for row in measured)
