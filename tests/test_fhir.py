"""The FHIR R5 export: one Evidence per outcome measurement, validated by fhir.resources' R5 models."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.evidence import Evidence

from kg.publish.fhir import FHIR_BASE, evidence_bundle, fhir_json

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


def test_one_evidence_per_measurement_and_every_reference_resolves(document: dict, store: ox.Store) -> None:
    measurements = {row["m"].value for row in store.query(
        "SELECT ?m WHERE { ?m a <https://w3id.org/sarcoma-kg/ontology/OutcomeMeasurement> }")}
    evidence = _resources(document, "Evidence")
    assert {resource["url"] for resource in evidence.values()} == measurements
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
                     if "attributeEstimate" in resource["statistic"][0]]
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
