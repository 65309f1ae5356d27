"""Serialise the graph: Turtle first (deterministic), then N-Triples, JSON-LD, RDF/XML.

Prefixes come from the project's one converter (Bioregistry prefixes plus the project's
own), rdflib's W3C namespaces and ``obo`` (the OBO PURL namespace, which the Bioregistry
table has no row for). JSON-LD is compacted with
the published context ``data/schema/sarcoma-kg.context.jsonld`` (embedded in the output,
so that it loads offline), which :func:`jsonld_context` generates from the same prefixes
and the ontology's properties.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import tempfile
import weakref
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD, Graph, Literal, URIRef
from rdflib.namespace import VOID
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.term import Node

from kg.errors import ConfigurationError
from kg.formats import RDF_FORMATS, rdf_format
from kg.identifiers import ONTOLOGY_NAMESPACE, get_converter
from kg.resources import parse_turtle, read_json, resource_path

__all__ = [
    "CONTEXT_FILE",
    "EXPORT_FORMATS",
    "GRAPH_FILE",
    "OUTPUT_MARKERS",
    "BackgroundTurtle",
    "bind_prefixes",
    "check_output_directory",
    "check_output_file",
    "common_prefixes",
    "context_path",
    "export_file",
    "jsonld_context",
    "load_jsonld_context",
    "parse_graph",
    "replace_directory",
    "serialize",
    "write_atomically",
    "write_jsonld_context",
]

#: The name of the built graph inside a build's output directory.
GRAPH_FILE = "sarcoma-kg.ttl"
#: Every format of ``sarcoma-kg export``: the RDF formats of the graph (:mod:`kg.formats`),
#: the SSSOM mappings, the VoID description and the FHIR R5 Evidence bundle.
EXPORT_FORMATS = (*(fmt.name for fmt in RDF_FORMATS), "sssom", "void", "fhir")
#: The JSON-LD context of the exports (in ``data/schema`` and in a release).
CONTEXT_FILE = "sarcoma-kg.context.jsonld"

_W3C = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS, "prov": PROV, "sh": SH,
        "void": VOID}
_OBO = "http://purl.obolibrary.org/obo/"
#: Files that mark a directory as the output of an earlier build (``build-report.json``) or
#: release (``SHA256SUMS``): only such a directory, or an empty one, is ever replaced.
OUTPUT_MARKERS = ("build-report.json", "SHA256SUMS")
#: JSON-LD 1.1 uses a term as a prefix on its own only if its IRI ends with one of these.
_GEN_DELIMS = (":", "/", "?", "#", "[", "]", "@")


def common_prefixes() -> dict[str, str]:
    """The prefixes nearly every Sarcoma-KG result uses: the project's, the W3C vocabularies' and ``obo``.

    For serialisers that declare every prefix they are given (pyoxigraph's Turtle), where
    the full set of :func:`bind_prefixes` would head a small result with forty lines.

    :returns: prefix → namespace IRI
    """
    converter = get_converter()
    project = {prefix: converter.prefix_map[prefix] for prefix in ("skg", "skgid")}
    return {**project, **{name: str(namespace) for name, namespace in _W3C.items()}, "obo": _OBO}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on a graph, replacing rdflib's defaults.

    :param graph: the graph to bind prefixes on (modified)
    :returns: the same graph
    """
    manager = graph.namespace_manager
    for prefix, namespace in _W3C.items():
        manager.bind(prefix, namespace, override=True, replace=True)
    # rdflib writes a prefixed name only where the IRI splits at "/" or "#"; OBO terms
    # (NCIT_C2654, CL_0000625) split at "obo/", so they are written obo:NCIT_C2654.
    for record in get_converter().records:
        if record.uri_prefix.endswith(("/", "#")):
            manager.bind(record.prefix, record.uri_prefix, override=True, replace=True)
    manager.bind("obo", _OBO, override=True, replace=True)
    return graph


def jsonld_context(ontology: Graph) -> dict[str, Any]:
    """Generate the JSON-LD context of the exports.

    Prefixes are those of :func:`bind_prefixes` (the converter's, the W3C vocabularies',
    ``obo``); a prefix whose IRI does not end with a JSON-LD gen-delim (``NCIT`` ends with
    ``_``) is marked ``"@prefix": true`` so that ``NCIT:C2654`` expands in JSON-LD 1.1.
    Each property of the ontology gets a term named by its local name (object properties
    coerce their values to IRIs; datatype properties to their XSD range), unless a prefix
    has that name (``doi``).

    :param ontology: the ontology graph
    :returns: the context document (``{"@context": {...}}``)
    """
    prefixes: dict[str, str] = {name: str(namespace) for name, namespace in _W3C.items()}
    prefixes["obo"] = _OBO
    prefixes.update({record.prefix: record.uri_prefix for record in get_converter().records})
    context: dict[str, Any] = {"@version": 1.1}
    for name in sorted(prefixes, key=lambda prefix: (prefix.lower(), prefix)):
        iri = prefixes[name]
        context[name] = iri if iri.endswith(_GEN_DELIMS) else {"@id": iri, "@prefix": True}
    terms: dict[str, dict[str, str]] = {}
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        for prop in ontology.subjects(RDF.type, kind):
            local = str(prop).removeprefix(ONTOLOGY_NAMESPACE)
            if not isinstance(prop, URIRef) or local == str(prop) or local in context:
                continue
            definition = {"@id": f"skg:{local}"}
            value_range = ontology.value(prop, RDFS.range)
            if kind == OWL.ObjectProperty:
                definition["@type"] = "@id"
            elif kind == OWL.DatatypeProperty and isinstance(value_range, URIRef) \
                    and str(value_range).startswith(str(XSD)) and value_range != XSD.string:
                definition["@type"] = f"xsd:{str(value_range).removeprefix(str(XSD))}"
            terms[local] = definition
    context.update(sorted(terms.items()))
    return {"@context": context}


def write_jsonld_context(output: Path, *, ontology: Graph) -> Path:
    """Write the JSON-LD context generated by :func:`jsonld_context`, atomically.

    :param output: the file to write (``data/schema/sarcoma-kg.context.jsonld`` to update the
        published one)
    :param ontology: the ontology graph
    :returns: the written path
    """
    text = json.dumps(jsonld_context(ontology), indent=2, ensure_ascii=False) + "\n"
    return write_atomically(output, text.encode("utf-8"))


def context_path() -> Path:
    """Return the path of the published JSON-LD context (``data/schema``)."""
    return resource_path("data", "schema", CONTEXT_FILE)


@cache
def load_jsonld_context() -> dict[str, Any]:
    """Return the published JSON-LD context of the exports.

    :returns: the parsed context document
    :raises ConfigurationError: if the context file is missing or not JSON
    """
    return read_json(context_path(), what="the JSON-LD context")


def serialize(graph: Graph, fmt: str = "ttl") -> bytes:
    """Serialise a graph in one of the export formats.

    Turtle output is deterministic: the same graph gives byte-identical output (the
    graph has no blank nodes; subjects, predicates and objects are written sorted).

    :param graph: the graph
    :param fmt: ``ttl``, ``nt``, ``jsonld`` (compacted with the published context) or ``xml``
    :returns: the serialisation as UTF-8 bytes
    :raises ValueError: for an unknown format
    :raises ConfigurationError: if the JSON-LD context cannot be loaded
    """
    chosen = rdf_format(fmt)
    fmt = chosen.name
    out = Graph(bind_namespaces="none")
    out += graph
    bind_prefixes(out)
    if fmt == "nt":
        lines = sorted(out.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
        return ("\n".join(line for line in lines if line) + "\n").encode("utf-8")
    if fmt == "jsonld":
        return out.serialize(format="json-ld", encoding="utf-8", context=load_jsonld_context()["@context"])
    if fmt == "ttl":
        stream = io.BytesIO()
        _ExactTurtleSerializer(out).serialize(stream, encoding="utf-8")
        return stream.getvalue()
    return out.serialize(format=chosen.rdflib, encoding="utf-8")


class _ExactTurtleSerializer(TurtleSerializer):
    """rdflib's Turtle, but a literal keeps its lexical form.

    rdflib writes the decimal ``"98"^^xsd:decimal`` as the shorthand ``98.0``, which reads
    back as another literal (``"98.0"``): the Turtle and the N-Triples of one graph then
    differ, and a number is no longer written as its source wrote it. Here a number or
    boolean is written as a shorthand only when the shorthand is its lexical form.
    """

    def label(self, node: Node, position: int) -> str:
        if isinstance(node, Literal) and node.datatype in _SHORTHAND_TYPES:
            short = super().label(node, position)
            if short != str(node):
                return node._literal_n3(use_plain=False, qname_callback=lambda dt: self.get_pname(dt, True))
            return short
        return super().label(node, position)


_SHORTHAND_TYPES = frozenset({XSD.integer, XSD.decimal, XSD.double, XSD.boolean})


def _discard(state: dict[str, Any]) -> None:
    """Stop a background serialisation that is still running and remove its file."""
    pid = state.pop("pid", None)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    shutil.rmtree(state["dir"], ignore_errors=True)


class BackgroundTurtle:
    """Serialise a graph as Turtle in a forked process while the caller goes on.

    rdflib's Turtle serialiser is pure Python (about 2 s for the curated graph); the build
    starts it as soon as the graph is final and runs its SHACL and SPARQL checks meanwhile,
    on another core. The child writes to a private temporary file and exits; nothing reaches
    the output directory until :meth:`result` is read and the caller writes it. Where
    ``fork`` is unavailable, or the child fails, the graph is serialised on demand instead.

    :param graph: the final graph (not changed afterwards: the child sees it as it was)
    """

    def __init__(self, graph: Graph) -> None:
        self._graph = graph
        self._state: dict[str, Any] = {"dir": tempfile.mkdtemp(prefix="sarcoma-kg-ttl-")}
        self._path = Path(self._state["dir"]) / "graph.ttl"
        if hasattr(os, "fork"):
            pid = os.fork()
            if pid == 0:  # the child: serialise, write, leave without running any cleanup
                code = 1
                try:
                    self._path.write_bytes(serialize(graph, "ttl"))
                    code = 0
                finally:
                    os._exit(code)
            self._state["pid"] = pid
        self._finalizer = weakref.finalize(self, _discard, self._state)

    def result(self) -> bytes:
        """Wait for the Turtle and return it (serialising here if the child could not).

        :returns: the same bytes as ``serialize(graph, "ttl")``
        """
        pid = self._state.pop("pid", None)
        data = None
        if pid is not None:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0 and self._path.is_file():
                data = self._path.read_bytes()
        self._finalizer()
        return data if data is not None else serialize(self._graph, "ttl")

    def cancel(self) -> None:
        """Stop the serialisation (the build failed a check) and remove its file."""
        self._finalizer()


def parse_graph(graph_file: Path) -> Graph:
    """Read a built graph (Turtle).

    :param graph_file: the built graph
    :returns: the graph
    :raises ConfigurationError: if the file is missing or cannot be parsed
    """
    if not graph_file.is_file():
        raise ConfigurationError(f"built graph not found: {graph_file} (run 'sarcoma-kg build' first)")
    return parse_turtle(graph_file, what="the built graph")


def export_file(graph_file: Path, output: Path, fmt: str = "ttl") -> Path:
    """Read a built graph and write it in an export format, atomically.

    :param graph_file: the built graph (Turtle)
    :param output: the file to write (replaced only once fully written)
    :param fmt: an RDF format's short name (:data:`kg.formats.RDF_FORMATS`)
    :returns: the written path
    :raises ConfigurationError: if the output cannot be written (checked before the graph is
        read), or the built graph is missing or cannot be parsed
    """
    check_output_file(output)
    return write_atomically(output, serialize(parse_graph(graph_file), fmt))


def _check_writable(directory: Path, *, output: Path) -> None:
    """Check that files can be created in a directory, or in the nearest existing folder above it.

    Files are created for real (a temporary directory, removed at once): permission bits say
    nothing to root, nor on read-only or virtual file systems such as ``/proc``.

    :param directory: the directory the output will be written in (created if missing)
    :param output: the output, for the message
    :raises ConfigurationError: if it cannot be written
    """
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigurationError(f"cannot write {output}: {existing} is not a directory")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".sarcoma-kg-check-", dir=existing))
    except OSError as error:
        raise ConfigurationError(f"cannot write {output}: no file can be created in {existing} "
                                 f"({error.strerror or error})") from error


def check_output_file(output: Path) -> Path:
    """Check, before any work is done, that a file can be written at ``output``.

    :param output: the file to write
    :returns: ``output``
    :raises ConfigurationError: if the path is empty or a directory, or its folder cannot be
        created or written
    """
    if not output.name:  # "" (which pathlib reads as ".") or "/"
        shown = "is empty" if str(output) == "." else f"{str(output)!r} names no file"
        raise ConfigurationError(f"the output path {shown}; give a file name")
    if output.is_dir():
        raise ConfigurationError(f"the output {output} is a directory; give a file name")
    _check_writable(output.parent, output=output)
    return output


def check_output_directory(output_dir: Path) -> Path:
    """Check, before any work is done, that ``output_dir`` may be replaced as a whole.

    It may be if it does not exist, is empty, or holds the output of an earlier build or
    release (one of :data:`OUTPUT_MARKERS`); anything else (``data``, a home folder, ``.``)
    is refused, so that nothing but a previous output is ever deleted.

    :param output_dir: the directory to replace
    :returns: the resolved ``output_dir``
    :raises ConfigurationError: if it is a file, holds anything but a previous output, or
        its parent cannot be created or written
    """
    resolved = output_dir.resolve()
    if resolved.exists():
        if not resolved.is_dir():
            raise ConfigurationError(f"the output directory {output_dir} is a file")
        try:
            occupied = any(resolved.iterdir())
        except OSError as error:
            raise ConfigurationError(f"cannot read the output directory {output_dir}: {error.strerror}") from error
        if occupied and not any((resolved / marker).is_file() for marker in OUTPUT_MARKERS):
            raise ConfigurationError(
                f"refusing to replace {output_dir}: it is not empty and holds no earlier build or release "
                f"(no {' or '.join(OUTPUT_MARKERS)}); give a new or empty directory"
            )
    if resolved == resolved.parent:
        raise ConfigurationError(f"refusing to replace {output_dir}: it is the root directory")
    _check_writable(resolved.parent, output=output_dir)
    return resolved


def write_atomically(output: Path, data: bytes) -> Path:
    """Write a file so that readers see either the old or the complete new content.

    :param output: the file to write (its directory is created if missing)
    :param data: the content
    :returns: ``output``
    :raises ConfigurationError: if the file cannot be written (nothing is left behind then)
    """
    check_output_file(output)
    partial = output.with_name(f".{output.name}.partial")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        partial.replace(output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ConfigurationError(f"cannot write {output}: {error}") from error
    return output


def replace_directory(output_dir: Path, files: Mapping[str, bytes]) -> Path:
    """Write files into a directory that replaces ``output_dir`` as a whole.

    The files go to a temporary sibling directory first; only when all are written does it
    take the place of ``output_dir``, so a failure leaves the previous directory as it was.

    :param output_dir: the directory to replace (created if missing); it must not exist, be
        empty, or hold an earlier output (see :func:`check_output_directory`)
    :param files: relative path to content
    :returns: the resolved ``output_dir``
    :raises ConfigurationError: if ``output_dir`` may not be replaced or cannot be written
    """
    output_dir = check_output_directory(output_dir)
    staging: Path | None = None
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
        for name, data in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        staging.chmod(0o755)
        previous = output_dir.with_name(f".{output_dir.name}-previous-{os.getpid()}")
        moved = output_dir.exists()
        if moved:
            output_dir.rename(previous)
        try:
            staging.rename(output_dir)
        except BaseException:
            if moved:
                previous.rename(output_dir)  # put the previous output back
            raise
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException as error:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError):
            raise ConfigurationError(f"cannot write {output_dir}: {error}") from error
        raise
    return output_dir
