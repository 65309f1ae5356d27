"""Serialise the graph: Turtle first (deterministic), then N-Triples, JSON-LD, RDF/XML.

The last stage of the build, and what every export and release writes with. Prefixes are
bound by :func:`kg.identifiers.bind_prefixes`; JSON-LD is compacted with the published
context ``data/schema/sarcoma-kg.context.jsonld`` (embedded in the output, so that it loads
offline), which :mod:`kg.publish.context` generates from the same prefixes and the
ontology's properties.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import tempfile
import weakref
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import XSD, Graph, Literal
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.term import Node

from kg.errors import ConfigurationError
from kg.formats import rdf_format
from kg.identifiers import bind_prefixes
from kg.resources import parse_turtle, read_json, resource_path

__all__ = ["CONTEXT_FILE", "GRAPH_FILE", "BackgroundTurtle", "context_path", "load_export_context", "parse_graph",
           "serialize"]

#: The name of the built graph inside a build's output directory.
GRAPH_FILE = "sarcoma-kg.ttl"
#: The JSON-LD context of the exports (in ``data/schema`` and in a release).
CONTEXT_FILE = "sarcoma-kg.context.jsonld"


def context_path() -> Path:
    """Return the path of the published JSON-LD context (``data/schema``)."""
    return resource_path("data", "schema", CONTEXT_FILE)


@cache
def load_export_context() -> dict[str, Any]:
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
        return out.serialize(format="json-ld", encoding="utf-8", context=load_export_context()["@context"])
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

    @property
    def workdir(self) -> Path:
        """The private temporary directory the child writes the Turtle to (removed once
        :attr:`finished`)."""
        return Path(self._state["dir"])

    @property
    def pid(self) -> int | None:
        """The child process's id until it is waited for (by :meth:`result` or :meth:`cancel`);
        ``None`` then, and where ``fork`` is unavailable."""
        pid: int | None = self._state.get("pid")
        return pid

    @property
    def finished(self) -> bool:
        """Whether the result has been read or the serialisation cancelled: no process and no
        file are left."""
        return not self._finalizer.alive

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
