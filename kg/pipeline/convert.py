"""Turn checked records into RDF (stage 2 of the build).

The conversion is generic: each record becomes a JSON-LD node and the JSON-LD context
``data/schema/records.context.jsonld`` says what every field means. Python only adds what the
schema's annotations ask for: the class of each kind (``x-class``), stable IRIs for
nested objects (so the output has no blank nodes and is byte-identical run to run),
IRIs for CURIEs and for ``x-link`` values, made by the project's converter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import quote

from rdflib import Graph

from kg.identifiers import get_converter
from kg.pipeline.numbers import number_lexical
from kg.pipeline.records import XREF_FIELDS, RecordSet, load_schema, resolve_ref
from kg.resources import read_json, resource_path

__all__ = ["load_records_context", "records_to_graph", "records_to_jsonld"]


@cache
def load_records_context() -> dict[str, Any]:
    """Return the JSON-LD context of the records.

    :returns: the parsed context document
    :raises ConfigurationError: if the context file is missing or not JSON
    """
    return read_json(resource_path("data", "schema", "records.context.jsonld"), what="the records' JSON-LD context")


def _decimal_fields() -> frozenset[str]:
    terms = load_records_context()["@context"]
    return frozenset(
        key for key, value in terms.items() if isinstance(value, dict) and value.get("@type") == "xsd:decimal"
    )


class _Preparer:
    """Walks a record with its schema and returns the JSON-LD node."""

    def __init__(self) -> None:
        self.schema = load_schema()
        self.converter = get_converter()
        self.decimals = _decimal_fields()

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        return resolve_ref(self.schema, node)

    def node(self, value: Mapping[str, Any], schema: Mapping[str, Any], node_id: str) -> dict[str, Any]:
        schema = self.resolve(schema)
        out: dict[str, Any] = {"id": node_id}
        types = [schema["x-class"]] if "x-class" in schema else []
        if isinstance(value.get("type"), str) and value["type"] not in types:
            types.append(value["type"])
        out["type"] = types
        see_also: list[str] = []
        for key, item in value.items():
            if key in ("id", "type"):
                continue
            child = self.resolve(schema.get("properties", {}).get(key, {}))
            if "x-link" in child:
                # DOIs may hold characters an IRI cannot (``<``, ``>``): percent-encode them.
                local = quote(str(item), safe="/:;()._-~!$&'*+,=@")
                see_also.append(self.converter.expand_pair(child["x-link"], local, strict=True))
            out[key] = self.value(key, item, child, node_id)
        if see_also:
            out["seeAlso"] = see_also
        return out

    def value(self, key: str, item: Any, schema: Mapping[str, Any], parent: str) -> Any:
        if key in XREF_FIELDS:
            return [self.converter.expand(curie, strict=True) for curie in item]
        if isinstance(item, dict):
            return self.node(item, schema, f"{parent}/{key}")
        if isinstance(item, list):
            child = self.resolve(schema.get("items", {}))
            if any(isinstance(element, dict) for element in item):
                return [self.node(element, child, f"{parent}/{key}-{position + 1}")
                        for position, element in enumerate(item)]
            return [self.value(key, element, child, parent) for element in item]
        if key in self.decimals and isinstance(item, int | float) and not isinstance(item, bool):
            return number_lexical(item)
        return item


def records_to_jsonld(records: RecordSet) -> dict[str, Any]:
    """Return the records as one JSON-LD document (context included).

    :param records: checked records
    :returns: a JSON-LD document with an ``@graph`` of one node per record
    """
    preparer = _Preparer()
    schema = load_schema()
    graph = [
        preparer.node(record.data, schema["properties"][record.kind]["items"], record.id)
        for record in records.records
    ]
    return {"@context": load_records_context()["@context"], "@graph": graph}


def records_to_graph(records: RecordSet) -> Graph:
    """Convert checked records to an RDF graph.

    :param records: checked records
    :returns: a new in-memory graph with the records' triples
    """
    graph = Graph()
    graph.parse(data=json.dumps(records_to_jsonld(records)), format="json-ld")
    return graph
