"""The command line, run as a user runs it (a real process), with its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib

CLI = [sys.executable, "-m", "kg.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], check=False, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_build_is_deterministic(built, tmp_path: Path) -> None:
    again = run("build", "--output-dir", str(tmp_path / "dist"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "dist" / "sarcoma-kg.ttl").read_bytes() == built.output.read_bytes()
    assert "shacl: conforms" in again.stderr and "reasoning: consistent" in again.stderr


def test_query_list_shows_stored_queries() -> None:
    result = run("query", "--list")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) >= 12
    assert "trials-for-subtype:" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "xml", "table"])
def test_query_formats(built, fmt: str) -> None:
    result = run("query", "therapies-by-target", "--param", "target=pd-1", "--format", fmt, "--graph", str(built.output))
    assert result.returncode == 0, result.stderr
    assert "pembrolizumab" in result.stdout
    if fmt == "json":
        bindings = json.loads(result.stdout)["results"]["bindings"]
        assert {b["therapyLabel"]["value"] for b in bindings} >= {"pembrolizumab", "nivolumab"}


def test_bad_parameter_exits_2(built) -> None:
    result = run("query", "therapies-by-target", "--param", "target=a b", "--graph", str(built.output))
    assert result.returncode == 2
    assert "parameter 'target'" in result.stderr


def test_sparql_text_and_file(built, tmp_path: Path) -> None:
    query = tmp_path / "count.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", encoding="utf-8")
    result = run("sparql", str(query), "--format", "json", "--graph", str(built.output))
    assert result.returncode == 0, result.stderr
    assert int(json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"]) == len(built.graph)


def test_malformed_sparql_exits_2_with_parser_message(built) -> None:
    result = run("sparql", "SELECT * WHERE { ?s ?p }", "--graph", str(built.output))
    assert result.returncode == 2
    assert "error at" in result.stderr


def test_missing_graph_says_to_build(tmp_path: Path) -> None:
    result = run("stats", "--graph", str(tmp_path / "none.ttl"))
    assert result.returncode == 2
    assert "sarcoma-kg build" in result.stderr


def test_stats_counts(built) -> None:
    result = run("stats", "--format", "json", "--graph", str(built.output))
    counts = json.loads(result.stdout)
    for kind in ("studies", "arms", "measurements", "findings", "therapies", "targets", "immune cell types",
                 "subtypes", "publications", "disagreements"):
        assert kind in counts
    assert counts["measurements with a quote"] == counts["measurements"]


@pytest.mark.parametrize(("fmt", "parser"), [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("xml", "xml")])
def test_export_round_trips(built, tmp_path: Path, fmt: str, parser: str) -> None:
    output = tmp_path / f"graph.{fmt}"
    result = run("export", "--format", fmt, "--output", str(output), "--graph", str(built.output))
    assert result.returncode == 0, result.stderr
    assert len(rdflib.Graph().parse(output, format=parser)) == len(built.graph)


def test_validate_writes_nothing(tmp_path: Path) -> None:
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
