"""Load and check the curated records (stage 1 of the build).

Records are YAML files below ``data/records``. Each file maps record kinds to lists of
records; the JSON Schema in ``data/schema/records.schema.yaml`` says which fields each
kind has. Every problem is reported with the file, the record and the rule, and all
problems of a run are reported together.
"""

from __future__ import annotations

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
from kg.resources import resource_path

__all__ = [
    "Record",
    "RecordSet",
    "default_records_dir",
    "load_records",
    "load_schema",
    "number_lexical",
]


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
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, name: str) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{name}: not valid YAML: {error}") from error
    except OSError as error:
        raise ConfigurationError(f"{name}: cannot read: {error}") from error


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
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


def _schema_problems(document: Any, name: str, schema: Mapping[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in validator.iter_errors(document):
        where = "/".join(str(part) for part in list(error.absolute_path)[2:])
        message = f"{where}: {error.message}" if where else error.message
        problems.append(Problem(name, _record_id(document, list(error.absolute_path)), error.validator, message))
    return problems


def _walk_refs(
    value: Any, node: Mapping[str, Any], schema: Mapping[str, Any], where: str
) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """Yield (field path, allowed kinds, referenced id) for every reference in a record."""
    node = _resolve(schema, node)
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


def number_lexical(value: float) -> str:
    """Write a number as the plain decimal it was written as (no exponent, no rounding).

    :param value: a number parsed from YAML
    :returns: its shortest plain decimal form, e.g. ``65.6`` or ``18``
    """
    text = format(Decimal(repr(value)), "f")
    return text


_NUMBER = re.compile(r"\d+(?:[.,·]\d+)?")
_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "  # noqa: SIM905
          "sixteen seventeen eighteen nineteen twenty").split()
_NUMBER_WORDS = {word: Decimal(value) for value, word in enumerate(_WORDS)}


def _numbers_in(text: str) -> set[Decimal]:
    """The numbers written in a text, in digits ("7.7", "65·6") or in words ("three")."""
    digits = {Decimal(match.replace(",", ".").replace("·", ".")) for match in _NUMBER.findall(text)}
    words = {_NUMBER_WORDS[word] for word in re.findall(r"[a-z]+", text.lower()) if word in _NUMBER_WORDS}
    return digits | words


def _rule_problems(records: Sequence[Record], by_id: Mapping[str, Record]) -> Iterator[Problem]:
    """The checks JSON Schema cannot express, each with its own rule name."""
    known = verified_ids()
    converter = get_converter()
    for record in records:
        data = record.data
        numeric = data.get("numeric")
        if (numeric is not None and isinstance(data.get("value"), str)
                and Decimal(number_lexical(numeric)) not in _numbers_in(data["value"])):
            yield Problem(
                record.file, record.id, "numeric-as-written",
                f"numeric {number_lexical(numeric)} is not a number written in value {data['value']!r}; "
                "record the figure exactly as the source writes it",
            )
        numerator, denominator = data.get("numerator"), data.get("denominator")
        if isinstance(numerator, int) and isinstance(denominator, int) and numerator > denominator:
            yield Problem(record.file, record.id, "numerator-le-denominator",
                          f"numerator {numerator} is larger than denominator {denominator}")
        for curie in data.get("xrefs", []) or []:
            standard = converter.standardize_curie(curie, strict=False)
            if standard is None or standard not in known:
                yield Problem(
                    record.file, record.id, "verified-identifier",
                    f"xref {curie!r} is not a verified row of data/reference/external-ids.csv; "
                    "leave it out rather than guess",
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
    files = sorted(directory.rglob("*.yaml"))
    if not files:
        raise ConfigurationError(f"no record files (*.yaml) in {directory}")
    for path in files:
        name = path.relative_to(directory).as_posix()
        document = _read_yaml(path, name)
        if document is None:
            continue
        file_problems = _schema_problems(document, name, schema)
        problems.extend(file_problems)
        if file_problems:
            continue
        for kind, items in document.items():
            records.extend(Record(kind, item, name, index) for index, item in enumerate(items))

    by_id: dict[str, Record] = {}
    for record in records:
        if record.id in by_id:
            other = by_id[record.id]
            problems.append(Problem(record.file, record.id, "unique-id",
                                    f"id already used by a record of {other.kind} in {other.file}"))
        else:
            by_id[record.id] = record

    for record in records:
        kind_schema = schema["properties"][record.kind]["items"]
        for where, kinds, target in _walk_refs(record.data, kind_schema, schema, ""):
            found = by_id.get(target)
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
