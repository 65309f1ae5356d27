"""SHACL validation with pySHACL (stage 5 of the build).

Validation runs on an in-memory rdflib graph (pySHACL is about 30 times slower over an
oxrdflib-backed one) without inference: the build has already materialised the types.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pyshacl import validate
from rdflib import RDF, Graph, Namespace, URIRef

from kg.errors import DataError, Problem
from kg.identifiers import DATA_NAMESPACE
from kg.pipeline.records import RecordSet
from kg.resources import parse_turtle, resource_path

__all__ = ["default_shapes_path", "load_shapes", "shacl_problems", "validate_graph"]

SH = Namespace("http://www.w3.org/ns/shacl#")


def default_shapes_path() -> Path:
    """Return the shipped SHACL shapes file."""
    return resource_path("shapes", "sarcoma-kg.shacl.ttl")


@cache
def load_shapes(path: Path | None = None) -> Graph:
    """Parse the SHACL shapes.

    :param path: a shapes file (default: the shipped one)
    :returns: the shapes graph
    :raises ConfigurationError: if it is missing or not valid Turtle
    """
    return parse_turtle(path or default_shapes_path(), what="SHACL shapes")


def _where(node: object, records: RecordSet | None) -> tuple[str, str]:
    """Name the record file and id a focus node comes from."""
    located = records.locate(str(node)) if records is not None else None
    return located or ("(graph)", str(node).removeprefix(DATA_NAMESPACE))


def shacl_problems(graph: Graph, *, records: RecordSet | None = None, shapes: Graph | None = None,
                   warnings: bool = False) -> list[Problem]:
    """Validate a graph and return one problem per SHACL violation.

    :param graph: the graph to validate (types already materialised)
    :param records: the records the graph came from, to name files in the report
    :param shapes: the shapes graph (default: the shipped shapes)
    :param warnings: also return the results of shapes of severity ``sh:Warning`` or
        ``sh:Info`` (what is implausible rather than impossible), their messages starting
        with "(warning)"; by default only violations
    :returns: the violations, each naming the file, the node, the shape's rule and message
    """
    shapes = shapes if shapes is not None else load_shapes()
    # Without inference and without SHACL rules pySHACL does not change the data graph, so it
    # may validate it in place instead of copying it first (a quarter of its time here).
    inplace = (None, SH.rule, None) not in shapes
    conforms, report, _ = validate(graph, shacl_graph=shapes, inference="none", advanced=True,
                                   allow_warnings=True, inplace=inplace)
    if conforms and not warnings:
        return []
    problems = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        warning = report.value(result, SH.resultSeverity) != SH.Violation
        if warning and not warnings:
            continue
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        component = report.value(result, SH.sourceConstraintComponent)
        rule = str(component).rsplit("#", 1)[-1] if component else "shacl"
        file, node = _where(focus, records)
        where = f"{graph.namespace_manager.normalizeUri(path)}: " if isinstance(path, URIRef) else ""
        problems.append(Problem(file, node, f"shacl:{rule}", f"{'(warning) ' if warning else ''}{where}{message}"))
    return problems


def validate_graph(graph: Graph, *, records: RecordSet | None = None) -> list[Problem]:
    """Validate a graph against the shipped shapes.

    :param graph: the graph to validate
    :param records: the records it came from, to name files in the report
    :returns: the warnings (shapes of severity ``sh:Warning``: implausible, not impossible)
    :raises DataError: with every violation, if the graph does not conform
    """
    problems = shacl_problems(graph, records=records, warnings=True)
    violations = [problem for problem in problems if not problem.message.startswith("(warning)")]
    if violations:
        raise DataError(violations, stage="shacl")
    return problems
