"""The inference rules (``ontology/rules/*.rq``): each derives exactly what its fixture expects, and
a rules directory that cannot be used fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import graph_diff, to_isomorphic

from kg.errors import ConfigurationError
from kg.pipeline.derived import DERIVATIONS, clopper_pearson
from kg.pipeline.rules import apply_derivation, apply_rule, apply_rules, default_rules_dir

RULE_FIXTURES = Path(__file__).parent / "fixtures" / "rules"
RULES = sorted(default_rules_dir().glob("*.rq"))


DERIVATION_FIXTURES = Path(__file__).parent / "fixtures" / "derivations"


def _lines(graph: Graph) -> str:
    return "\n".join(sorted(f"  {line}" for line in graph.serialize(format="nt").splitlines() if line.strip()))


def _fixture_graphs(fixture: Path, what: str) -> tuple[Graph, Graph]:
    """The input and expected graphs of a fixture directory, with a message saying what to add."""
    for name in ("input.ttl", "expected.ttl"):
        assert (fixture / name).is_file(), (
            f"add {(fixture / name).relative_to(Path(__file__).parent)}: "
            + (f"a small graph the {what} reads" if name == "input.ttl" else f"the triples the {what} must derive from input.ttl"))
    return (Graph().parse(fixture / "input.ttl", format="turtle"), Graph().parse(fixture / "expected.ttl", format="turtle"))


def _assert_same(derived: Graph, expected: Graph, what: str) -> None:
    _, missing, unexpected = graph_diff(to_isomorphic(expected), to_isomorphic(derived))
    assert not missing and not unexpected, (
        f"{what}:\nexpected, not derived:\n{_lines(missing)}\nderived, not expected:\n{_lines(unexpected)}")


@pytest.mark.parametrize("rule", RULES, ids=lambda path: path.stem)
def test_rule_derives_exactly_the_triples_its_fixture_expects(rule: Path) -> None:
    """A rule with no fixture is untested: each has fixtures/rules/<rule>/input.ttl (the triples it
    reads, with what earlier rules would have derived, and nodes it must leave alone) and
    expected.ttl (every triple it must derive from them, and no other), run with the rule alone."""
    graph, expected = _fixture_graphs(RULE_FIXTURES / rule.stem, "rule")
    _assert_same(apply_rule(graph, rule), expected, f"{rule.name} on {rule.stem}/input.ttl")


@pytest.mark.parametrize("name", [name for name, _ in DERIVATIONS])
def test_derivation_derives_exactly_the_triples_its_fixture_expects(name: str) -> None:
    """As for the rules: each derivation of kg.pipeline.derived has fixtures/derivations/<name>/."""
    graph, expected = _fixture_graphs(DERIVATION_FIXTURES / name, "derivation")
    _assert_same(apply_derivation(graph, name), expected, f"derivation {name} on {name}/input.ttl")


def test_every_derivation_query_has_a_fixture() -> None:
    """Each input query of ontology/derivations is named in the header of the fixture of the
    derivation that reads it, so a new query without a fixture fails here."""
    headers = " ".join((fixture / "input.ttl").read_text(encoding="utf-8") for fixture in DERIVATION_FIXTURES.iterdir())
    queries = {path.name for path in (default_rules_dir().parent / "derivations").glob("*.rq")}
    uncovered = sorted(query for query in queries if f"ontology/derivations/{query}" not in headers)
    assert queries and not uncovered, (f"no fixture of fixtures/derivations names {uncovered} in its header: add one "
                                       "for the derivation that reads it")


def test_an_unknown_derivation_is_named() -> None:
    with pytest.raises(ConfigurationError, match="no derivation 'x'; the derivations are clopper-pearson-intervals"):
        apply_derivation(Graph(), "x")


def test_every_fixture_belongs_to_a_rule_or_derivation() -> None:
    """A fixture whose rule or derivation was renamed or removed would test nothing."""
    orphans = {path.name for path in RULE_FIXTURES.iterdir() if path.is_dir()} - {rule.stem for rule in RULES}
    assert not orphans, f"fixtures/rules/ {sorted(orphans)}: no ontology/rules/<name>.rq; rename or remove them"
    orphans = {path.name for path in DERIVATION_FIXTURES.iterdir() if path.is_dir()} - {name for name, _ in DERIVATIONS}
    assert not orphans, f"fixtures/derivations/ {sorted(orphans)}: no such derivation; rename or remove them"


def test_apply_rule_runs_one_rule_alone() -> None:
    """Rule 06 alone over rule 02's input derives nothing: the disagreement nodes it reads are 02's."""
    graph = Graph().parse(RULE_FIXTURES / "02-conflicts" / "input.ttl", format="turtle")
    assert len(apply_rule(graph, default_rules_dir() / "06-conflicts-with.rq")) == 0
    assert len(apply_rules(graph).added) > 0


def test_every_shipped_rule_runs_and_derives_nothing_from_nothing() -> None:
    result = apply_rules(Graph(), default_rules_dir())
    assert result.derived == {**{path.name: 0 for path in default_rules_dir().glob("*.rq")},
                              **{name: 0 for name, _ in DERIVATIONS}}
    assert len(result.added) == 0


def test_a_rule_that_does_not_parse_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.rq").write_text("CONSTRUCT { ?s ?p } WHERE { ?s ?p ?o }", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"rule broken\.rq: .*error at"):
        apply_rules(Graph(), tmp_path)


def test_a_rule_that_is_not_a_construct_is_named(tmp_path: Path) -> None:
    (tmp_path / "select.rq").write_text("SELECT * WHERE { ?s ?p ?o }", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"rule select\.rq: expected a CONSTRUCT or DESCRIBE query"):
        apply_rules(Graph(), tmp_path)


def test_an_empty_rules_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no rules"):
        apply_rules(Graph(), tmp_path)


_PAIR = """
@prefix skg: <https://w3id.org/sarcoma-kg/ontology/> .
@prefix id: <https://w3id.org/sarcoma-kg/id/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix uo: <http://purl.obolibrary.org/obo/UO_> .
id:a a skg:OutcomeMeasurement ; skg:study id:s ; skg:endpoint skg:ORR ; skg:population id:ups ;
    skg:evidence [ skg:review id:{review_a} ; skg:sourceLocation "{location_a}" {section_a} ] {more_a} .
id:b a skg:OutcomeMeasurement ; skg:study id:s ; skg:endpoint skg:ORR ; skg:population id:ups ;
    skg:evidence [ skg:review id:{review_b} ; skg:sourceLocation "{location_b}" {section_b} ] {more_b} .
"""
_TEXT = {"review_a": "wu2025", "review_b": "wu2025", "location_a": "text", "location_b": "text",
         "section_a": "", "section_b": ""}
_PERCENT = '; skg:numericValue "{}"^^xsd:decimal ; skg:unit uo:0000187'
_AT = '; skg:timePointValue "{}"^^xsd:decimal ; skg:timePointUnit uo:0000035'


@pytest.mark.parametrize(("case", "fields", "conflicts"), [
    ("two reviews, two figures", {"review_b": "huang2025", "more_a": _PERCENT.format(18),
                                  "more_b": _PERCENT.format(20)}, True),
    ("two reviews, one figure", {"review_b": "huang2025", "more_a": _PERCENT.format(18),
                                 "more_b": _PERCENT.format(18)}, False),
    ("a table and its text", {"location_b": "Table 2", "more_a": _PERCENT.format(18),
                              "more_b": _PERCENT.format(20)}, True),
    ("one sentence's two subgroups", {"more_a": _PERCENT.format(18), "more_b": _PERCENT.format(20)}, False),
    # regression (review): rule 02 did not count two sections of one text as two sources, 03 did
    ("two sections of the text", {"section_a": '; skg:section "ICI"', "section_b": '; skg:section "Vaccines"',
                                  "more_a": _PERCENT.format(18), "more_b": _PERCENT.format(20)}, True),
    ("a figure against 'not reached'", {"review_b": "huang2025", "more_a": _PERCENT.format(18)}, True),
    ("an absence against a silence", {"review_b": "huang2025", "more_a": "; skg:negativeResult true"}, True),
    ("other arms", {"review_b": "huang2025", "more_a": _PERCENT.format(18) + "; skg:arm id:x",
                    "more_b": _PERCENT.format(20) + "; skg:arm id:y"}, False),
    ("one arm left open", {"review_b": "huang2025", "more_a": _PERCENT.format(18) + "; skg:arm id:x",
                           "more_b": _PERCENT.format(20)}, True),
    ("one figure at two time points", {"review_b": "huang2025", "more_a": _PERCENT.format(52.6) + _AT.format(12),
                                       "more_b": _PERCENT.format(52.6) + _AT.format(3)}, True),
    ("two figures at two time points", {"review_b": "huang2025", "more_a": _PERCENT.format(52.6) + _AT.format(12),
                                        "more_b": _PERCENT.format(40) + _AT.format(3)}, False),
])
def test_conflict_rules_link_two_sources_that_disagree(case: str, fields: dict[str, str], conflicts: bool) -> None:
    """Rules 02-conflicts and 03-time-point-conflicts on one pair of measurements each."""
    text = _PAIR
    for name, value in {**_TEXT, "more_a": "", "more_b": "", **fields}.items():
        text = text.replace("{" + name + "}", value)
    added = apply_rules(Graph().parse(data=text, format="turtle")).added
    conflict = URIRef("https://w3id.org/sarcoma-kg/ontology/conflictsWith")
    a, b = (URIRef(f"https://w3id.org/sarcoma-kg/id/{name}") for name in "ab")
    assert ((a, conflict, b) in added) is conflicts, case
    assert ((b, conflict, a) in added) is conflicts, case


@pytest.mark.parametrize(("numerator", "denominator", "low", "high"), [
    # Newcombe 1998 (Stat Med 17:857), Table I, method 5: 81/263 -> 0.2527-0.3676
    (81, 263, 0.2527, 0.3676),
    (0, 20, 0.0, 0.1684),
    (9, 40, 0.1084, 0.3845),
    (4, 4, 0.3976, 1.0),
])
def test_clopper_pearson_gives_the_exact_interval(numerator: int, denominator: int, low: float, high: float) -> None:
    lower, upper = clopper_pearson(numerator, denominator)
    assert (round(lower, 4), round(upper, 4)) == (low, high)


_KIND = "https://w3id.org/sarcoma-kg/ontology/"


@pytest.mark.parametrize(("case", "fields", "kind", "relation"), [
    ("two reviews, two figures", {"review_b": "huang2025", "more_a": _PERCENT.format(18),
                                  "more_b": _PERCENT.format(20)}, "DifferentValue", "BetweenReviews"),
    ("rounding only", {"location_b": "Table 2", "more_a": _PERCENT.format("30.4"),
                       "more_b": _PERCENT.format(30)}, "RoundingOnly", "TableVsText"),
    ("beyond rounding", {"location_b": "Table 2", "more_a": _PERCENT.format("30.6"),
                         "more_b": _PERCENT.format(30)}, "DifferentValue", "TableVsText"),
    ("one precision, two figures", {"review_b": "huang2025", "more_a": _PERCENT.format("36.7"),
                                    "more_b": _PERCENT.format("36.6")}, "DifferentValue", "BetweenReviews"),
    ("two sections of the text", {"section_a": '; skg:section "ICI"', "section_b": '; skg:section "Vaccines"',
                                  "more_a": _PERCENT.format(18), "more_b": _PERCENT.format(20)},
     "DifferentValue", "BetweenPartsOfOneReview"),
    ("one figure at two time points", {"review_b": "huang2025", "more_a": _PERCENT.format(52.6) + _AT.format(12),
                                       "more_b": _PERCENT.format(52.6) + _AT.format(3)},
     "DifferentTimePoint", "BetweenReviews"),
    ("two pooled groups alike", {"review_b": "huang2025", "more_a": _PERCENT.format(18) + "; skg:pooledSubtype id:x",
                                 "more_b": _PERCENT.format(20) + "; skg:pooledSubtype id:x"},
     "DifferentValue", "BetweenReviews"),
    # a pooled value is never compared with the population's own (nor one subtype's)
    ("a pooled value and a whole population's", {"review_b": "huang2025",
                                                 "more_a": _PERCENT.format(18) + "; skg:pooledSubtype id:x, id:y",
                                                 "more_b": _PERCENT.format(20)}, None, None),
    ("two different pooled groups", {"review_b": "huang2025",
                                     "more_a": _PERCENT.format(18) + "; skg:pooledSubtype id:x, id:y",
                                     "more_b": _PERCENT.format(20) + "; skg:pooledSubtype id:x, id:z"}, None, None),
])
def test_each_disagreement_is_a_node_with_its_kind_and_source_relation(
        case: str, fields: dict[str, str], kind: str | None, relation: str | None) -> None:
    """Rules 02 and 03 make one skg:Disagreement per pair; rule 06 links the pair with skg:conflictsWith."""
    text = _PAIR
    for name, value in {**_TEXT, "more_a": "", "more_b": "", **fields}.items():
        text = text.replace("{" + name + "}", value)
    added = apply_rules(Graph().parse(data=text, format="turtle")).added
    nodes = set(added.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(_KIND + "Disagreement")))
    if kind is None:
        assert nodes == set(), case
        assert (None, URIRef(_KIND + "conflictsWith"), None) not in added, case
        return
    assert nodes == {URIRef("https://w3id.org/sarcoma-kg/id/a/disagreement-b")}, case
    node = nodes.pop()
    assert added.value(node, URIRef(_KIND + "disagreementKind")) == URIRef(_KIND + kind), case
    assert added.value(node, URIRef(_KIND + "sourceRelation")) == URIRef(_KIND + relation), case
    assert added.value(node, URIRef(_KIND + "firstMeasurement")) == URIRef("https://w3id.org/sarcoma-kg/id/a")
    assert added.value(node, URIRef(_KIND + "secondMeasurement")) == URIRef("https://w3id.org/sarcoma-kg/id/b")


def test_a_different_enrolled_count_is_a_different_n() -> None:
    text = _PAIR.replace("skg:ORR", "skg:EnrolledCount")
    for name, value in {**_TEXT, "location_b": "Table 2", "more_a": '; skg:numericValue 1', "more_b": '; skg:numericValue 5'}.items():
        text = text.replace("{" + name + "}", value)
    text += "skg:EnrolledCount skg:measuredOutcome skg:Enrolment . skg:Enrolment a skg:SampleSizeOutcome .\n"
    added = apply_rules(Graph().parse(data=text, format="turtle")).added
    node = URIRef("https://w3id.org/sarcoma-kg/id/a/disagreement-b")
    assert added.value(node, URIRef(_KIND + "disagreementKind")) == URIRef(_KIND + "DifferentSampleSize")


_ARITHMETIC = """
@prefix skg: <https://w3id.org/sarcoma-kg/ontology/> .
@prefix id: <https://w3id.org/sarcoma-kg/id/> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
skg:ResponseRate skg:measuredOutcome skg:TumourResponse ; skg:statistic skg:Proportion .
skg:ResponderCount skg:measuredOutcome skg:TumourResponse ; skg:statistic skg:Count .
{pairs}
"""
_ONE = ('id:{name} a skg:OutcomeMeasurement ; skg:study id:s ; skg:population id:p ; skg:endpoint skg:ORR ; '
        'skg:numericValue {value} ; skg:unit obo:UO_0000187 ; skg:numerator {n} ; skg:denominator {d} ; '
        'skg:evidence [ skg:review id:r ; skg:sourceLocation "text" ; skg:quote "{name}" ] .')
_TWO = ('id:{name}-rate a skg:OutcomeMeasurement ; skg:study id:s ; skg:population id:p ; skg:endpoint skg:ResponseRate ; '
        'skg:numericValue {value} ; skg:unit obo:UO_0000187 ; '
        'skg:evidence [ skg:review id:r ; skg:sourceLocation "text" ; skg:quote "{quote}" ] .\n'
        'id:{name}-count a skg:OutcomeMeasurement ; skg:study id:s ; skg:population id:p ; skg:endpoint skg:ResponderCount ; '
        'skg:numericValue {n} ; skg:unit obo:UO_0000189 ; skg:numerator {n} ; skg:denominator {d} ; '
        'skg:evidence [ skg:review id:r ; skg:sourceLocation "text" ; skg:quote "{name}" ] .')


@pytest.mark.parametrize(("case", "pairs", "expected"), [
    ("rounded half up", _ONE.format(name="m", value="23", n=9, d=40), None),
    ("to one decimal", _ONE.format(name="m", value="30.4", n=14, d=46), None),
    ("beyond the last digit", _ONE.format(name="m", value="30.5", n=14, d=46), ("m/arithmetic-disagreement", "30.43")),
    ("87% of 6/13, two measurements of one statement", _TWO.format(name="z", value="87", n=6, d=13, quote="z"),
     ("z-rate/disagreement-z-count", "46.15")),
    ("the same figures in two statements", _TWO.format(name="z", value="87", n=6, d=13, quote="elsewhere"), None),
])
def test_a_percentage_its_own_count_does_not_give_is_an_arithmetic_disagreement(
        case: str, pairs: str, expected: tuple[str, str] | None) -> None:
    """kg.pipeline.derived: printed percentage against printed count/denominator, within half a unit of its last digit."""
    added = apply_rules(Graph().parse(data=_ARITHMETIC.replace("{pairs}", pairs), format="turtle")).added
    nodes = {node for node in added.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                             URIRef(_KIND + "Disagreement"))
             if added.value(node, URIRef(_KIND + "disagreementKind")) == URIRef(_KIND + "ArithmeticInconsistency")}
    if expected is None:
        assert nodes == set(), case
        return
    name, computed = expected
    node = URIRef(f"https://w3id.org/sarcoma-kg/id/{name}")
    assert nodes == {node}, case
    assert str(added.value(node, URIRef(_KIND + "computedPercentage"))) == computed
    assert added.value(node, URIRef(_KIND + "sourceRelation")) == URIRef(_KIND + "WithinOneStatement")
    assert (None, URIRef(_KIND + "conflictsWith"), None) not in added


_GROUPS = """
@prefix skg: <https://w3id.org/sarcoma-kg/ontology/> .
@prefix id: <https://w3id.org/sarcoma-kg/id/> .
skg:EnrolledCount skg:measuredOutcome skg:Enrolment ; skg:statistic skg:Count .
skg:Enrolment a skg:SampleSizeOutcome .
id:case-study skg:designCategory skg:CaseReportDesign .
id:own-small a skg:OutcomeMeasurement ; skg:denominator 5 .
id:own-large a skg:OutcomeMeasurement ; skg:denominator 40 ; skg:arm id:small-arm ; skg:population id:ups ;
    skg:evidence [ skg:primarySource id:paper ] .
id:four a skg:OutcomeMeasurement ; skg:endpoint skg:EnrolledCount ; skg:arm id:small-arm ; skg:population id:ups ;
    skg:numericValue 4 ; skg:evidence [ skg:primarySource id:paper ] .
id:beside-four a skg:OutcomeMeasurement ; skg:arm id:small-arm ; skg:population id:ups ;
    skg:evidence [ skg:primarySource id:paper ] .
id:other-paper a skg:OutcomeMeasurement ; skg:arm id:small-arm ; skg:population id:ups ;
    skg:evidence [ skg:primarySource id:other ] .
id:four-and-forty a skg:OutcomeMeasurement ; skg:endpoint skg:EnrolledCount ; skg:arm id:mixed-arm ; skg:population id:ups ;
    skg:numericValue 40 ; skg:evidence [ skg:primarySource id:paper ] .
id:four-b a skg:OutcomeMeasurement ; skg:endpoint skg:EnrolledCount ; skg:arm id:mixed-arm ; skg:population id:ups ;
    skg:numericValue 4 ; skg:evidence [ skg:primarySource id:paper ] .
id:beside-both a skg:OutcomeMeasurement ; skg:arm id:mixed-arm ; skg:population id:ups ;
    skg:evidence [ skg:primarySource id:paper ] .
id:case a skg:OutcomeMeasurement ; skg:study id:case-study .
"""


@pytest.mark.parametrize(("measurement", "size"), [
    ("own-small", 5),          # its own denominator
    ("own-large", None),       # its own denominator wins over the arm's count
    ("beside-four", 4),        # the count the same paper gives for its arm and subtype
    ("other-paper", None),     # never a count of another paper
    ("beside-both", None),     # the largest printed count decides (4 and 40)
    ("four", None),            # a sample size is not itself flagged
    ("case", "no size"),       # a case report
])
def test_small_group_rule_flags_values_on_fewer_than_ten(measurement: str, size: int | str | None) -> None:
    """Rule 07-small-group: from the printed N only."""
    added = apply_rules(Graph().parse(data=_GROUPS, format="turtle")).added
    skg = "https://w3id.org/sarcoma-kg/ontology/"
    node = URIRef(f"https://w3id.org/sarcoma-kg/id/{measurement}")
    flagged = added.value(node, URIRef(skg + "smallGroup"))
    assert (flagged is not None and flagged.toPython() is True) is (size is not None), measurement
    if isinstance(size, int):
        assert added.value(node, URIRef(skg + "smallGroupSize")).toPython() == size
    elif size == "no size":
        assert added.value(node, URIRef(skg + "smallGroupSize")) is None


_SIZES = """
@prefix skg: <https://w3id.org/sarcoma-kg/ontology/> .
@prefix id: <https://w3id.org/sarcoma-kg/id/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
id:enrolled a skg:OutcomeMeasurement ; skg:endpoint skg:EnrolledCount ; skg:arm id:arm ; skg:population id:sts ;
    skg:numericValue 92 ; skg:evidence [ skg:primarySource id:paper ] .
id:others a skg:OutcomeMeasurement ; skg:endpoint skg:EvaluableCount ; skg:arm id:arm ; skg:population id:sts ;
    skg:numericValue 24 ; skg:residualGroup true ; skg:evidence [ skg:primarySource id:paper ] .
id:ups-count a skg:OutcomeMeasurement ; skg:endpoint skg:EnrolledCount ; skg:arm id:arm ; skg:population id:ups ;
    skg:numericValue 12 ; skg:evidence [ skg:primarySource id:paper ] .
id:median a skg:OutcomeMeasurement ; skg:endpoint skg:MedianPFS ; skg:arm id:arm ; skg:population id:sts ;
    skg:evidence [ skg:primarySource id:paper ] .
id:other-paper a skg:OutcomeMeasurement ; skg:endpoint skg:MedianPFS ; skg:arm id:arm ; skg:population id:sts ;
    skg:evidence [ skg:primarySource id:other ] .
id:lms a skg:OutcomeMeasurement ; skg:endpoint skg:ORR ; skg:arm id:arm ; skg:population id:lms ;
    skg:evidence [ skg:primarySource id:paper ] .
id:pooled a skg:OutcomeMeasurement ; skg:endpoint skg:ORR ; skg:arm id:arm ; skg:population id:sts ;
    skg:pooledSubtype id:ups ; skg:evidence [ skg:primarySource id:paper ] .
id:no-arm a skg:OutcomeMeasurement ; skg:endpoint skg:ORR ; skg:population id:sts ;
    skg:evidence [ skg:primarySource id:paper ] .
id:evaluable-a a skg:OutcomeMeasurement ; skg:endpoint skg:EvaluableCount ; skg:arm id:two ; skg:population id:sts ;
    skg:numericValue 40 ; skg:evidence [ skg:primarySource id:paper ] .
id:evaluable-b a skg:OutcomeMeasurement ; skg:endpoint skg:EvaluableCount ; skg:arm id:two ; skg:population id:sts ;
    skg:numericValue 84 ; skg:evidence [ skg:primarySource id:paper ] .
id:enrolled-two a skg:OutcomeMeasurement ; skg:endpoint skg:EnrolledCount ; skg:arm id:two ; skg:population id:sts ;
    skg:numericValue 86 ; skg:evidence [ skg:primarySource id:paper ] .
id:between-two a skg:OutcomeMeasurement ; skg:endpoint skg:ORR ; skg:arm id:two ; skg:population id:sts ;
    skg:evidence [ skg:primarySource id:paper ] .
id:evaluable-one a skg:OutcomeMeasurement ; skg:endpoint skg:EvaluableCount ; skg:arm id:three ; skg:population id:sts ;
    skg:numericValue 30 ; skg:evidence [ skg:primarySource id:paper ] .
id:enrolled-one a skg:OutcomeMeasurement ; skg:endpoint skg:EnrolledCount ; skg:arm id:three ; skg:population id:sts ;
    skg:numericValue 33 ; skg:evidence [ skg:primarySource id:paper ] .
id:prefers-evaluable a skg:OutcomeMeasurement ; skg:endpoint skg:ORR ; skg:arm id:three ; skg:population id:sts ;
    skg:evidence [ skg:primarySource id:paper ] .
id:printed a skg:OutcomeMeasurement ; skg:endpoint skg:ORR ; skg:arm id:arm ; skg:population id:sts ;
    skg:sampleSize id:printed-size ; skg:evidence id:printed-evidence .
id:printed-size a skg:SampleSize ; skg:sizeValue 14 ; skg:sampleSizeKind skg:EvaluablePatients .
"""


@pytest.mark.parametrize(("measurement", "size", "kind"), [
    ("median", 92, "EnrolledPatients"),     # the only count of its arm, subtype and paper ("24 others" is not)
    ("other-paper", None, None),            # never a count of another paper
    ("lms", None, None),                    # never the count of another population
    ("pooled", None, None),                 # a pooled group's value takes none
    ("no-arm", None, None),                 # nor a value without an arm
    ("between-two", None, None),            # two evaluable counts (40, 84) disagree: no N, not the enrolled one
    ("prefers-evaluable", 30, "EvaluablePatients"),  # evaluable before enrolled
    ("enrolled", None, None),               # a count is not given a size
    ("printed", 14, "EvaluablePatients"),   # a printed size stays as it is
])
def test_sample_size_rules_take_the_n_of_the_same_group_only(measurement: str, size: int | None,
                                                             kind: str | None) -> None:
    """Rules 10-sample-size-printed and 11-sample-size-from-count (issue 20 item 2); regression:
    a residual count ("24 others", population the cohort's) was taken for the cohort's N."""
    graph = Graph().parse(data=_SIZES, format="turtle")
    graph += apply_rules(graph).added
    skg = "https://w3id.org/sarcoma-kg/ontology/"
    node = URIRef(f"https://w3id.org/sarcoma-kg/id/{measurement}")
    sizes = list(graph.objects(node, URIRef(skg + "sampleSize")))
    if size is None:
        assert sizes == [], measurement
        return
    assert len(sizes) == 1, measurement
    assert graph.value(sizes[0], URIRef(skg + "sizeValue")).toPython() == size
    assert graph.value(sizes[0], URIRef(skg + "sampleSizeKind")) == URIRef(skg + kind)
    source = graph.value(sizes[0], URIRef(skg + "sampleSizeSource"))
    if measurement == "printed":
        assert source == URIRef(skg + "PrintedWithValue")
        assert graph.value(sizes[0], URIRef(skg + "evidence")) == URIRef("https://w3id.org/sarcoma-kg/id/printed-evidence")
    else:
        assert source == URIRef(skg + "SameGroupCount")
        assert graph.value(sizes[0], URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")) is not None


def test_sample_size_rules_run_twice_give_one_source_each() -> None:
    """Regression: rule 10 marked the sample sizes rule 11 had made in an earlier run as printed
    too, when the rules ran again over a built graph (two sources on one node)."""
    graph = Graph().parse(data=_SIZES, format="turtle")
    graph += apply_rules(graph).added
    graph += apply_rules(graph).added
    source = URIRef("https://w3id.org/sarcoma-kg/ontology/sampleSizeSource")
    nodes = set(graph.subjects(source, None))
    assert nodes and all(len(list(graph.objects(node, source))) == 1 for node in nodes)


_REGIMENS = """
@prefix skg: <https://w3id.org/sarcoma-kg/ontology/> .
@prefix id: <https://w3id.org/sarcoma-kg/id/> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
id:sequential a skg:Regimen ; skg:hasStep
    [ skg:stepTherapy id:pembrolizumab ; skg:stepOrder 1 ; skg:treatmentSetting skg:Neoadjuvant ] ,
    [ skg:stepTherapy id:radiotherapy ; skg:stepOrder 1 ] , [ skg:stepTherapy id:surgery ; skg:stepOrder 2 ] ,
    [ skg:stepTherapy id:pembrolizumab ; skg:stepOrder 3 ; skg:treatmentSetting skg:Adjuvant ] .
id:concurrent a skg:Regimen ; skg:hasStep [ skg:stepTherapy id:a ; skg:stepOrder 1 ] ,
                                          [ skg:stepTherapy id:b ; skg:stepOrder 1 ] .
id:order-not-printed a skg:Regimen ; skg:hasStep [ skg:stepTherapy id:a ; skg:stepOrder 1 ] ,
                                                 [ skg:stepTherapy id:b ] .
id:components-only a skg:Regimen ; obo:RO_0002180 id:a, id:b .
id:monotherapy a skg:Regimen ; obo:RO_0002180 id:a .
"""


def test_regimen_steps_give_the_components_and_the_schedule() -> None:
    """Issue 21: RO 'has component' lost the order of "neoadjuvant pembrolizumab + RT, surgery,
    adjuvant pembrolizumab"; the steps keep it, and rule 13 derives the shortcut and the schedule."""
    skg, ids = "https://w3id.org/sarcoma-kg/ontology/", "https://w3id.org/sarcoma-kg/id/"
    added = apply_rules(Graph().parse(data=_REGIMENS, format="turtle")).added
    component = URIRef("http://purl.obolibrary.org/obo/RO_0002180")
    assert set(added.objects(URIRef(ids + "sequential"), component)) == {
        URIRef(ids + name) for name in ("pembrolizumab", "radiotherapy", "surgery")}
    schedule = {str(s).removeprefix(ids): str(o).removeprefix(skg)
                for s, o in added.subject_objects(URIRef(skg + "componentSchedule"))}
    assert schedule == {"sequential": "SequentialComponents", "concurrent": "ConcurrentComponents",
                        "order-not-printed": "ScheduleNotSpecified", "components-only": "ScheduleNotSpecified"}


def test_the_su2c_sarc032_regimen_keeps_its_order_and_settings(built) -> None:
    """The curated regimen is sequential: pembrolizumab and radiotherapy neoadjuvant (step 1),
    surgery (step 2), pembrolizumab adjuvant (step 3), as Wu 2025 prints it."""
    skg, ids = "https://w3id.org/sarcoma-kg/ontology/", "https://w3id.org/sarcoma-kg/id/"
    graph = built.graph
    regimen = URIRef(ids + "neoadjuvant-pembrolizumab-radiotherapy-surgery-adjuvant-pembrolizumab")
    steps = {(str(graph.value(step, URIRef(skg + "stepTherapy"))).removeprefix(ids),
              int(graph.value(step, URIRef(skg + "stepOrder"))),
              str(graph.value(step, URIRef(skg + "treatmentSetting")) or "").removeprefix(skg))
             for step in graph.objects(regimen, URIRef(skg + "hasStep"))}
    assert steps == {("pembrolizumab", 1, "Neoadjuvant"), ("radiotherapy", 1, "Neoadjuvant"), ("surgery", 2, ""),
                     ("pembrolizumab", 3, "Adjuvant")}
    assert graph.value(regimen, URIRef(skg + "componentSchedule")) == URIRef(skg + "SequentialComponents")
