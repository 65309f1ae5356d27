"""The build pipeline: records → RDF → reasoning → rules → SHACL → quality → Turtle.

Each stage is a module of its own (:mod:`kg.pipeline.records`, :mod:`~kg.pipeline.convert`,
:mod:`~kg.pipeline.reasoning`, :mod:`~kg.pipeline.rules`, :mod:`~kg.pipeline.shacl`,
:mod:`~kg.pipeline.quality`, :mod:`~kg.pipeline.serialise`); this module only runs them in
order, times them, and writes the output atomically (:mod:`kg.output`): nothing is written
unless every stage passes, and then the whole output directory is replaced at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rdflib import Graph

from kg.output import check_output_directory, replace_directory
from kg.pipeline.convert import records_to_graph
from kg.pipeline.ontology import load_ontology
from kg.pipeline.quality import check_quality
from kg.pipeline.reasoning import reason
from kg.pipeline.records import RecordSet, load_records
from kg.pipeline.rules import apply_rules
from kg.pipeline.serialise import GRAPH_FILE, BackgroundTurtle, serialize
from kg.pipeline.shacl import validate_graph

__all__ = ["GRAPH_FILE", "BuildResult", "build", "build_graph", "write_output"]

REPORT_FILE = "build-report.json"

T = TypeVar("T")


@dataclass
class BuildResult:
    """The outcome of a build.

    :param graph: the built graph (ontology, data, inferred types, derived triples)
    :param records: the curated records it was built from
    :param timings: seconds per stage
    :param counts: triples after each stage and what reasoning and rules added
    :param output: the written graph file, if the build wrote one
    :param turtle: the graph's Turtle, being serialised in the background
    """

    graph: Graph
    records: RecordSet
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    output: Path | None = None
    turtle: BackgroundTurtle | None = field(default=None, repr=False, compare=False)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - start, 3)


def build_graph(
    records_dir: Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    serialize: bool = True,
) -> BuildResult:
    """Run every stage of the build in memory, without writing anything.

    :param records_dir: the curated records (default: the shipped ``data/records``)
    :param progress: called with a line after each stage (the CLI prints it to stderr)
    :param serialize: start serialising the final graph as Turtle in the background while
        the checks run (``BuildResult.turtle``); off for a check that writes nothing
    :returns: the built graph with timings and counts
    :raises ConfigurationError: if an input cannot be loaded or a tool is missing (exit 2)
    :raises DataError: if the data fails a check, with every problem found (exit 1)
    """
    say = progress or (lambda line: None)
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    with _timed(timings, "records"):
        records = load_records(records_dir)
    say(f"records: {len(records.records)} records checked ({timings['records']} s)")
    # One graph is extended in place from stage to stage: copying 20k triples in rdflib
    # takes about half a second each time.
    with _timed(timings, "convert"):
        graph = records_to_graph(records)
        graph += load_ontology()
    counts["asserted"] = len(graph)
    say(f"convert: {len(graph)} triples with the ontology ({timings['convert']} s)")
    with _timed(timings, "reasoning"):
        reasoned = reason(graph)
        graph += reasoned.added
    counts["inferred"] = reasoned.inferred
    say(f"reasoning: consistent (HermiT); {reasoned.inferred} inferred types added ({timings['reasoning']} s)")
    with _timed(timings, "rules"):
        derived = apply_rules(graph)
        graph += derived.added
    counts.update({f"rule:{name}": count for name, count in derived.derived.items()})
    say(f"rules: {sum(derived.derived.values())} triples derived ({timings['rules']} s)")
    # The graph is final: its Turtle is written on another core while the checks run.
    turtle = BackgroundTurtle(graph) if serialize else None
    try:
        with _timed(timings, "shacl"):
            warnings = validate_graph(graph, records=records)
        say(f"shacl: conforms ({timings['shacl']} s)" + (f"; {len(warnings)} warning(s):" if warnings else ""))
        for warning in warnings:
            say(f"  - {warning}")
        with _timed(timings, "quality"):
            check_quality(derived.store, records=records)
        say(f"quality: every *-violation.rq returned no rows ({timings['quality']} s)")
    except BaseException:
        if turtle is not None:
            turtle.cancel()
        raise
    counts["total"] = len(graph)
    return BuildResult(graph=graph, records=records, timings=timings, counts=counts, turtle=turtle)


def write_output(result: BuildResult, output_dir: Path) -> Path:
    """Write the built graph and a build report, replacing ``output_dir`` as a whole.

    The files are written to a temporary sibling directory first; only when all are
    written does it take the place of ``output_dir``. A failure leaves the previous
    output as it was.

    :param result: a successful build
    :param output_dir: where to write (created if missing); it must not exist, be empty or
        hold an earlier build or release
    :returns: the path of the written graph file
    :raises ConfigurationError: if ``output_dir`` may not be replaced or cannot be written
    """
    # "export" is the time spent waiting here: the serialisation started during the checks.
    with _timed(result.timings, "export"):
        graph = result.turtle.result() if result.turtle is not None else serialize(result.graph, "ttl")
    report = {"counts": result.counts, "timings_seconds": result.timings}
    files = {GRAPH_FILE: graph, REPORT_FILE: (json.dumps(report, indent=2, sort_keys=True) + "\n").encode("utf-8")}
    output_dir = replace_directory(output_dir, files)
    result.output = output_dir / GRAPH_FILE
    return result.output


def build(
    output_dir: Path = Path("dist"),
    *,
    records_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the graph and write ``<output_dir>/sarcoma-kg.ttl``.

    :param output_dir: the output directory (default ``dist``)
    :param records_dir: the curated records (default: the shipped ``data/records``)
    :param progress: called with a line after each stage
    :returns: the build result, with ``output`` set
    :raises ConfigurationError: if an input cannot be loaded, a tool is missing, or
        ``output_dir`` cannot be written or holds anything but an earlier output (checked
        before the build starts) (exit 2)
    :raises DataError: if the data fails a check (exit 1); nothing is written then
    """
    check_output_directory(output_dir)
    result = build_graph(records_dir, progress=progress)
    write_output(result, output_dir)
    if progress:
        progress(f"export: wrote {result.output} ({result.timings['export']} s)")
    return result
