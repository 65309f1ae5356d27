"""OWL reasoning with owlready2 and HermiT (stage 3 of the build).

HermiT checks that ontology and data are consistent (no individual in two disjoint
classes, no property outside its domain or range ...). Afterwards the inferred types are
materialised, with their superclasses, so that simple SPARQL queries see them without a
reasoner (``?x a skg:ImmuneCheckpointInhibitor`` finds every PD-1 inhibitor).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import OWL, RDF, RDFS, Graph, URIRef

from kg.errors import ConfigurationError, DataError, Problem
from kg.identifiers import DATA_NAMESPACE, ONTOLOGY_NAMESPACE

__all__ = ["ReasoningResult", "java_executable", "reason", "unsatisfiable_classes"]

JAVA_HINT = (
    "HermiT needs a Java runtime (11 or newer) and none was found on PATH; install one, "
    "for example 'apt-get install -y default-jre-headless' on Debian/Ubuntu, then build again"
)


@dataclass(frozen=True)
class ReasoningResult:
    """What reasoning added.

    :param added: the materialised types not already in the input graph
    :param inferred: how many type triples were added
    """

    added: Graph
    inferred: int


def java_executable() -> str:
    """Return the Java executable HermiT will run on.

    :returns: the path of the ``java`` found on the ``PATH``
    :raises ConfigurationError: with one line saying how to install Java, if none is found
    """
    java = shutil.which("java")
    if java is None:
        raise ConfigurationError(JAVA_HINT)
    return java


def _reasoner_input(graph: Graph) -> Graph:
    """Keep what bears on consistency: axioms, types and object/data property assertions.

    Annotation properties (labels, definitions, quotes as annotations ...) cannot make the
    graph inconsistent; leaving them out keeps HermiT fast.
    """
    annotation = set(graph.subjects(RDF.type, OWL.AnnotationProperty)) | {
        RDFS.label, RDFS.comment, RDFS.seeAlso,
        OWL.imports,  # the modules are in the graph already; owlready2 would fetch them
    }
    kept = Graph()
    for triple in graph:
        if triple[1] not in annotation:
            kept.add(triple)
    # OWL 2 DL wants every individual declared; curated nodes are typed but not declared.
    for subject in set(graph.subjects(RDF.type)):
        if isinstance(subject, URIRef) and str(subject).startswith(DATA_NAMESPACE):
            kept.add((subject, RDF.type, OWL.NamedIndividual))
    return kept


@contextmanager
def _classified(graph: Graph) -> Iterator[Any]:
    """Load a graph into a fresh owlready2 world and run HermiT on it; the world is closed after.

    :param graph: ontology plus data (not modified)
    :returns: the world, classified
    :raises ConfigurationError: if Java is missing, HermiT cannot run or owlready2 cannot load the graph
    :raises DataError: if HermiT finds the graph inconsistent
    """
    import owlready2  # imported here: owlready2 sets up a default world at import time

    owlready2.JAVA_EXE = java_executable()
    world = owlready2.World()
    try:
        with tempfile.TemporaryDirectory(prefix="sarcoma-kg-owl-") as tmp:
            path = Path(tmp) / "input.nt"
            _reasoner_input(graph).serialize(path, format="nt", encoding="utf-8")
            try:
                ontology = world.get_ontology(path.as_uri()).load(format="ntriples")
            except Exception as error:  # owlready2 raises bare exceptions on parse errors
                raise ConfigurationError(f"owlready2 could not load the graph: {error}") from error
            try:
                with ontology:
                    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
            except owlready2.OwlReadyInconsistentOntologyError as error:
                raise DataError(
                    [Problem("(graph)", "(all)", "owl-consistency",
                             "HermiT found the ontology and data inconsistent; run 'sarcoma-kg validate' for "
                             "the SHACL report, which usually names the node (a class used against a "
                             "disjointness axiom, a property outside its domain or range)")],
                    stage="reasoning",
                ) from error
            except FileNotFoundError as error:
                raise ConfigurationError(JAVA_HINT) from error
            except owlready2.OwlReadyJavaError as error:
                raise ConfigurationError(f"HermiT failed to run: {error}") from error
            yield world
    finally:
        world.close()  # also when HermiT fails or finds the graph inconsistent


def reason(graph: Graph) -> ReasoningResult:
    """Check consistency with HermiT and materialise inferred types.

    :param graph: ontology plus data (not modified)
    :returns: the inferred ``rdf:type`` triples (of Sarcoma-KG classes) the graph lacks
    :raises ConfigurationError: if Java is missing or HermiT cannot run
    :raises DataError: if HermiT finds the graph inconsistent
    """
    inferred = Graph()
    with _classified(graph) as world:
        for individual in world.individuals():
            subject = URIRef(individual.iri)
            for cls in individual.is_a:
                if not hasattr(cls, "ancestors"):
                    continue
                for ancestor in cls.ancestors(include_self=True):
                    iri = getattr(ancestor, "iri", "")
                    if iri.startswith(ONTOLOGY_NAMESPACE):
                        inferred.add((subject, RDF.type, URIRef(iri)))
    added = Graph()
    for triple in inferred:
        if triple not in graph:
            added.add(triple)
    return ReasoningResult(added=added, inferred=len(added))


def unsatisfiable_classes(graph: Graph) -> list[str]:
    """Classify with HermiT and list the classes that can have no member.

    A class is unsatisfiable when its axioms contradict each other (a subclass of two
    disjoint classes); HermiT's consistency check of the data does not see it while the
    class has no member.

    :param graph: an ontology (with or without data; not modified)
    :returns: the IRIs of the unsatisfiable classes of Sarcoma-KG, sorted (none: an empty list)
    :raises ConfigurationError: if Java is missing or HermiT cannot run
    :raises DataError: if HermiT finds the graph inconsistent
    """
    with _classified(graph) as world:
        return sorted(cls.iri for cls in world.inconsistent_classes()
                      if getattr(cls, "iri", "").startswith(ONTOLOGY_NAMESPACE))
