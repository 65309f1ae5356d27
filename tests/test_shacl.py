"""SHACL shapes, data-driven as in pySHACL: valid fixtures conform, each invalid one fails
for the reason its header states, on the node it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph

from kg.pipeline.shacl import shacl_problems

FIXTURES = Path(__file__).parent / "fixtures" / "shacl"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


def _graph(path: Path) -> Graph:
    graph = Graph().parse(FIXTURES / "base.ttl", format="turtle")
    return graph.parse(path, format="turtle")


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_conforms(path: Path) -> None:
    assert shacl_problems(_graph(path), warnings=True) == []


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_fails_for_its_reason(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = re.search(r"^# expect: (\S+)$", text, re.MULTILINE).group(1)
    focus = re.search(r"^# focus: (\S+)$", text, re.MULTILINE).group(1)
    # "# severity: Warning": the shape is a plausibility check, reported but never failing a build
    warning = re.search(r"^# severity: Warning$", text, re.MULTILINE) is not None
    problems = shacl_problems(_graph(path), warnings=True)
    assert problems, f"{path.name} should fail SHACL validation"
    assert any(p.rule == f"shacl:{expected}" and p.record == focus
               and p.message.startswith("(warning)") is warning for p in problems), (
        f"{path.name}: expected {expected} on {focus} ({'warning' if warning else 'violation'}), "
        f"got {[(p.record, p.rule, p.message) for p in problems]}"
    )
    if warning:
        assert shacl_problems(_graph(path)) == [], f"{path.name}: a warning alone does not fail validation"


def test_every_shape_says_what_is_wrong() -> None:
    """Each constraint of a shape added for issue 20 carries a message and a severity (at the
    constraint or on its node shape)."""
    from rdflib import Namespace, URIRef

    from kg.pipeline.shacl import load_shapes

    sh = Namespace("http://www.w3.org/ns/shacl#")
    shapes = load_shapes()
    names = ["ProportionInPercentShape", "TimeInTimeUnitsShape", "CountInPatientsShape", "AbsenceWithoutFigureShape",
             "RateWithTimePointShape", "DerivedOnMeasurementShape", "SmallGroupShape", "MeasurementIntervalShape",
             "PooledUnderPopulationShape", "DisagreementShape",
             "DerivedIntervalShape", "FindingValueShape", "FindingPValueShape", "FindingProportionInPercentShape"]
    for name in names:
        shape = URIRef("https://w3id.org/sarcoma-kg/shapes/" + name)
        constraints = [*shapes.objects(shape, sh.property), *shapes.objects(shape, sh.sparql)]
        assert constraints, name
        for constraint in constraints:
            for what in (sh.message, sh.severity):
                assert (constraint, what, None) in shapes or (shape, what, None) in shapes, f"{name}: no {what}"
