"""Exports: the published JSON-LD context, compacted JSON-LD, VoID and SSSOM from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import VOID

from kg.pipeline.ontology import load_ontology
from kg.pipeline.serialise import BackgroundTurtle, context_path, load_export_context, serialize
from kg.publish.context import jsonld_context_text
from kg.publish.mappings import default_mappings_path
from kg.publish.release import RELEASE_GRAPH_FILES
from kg.publish.void import DATASET

CLI = [sys.executable, "-m", "kg.cli"]


def test_committed_context_is_what_the_module_generates() -> None:
    assert context_path().read_text(encoding="utf-8") == jsonld_context_text(load_ontology()), (
        f"{context_path()} is out of date: run 'sarcoma-kg update-generated'"
    )


def _jsonld(data: bytes | str) -> Graph:
    return Graph().parse(data=data, format="json-ld")


def test_jsonld_export_is_compacted_with_the_published_context_and_round_trips(built) -> None:
    data = serialize(built.graph, "jsonld")
    document = json.loads(data)
    assert document["@context"] == load_export_context()["@context"]
    nodes = {node["@id"]: node for node in document["@graph"]}
    assert nodes["skgid:pembrolizumab"]["targets"] == "skgid:pd-1"
    assert {"@id": "drugbank:DB09037"} in nodes["skgid:pembrolizumab"]["skos:exactMatch"]
    assert nodes["skgid:sarc028"]["nctId"] == "NCT02301039"
    assert isomorphic(_jsonld(data), built.graph)


def test_context_expands_bioregistry_curies_in_json_ld_1_1() -> None:
    """Prefixes such as NCIT (IRI ending with '_') are marked "@prefix": true, so CURIEs expand."""
    document = {**load_export_context(), "@id": "skgid:x", "targets": ["NCIT:C2654", "hgnc:8760"],
                "numericValue": "12.5", "doi": "10.1000/x"}
    graph = _jsonld(json.dumps(document))
    subject = URIRef("https://w3id.org/sarcoma-kg/id/x")
    targets = set(graph.objects(subject, URIRef("https://w3id.org/sarcoma-kg/ontology/targets")))
    assert targets == {URIRef("http://purl.obolibrary.org/obo/NCIT_C2654"),
                       URIRef("https://www.genenames.org/data/gene-symbol-report/#!/hgnc_id/8760")}
    assert (subject, URIRef("https://w3id.org/sarcoma-kg/ontology/numericValue"),
            Literal("12.5", datatype=rdflib.XSD.decimal)) in graph


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], check=False, capture_output=True, text=True, timeout=300)


def test_export_void_counts_the_graph(built, tmp_path: Path) -> None:
    output = tmp_path / "void.ttl"
    result = run("export", "--format", "void", "--output", str(output), "--graph", str(built.output))
    assert result.returncode == 0, result.stderr
    void = Graph().parse(output, format="turtle")
    assert void.value(DATASET, VOID.triples) == Literal(len(built.graph), datatype=rdflib.XSD.integer)
    assert "@prefix void: <http://rdfs.org/ns/void#>" in output.read_text(encoding="utf-8")
    # regression: only Huang was named as a source, and the version was a dcterms:hasVersion
    # (which names another resource, a version of this one)
    sources = set(void.objects(DATASET, rdflib.DCTERMS.source))
    assert sources == {URIRef("https://w3id.org/sarcoma-kg/id/huang2025"), URIRef("https://w3id.org/sarcoma-kg/id/wu2025")}
    assert all((source, rdflib.RDF.type, None) in built.graph for source in sources)
    assert void.value(DATASET, rdflib.OWL.versionInfo) is not None
    assert void.value(DATASET, rdflib.DCTERMS.hasVersion) is None


def test_export_sssom_writes_the_committed_table(tmp_path: Path) -> None:
    output = tmp_path / "mappings.sssom.tsv"
    result = run("export", "--format", "sssom", "--output", str(output), "--graph", str(tmp_path / "unused.ttl"))
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == default_mappings_path().read_bytes()


def test_background_turtle_gives_the_same_bytes_and_leaves_nothing_behind() -> None:
    graph = load_ontology()
    pending = BackgroundTurtle(graph)
    workdir = pending.workdir
    assert workdir.is_dir() and not pending.finished
    assert pending.result() == serialize(graph, "ttl")
    assert pending.finished and pending.pid is None
    assert not workdir.exists(), "the temporary file of the background serialisation was left behind"


def test_cancelled_background_turtle_stops_its_process_and_removes_its_file() -> None:
    pending = BackgroundTurtle(load_ontology())
    pid, workdir = pending.pid, pending.workdir
    assert pid is not None, "fork is available on this platform"
    pending.cancel()
    assert pending.finished and pending.pid is None
    assert not workdir.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left


@pytest.mark.parametrize("where", ["proc", "file-parent", "empty", "directory"])
@pytest.mark.parametrize("fmt", ["nt", "void", "sssom"])
def test_export_to_an_unwritable_place_is_a_configuration_error(built, tmp_path: Path, where: str,
                                                                 fmt: str) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    output = {"proc": "/proc/sarcoma-kg.out", "file-parent": str(tmp_path / "a-file" / "x.out"), "empty": "",
              "directory": str(tmp_path)}[where]
    result = run("export", "--format", fmt, "--output", output, "--graph", str(built.output))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    expected = {"proc": "cannot write /proc/sarcoma-kg.out: no file can be created in /proc (",
                "file-parent": f"{tmp_path / 'a-file'} is not a directory",
                "empty": "the output path is empty", "directory": "is a directory"}[where]
    assert expected in result.stderr, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["a-file"]


@pytest.mark.parametrize(("fmt", "parser"), [("ttl", "turtle"), ("nt", "nt"), ("xml", "xml")])
def test_every_rdf_export_reads_back_as_the_same_graph(built, cli_release, fmt: str, parser: str) -> None:
    """Regression: the Turtle wrote the decimal "98" as 98.0, which reads back as another
    literal, so the Turtle and the N-Triples of a release held different triples."""
    _, release = cli_release  # the session's release holds each export (kg.pipeline.serialise.serialize wrote them)
    graph = Graph().parse(release / RELEASE_GRAPH_FILES[fmt], format=parser)
    assert isomorphic(graph, built.graph)
    assert Literal("98", datatype=rdflib.XSD.decimal) in set(graph.objects())
