"""Stored SPARQL queries: one query per ``.rq`` file with a grlc-style header.

A header is a block of ``#+`` lines holding YAML (``summary``, ``description``, ``tags``,
``defaults``, ``params``). Parameters follow grlc's convention: a variable ``?_name`` is a
required parameter, ``?__name`` an optional one, and a suffix gives its type
(``?_subtype_iri``, ``?_limit_integer``; no suffix means a plain string).

Values are never pasted into the query text as text: each is made an RDF term by
pyoxigraph (which checks and escapes it) and bound by a SPARQL ``VALUES`` block placed at
the start of the query's outer WHERE group, so the same rendered query runs on the
embedded store, on rdflib and on any SPARQL 1.1 endpoint, and engines bind the
parameters before they evaluate the rest (a trailing VALUES clause is joined only after
the whole pattern, and after grouping). An optional parameter that is not given is simply
an unbound variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from kg.errors import ConfigurationError, ParameterError, QueryError
from kg.identifiers import DATA_NAMESPACE, ONTOLOGY_NAMESPACE, get_converter
from kg.query.store import run_query
from kg.resources import resource_path

__all__ = [
    "Parameter",
    "StoredQuery",
    "default_queries_dir",
    "get_query",
    "load_queries",
    "lookup_query",
    "page_query",
    "quality_queries",
    "resolve_entity",
]

# Strings, IRIs and comments (skipped), the WHERE keyword, and an opening brace.
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\x00-\x20]*>|#[^\n]*'
    r"|(?P<where>(?<![\w?$:])WHERE(?![\w:]))|(?P<brace>\{)",
    re.IGNORECASE,
)
_PARAMETER = re.compile(r"\?(__?)([A-Za-z][A-Za-z0-9]*)(?:_(iri|string|integer|decimal|boolean))?\b")
_XSD = "http://www.w3.org/2001/XMLSchema#"
#: The lexical forms of xsd:integer and xsd:decimal (no exponent, no NaN or infinity, ASCII digits).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


@dataclass(frozen=True)
class Parameter:
    """A parameter of a stored query.

    :param name: the parameter's name (``subtype``)
    :param variable: the SPARQL variable it binds, without ``?`` (``_subtype_iri``)
    :param kind: ``iri``, ``string``, ``integer``, ``decimal`` or ``boolean``
    :param required: whether a value (or a default) must be given
    :param default: the default value from the header, if any
    :param description: what the parameter means, from the header
    :param classes: for an ``iri`` parameter, the classes (IRIs) the entity it names must
        belong to, one of them at least (the header's ``types``); empty for any entity
    """

    name: str
    variable: str
    kind: str
    required: bool
    default: str | None = None
    description: str = ""
    classes: tuple[str, ...] = ()

    def term(self, value: str) -> ox.NamedNode | ox.Literal:
        """Turn a user-given value into a checked RDF term.

        An IRI parameter accepts a full IRI, a CURIE with a known prefix, or the local id
        of a Sarcoma-KG entity (``undifferentiated-pleomorphic-sarcoma``).

        :param value: the value as the user wrote it
        :returns: the RDF term
        :raises QueryError: if the value is not of the parameter's type
        """
        try:
            if self.kind == "iri":
                return ox.NamedNode(_expand(value))
            if self.kind == "integer":
                if not _INTEGER.fullmatch(value.strip()):
                    raise ValueError("write it as digits with an optional sign, such as 10")
                return ox.Literal(str(int(value)), datatype=ox.NamedNode(_XSD + "integer"))
            if self.kind == "decimal":
                if not _DECIMAL.fullmatch(value.strip()):
                    raise ValueError("write it as digits with an optional sign and point, such as 20 or -0.5")
                return ox.Literal(value.strip(), datatype=ox.NamedNode(_XSD + "decimal"))
            if self.kind == "boolean":
                if value.lower() not in ("true", "false"):
                    raise ValueError("expected true or false")
                return ox.Literal(value.lower(), datatype=ox.NamedNode(_XSD + "boolean"))
            return ox.Literal(value)
        except ValueError as error:
            raise ParameterError(f"parameter {self.name!r}: {value!r} is not a valid {self.kind} ({error})") from error


def lookup_query(parameter: Parameter, value: str) -> str:
    """The query that finds what a value of an IRI parameter names (see :func:`resolve_entity`).

    :param parameter: an ``iri`` parameter
    :param value: the value as the user wrote it: an IRI, a CURIE, an id in any case, a
        label, synonym, abbreviation or gene symbol
    :returns: the text of the ``entity-lookup`` query with the value bound
    :raises QueryError: if the value is empty
    """
    text = value.strip()
    if not text:
        raise ParameterError(f"parameter {parameter.name!r}: an IRI, a CURIE, an id or a label is needed")
    plain = ":" not in text
    candidates = {
        "entity": _candidate(lambda: _expand(text)),
        "lowered": _candidate(lambda: _expand(text.lower())),
        "term": _candidate(lambda: ONTOLOGY_NAMESPACE + text if plain else _expand(text)),
    }
    return page_query("entity-lookup").render({**candidates, "text": text.lower()})


def _candidate(make: Callable[[], str]) -> str:
    """An IRI to look for, or the data namespace (which names nothing) where the text makes none."""
    try:
        return str(ox.NamedNode(make()).value)
    except ValueError:
        return DATA_NAMESPACE


def resolve_entity(parameter: Parameter, value: str, rows: Sequence[Mapping[str, str]]) -> str:
    """Pick the entity a parameter's value names from the rows of its :func:`lookup_query`.

    Only entities of the parameter's classes count (when it has any); among them the one
    whose IRI, CURIE or id (in any case) the value is wins; otherwise the one entity found.

    :param parameter: the parameter
    :param value: the value as the user wrote it
    :param rows: the lookup's rows, each with ``match`` (an IRI) and maybe ``label``
    :returns: the IRI of the entity
    :raises QueryError: if the value names nothing in the graph, several entities, or only
        entities not of the parameter's classes
    """
    matches = list(dict.fromkeys(row["match"] for row in rows))
    labels = {row["match"]: row.get("label") for row in rows}
    converter = get_converter()

    def named(iris: Sequence[str]) -> str:
        return ", ".join(f"{converter.compress(iri, passthrough=True)} ({labels[iri]})" for iri in iris[:8])

    if not matches:
        raise ParameterError(
            f"parameter {parameter.name!r}: nothing in the graph is {value!r} (looked for an entity with that id, "
            "IRI or CURIE, one mapped to it, and one with that label, synonym, abbreviation or gene symbol)"
        )
    if parameter.classes:
        types = {row["match"]: set(str(row.get("types", "")).split()) for row in rows}
        fitting = [iri for iri in matches if types[iri] & set(parameter.classes)]
        if not fitting:
            kinds = " or ".join(converter.compress(iri, passthrough=True) for iri in parameter.classes)
            which = "which is not" if len(matches) == 1 else "none of which is"
            raise ParameterError(f"parameter {parameter.name!r}: {value!r} names {named(matches)}, {which} a {kinds}")
        matches = fitting
    for candidate in (value, value.lower()):  # an id (in any case), IRI or CURIE wins over a label
        try:
            given = _expand(candidate)
        except ValueError:
            continue
        if given in matches:
            return given
    if len(matches) == 1:
        return matches[0]
    raise ParameterError(f"parameter {parameter.name!r}: {value!r} could be {named(matches)}; give one of these ids")


def _expand(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("an IRI, a CURIE or an id is needed")
    if value.startswith(("http://", "https://")):
        return value
    converter = get_converter()
    if ":" in value:
        expanded = converter.expand(value, strict=False)
        if expanded is None:
            raise ValueError(f"unknown prefix in CURIE {value!r}")
        return expanded
    return DATA_NAMESPACE + value


@dataclass(frozen=True)
class StoredQuery:
    """A stored query and its header.

    :param name: the file name without ``.rq``
    :param path: the file
    :param text: the query text (header included; ``#`` lines are SPARQL comments)
    :param summary: one line saying what the query answers
    :param description: a longer description
    :param tags: tags for grouping in the API
    :param parameters: the query's parameters
    """

    name: str
    path: Path
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = field(default=())

    @property
    def is_violation_check(self) -> bool:
        """Whether the query is a quality check that must return no rows."""
        return self.name.endswith("-violation")

    def render(self, values: Mapping[str, str] | None = None) -> str:
        """Return the query text with the parameter values bound by a VALUES clause.

        :param values: parameter name to value (defaults fill the rest)
        :returns: SPARQL 1.1 query text
        :raises QueryError: if a value is unknown, of the wrong type, or a required one is missing
        """
        values = dict(values or {})
        self.check_names(values)
        variables, terms = [], []
        for parameter in self.parameters:
            value = values.get(parameter.name, parameter.default)
            if value is None:
                if parameter.required:
                    raise ParameterError(f"query {self.name!r} needs a value for parameter {parameter.name!r}")
                continue
            variables.append(f"?{parameter.variable}")
            terms.append(str(parameter.term(str(value))))
        if not variables:
            return self.text
        position = _where_group_start(self.text)
        # one VALUES block per parameter, not one row of several: the same single solution, and
        # Virtuoso 7.2 cannot compile some queries that start with a row of two ("SP031")
        block = "".join(f"\n  VALUES {variable} {{ {term} }}" for variable, term in zip(variables, terms, strict=True))
        return self.text[:position] + block + self.text[position:]

    def check_names(self, values: Mapping[str, str]) -> None:
        """Check that the query has a parameter of each name given.

        :param values: parameter name to value
        :raises QueryError: naming the unknown parameters and the known ones
        """
        unknown = sorted(set(values) - {p.name for p in self.parameters})
        if unknown:
            known = ", ".join(p.name for p in self.parameters) or "none"
            raise ParameterError(f"query {self.name!r} has no parameter {', '.join(unknown)} (parameters: {known})")

    def usage(self) -> str:
        """One line naming the query, what it answers and its parameters (``query --list``).

        :returns: ``name: summary  [parameters: name (kind, required or default ...), ...]``
        """
        def describe(parameter: Parameter) -> str:
            if parameter.default is not None:
                return f"{parameter.name} ({parameter.kind}, default {get_converter().compress(parameter.default, passthrough=True)})"
            return f"{parameter.name} ({parameter.kind}{', required' if parameter.required else ''})"

        parameters = ", ".join(describe(parameter) for parameter in self.parameters)
        return f"{self.name}: {self.summary}" + (f"  [parameters: {parameters}]" if parameters else "")

    def help(self) -> str:
        """What the query answers, its parameters and how to give them (``query --list NAME``).

        :returns: several lines: the usage line, the description, one line per parameter
        """
        lines = [self.usage()]
        if self.description:
            lines.append(self.description)
        lines.extend(f"  {parameter.name}: {parameter.description or parameter.kind}" for parameter in self.parameters)
        return "\n".join(lines)

    def lookups(self, values: Mapping[str, str]) -> dict[str, str]:
        """The queries that find what the given values of IRI parameters name.

        An IRI parameter may be given by id, IRI, CURIE, mapped identifier, label, synonym,
        abbreviation or gene symbol; run each lookup and pass its rows to :meth:`resolve`.

        :param values: parameter name to value
        :returns: parameter name to the text of its :func:`lookup_query`
        :raises QueryError: if a value of an IRI parameter is empty
        """
        return {parameter.name: lookup_query(parameter, values[parameter.name])
                for parameter in self.parameters if parameter.kind == "iri" and parameter.name in values}

    def resolve(self, values: Mapping[str, str], found: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[str, str]:
        """Replace the values of IRI parameters by the IRIs of the entities they name.

        :param values: parameter name to value
        :param found: parameter name to the rows of its lookup (see :meth:`lookups`)
        :returns: the values, each looked-up one replaced by an IRI
        :raises QueryError: if a value names nothing in the graph, several entities, or only
            entities not of the parameter's classes
        """
        parameters = {parameter.name: parameter for parameter in self.parameters}
        return {**values, **{name: resolve_entity(parameters[name], values[name], rows) for name, rows in found.items()}}

    def run(self, store: ox.Store, values: Mapping[str, str] | None = None
            ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Bind the values and run the query on a store.

        Values of IRI parameters are looked up first, as on the command line and over HTTP:
        ``subtype="UPS"`` finds undifferentiated pleomorphic sarcoma.

        :param store: an Oxigraph store
        :param values: parameter name to value (defaults fill the rest)
        :returns: pyoxigraph's result (solutions, for every shipped query)
        :raises QueryError: if a value is missing or invalid, names nothing in the graph or
            several entities
        """
        values = dict(values or {})
        self.check_names(values)
        found = {name: _rows(run_query(store, text)) for name, text in self.lookups(values).items()}
        return run_query(store, self.render(self.resolve(values, found)))


def _rows(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> list[dict[str, str]]:
    """The rows of a lookup, each variable's value as a plain string (unbound ones left out)."""
    assert isinstance(result, ox.QuerySolutions)
    return [{variable.value: term.value for variable in result.variables if (term := solution[variable]) is not None}
            for solution in result]


def _where_group_start(text: str) -> int:
    """The position just after the ``{`` that opens the outer WHERE group."""
    seen_where = False
    for match in _TOKENS.finditer(text):
        if match.group("where"):
            seen_where = True
        elif match.group("brace") and seen_where:
            return match.end()
    raise QueryError("the query has no 'WHERE {' to bind parameters in")


def _header(text: str, path: Path) -> dict[str, Any]:
    lines = [line[2:].removeprefix(" ") for line in text.splitlines() if line.startswith("#+")]
    try:
        header = yaml.safe_load("\n".join(lines)) or {}
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path.name}: header is not valid YAML: {error}") from error
    if not isinstance(header, dict) or not header.get("summary"):
        raise ConfigurationError(f"{path.name}: the '#+ summary:' header line is missing")
    return header


def _classes(value: object, path: Path) -> tuple[str, ...]:
    """The classes of a header's ``types`` entry (a CURIE or a list of CURIEs), as IRIs."""
    curies = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if not curies:
        raise ConfigurationError(f"{path.name}: a '#+ types:' entry must be a class CURIE or a list of them")
    iris = []
    for curie in curies:
        iri = get_converter().expand(str(curie), strict=False)
        if iri is None:
            raise ConfigurationError(f"{path.name}: '#+ types:' names {curie!r}, which is not a CURIE of a known prefix")
        iris.append(iri)
    return tuple(iris)


def _parse(path: Path) -> StoredQuery:
    text = path.read_text(encoding="utf-8")
    header = _header(text, path)
    defaults: dict[str, str] = {}
    for item in header.get("defaults", []) or []:
        defaults.update({str(k): str(v) for k, v in item.items()})
    descriptions = {str(k): str(v) for k, v in (header.get("params", {}) or {}).items()}
    classes = {str(k): _classes(v, path) for k, v in (header.get("types", {}) or {}).items()}
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    parameters: dict[str, Parameter] = {}
    for match in _PARAMETER.finditer(body):
        underscores, name, kind = match.groups()
        variable = match.group(0)[1:]
        if name not in parameters:
            parameters[name] = Parameter(
                name=name, variable=variable, kind=kind or "string", required=underscores == "_",
                default=defaults.get(name), description=descriptions.get(name, ""), classes=classes.get(name, ()),
            )
    return StoredQuery(
        name=path.stem, path=path, text=text, summary=str(header["summary"]).strip(),
        description=str(header.get("description", "")).strip(), tags=tuple(header.get("tags", []) or []),
        parameters=tuple(parameters.values()),
    )


def default_queries_dir() -> Path:
    """Return the directory of the shipped stored queries.

    :returns: the ``queries`` directory of the source tree or of the installed package
    """
    return resource_path("queries")


@cache
def _load(directory: Path) -> dict[str, StoredQuery]:
    if not directory.is_dir():
        raise ConfigurationError(f"queries directory not found: {directory}")
    return {path.stem: _parse(path) for path in sorted(directory.glob("*.rq"))}


def load_queries(directory: Path | None = None) -> dict[str, StoredQuery]:
    """Return the stored queries (competency questions) by name.

    :param directory: the queries directory (default: the shipped ``queries``)
    :returns: every ``*.rq`` file of the directory, parsed, by file name without ``.rq``
    :raises ConfigurationError: if the directory is missing or a header is malformed
    """
    return dict(_load(directory or default_queries_dir()))


def quality_queries(directory: Path | None = None) -> Iterator[StoredQuery]:
    """Iterate over the ``*-violation.rq`` quality checks (``queries/quality``).

    :param directory: the quality queries directory (default: the shipped one)
    :returns: the checks, in file-name order
    :raises ConfigurationError: if the directory is missing or a header is malformed
    """
    return iter(_load(directory or default_queries_dir() / "quality").values())


PAGE_QUERIES_DIR = Path(__file__).resolve().parent / "page_queries"


def page_query(name: str) -> StoredQuery:
    """Return one of the package's internal queries (entity pages, VoID statistics).

    :param name: the file name in ``kg/query/page_queries`` without ``.rq``
    :returns: the query
    :raises ConfigurationError: if there is no such query
    """
    queries = _load(PAGE_QUERIES_DIR)
    if name not in queries:
        raise ConfigurationError(f"no internal query named {name!r}")
    return queries[name]


def get_query(name: str, directory: Path | None = None) -> StoredQuery:
    """Return one stored query by name.

    :param name: the file name without ``.rq``
    :param directory: the queries directory (default: the shipped ``queries``)
    :returns: the query
    :raises QueryError: if there is no such query, naming the ones there are
    :raises ConfigurationError: if the directory is missing or a header is malformed
    """
    queries = load_queries(directory)
    if name not in queries:
        raise QueryError(f"no stored query named {name!r}; run 'sarcoma-kg query --list' (known: {', '.join(queries)})")
    return queries[name]
