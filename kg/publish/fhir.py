"""The evidence as HL7 FHIR R5 resources (``sarcoma-kg export --format fhir``).

One ``Evidence`` per outcome measurement, in a ``Bundle`` of type collection with the
resources it refers to: a ``Group`` per population (the subtype, coded with its verified
external ids), an ``EvidenceVariable`` per regimen (its therapies, coded likewise) and per
outcome, and a ``Citation`` per publication (the reviews and the primary papers, with their
DOIs). Each Evidence states:

* ``statistic``: the statistic type (HL7's statistic-type codes where one fits: proportion,
  median, count, mean, hazard ratio; the project's label otherwise), the value with its UCUM
  unit, the value as printed, the printed denominator (else the sample size the build took from the
  count of the same group) as ``sampleSize.knownDataCount`` and
  numerator as ``numberOfEvents``, and the build's exact 95% interval as an
  ``attributeEstimate`` that says it is derived, not printed;
* ``variableDefinition``: population, exposure (the regimen, described by the arm and its
  role: experimental, active control, single-arm cohort ...) and measured variable (the outcome);
* ``certainty``: the design-based evidence level, under its own name;
* ``relatedArtifact`` and ``citeAsReference``: the review it is derived from and the primary
  publication it cites, with the exact quote, the location and the reference number in a note.

Each contrast between two arms (``skg:Contrast``: SU2C-SARC032's experimental group against
its control, NITRA-SARC against the earlier data it is compared with) is a comparative
Evidence of its own: the arm as ``exposure``, its comparator as ``referenceExposure`` (coded
by its regimen, or only described when it is a historical comparator), the statistics the
source prints between the two (none in the reviews today, which a note says), and the two
arms' own Evidence as ``relatedArtifact`` of type ``composed-of``.

The resources are built with the ``fhir.resources`` R5 models, which validate each one as it
is made. External codes take as their ``system`` the vocabulary's URI prefix from the
project's Bioregistry prefix table (``http://purl.obolibrary.org/obo/MONDO_``), since those
are the IRIs the verified table gives.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from fhir.resources.annotation import Annotation
from fhir.resources.bundle import Bundle, BundleEntry
from fhir.resources.citation import (
    Citation,
    CitationCitedArtifact,
    CitationCitedArtifactTitle,
    CitationCitedArtifactWebLocation,
)
from fhir.resources.codeableconcept import CodeableConcept
from fhir.resources.coding import Coding
from fhir.resources.evidence import (
    Evidence,
    EvidenceCertainty,
    EvidenceStatistic,
    EvidenceStatisticAttributeEstimate,
    EvidenceStatisticSampleSize,
    EvidenceVariableDefinition,
)
from fhir.resources.evidencevariable import (
    EvidenceVariable,
    EvidenceVariableCharacteristic,
    EvidenceVariableCharacteristicDefinitionByCombination,
)
from fhir.resources.group import Group, GroupCharacteristic
from fhir.resources.identifier import Identifier
from fhir.resources.quantity import Quantity
from fhir.resources.range import Range
from fhir.resources.reference import Reference
from fhir.resources.relatedartifact import RelatedArtifact

from kg.identifiers import DATA_NAMESPACE, ONTOLOGY_NAMESPACE, get_converter
from kg.query.queries import StoredQuery, load_queries
from kg.resources import resource_path

__all__ = ["FHIR_BASE", "evidence_bundle", "fhir_json"]

#: The base of the bundle's fullUrls; a resource's references (``Group/ups``) resolve against it.
FHIR_BASE = "https://w3id.org/sarcoma-kg/fhir/"
_SKG = ONTOLOGY_NAMESPACE
_ID = DATA_NAMESPACE
_STATISTIC_TYPES = "http://terminology.hl7.org/CodeSystem/statistic-type"
_VARIABLE_ROLES = "http://terminology.hl7.org/CodeSystem/variable-role"
_ESTIMATE_TYPES = "http://terminology.hl7.org/CodeSystem/attribute-estimate-type"
_UCUM = "http://unitsofmeasure.org"
#: HL7 statistic-type codes for the project's statistics (codes and displays as the HL7 code
#: system gives them); the others (range bound, observed time, p-value) go as text.
_STATISTIC_CODES = {
    "Proportion": ("C44256", "Proportion"),
    "RateAtTimePoint": ("C44256", "Proportion"),
    "Median": ("C28007", "Median"),
    "Count": ("C25463", "Count"),
    "Mean": ("C53319", "Mean"),
    "HazardRatio": ("C93150", "Hazard Ratio"),
}
#: UCUM codes of the UO units the records use (count: the unity "1").
_UCUM_CODES = {
    "http://purl.obolibrary.org/obo/UO_0000187": "%",
    "http://purl.obolibrary.org/obo/UO_0000033": "d",
    "http://purl.obolibrary.org/obo/UO_0000034": "wk",
    "http://purl.obolibrary.org/obo/UO_0000035": "mo",
    "http://purl.obolibrary.org/obo/UO_0000036": "a",
    "http://purl.obolibrary.org/obo/UO_0000189": "1",
}
_FHIR_ID = re.compile(r"[^A-Za-z0-9\-.]")


def _query(name: str) -> StoredQuery:
    return load_queries(resource_path("queries", "export"))[name]


def _rows(store: ox.Store, text: str) -> list[dict[str, str]]:
    results = store.query(text)
    assert isinstance(results, ox.QuerySolutions)
    names = [variable.value for variable in results.variables]
    return [{name: solution[name].value for name in names if solution[name] is not None} for solution in results]


def _fhir_id(iri: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) for a project IRI: its local part, shortened with a hash."""
    local = _FHIR_ID.sub("-", iri.removeprefix(_ID).removeprefix(_SKG))
    if len(local) > 64:
        local = f"{local[:55]}-{hashlib.sha256(iri.encode()).hexdigest()[:8]}"
    return local


def _codings(iris: Iterable[str]) -> list[Coding]:
    """The verified external ids of an entity as codings (system: the vocabulary's URI prefix)."""
    converter = get_converter()
    codings = []
    for iri in sorted(iris):
        curie = converter.compress(iri)
        if curie is None:
            continue
        prefix, code = curie.split(":", 1)
        codings.append(Coding(system=converter.expand(f"{prefix}:"), code=code))
    return codings


def _concept(label: str, iris: Iterable[str] = ()) -> CodeableConcept:
    return CodeableConcept(coding=_codings(iris) or None, text=label)


def _reference(kind: str, iri: str, display: str | None = None) -> Reference:
    return Reference(reference=f"{kind}/{_fhir_id(iri)}", display=display)


class _Graph:
    """The facts the resources need, read from the store once."""

    def __init__(self, store: ox.Store) -> None:
        self.labels: dict[str, str] = {}
        self.codes: dict[str, set[str]] = defaultdict(set)
        self.components: dict[str, list[str]] = defaultdict(list)
        self.publications: dict[str, dict[str, str]] = {}
        for row in _rows(store, _query("fhir-entities").text):
            self.labels[row["entity"]] = row["label"]
            if "code" in row:
                self.codes[row["entity"]].add(row["code"])
            if "component" in row:
                self.components[row["entity"]].append(row["component"])
            if row.get("isPublication") == "true":
                self.publications[row["entity"]] = row

    def label(self, iri: str) -> str:
        return self.labels.get(iri, iri)


def _statistic(row: dict[str, str]) -> EvidenceStatistic:
    statistic = row.get("statistic", "").removeprefix(_SKG)
    label = row.get("statisticLabel") or row["endpointLabel"]
    code = _STATISTIC_CODES.get(statistic)
    statistic_type = CodeableConcept(
        coding=[Coding(system=_STATISTIC_TYPES, code=code[0], display=code[1])] if code else None, text=label)
    printed = row.get("valueText")
    at = f" at {row['timeValue']} {row['timeUnitLabel']}" if "timeUnitLabel" in row else ""
    description = f"{row['endpointLabel']}{at}: {printed if printed is not None else 'no value printed'} (as printed)"
    if row.get("negative") == "true":
        description += "; reported as an absence (no such outcome observed)"
    quantity = None
    if "numeric" in row:
        unit = row.get("unit")
        ucum = _UCUM_CODES.get(unit or "")
        quantity = Quantity(value=Decimal(row["numeric"]), unit=row.get("unitLabel"),
                            system=_UCUM if ucum else None, code=ucum)
    sample_size = None
    if "denominator" in row:
        sample_size = EvidenceStatisticSampleSize(
            knownDataCount=int(Decimal(row["denominator"])),
            description="the denominator the source prints with the value")
    elif "sampleSize" in row:
        sample_size = EvidenceStatisticSampleSize(
            knownDataCount=int(Decimal(row["sampleSize"])),
            description=f"{row['sampleSizeKind']}: {row['sampleSizeSource']} (not printed with the value)")
    estimates = None
    if "lower" in row:
        estimates = [EvidenceStatisticAttributeEstimate(
            type=CodeableConcept(coding=[Coding(system=_ESTIMATE_TYPES, code="C53324", display="Confidence interval")],
                                 text="confidence interval (derived)"),
            level=Decimal(row["level"]),
            range=Range(low=Quantity(value=Decimal(row["lower"]), unit="percent", system=_UCUM, code="%"),
                        high=Quantity(value=Decimal(row["upper"]), unit="percent", system=_UCUM, code="%")),
            description=(f"Derived by Sarcoma-KG, not printed by the source: {row.get('methodLabel', 'exact')} "
                         f"from the printed {row.get('numerator')}/{row.get('denominator')}"))]
    notes = [Annotation(text="on a small group: fewer than 10 patients, or a case report; not to be ranked with "
                             "whole-cohort results")] if row.get("smallGroup") == "true" else None
    return EvidenceStatistic(
        description=description, statisticType=statistic_type, quantity=quantity, sampleSize=sample_size,
        numberOfEvents=int(Decimal(row["numerator"])) if "numerator" in row else None,
        attributeEstimate=estimates, note=notes)


def _variable(role: str, description: str, observed: Reference | None) -> EvidenceVariableDefinition:
    return EvidenceVariableDefinition(description=description, observed=observed,
                                      variableRole=CodeableConcept(coding=[Coding(system=_VARIABLE_ROLES, code=role)]))


def _population(row: dict[str, str], graph: _Graph) -> list[EvidenceVariableDefinition]:
    """The population variable (the subtype, described as printed), where the row has one."""
    if "population" not in row:
        return []
    population = row["population"]
    return [_variable("population", row.get("populationText") or graph.label(population),
                      _reference("Group", population, graph.label(population)))]


def _measured(row: dict[str, str]) -> EvidenceVariableDefinition:
    """The measured variable: the outcome, described by the endpoint."""
    outcome = row.get("outcome")
    return _variable("measuredVariable", row["endpointLabel"],
                     _reference("EvidenceVariable", outcome, row.get("outcomeLabel")) if outcome else None)


def _variables(row: dict[str, str], graph: _Graph) -> list[EvidenceVariableDefinition]:
    exposure = []
    if "regimen" in row:
        arm = row.get("armLabel")
        description = f"{arm} ({row['armRoleLabel']})" if arm and "armRoleLabel" in row else arm or graph.label(row["regimen"])
        exposure.append(_variable("exposure", description,
                                  _reference("EvidenceVariable", row["regimen"], graph.label(row["regimen"]))))
    return [*_population(row, graph), *exposure, _measured(row)]


def _provenance(row: dict[str, str], graph: _Graph) -> tuple[list[Annotation], list[RelatedArtifact]]:
    """Where a fact is printed: the quote with the review, location and reference number as a
    note; the review it is derived from and the primary publication it cites."""
    review = row["review"]
    where = row["location"] + (f", section '{row['section']}'" if "section" in row else "")
    reference = f", reference [{row['referenceNumber']}]" if "referenceNumber" in row else ""
    notes = [Annotation(text=f"Quote ({graph.label(review)}, {where}{reference}): \"{row['quote']}\"")]
    related = [RelatedArtifact(type="derived-from", label=where, display=graph.label(review),
                               resourceReference=_reference("Citation", review, graph.label(review)))]
    if "primarySource" in row:
        related.append(RelatedArtifact(
            type="cites", label=row.get("referenceNumber"), display=graph.label(row["primarySource"]),
            resourceReference=_reference("Citation", row["primarySource"], graph.label(row["primarySource"]))))
    return notes, related


def _evidence(row: dict[str, str], graph: _Graph) -> Evidence:
    review = row["review"]
    notes, related = _provenance(row, graph)
    if "comment" in row:
        notes.append(Annotation(text=f"Curators' comment: {row['comment']}"))
    certainty = None
    if "evidenceLevel" in row:
        level = row["evidenceLevel"]
        certainty = [EvidenceCertainty(
            description="Sarcoma-KG's design-based evidence level (from the study design alone)",
            type=CodeableConcept(text="evidence level by study design"),
            rating=CodeableConcept(coding=[Coding(system=_SKG, code=level.removeprefix(_SKG),
                                                  display=row.get("evidenceLevelLabel"))],
                                   text=row.get("evidenceLevelLabel")))]
    title = f"{row['endpointLabel']}: {row.get('valueText', 'no value printed')} ({row['studyLabel']})"
    return Evidence(
        id=_fhir_id(row["measurement"]), url=row["measurement"], status="active", title=title[:250],
        description=f"{title}; population as printed: {row.get('populationText', 'not given')}",
        citeAsReference=_reference("Citation", review, graph.label(review)), relatedArtifact=related,
        variableDefinition=_variables(row, graph), statistic=[_statistic(row)], certainty=certainty, note=notes,
        identifier=[Identifier(system="https://clinicaltrials.gov", value=row["nct"])] if "nct" in row else None)


#: What a contrast may print between its two arms, as a statistic type (HL7's code where one fits).
_CONTRAST_STATISTICS = (("difference", "difference", None), ("hazardRatio", "hazard ratio", ("C93150", "Hazard Ratio")),
                        ("pValue", "p-value", None))


def _contrast(row: dict[str, str], graph: _Graph) -> Evidence:
    """A comparative Evidence: an arm (exposure) against its comparator (reference exposure).

    Its statistics are only what the source prints between the two arms (a difference, a
    hazard ratio, a p-value); each arm's own value is an Evidence of its own, which this one
    is composed of.
    """
    arm = f"{row['armLabel']} ({row['armRoleLabel']})"
    comparator = f"{row['comparatorLabel']} ({row['comparatorRoleLabel']})"
    title = (f"{row['endpointLabel']}: {row['valueText']} ({row['armLabel']}) against {row['comparatorValueText']} "
             f"({row['comparatorLabel']}), {row['studyLabel']}")
    arms = [_variable(role, description, _reference("EvidenceVariable", regimen, graph.label(regimen)) if regimen else None)
            for role, description, regimen in (("exposure", arm, row.get("regimen")),
                                               ("referenceExposure", comparator, row.get("comparatorRegimen")))]
    variables = [*_population(row, graph), *arms, _measured(row)]
    statistics = [EvidenceStatistic(
        description=f"{name} between the arms as printed: {row[key]}",
        statisticType=CodeableConcept(coding=[Coding(system=_STATISTIC_TYPES, code=code[0], display=code[1])]
                                      if code else None, text=name))
        for key, name, code in _CONTRAST_STATISTICS if key in row]
    notes, related = _provenance(row, graph)
    if not statistics:
        notes.append(Annotation(text="The source prints no difference, hazard ratio or p-value between the arms: "
                                     "only each arm's value, an Evidence of its own (relatedArtifact composed-of)."))
    related += [RelatedArtifact(type="composed-of", display=f"{label}: {row[value]}",
                                resourceReference=_reference("Evidence", row[measurement]))
                for measurement, label, value in (("measurement", arm, "valueText"),
                                                  ("comparatorMeasurement", comparator, "comparatorValueText"))]
    return Evidence(
        id=_fhir_id(row["contrast"]), url=row["contrast"], status="active", title=title[:250], description=title,
        citeAsReference=_reference("Citation", row["review"], graph.label(row["review"])), relatedArtifact=related,
        variableDefinition=variables, statistic=statistics or None, note=notes)


def _group(iri: str, graph: _Graph) -> Group:
    return Group(id=_fhir_id(iri), type="person", membership="definitional", name=graph.label(iri),
                 characteristic=[GroupCharacteristic(code=CodeableConcept(text="has condition"),
                                                     valueCodeableConcept=_concept(graph.label(iri), graph.codes[iri]),
                                                     exclude=False)])


def _regimen(iri: str, graph: _Graph) -> EvidenceVariable:
    parts = [EvidenceVariableCharacteristic(definitionCodeableConcept=_concept(graph.label(part), graph.codes[part]))
             for part in sorted(graph.components[iri])]
    if len(parts) == 1:
        characteristic = parts[0]
    elif parts:
        characteristic = EvidenceVariableCharacteristic(
            definitionByCombination=EvidenceVariableCharacteristicDefinitionByCombination(code="all-of",
                                                                                          characteristic=parts))
    else:
        characteristic = EvidenceVariableCharacteristic(definitionCodeableConcept=_concept(graph.label(iri)))
    return EvidenceVariable(id=_fhir_id(iri), url=iri, status="active", title=graph.label(iri),
                            characteristic=[characteristic])


def _outcome(iri: str, label: str) -> EvidenceVariable:
    return EvidenceVariable(id=_fhir_id(iri), url=iri, status="active", title=label,
                            characteristic=[EvidenceVariableCharacteristic(
                                definitionCodeableConcept=CodeableConcept(
                                    coding=[Coding(system=_SKG, code=iri.removeprefix(_SKG), display=label)],
                                    text=label))])


def _citation(iri: str, publication: dict[str, str]) -> Citation:
    doi = publication.get("doi")
    text = publication.get("citation") or publication["label"]
    return Citation(
        id=_fhir_id(iri), url=iri, status="active", title=publication["label"],
        citedArtifact=CitationCitedArtifact(
            title=[CitationCitedArtifactTitle(text=text)],
            identifier=[Identifier(system="https://doi.org", value=doi)] if doi else None,
            webLocation=[CitationCitedArtifactWebLocation(url=f"https://doi.org/{doi}")] if doi else None))


def evidence_bundle(store: ox.Store) -> Bundle:
    """Every outcome measurement and every contrast between arms as a FHIR R5 Evidence, with
    what they refer to, in one Bundle.

    :param store: a store holding the built graph
    :returns: a ``collection`` Bundle (Evidence, Group, EvidenceVariable, Citation), validated
        by the ``fhir.resources`` models as it is built
    """
    graph = _Graph(store)
    rows = _rows(store, _query("fhir-evidence").text)
    resources: dict[tuple[str, str], Any] = {}
    for row in rows:
        resources["Evidence", row["measurement"]] = _evidence(row, graph)
        if "population" in row:
            resources.setdefault(("Group", row["population"]), _group(row["population"], graph))
        if "regimen" in row:
            resources.setdefault(("EvidenceVariable", row["regimen"]), _regimen(row["regimen"], graph))
        if "outcome" in row:
            resources.setdefault(("EvidenceVariable", row["outcome"]), _outcome(row["outcome"], row["outcomeLabel"]))
        for publication in (row["review"], row.get("primarySource")):
            if publication in graph.publications:
                resources.setdefault(("Citation", publication), _citation(publication, graph.publications[publication]))
    for row in _rows(store, _query("fhir-contrasts").text):
        resources["Evidence", row["contrast"]] = _contrast(row, graph)
        for regimen in (row.get("regimen"), row.get("comparatorRegimen")):
            if regimen:
                resources.setdefault(("EvidenceVariable", regimen), _regimen(regimen, graph))
    entries = [BundleEntry(fullUrl=f"{FHIR_BASE}{kind}/{resource.id}", resource=resource)
               for (kind, _), resource in sorted(resources.items(), key=lambda item: (item[0][0], item[1].id))]
    return Bundle(id="sarcoma-kg-evidence", type="collection", entry=entries)


def fhir_json(store: ox.Store) -> bytes:
    """The bundle of :func:`evidence_bundle` as FHIR JSON (UTF-8, two-space indent).

    :param store: a store holding the built graph
    :returns: the JSON document
    """
    return (evidence_bundle(store).model_dump_json(indent=2, exclude_none=True) + "\n").encode("utf-8")
