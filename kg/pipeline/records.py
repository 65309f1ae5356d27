"""Load and check the curated records (stage 1 of the build).

Records are YAML files below ``data/records``. Each file maps record kinds to lists of
records; the JSON Schema in ``data/schema/records.schema.yaml`` says which fields each
kind has. Every problem is reported with the file, the record and the rule, and all
problems of a run are reported together.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kg.errors import ConfigurationError, DataError, Problem
from kg.identifiers import DATA_NAMESPACE, get_converter, verified_ids
from kg.pipeline.numbers import leading_number, number_lexical, numbers_in
from kg.resources import resource_path

__all__ = [
    "XREF_FIELDS",
    "Record",
    "RecordSet",
    "bound_problems",
    "default_records_dir",
    "load_records",
    "load_schema",
    "resolve_ref",
]

#: The fields that hold external identifiers (CURIEs of verified rows), with the mapping
#: predicate each becomes: a target's gene is close to it, not the same thing; an entity with
#: no exact term may have a close or a broader one.
XREF_FIELDS = {"xrefs": "skos:exactMatch", "gene_xrefs": "skos:closeMatch", "close_xrefs": "skos:closeMatch",
               "broad_xrefs": "skos:broadMatch"}
#: The kinds of row of the reference table each identifier field may take, by record kind:
#: a verified code of the wrong kind (a unit on a drug) is as wrong as a guessed one.
_THERAPY_KINDS = frozenset({"drug/biologic", "cell therapy (TCR-T)", "oncolytic virus", "therapy (procedure)"})
XREF_KINDS: Mapping[tuple[str, str], frozenset[str]] = {
    **{("therapies", field): _THERAPY_KINDS for field in ("xrefs", "close_xrefs", "broad_xrefs")},
    ("targets", "xrefs"): frozenset({"molecular target (protein)"}),
    ("targets", "gene_xrefs"): frozenset({"molecular target (gene)"}),
    **{("cell_types", field): frozenset({"immune cell type"}) for field in ("xrefs", "close_xrefs", "broad_xrefs")},
    **{("subtypes", field): frozenset({"sarcoma subtype"}) for field in ("xrefs", "close_xrefs", "broad_xrefs")},
}


@dataclass(frozen=True)
class Record:
    """One curated record.

    :param kind: the record kind (the top-level key of its file), e.g. ``measurements``
    :param data: the record as written
    :param file: the file it comes from, relative to the records directory
    :param index: its position in the file's list for that kind
    """

    kind: str
    data: Mapping[str, Any]
    file: str
    index: int

    @property
    def id(self) -> str:
        """The record's id (or its position when it has none)."""
        value = self.data.get("id")
        return value if isinstance(value, str) else f"{self.kind}[{self.index}]"


@dataclass(frozen=True)
class RecordSet:
    """All records of a data directory, checked.

    :param records: the records in file order
    :param by_id: the records by id
    """

    records: tuple[Record, ...]
    by_id: Mapping[str, Record] = field(repr=False)

    def locate(self, iri: str) -> tuple[str, str] | None:
        """Name the file and record a node of the built graph comes from.

        :param iri: an IRI of the graph; nested nodes (``<id>/evidence``) belong to their record
        :returns: (file, node id below the data namespace), or None for IRIs of no record
        """
        if not iri.startswith(DATA_NAMESPACE):
            return None
        local = iri.removeprefix(DATA_NAMESPACE)
        record = self.by_id.get(local.split("/", 1)[0])
        return (record.file if record else "(graph)"), local

    def of_kind(self, kind: str) -> Iterator[Record]:
        """Iterate over the records of one kind.

        :param kind: a top-level key of the schema, e.g. ``"studies"``
        :yields: the records of that kind
        """
        return (record for record in self.records if record.kind == kind)


def default_records_dir() -> Path:
    """Return the directory of the shipped curated records."""
    return resource_path("data", "records")


@cache
def load_schema() -> dict[str, Any]:
    """Return the records JSON Schema.

    :raises ConfigurationError: if the schema is missing or is not a valid JSON Schema
    """
    path = resource_path("data", "schema", "records.schema.yaml")
    try:
        schema = yaml.safe_load(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, yaml.YAMLError, jsonschema.SchemaError) as error:
        raise ConfigurationError(f"cannot load the records schema {path}: {error}") from error
    return schema


# libyaml's parser when PyYAML was built with it (about 10x faster), else the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """Build a mapping, refusing duplicate and unhashable keys as PyYAML's own errors do.

    :param loader: the loader
    :param node: the mapping node
    :param deep: construct nested objects at once
    :returns: the mapping
    :raises yaml.constructor.ConstructorError: for a key given twice or a key that cannot
        be a dictionary key (a list or a mapping, written ``? [a, b]``)
    """
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            ) from None
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


#: Byte-order marks of the encodings a record file is most often saved in by mistake.
_OTHER_ENCODINGS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def _read_yaml(path: Path, name: str) -> Any:
    """Read one record file.

    :param path: the file
    :param name: the name problems are reported under
    :returns: the parsed document
    :raises ConfigurationError: if the file cannot be read, is not UTF-8 or is not valid YAML
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"{name}: cannot read: {error}") from error
    encoding = next((label for bom, label in _OTHER_ENCODINGS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data:
        encoding = "UTF-16 or UTF-32"  # ASCII text in UTF-16 without a byte-order mark is valid UTF-8
    if encoding is not None:
        raise ConfigurationError(f"{name}: not UTF-8 (it looks like {encoding}); save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigurationError(f"{name}: not UTF-8 (byte {error.start}: {error.reason}); save it as UTF-8") from error
    stream = io.StringIO(text)
    stream.name = name  # PyYAML names the file in its messages (instead of "<unicode string>")
    try:
        return yaml.load(stream, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{name}: not valid YAML: {error}") from error


def resolve_ref(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a schema node's ``$ref`` into ``$defs``, keeping the node's own keywords.

    :param schema: the records' JSON Schema
    :param node: a node of it
    :returns: the node with its ``$ref`` (and theirs) merged in
    """
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        node = {**schema["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _record_id(document: Any, path: Sequence[Any]) -> str:
    """Name the record a schema error points into: its id, or its position."""
    if len(path) >= 2 and isinstance(document, dict):
        kind, index = path[0], path[1]
        items = document.get(kind)
        if isinstance(items, list) and isinstance(index, int) and index < len(items):
            item = items[index]
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                return item["id"]
            return f"{kind}[{index}]"
    return "/".join(str(part) for part in path) or "(file)"


def _schema_problems(document: Any, name: str, schema: Mapping[str, Any]) -> tuple[list[Problem], set[tuple[Any, ...]]]:
    """Validate a record file against the schema.

    :param document: the parsed file
    :param name: the name problems are reported under
    :param schema: the records schema
    :returns: the problems, and the (kind, index) of every record (or ``(kind,)`` of every
        list of records) a problem is in
    """
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    invalid: set[tuple[Any, ...]] = set()
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        where = "/".join(str(part) for part in path[2:])
        message = f"{where}: {error.message}" if where else error.message
        problems.append(Problem(name, _record_id(document, path), error.validator, message))
        if path:  # a problem of the whole file (an unknown kind) leaves its other records as they are
            invalid.add(tuple(path[:2]))
    return problems, invalid


def _file_records(document: Any, name: str, schema: Mapping[str, Any],
                  invalid: set[tuple[Any, ...]]) -> tuple[list[Record], list[Record]]:
    """Split a file's records into those that pass the schema and those that do not.

    :param document: the parsed file
    :param name: the file's name
    :param schema: the records schema
    :param invalid: what :func:`_schema_problems` found invalid
    :returns: (valid records, invalid records of a known kind that still have an id)
    """
    valid: list[Record] = []
    broken: list[Record] = []
    if not isinstance(document, dict):
        return valid, broken
    for kind, items in document.items():
        if kind not in schema["properties"] or not isinstance(items, list) or (kind,) in invalid:
            continue
        for index, item in enumerate(items):
            if (kind, index) not in invalid:
                valid.append(Record(kind, item, name, index))
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                broken.append(Record(kind, item, name, index))
    return valid, broken


def _walk_refs(
    value: Any, node: Mapping[str, Any], schema: Mapping[str, Any], where: str
) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """Yield (field path, allowed kinds, referenced id) for every reference in a record."""
    node = resolve_ref(schema, node)
    if "x-ref" in node and isinstance(value, str):
        yield where, tuple(node["x-ref"]), value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = node.get("properties", {}).get(key)
            if child is not None:
                yield from _walk_refs(item, child, schema, f"{where}.{key}" if where else key)
    elif isinstance(value, list) and "items" in node:
        for position, item in enumerate(value):
            yield from _walk_refs(item, node["items"], schema, f"{where}[{position}]")


#: The number fields that must be written in a text field of the same record, and where
#: (a dotted name is a field of a nested object).
WRITTEN_IN: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "measurements": {"numeric": ("value",), "numerator": ("value",),
                     # a landmark time or a denominator is often printed beside the value
                     # ("PFS rate at 24 months: 38%"), so the quote may carry it instead
                     "denominator": ("value", "evidence.quote"), "time_value": ("value", "evidence.quote"),
                     # a sample size is written in the quote of its own evidence where it has one
                     # (the first text found of these is the only one read), else beside the value
                     "sample_size.size": ("sample_size.evidence.quote", "value", "evidence.quote")},
    "findings": {"cohort_size": ("population_text", "statement")},
}


def _at(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a record (``evidence.quote``), or None."""
    node: Any = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _text_at(data: Mapping[str, Any], path: str) -> str | None:
    """The text at a dotted path of a record (``evidence.quote``), or None."""
    node = _at(data, path)
    return node if isinstance(node, str) else None


def _texts_for(data: Mapping[str, Any], name: str, sources: Sequence[str]) -> list[str]:
    """The texts a number field must be written in: for a field of a nested object that has
    its own evidence (a sample size), that evidence's quote only; else every source found."""
    texts = [text for source in sources if (text := _text_at(data, source)) is not None]
    parent = name.rpartition(".")[0]
    if parent and sources and sources[0].startswith(parent + ".") and _text_at(data, sources[0]) is not None:
        return texts[:1]
    return texts


#: Words that make the figure after them a bound ("over two years", "exceeded 80%"), and
#: the words after them, where that figure is written.
_BOUND = re.compile(r"(?:(?<![\w-])(?:over|more than|exceed(?:s|ed|ing)?|at least|greater than|less than|fewer than|under|"
                    r"up to|beyond)\b|[<>≤≥])\s*(\S+(?:\s+\S+)?)", re.IGNORECASE)


def bound_problems(record: Record) -> Iterator[Problem]:
    """Check that a measurement does not record a bound as its figure (rule bound-is-not-a-value).

    A bound ("over two years", "exceeded 80%") is kept in words: the record is wrong when its
    ``numeric`` is the number right after a bound word, not when its value merely holds one
    ("ORR 18% (p<0.05)" records 18).

    :param record: any record (only a measurement with a ``value`` and a ``numeric`` is checked)
    :returns: at most one problem, naming the bound
    """
    value, numeric = record.data.get("value"), record.data.get("numeric")
    if record.kind != "measurements" or not isinstance(value, str) or not isinstance(numeric, int | float):
        return
    for match in _BOUND.finditer(value):
        if Decimal(str(numeric)) in leading_number(match.group(1)):
            yield Problem(record.file, record.id, "bound-is-not-a-value",
                          f"value {value!r} gives a bound ({match.group(0)!r}), not the figure; leave numeric "
                          "(and unit) out and keep the words in value")
            return


def _as_written_problems(record: Record) -> Iterator[Problem]:
    """Numbers that are not written in the text they come from (rule numeric-as-written)."""
    for name, sources in WRITTEN_IN.get(record.kind, {}).items():
        number = _at(record.data, name)
        texts = _texts_for(record.data, name, sources)
        if number is None or isinstance(number, bool) or not isinstance(number, int | float) or not texts:
            continue
        written = Decimal(number_lexical(number))
        if any(written in numbers_in(text) for text in texts):
            continue
        where = " or ".join(f"{source} {_text_at(record.data, source)!r}" for source in sources
                            if _text_at(record.data, source) in texts)
        yield Problem(
            record.file, record.id, "numeric-as-written",
            f"{name} {number_lexical(number)} is not a number written in {where}; "
            "record the figure exactly as the source writes it",
        )


#: The number fields of a finding's value and the texts they must be written in: the value
#: itself, or for its N the sentence (the statement, the population or the quote).
VALUE_WRITTEN_IN: Mapping[str, tuple[str, ...]] = {
    "numeric": ("value",), "numerator": ("value", "population_text", "../statement", "../evidence.quote"),
    "denominator": ("value", "population_text", "../statement", "../evidence.quote"),
}


def _value_as_written_problems(record: Record) -> Iterator[Problem]:
    """A finding value's number that is not written where it comes from (rule numeric-as-written)."""
    values = record.data.get("values") if record.kind == "findings" else None
    for position, value in enumerate(values if isinstance(values, list) else [], start=1):
        if not isinstance(value, Mapping):
            continue
        for name, sources in VALUE_WRITTEN_IN.items():
            number = value.get(name)
            if number is None or isinstance(number, bool) or not isinstance(number, int | float):
                continue
            texts = [text for source in sources
                     if (text := _text_at(record.data, source[3:]) if source.startswith("../")
                         else _text_at(value, source)) is not None]
            if any(Decimal(number_lexical(number)) in numbers_in(text) for text in texts):
                continue
            yield Problem(record.file, record.id, "numeric-as-written",
                          f"values[{position}].{name} {number_lexical(number)} is not a number written in "
                          f"{' or '.join(source.removeprefix('../') for source in sources)}; record the figure "
                          "exactly as the source writes it")


#: Study types that state an observational or case design, which a study whose source gives no
#: design (design_category DesignNotReported) must not have. A clinical trial may: the source
#: says "trial" without printing its phase, on which its design category depends. So may a
#: real-world or correlative study: these name the setting (routine practice) or the purpose
#: (samples of a trial), which the source does state, not how patients were followed.
DESIGN_TYPES = frozenset({"RetrospectiveStudy", "ProspectiveStudy", "PooledAnalysis", "PreclinicalStudy",
                          "CaseReport", "CaseSeries"})


def _rule_problems(records: Sequence[Record], by_id: Mapping[str, Record]) -> Iterator[Problem]:
    """The checks JSON Schema cannot express, each with its own rule name."""
    known = verified_ids()
    converter = get_converter()
    for record in records:
        data = record.data
        yield from _as_written_problems(record)
        yield from _value_as_written_problems(record)
        yield from bound_problems(record)
        if record.kind == "studies" and data.get("design_category") == "DesignNotReported" \
                and data.get("type") in DESIGN_TYPES:
            yield Problem(record.file, record.id, "design-type-agrees",
                          f"type {data['type']} states a design, but design_category is DesignNotReported; "
                          "give the type Study (or the design category the source states)")
        numerator, denominator = data.get("numerator"), data.get("denominator")
        if isinstance(numerator, int) and isinstance(denominator, int) and numerator > denominator:
            yield Problem(record.file, record.id, "numerator-le-denominator",
                          f"numerator {numerator} is larger than denominator {denominator}")
        for field_name in XREF_FIELDS:
            for curie in data.get(field_name, []) or []:
                standard = converter.standardize_curie(curie, strict=False)
                if standard is None or standard not in known:
                    yield Problem(
                        record.file, record.id, "verified-identifier",
                        f"xref {curie!r} is not a verified row of data/reference/external-ids.csv; "
                        "leave it out rather than guess",
                    )
                    continue
                allowed = XREF_KINDS.get((record.kind, field_name), frozenset())
                if not allowed:
                    yield Problem(record.file, record.id, "identifier-kind",
                                  f"{field_name} {curie!r}: the reference table has no kind of identifier for "
                                  f"{record.kind}; leave it out")
                elif known[standard].kind not in allowed:
                    yield Problem(
                        record.file, record.id, "identifier-kind",
                        f"{field_name} {curie!r} is the reference table's {known[standard].kind!r} "
                        f"{known[standard].label!r}, not an identifier of {record.kind} "
                        f"({', '.join(sorted(allowed))}); take a row of the right kind",
                    )
        evidences = data.get("evidence")
        if isinstance(evidences, dict):
            evidences = [evidences]
        for evidence in evidences or []:
            yield from _evidence_problems(record, evidence, by_id)


def _evidence_problems(record: Record, evidence: Mapping[str, Any], by_id: Mapping[str, Record]) -> Iterator[Problem]:
    review = by_id.get(evidence.get("review", ""))
    number = evidence.get("reference_number")
    if number is None or review is None or review.kind != "reviews":
        return
    if number > review.data["reference_count"]:
        yield Problem(record.file, record.id, "reference-number-in-range",
                      f"reference number {number} is beyond the {review.data['reference_count']} "
                      f"references of {review.id}")
    publication = by_id.get(evidence.get("reference", ""))
    if publication is not None and publication.kind == "publications":
        numbers = {(entry["review"], entry["number"]) for entry in publication.data.get("cited_in", [])}
        if (review.id, number) not in numbers:
            yield Problem(record.file, record.id, "reference-number-matches",
                          f"{publication.id} is not reference {number} of {review.id} "
                          f"(its cited_in says {sorted(numbers)})")


def load_records(directory: Path | None = None) -> RecordSet:
    """Load, validate and cross-check every record file of a directory.

    :param directory: the records directory (default: the shipped ``data/records``)
    :returns: the checked records
    :raises ConfigurationError: if the directory is missing or a file is not valid YAML
    :raises DataError: with every problem found (schema, duplicate ids, dangling
        references, rule violations)
    """
    directory = directory or default_records_dir()
    if not directory.is_dir():
        raise ConfigurationError(f"records directory not found: {directory}")
    schema = load_schema()
    problems: list[Problem] = []
    records: list[Record] = []
    # Records that fail the schema are reported, and their ids still count (so that no
    # other record is said to point to nothing), but they get no further checks.
    broken: list[Record] = []
    files = sorted(directory.rglob("*.yaml"))
    if not files:
        raise ConfigurationError(f"no record files (*.yaml) in {directory}")
    # A curator's foo.yml would otherwise be skipped without a word, its records lost.
    problems.extend(Problem(path.relative_to(directory).as_posix(), "(file)", "record-file-name",
                            "record files are read only when named *.yaml; rename it")
                    for path in sorted(directory.rglob("*.yml")))
    for path in files:
        name = path.relative_to(directory).as_posix()
        document = _read_yaml(path, name)
        if document is None:
            problems.append(Problem(name, "(file)", "no-records",
                                    "the file holds no records (empty, or only comments); add records or remove it"))
            continue
        file_problems, invalid = _schema_problems(document, name, schema)
        problems.extend(file_problems)
        valid, invalid_records = _file_records(document, name, schema, invalid)
        records.extend(valid)
        broken.extend(invalid_records)

    known: dict[str, Record] = {}
    for record in [*records, *broken]:
        if record.id in known:
            other = known[record.id]
            problems.append(Problem(record.file, record.id, "unique-id",
                                    f"id already used by a record of {other.kind} in {other.file}"))
        else:
            known[record.id] = record
    by_id = {record.id: record for record in records if known[record.id] is record}

    for record in records:
        kind_schema = schema["properties"][record.kind]["items"]
        for where, kinds, target in _walk_refs(record.data, kind_schema, schema, ""):
            found = known.get(target)
            if found is None:
                problems.append(Problem(record.file, record.id, "dangling-reference",
                                        f"{where}: no record has id {target!r} (expected one of {', '.join(kinds)})"))
            elif found.kind not in kinds:
                problems.append(Problem(record.file, record.id, "reference-kind",
                                        f"{where}: {target!r} is one of {found.kind}, expected one of {', '.join(kinds)}"))
    problems.extend(_rule_problems(records, by_id))
    if problems:
        raise DataError(problems, stage="records")
    return RecordSet(tuple(records), by_id)
