"""Derived statistics (part of stage 4 of the build, after the SPARQL rules).

What SPARQL cannot compute is derived here, from printed values only, and typed as derived
so that it is never mixed with them:

- the exact (Clopper-Pearson) 95% confidence interval of every printed fraction (a
  ``skg:DerivedInterval`` node, ``prov:wasDerivedFrom`` the measurement or finding value
  whose ``skg:numerator`` and ``skg:denominator`` it is computed from, with the method named);
- an arithmetic disagreement (a ``skg:Disagreement`` of kind ``skg:ArithmeticInconsistency``)
  wherever a printed percentage is not what its own printed count over its printed
  denominator gives, beyond half a unit of the percentage's last printed digit; neither
  value is changed.

The inputs are selected by the stored queries of ``ontology/derivations``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pyoxigraph as ox
from scipy.stats import binomtest

from kg.query.store import select
from kg.resources import resource_path

__all__ = ["DERIVATIONS", "arithmetic_disagreements", "clopper_pearson", "fraction_intervals", "printed_places"]

_SKG = "https://w3id.org/sarcoma-kg/ontology/"
_DATA = "https://w3id.org/sarcoma-kg/id/"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_DERIVED_FROM = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
_CONFIDENCE = Decimal("0.95")
#: bounds are kept to two decimals of a percentage, rounded outwards (the lower bound down,
#: the upper up) so that the interval printed is never narrower than the exact one
_PLACES = Decimal("0.01")


def _skg(name: str) -> ox.NamedNode:
    return ox.NamedNode(_SKG + name)


def _decimal(value: Decimal) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(_XSD + "decimal"))


def _query(name: str) -> str:
    return resource_path("ontology", "derivations", f"{name}.rq").read_text(encoding="utf-8")


def clopper_pearson(numerator: int, denominator: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) confidence interval of a proportion, from scipy.

    :param numerator: patients with the outcome
    :param denominator: patients assessed (at least 1, at least ``numerator``)
    :param confidence: the confidence level
    :returns: the lower and upper bound, as proportions between 0 and 1
    """
    interval = binomtest(numerator, denominator).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


def _percent(bound: float, rounding: str) -> Decimal:
    return (Decimal(repr(bound)) * 100).quantize(_PLACES, rounding=rounding)


def fraction_intervals(store: ox.Store) -> list[ox.Triple]:
    """Derive the exact 95% interval of every printed numerator over a printed denominator.

    :param store: the graph after the SPARQL rules
    :returns: one ``skg:DerivedInterval`` node per such measurement or finding value
        (``<measurement>/ci95``, a node under its record, as an evidence node is)
    """
    triples: list[ox.Triple] = []
    for solution in select(store, _query("printed-fractions")):
        measurement = solution["measurement"]
        numerator, denominator = int(solution["numerator"].value), int(solution["denominator"].value)
        if not 0 <= numerator <= denominator or denominator < 1:
            continue  # SHACL reports the impossible fraction itself
        low, high = clopper_pearson(numerator, denominator, confidence=float(_CONFIDENCE))
        lower, upper = _percent(low, ROUND_FLOOR), _percent(high, ROUND_CEILING)
        node = ox.NamedNode(f"{measurement.value}/ci95")
        triples += [
            ox.Triple(node, _RDF_TYPE, _skg("DerivedInterval")),
            ox.Triple(node, _LABEL, ox.Literal(
                f"exact 95% CI of {numerator}/{denominator}: {lower}% to {upper}% (derived)", language="en")),
            ox.Triple(measurement, _skg("derivedInterval"), node),
            ox.Triple(node, _DERIVED_FROM, measurement),
            ox.Triple(node, _skg("derivationMethod"), _skg("ClopperPearsonExact")),
            ox.Triple(node, _skg("confidenceLevel"), _decimal(_CONFIDENCE)),
            ox.Triple(node, _skg("lowerBound"), _decimal(lower)),
            ox.Triple(node, _skg("upperBound"), _decimal(upper)),
        ]
    return triples


def printed_places(value: str) -> int:
    """How many decimals a number is printed with ("30.4" has 1, "30" none).

    :param value: the number's lexical form (as Oxigraph keeps an ``xsd:decimal``)
    :returns: the number of digits after the decimal point
    """
    return len(value.partition(".")[2])


def arithmetic_disagreements(store: ox.Store) -> list[ox.Triple]:
    """Find printed percentages that their printed count and denominator do not give.

    A percentage agrees with ``numerator/denominator`` when it is within half a unit of its
    last printed digit of ``100 * numerator / denominator`` (23% for 9/40 = 22.5%).

    :param store: the graph after the SPARQL rules
    :returns: one ``skg:Disagreement`` node per inconsistent pair, with the computed percentage
    """
    triples: list[ox.Triple] = []
    for solution in select(store, _query("percentages-with-fractions")):
        percentage, fraction = solution["percentage"], solution["fraction"]
        printed = Decimal(solution["value"].value)
        numerator, denominator = int(solution["numerator"].value), int(solution["denominator"].value)
        if denominator < 1:
            continue  # SHACL reports the impossible fraction itself
        computed = Decimal(100 * numerator) / Decimal(denominator)
        if abs(printed - computed) <= Decimal(5).scaleb(-printed_places(solution["value"].value) - 1):
            continue
        # a node under the percentage's record, as rules 02 and 03 name theirs
        name = "arithmetic-disagreement" if fraction == percentage else f"disagreement-{fraction.value.removeprefix(_DATA)}"
        node = ox.NamedNode(f"{percentage.value}/{name}")
        triples += [
            ox.Triple(node, _RDF_TYPE, _skg("Disagreement")),
            ox.Triple(node, _skg("firstMeasurement"), percentage),
            ox.Triple(node, _skg("secondMeasurement"), fraction),
            ox.Triple(node, _skg("disagreementKind"), _skg("ArithmeticInconsistency")),
            ox.Triple(node, _skg("sourceRelation"), _skg("WithinOneStatement")),
            ox.Triple(node, _skg("computedPercentage"), _decimal(computed.quantize(_PLACES))),
        ]
    return triples


#: the derivations the build runs after the SPARQL rules, in order, by name
DERIVATIONS: tuple[tuple[str, Callable[[ox.Store], list[ox.Triple]]], ...] = (
    ("clopper-pearson-intervals", fraction_intervals),
    ("arithmetic-disagreements", arithmetic_disagreements),
)
