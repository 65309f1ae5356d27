"""The command line, run as a user runs it (a real process), with its exit codes."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner

from kg.bench.run import parse_sizes
from kg.cli import main
from kg.pipeline.records import default_records_dir
from kg.pipeline.serialise import context_path
from kg.publish.mappings import default_mappings_path
from kg.resources import resource_path

CLI = [sys.executable, "-m", "kg.cli"]
#: The committed generated files, below the repository's root.
MAPPINGS, CONTEXT = (path.relative_to(resource_path()).as_posix() for path in (default_mappings_path(), context_path()))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], check=False, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_build_is_deterministic(built, cli_release: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    # The CLI's release (another process, another build of the same records) against the session's build.
    again, release = cli_release
    assert again.returncode == 0, again.stderr
    assert (release / "sarcoma-kg.ttl").read_bytes() == built.output.read_bytes()
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
    # in a fixed order (regression: the query had no ORDER BY, and each run listed them differently)
    assert list(counts) == ["studies", "clinical trials", "arms", "regimens", "measurements", "findings", "therapies",
                            "targets", "immune cell types", "TME features", "subtypes", "publications",
                            "disagreements", "measurements with a quote", "findings with a quote", "triples",
                            "measurements with a quote (%)"]


@pytest.mark.parametrize(("fmt", "parser"), [("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES),
                                             ("jsonld", ox.RdfFormat.JSON_LD), ("xml", ox.RdfFormat.RDF_XML)],
                         ids=["ttl", "nt", "jsonld", "xml"])
def test_export_round_trips(built, tmp_path: Path, fmt: str, parser: ox.RdfFormat) -> None:
    # Read back by pyoxigraph (a tenth of rdflib's time); test_exports.py and test_release.py read
    # every format with rdflib too.
    output = tmp_path / f"graph.{fmt}"
    result = run("export", "--format", fmt, "--output", str(output), "--graph", str(built.output))
    assert result.returncode == 0, result.stderr
    assert sum(1 for _ in ox.parse(path=str(output), format=parser)) == len(built.graph)


def test_validate_writes_nothing(tmp_path: Path) -> None:
    # Every stage runs on the two review records alone (the shipped records pass the same
    # stages in the session's build): 3 s instead of a whole build's 7 s.
    records = tmp_path / "records"
    (records / "entities").mkdir(parents=True)
    shutil.copy(default_records_dir() / "entities" / "reviews.yaml", records / "entities")
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    result = run("validate", "--records", str(records), cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "reasoning: consistent" in result.stderr and "quality: every" in result.stderr and "valid" in result.stderr
    assert list(workdir.iterdir()) == [] and [path.name for path in tmp_path.iterdir()] == ["records", "workdir"]


@pytest.mark.parametrize(("content", "expected"), [(b'SELECT * WHERE { ?s ?p "caf\xe9" }', "not UTF-8"),
                                                   ('ASK {}'.encode("utf-16"), "not UTF-8"),
                                                   (None, "query file not found")])
def test_sparql_file_must_be_a_readable_utf8_file(built, tmp_path: Path, content: bytes | None,
                                                  expected: str) -> None:
    """An argument ending in .rq is a file: never run as query text, never a traceback."""
    query = tmp_path / "query.rq"
    if content is not None:
        query.write_bytes(content)
    result = run("sparql", str(query), "--graph", str(built.output))
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and str(query) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on leaving: nothing listens there


@pytest.mark.parametrize(("form", "fmt"), [("SELECT * WHERE", "table"), ("SELECT * WHERE", "json"),
                                           ("ASK", "json"), ("CONSTRUCT { ?s ?p ?o } WHERE", "table")])
def test_a_query_that_fails_while_running_is_a_query_error(built, form: str, fmt: str) -> None:
    """pyoxigraph raises a SERVICE's connection error lazily, while the results are read."""
    query = f"{form} {{ SERVICE <http://127.0.0.1:{_closed_port()}/sparql> {{ ?s ?p ?o }} }}"
    result = run("sparql", query, "--format", fmt, "--graph", str(built.output))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: the query failed: Connection refused"), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_store_held_by_another_process_is_opened_read_only(built, tmp_path: Path) -> None:
    """Two commands sharing one --store at once: the second no longer dies on RocksDB's LOCK."""
    store_dir = tmp_path / "store"
    first = run("stats", "--format", "json", "--graph", str(built.output), "--store", str(store_dir))
    assert first.returncode == 0, first.stderr
    held = ox.Store(str(store_dir))  # another process's read-write handle, holding the lock
    try:
        second = run("stats", "--format", "json", "--graph", str(built.output), "--store", str(store_dir))
    finally:
        del held
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)


def test_a_store_that_cannot_be_opened_is_a_configuration_error(built, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    assert run("stats", "--graph", str(built.output), "--store", str(store_dir)).returncode == 0
    for path in store_dir.iterdir():
        if path.name != "sarcoma-kg-source.sha256":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    result = run("stats", "--graph", str(built.output), "--store", str(store_dir))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: cannot open the store {store_dir}"), result.stderr


@pytest.mark.parametrize("sizes", ["foo", "", "k", "0", "1.5", "1e3"])
def test_bench_refuses_a_size_that_is_not_one(sizes: str) -> None:
    result = CliRunner().invoke(main, ["bench", "--sizes", sizes])
    assert result.exit_code == 2, result.output
    assert "Invalid value for --sizes" in result.output and "is not a size" in result.output


def test_bench_sizes() -> None:
    assert parse_sizes("curated, 100k,1m,1.5k,50_000") == [None, 100_000, 1_000_000, 1_500, 50_000]


@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536"])
def test_serve_refuses_a_port_out_of_range(port: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", port])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--port'" in result.output and "1<=x<=65535" in result.output


@pytest.mark.parametrize(("fmt", "parser"), [("table", "nt"), ("json", "json-ld"), ("xml", "xml")])
def test_a_construct_comes_in_the_rdf_syntax_its_format_names(built, fmt: str, parser: str) -> None:
    """Regression: --format json and xml on a CONSTRUCT silently gave N-Triples."""
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o . FILTER (?s = <https://w3id.org/sarcoma-kg/id/pembrolizumab>) }"
    result = CliRunner().invoke(main, ["sparql", query, "--format", fmt, "--graph", str(built.output)])
    assert result.exit_code == 0, result.output
    assert len(rdflib.Graph().parse(data=result.output, format=parser)) > 5


def test_csv_of_a_construct_is_refused_and_an_ask_ends_its_line(built) -> None:
    construct = CliRunner().invoke(main, ["sparql", "CONSTRUCT WHERE { ?s ?p ?o }", "--format", "csv",
                                          "--graph", str(built.output)])
    assert construct.exit_code == 2 and "is RDF" in construct.output
    ask = CliRunner().invoke(main, ["sparql", "ASK {}", "--format", "csv", "--graph", str(built.output)])
    assert ask.output == "true\n"


def test_an_unknown_query_or_parameter_is_named_before_a_missing_graph(tmp_path: Path) -> None:
    """Regression: without a built graph, 'query nosuch' said the graph was missing."""
    missing = str(tmp_path / "none.ttl")
    unknown = CliRunner().invoke(main, ["query", "nosuch", "--graph", missing])
    assert unknown.exit_code != 0 and "no stored query named 'nosuch'" in unknown.output
    bad = CliRunner().invoke(main, ["query", "trials-for-subtype", "-p", "bogus=1", "--graph", missing])
    assert bad.exit_code != 0 and "no parameter bogus" in bad.output


def test_parameters_without_a_query_name_are_a_usage_error() -> None:
    """Regression: 'query -p subtype=x' listed the queries and dropped the parameter."""
    result = CliRunner().invoke(main, ["query", "-p", "subtype=x"])
    assert result.exit_code == 2 and "give the name of the query" in result.output


def test_query_parameters_may_be_labels_and_unknown_ones_are_an_error(built) -> None:
    by_label = CliRunner().invoke(main, ["query", "therapies-by-target", "-p", "target=CTLA4", "--format", "csv",
                                         "--graph", str(built.output)])
    assert by_label.exit_code == 0 and "ipilimumab" in by_label.output
    unknown = CliRunner().invoke(main, ["query", "therapies-by-target", "-p", "target=nothing-like-it",
                                        "--graph", str(built.output)])
    assert unknown.exit_code != 0 and "nothing in the graph is 'nothing-like-it'" in unknown.output


def test_serve_with_a_graph_it_cannot_load_exits_2_with_one_line(tmp_path: Path) -> None:
    """Regression: the server started, logged two tracebacks from its workers and exited 3.

    Regression: the server process's own copy of the store, loaded beside the workers',
    could fail first and print its warning ahead of the error that says what is wrong.
    """
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://example.org/s> <http://example.org/p> .\n", encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("serve", "--graph", str(broken), "--port", str(port))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: a query worker cannot load the graph: cannot load"), result.stderr
    assert "broken.ttl" in result.stderr
    assert "Traceback" not in result.stderr
    assert "queries all run in workers" not in result.stderr


def test_serve_on_a_port_in_use_exits_2_with_one_line(built) -> None:
    """Regression: a port in use was uvicorn's log line and exit code 3."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--graph", str(built.output), "--port", str(port))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: "), result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_a_missing_graph_of_another_name_does_not_build_elsewhere(tmp_path: Path) -> None:
    """Regression: serve --graph DIR/mygraph.ttl built DIR/sarcoma-kg.ttl, then its workers
    failed on the missing mygraph.ttl (exit 3); --graph /x.ttl tried to build into /."""
    result = CliRunner().invoke(main, ["serve", "--graph", str(tmp_path / "new" / "mygraph.ttl")])
    assert result.exit_code == 2, result.output
    assert "graph not found" in result.output and "--graph DIR/sarcoma-kg.ttl" in result.output
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "mygraph.ttl"
    existing.write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")
    rebuild = CliRunner().invoke(main, ["serve", "--rebuild", "--graph", str(existing)])
    assert rebuild.exit_code == 2 and f"--rebuild cannot write {existing}" in rebuild.output, rebuild.output


def test_a_parameter_given_twice_is_a_usage_error(built) -> None:
    result = CliRunner().invoke(main, ["query", "trials-for-subtype", "-p", "subtype=UPS", "-p", "subtype=MFS",
                                       "--graph", str(built.output)])
    assert result.exit_code == 2 and "subtype is given twice" in result.output, result.output


def test_an_update_is_said_to_be_unsupported(built) -> None:
    """Regression: 'sparql INSERT DATA ...' answered only the parser's 'expected CONSTRUCT'."""
    result = CliRunner().invoke(main, ["sparql", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "--graph", str(built.output)])
    assert result.exit_code == 2
    assert "SPARQL Update (INSERT) is not supported: the graph is read-only" in result.output, result.output


def test_query_list_with_a_name_describes_that_query() -> None:
    """Regression: 'query --list NAME' ignored the name and listed every query."""
    result = CliRunner().invoke(main, ["query", "--list", "trials-for-subtype"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("trials-for-subtype: ") and "default skgid:undifferentiated-pleomorphic-sarcoma" in lines[0]
    assert "  subtype: the subtype" in result.output and "arms-and-enrolment" not in result.output


def test_sparql_given_a_path_that_is_not_a_query_file_says_so(built, tmp_path: Path) -> None:
    """Regression: 'sparql DIR' was parsed as query text ('error at 1:1 ...')."""
    result = CliRunner().invoke(main, ["sparql", str(tmp_path), "--graph", str(built.output)])
    assert result.exit_code == 2 and "is a path, not a query: give the query text or a .rq file" in result.output


def test_an_undeclared_prefix_is_named_with_its_declaration(built) -> None:
    """Regression: a query without its PREFIX lines got five lines of the parser's character classes."""
    result = CliRunner().invoke(main, ["sparql", "SELECT ?x WHERE { ?x a skg:Study ; rdfs:label ?l }",
                                       "--graph", str(built.output)])
    assert result.exit_code == 2, result.output
    assert "the prefixes 'skg:', 'rdfs:' are not declared; add PREFIX skg: <https://w3id.org/sarcoma-kg/ontology/>; " \
           "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in result.output
    assert "\\u{" not in result.output


def test_open_store_takes_a_string_path(built) -> None:
    """Regression: open_store("dist/sarcoma-kg.ttl") failed with AttributeError ('str' has no is_file)."""
    from kg.query.store import open_store

    assert len(open_store(str(built.output))) == len(open_store(built.output))


def test_ctrl_c_stops_the_server_quietly(built) -> None:
    """Regression (found in review): Ctrl-C in a terminal reaches the whole process group, and
    each query worker printed a KeyboardInterrupt traceback."""
    import os
    import signal
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([*CLI, "serve", "--graph", str(built.output), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal does
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr, stderr.decode()


def test_the_query_commands_do_not_load_the_build() -> None:
    """Each command that reads a built graph starts without the build's modules (pySHACL,
    owlready2, jsonschema: half a second of imports on every call, and on every CLI test)."""
    loaded = subprocess.run([sys.executable, "-c", "import sys, kg.cli; print(' '.join(sorted(sys.modules)))"],
                            check=True, capture_output=True, text=True, timeout=60).stdout.split()
    assert not {"kg.pipeline.build", "pyshacl", "owlready2", "jsonschema"} & set(loaded)


def test_sync_reference_from_a_directory_without_the_table_exits_2(tmp_path: Path) -> None:
    result = run("sync-reference", "--from", str(tmp_path))
    assert result.returncode == 2
    assert "no external-ids.csv, recommended-prefixes.csv" in result.stderr


_ALTERED_QUOTE = ("quote: neoadjuvant pembrolizumab plus radiotherapy followed by surgery and adjuvant pembrolizumab "
                  "(experimental group)")


def _records_with_an_altered_quote(tmp_path: Path) -> Path:
    """A copy of the records in which one quote says "arm" where the review says "group"."""
    records = tmp_path / "records"
    shutil.copytree(default_records_dir(), records)
    trials = records / "wu2025" / "ici-trials.yaml"
    text = trials.read_text(encoding="utf-8")
    assert _ALTERED_QUOTE in text
    trials.write_text(text.replace(_ALTERED_QUOTE, _ALTERED_QUOTE.replace("group)", "arm)"), 1), encoding="utf-8")
    return records


#: check-curation's cases: the command's arguments ({sources}, {empty}, {missing}, {altered} are filled in), its
#: exit code, and a text its output must hold.
CHECK_CURATION_CASES = {
    "shipped": (["--sources", "{sources}"], 0, "0 quote problem(s); "),
    "uncovered sentences": (["--sources", "{sources}", "--uncovered"], 0, " sentence(s) no quote covers\n0 quote"),
    "altered quote": (["--sources", "{sources}", "--records", "{altered}"], 1,
                      ("error: quotes: 1 problem(s)\n  - wu2025/ici-trials.yaml: record 'neoadjuvant-pembrolizumab-"
                       "radiotherapy-surgery-adjuvant-pembrolizumab': quote is not verbatim in wu2025")),
    "missing sources": (["--sources", "{missing}"], 2, "error: no directory of review texts at "),
    "sources without the reviews": (["--sources", "{empty}"], 2, "error: cannot read the review huang2025: "),
    "missing records": (["--sources", "{sources}", "--records", "{missing}"], 2, "Directory '"),
}


@pytest.mark.parametrize(("arguments", "exit_code", "expected"), CHECK_CURATION_CASES.values(),
                         ids=CHECK_CURATION_CASES.keys())
def test_check_curation_exit_codes(sources_dir: Path, tmp_path: Path, arguments: list[str], exit_code: int,
                                   expected: str) -> None:
    (tmp_path / "empty").mkdir()
    paths = {"sources": sources_dir, "empty": tmp_path / "empty", "missing": tmp_path / "nowhere",
             "altered": _records_with_an_altered_quote(tmp_path) if "{altered}" in arguments else None}
    result = CliRunner().invoke(main, ["check-curation", *(argument.format_map(paths) for argument in arguments)])
    assert result.exit_code == exit_code, result.output
    assert expected in result.output and "Traceback" not in result.output
    if exit_code == 1:  # the report on standard output, the problems (file, record, rule) on standard error
        assert "[rule: verbatim-quote]" in result.stderr and result.stdout.startswith("1 quote problem(s); ")


def test_check_curation_lists_the_uncovered_sentences_as_json(sources_dir: Path) -> None:
    result = CliRunner().invoke(main, ["check-curation", "--sources", str(sources_dir), "--uncovered",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["problems"] == [] and report["records"]["measurements"] > 500
    assert {passage["review"] for passage in report["uncovered"]} == {"huang2025", "wu2025"}
    assert all(set(passage) == {"review", "offset", "text"} for passage in report["uncovered"])


def test_update_generated_checks_and_rewrites_a_stale_file(tmp_path: Path) -> None:
    current = CliRunner().invoke(main, ["update-generated", "--check"])
    assert current.exit_code == 0, current.output
    assert "the generated files are current" in current.stderr
    # A copy of the generated files, one of them stale: --check names it and writes nothing.
    for name in (MAPPINGS, CONTEXT):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(resource_path(name), tmp_path / name)
    stale = tmp_path / CONTEXT
    stale.write_text(stale.read_text(encoding="utf-8").replace('"@version": 1.1', '"@version": 1.0'), encoding="utf-8")
    before = stale.read_bytes()
    checked = CliRunner().invoke(main, ["update-generated", "--check", "--root", str(tmp_path)])
    assert checked.exit_code == 1, checked.output
    assert f"{CONTEXT}: record '(file)': differs from what the code generates" in checked.stderr
    assert MAPPINGS not in checked.stderr and stale.read_bytes() == before
    stale.rename(moved := tmp_path / "moved")
    missing = CliRunner().invoke(main, ["update-generated", "--check", "--root", str(tmp_path)])
    assert missing.exit_code == 1 and f"{CONTEXT}: record '(file)': is missing" in missing.stderr, missing.output
    moved.rename(stale)
    updated = CliRunner().invoke(main, ["update-generated", "--root", str(tmp_path)])
    assert updated.exit_code == 0, updated.output
    assert updated.stderr == f"updated {stale}\n"
    assert stale.read_bytes() == resource_path(CONTEXT).read_bytes()
    no_root = CliRunner().invoke(main, ["update-generated", "--root", str(tmp_path / "nowhere")])
    assert no_root.exit_code == 2 and "does not exist" in no_root.output, no_root.output
