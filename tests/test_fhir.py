"""The FHIR R5 export: one Evidence per outcome measurement, validated by fhir.resources' R5 models."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.evidence import Evidence

from kg.publish.fhir import FHIR_BASE, evidence_bundle, fhir_json
from kg.query.store import open_store

_ID = "https://w3id.org/sarcoma-kg/id/"


@pytest.fixture(scope="module")
def document(store: ox.Store) -> dict:
    return json.loads(fhir_json(store))


def _resources(document: dict, kind: str) -> dict[str, dict]:
    return {entry["resource"]["id"]: entry["resource"] for entry in document["entry"]
            if entry["resource"]["resourceType"] == kind}


def test_the_bundle_validates_as_fhir_r5_and_reads_back_the_same(store: ox.Store) -> None:
    text = fhir_json(store)
    bundle = Bundle.model_validate_json(text)  # every entry validated against its R5 model
    assert bundle.type == "collection"
    again = Bundle.model_validate_json(bundle.model_dump_json(exclude_none=True))
    assert again.model_dump() == bundle.model_dump()


def test_one_evidence_per_measurement_and_contrast_and_every_reference_resolves(document: dict, store: ox.Store) -> None:
    facts = {row["m"].value for row in store.query(
        "SELECT ?m WHERE { VALUES ?kind { <https://w3id.org/sarcoma-kg/ontology/OutcomeMeasurement> "
        "<https://w3id.org/sarcoma-kg/ontology/Contrast> } ?m a ?kind }")}
    evidence = _resources(document, "Evidence")
    assert {resource["url"] for resource in evidence.values()} == facts
    full_urls = {entry["fullUrl"] for entry in document["entry"]}

    def references(node: object) -> list[str]:
        if isinstance(node, dict):
            return ([node["reference"]] if "reference" in node else []) + [
                found for value in node.values() for found in references(value)]
        if isinstance(node, list):
            return [found for value in node for found in references(value)]
        return []

    missing = {reference for reference in references(document) if FHIR_BASE + reference not in full_urls}
    assert not missing


def test_an_evidence_states_its_value_as_printed_its_variables_and_its_source(document: dict) -> None:
    """D'Angelo's pooled UPS/MFS ORR (Wu, text, reference 108)."""
    resource = _resources(document, "Evidence")["m-wu-bempeg-1"]
    statistic = resource["statistic"][0]
    assert statistic["statisticType"]["coding"][0]["code"] == "C44256"  # HL7 statistic-type: Proportion
    assert statistic["quantity"] == {"value": 20, "unit": "percent", "system": "http://unitsofmeasure.org", "code": "%"}
    assert "20% (as printed)" in statistic["description"]
    roles = {variable["variableRole"]["coding"][0]["code"]: variable for variable in resource["variableDefinition"]}
    assert roles["population"]["description"] == "UPS/MFS patients"  # the pooled group, as printed
    assert roles["exposure"]["observed"]["reference"] == "EvidenceVariable/bempegaldesleukin-nivolumab"
    assert roles["measuredVariable"]["observed"]["display"] == "objective response"
    quote = resource["note"][0]["text"]
    assert "reference [108]" in quote and "the ORR was 20% (two out of ten patients experienced a PR)" in quote
    assert resource["citeAsReference"]["reference"] == "Citation/wu2025"
    assert {artifact["type"] for artifact in resource["relatedArtifact"]} == {"derived-from", "cites"}


def test_a_printed_fraction_gives_the_sample_size_events_and_the_derived_interval(document: dict) -> None:
    with_interval = [resource for resource in _resources(document, "Evidence").values()
                     if "attributeEstimate" in resource.get("statistic", [{}])[0]]
    assert with_interval, "no measurement with a printed numerator and denominator"
    for resource in with_interval:
        statistic = resource["statistic"][0]
        assert statistic["sampleSize"]["knownDataCount"] >= statistic["numberOfEvents"]
        estimate = statistic["attributeEstimate"][0]
        assert estimate["type"]["coding"][0]["code"] == "C53324"  # confidence interval
        assert estimate["level"] == 0.95
        assert estimate["description"].startswith("Derived by Sarcoma-KG, not printed by the source")
        assert estimate["range"]["low"]["value"] <= estimate["range"]["high"]["value"]


def test_populations_and_therapies_are_coded_with_their_verified_ids(document: dict) -> None:
    ups = _resources(document, "Group")["undifferentiated-pleomorphic-sarcoma"]
    codes = {(coding["system"], coding["code"])
             for coding in ups["characteristic"][0]["valueCodeableConcept"]["coding"]}
    assert ("http://purl.obolibrary.org/obo/MONDO_", "0002142") in codes
    regimen = _resources(document, "EvidenceVariable")["bempegaldesleukin-nivolumab"]
    parts = regimen["characteristic"][0]["definitionByCombination"]["characteristic"]
    assert {part["definitionCodeableConcept"]["text"] for part in parts} == {"bempegaldesleukin", "nivolumab"}
    nivolumab = next(part for part in parts if part["definitionCodeableConcept"]["text"] == "nivolumab")
    assert ("http://purl.obolibrary.org/obo/NCIT_", "C68814") in {
        (coding["system"], coding["code"]) for coding in nivolumab["definitionCodeableConcept"]["coding"]}


def test_publications_are_citations_with_their_dois(document: dict) -> None:
    citations = _resources(document, "Citation")
    huang = citations["huang2025"]["citedArtifact"]
    assert huang["identifier"][0] == {"system": "https://doi.org", "value": "10.3389/fimmu.2025.1507870"}
    assert citations["ref-d-angelo-2022"]["citedArtifact"]["webLocation"][0]["url"] == \
        "https://doi.org/10.1038/s41467-022-30874-8"


def test_the_cli_writes_the_bundle(built, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    output = tmp_path / "evidence.fhir.json"
    result = CliRunner().invoke(main, ["export", "--format", "fhir", "--output", str(output),
                                       "--graph", str(built.output)])
    assert result.exit_code == 0, result.output
    assert Evidence.model_validate(next(entry["resource"] for entry in json.loads(output.read_text())["entry"]
                                        if entry["resource"]["resourceType"] == "Evidence"))


def test_the_bundle_is_the_same_for_the_same_graph(store: ox.Store) -> None:
    assert evidence_bundle(store).model_dump_json() == evidence_bundle(store).model_dump_json()


def test_a_sample_size_taken_from_the_same_groups_count_says_so(document: dict) -> None:
    """Issue 20 item 2: a value with no printed denominator carries the N of its group's only
    count, with its kind and how it was obtained (SARC028's UPS "ORR 40%" beside "10 UPS")."""
    evidence = _resources(document, "Evidence")["m-wu-sarc028-5"]
    sample = evidence["statistic"][0]["sampleSize"]
    assert sample["knownDataCount"] == 10
    assert sample["description"] == "enrolled patients: count of the same group (not printed with the value)"
    assert "numberOfEvents" not in evidence["statistic"][0]


def test_a_contrast_is_a_comparative_evidence_of_an_arm_against_its_comparator(document: dict) -> None:
    """SU2C-SARC032's 2-year DFS, experimental group against the active control (Wu, Table 2):
    exposure and reference exposure with their regimens, no statistic between the arms (the
    review prints none), composed of the two arms' own Evidence."""
    evidence = _resources(document, "Evidence")
    contrast = evidence["c-wu-sarc032-dfs-table"]
    roles = {variable["variableRole"]["coding"][0]["code"]: variable for variable in contrast["variableDefinition"]}
    assert set(roles) == {"population", "exposure", "referenceExposure", "measuredVariable"}
    assert roles["exposure"]["observed"]["display"] == \
        "neoadjuvant pembrolizumab plus radiotherapy, surgery, adjuvant pembrolizumab"
    assert roles["referenceExposure"]["observed"]["reference"] == "EvidenceVariable/neoadjuvant-radiotherapy-surgery"
    assert roles["referenceExposure"]["description"] == "SU2C-SARC032 control group (active control arm)"
    assert "statistic" not in contrast
    assert any("prints no difference, hazard ratio or p-value" in note["text"] for note in contrast["note"])
    parts = {artifact["resourceReference"]["reference"]: artifact["display"]
             for artifact in contrast["relatedArtifact"] if artifact["type"] == "composed-of"}
    assert len(parts) == 2 and all(part.removeprefix("Evidence/") in evidence for part in parts)
    assert sorted(parts.values()) == ["SU2C-SARC032 control group (active control arm): 2-year DFS 52%",
                                      "SU2C-SARC032 experimental group (experimental arm): 2-year DFS 67%"]


def test_a_historical_comparator_has_no_regimen_and_says_what_it_is(document: dict) -> None:
    """NITRA-SARC's median OS against "earlier data": the comparator is described, not coded."""
    contrast = _resources(document, "Evidence")["c-huang-nitrasarc-median-os"]
    reference = next(variable for variable in contrast["variableDefinition"]
                     if variable["variableRole"]["coding"][0]["code"] == "referenceExposure")
    assert "observed" not in reference
    assert reference["description"].endswith("(historical comparator)")
    assert contrast["title"].startswith("median overall survival: 24.6 months")


def test_a_measurement_of_an_arm_names_the_arms_role(document: dict) -> None:
    measurement = next(resource for resource in _resources(document, "Evidence").values()
                       if any(variable.get("description") == "SU2C-SARC032 control group (active control arm)"
                              and variable["variableRole"]["coding"][0]["code"] == "exposure"
                              for variable in resource["variableDefinition"]))
    assert "statistic" in measurement


def test_a_printed_hazard_ratio_between_arms_is_the_contrasts_statistic(tmp_path: Path) -> None:
    """The reviews print no HR between arms today; one that is printed becomes the statistic."""
    graph = tmp_path / "contrast.ttl"
    graph.write_text(_CONTRAST_GRAPH, encoding="utf-8")
    bundle = json.loads(fhir_json(open_store(graph)))
    contrast = _resources(bundle, "Evidence")["c-1"]
    statistic = contrast["statistic"][0]
    assert statistic["statisticType"]["coding"][0]["code"] == "C93150"
    assert statistic["description"] == "hazard ratio between the arms as printed: HR 0.61"
    assert not any("prints no difference" in note["text"] for note in contrast["note"])


_CONTRAST_GRAPH = """
@prefix skg: <https://w3id.org/sarcoma-kg/ontology/> .
@prefix skgid: <https://w3id.org/sarcoma-kg/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
skgid:c-1 a skg:Contrast ; skg:contrastedArm skgid:a-1 ; skg:comparatorArm skgid:a-2 ;
    skg:contrastedMeasurement skgid:m-1 , skgid:m-2 ; skg:hazardRatioText "HR 0.61" ; skg:evidence skgid:e-1 .
skgid:m-1 a skg:OutcomeMeasurement ; skg:arm skgid:a-1 ; skg:valueText "mOS 20 months" ; skg:endpoint skg:MedianOS ;
    skg:study skgid:s-1 ; skg:evidence skgid:e-1 .
skgid:m-2 a skg:OutcomeMeasurement ; skg:arm skgid:a-2 ; skg:valueText "mOS 12 months" ; skg:endpoint skg:MedianOS ;
    skg:study skgid:s-1 ; skg:evidence skgid:e-1 .
skgid:a-1 rdfs:label "arm A" ; skg:armRole skg:ExperimentalArm .
skgid:a-2 rdfs:label "arm B" ; skg:armRole skg:ActiveControlArm .
skg:ExperimentalArm rdfs:label "experimental arm" .
skg:ActiveControlArm rdfs:label "active control arm" .
skg:MedianOS rdfs:label "median overall survival" .
skgid:s-1 rdfs:label "a trial" .
skgid:e-1 skg:review skgid:wu2025 ; skg:sourceLocation "text" ; skg:quote "HR 0.61" .
"""
