"""Derivation rules (stage 4 of the build): SPARQL CONSTRUCT queries in ``ontology/rules``.

Rules run in file-name order on one embedded store; each rule's output is added to that
store before the next runs, and returned for the build to add to its graph. They derive what is defined by the ontology but not by OWL
semantics: evidence levels from study designs, and conflicts between measurements. After
them, the Python derivations of ``kg.pipeline.derived`` (statistics SPARQL cannot compute) run on the
same store, each counted under its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.errors import ConfigurationError, QueryError
from kg.pipeline.derived import DERIVATIONS
from kg.query.store import construct, graph_to_store
from kg.resources import resource_path

__all__ = ["RuleResult", "apply_derivation", "apply_rule", "apply_rules", "default_rules_dir", "run_rule"]


@dataclass(frozen=True)
class RuleResult:
    """What the rules derived.

    :param added: every derived triple not already in the input graph
    :param derived: number of new triples per rule file name
    :param store: an in-memory store holding the input graph plus ``added`` (for the
        checks that follow, so the graph is not copied into a store again)
    """

    added: Graph
    derived: dict[str, int]
    store: ox.Store


def default_rules_dir() -> Path:
    """Return the directory of the shipped rules."""
    return resource_path("ontology", "rules")


def apply_rules(graph: Graph, directory: Path | None = None) -> RuleResult:
    """Apply every CONSTRUCT rule of a directory, in order, then the derivations of ``kg.pipeline.derived``.

    :param graph: the graph to extend (not modified)
    :param directory: the rules directory (default: the shipped ``ontology/rules``)
    :returns: the derived triples, how many each rule added, and a store of the result
    :raises ConfigurationError: if the directory is missing, or a rule does not parse or is not a CONSTRUCT
    """
    directory = directory or default_rules_dir()
    paths = sorted(directory.glob("*.rq"))
    if not paths:
        raise ConfigurationError(f"no rules (*.rq) in {directory}")
    store = graph_to_store(graph)
    added = Graph()
    derived: dict[str, int] = {}
    for path in paths:
        derived[path.name] = _add(store, added, run_rule(store, path))
    for name, derive in DERIVATIONS:
        derived[name] = _add(store, added, derive(store))
    return RuleResult(added=added, derived=derived, store=store)


def run_rule(store: ox.Store, path: Path) -> ox.QueryTriples:
    """Run one CONSTRUCT rule on a store, as the build runs each rule (the store is not changed).

    :param store: the graph the rule reads
    :param path: the rule's ``.rq`` file
    :returns: the triples the rule constructs, those already in the store included
    :raises ConfigurationError: if the rule does not parse or is not a CONSTRUCT
    """
    try:
        return construct(store, path.read_text(encoding="utf-8"))
    except QueryError as error:
        raise ConfigurationError(f"rule {path.name}: {error}") from error


def apply_rule(graph: Graph, path: Path) -> Graph:
    """Apply one rule alone to a graph: what that rule derives from it, with no other rule before it.

    The build runs the rules in order over what the earlier ones derived; to test one rule, give
    it a graph that holds those earlier triples already.

    :param graph: the graph the rule reads (not modified)
    :param path: the rule's ``.rq`` file
    :returns: the derived triples not already in ``graph``
    :raises ConfigurationError: if the rule does not parse or is not a CONSTRUCT
    """
    store = graph_to_store(graph)
    added = Graph()
    _add(store, added, run_rule(store, path))
    return added


def apply_derivation(graph: Graph, name: str) -> Graph:
    """Apply one derivation of ``kg.pipeline.derived`` alone to a graph (as :func:`apply_rule` does a rule).

    :param graph: the graph the derivation reads, with what the rules before it would derive (not modified)
    :param name: the derivation's name in :data:`kg.pipeline.derived.DERIVATIONS`
    :returns: the derived triples not already in ``graph``
    :raises ConfigurationError: if no derivation has that name
    """
    derivations = dict(DERIVATIONS)
    if name not in derivations:
        raise ConfigurationError(f"no derivation {name!r}; the derivations are {', '.join(derivations)}")
    store = graph_to_store(graph)
    added = Graph()
    _add(store, added, derivations[name](store))
    return added


def _add(store: ox.Store, added: Graph, triples: Iterable[ox.Triple]) -> int:
    """Add the triples not yet in the store to it and to ``added``; return how many were new."""
    new = [triple for triple in triples if ox.Quad(*triple) not in store]
    store.extend(ox.Quad(*triple) for triple in new)
    if new:
        added.parse(data=ox.serialize(new, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return len(set(new))
