"""The release directory (``sarcoma-kg release``): every export of one build, with checksums.

A release holds everything needed to reuse Sarcoma-KG with other tools, each file written
from one build, and is written atomically (a temporary sibling directory that takes the
place of the target only once complete):

=================================  ===========================================================
``sarcoma-kg.ttl``                 the graph: ontology, data, inferred types, derived triples
                                   (deterministic Turtle)
``sarcoma-kg.nt``                  the same in N-Triples
``sarcoma-kg.jsonld``              the same in JSON-LD, compacted with the published context
``sarcoma-kg.rdf``                 the same in RDF/XML
``sarcoma-kg.context.jsonld``      the JSON-LD context
``sarcoma-kg.sssom.tsv``           the mappings to external ontologies (SSSOM/TSV)
``void.ttl``                       the VoID description with the dataset's statistics
``ontology/sarcoma-kg.ttl``        the OWL ontology alone
``ontology/imports/*.ttl``         its import modules (the external terms it uses)
``ontology/sarcoma-kg.html``       its HTML reference: every class and property (``kg.publish.ontology_doc``)
``shapes/sarcoma-kg.shacl.ttl``    the SHACL shapes the graph conforms to
``stats.json``                     counts by kind (as ``sarcoma-kg stats --format json``)
``virtuoso/virtuoso.ini``          a Virtuoso 7 configuration for serving the release on loopback
``virtuoso/load-virtuoso.sql``     loads ``sarcoma-kg.ttl`` into Virtuoso (README, "Scale")
``sarcoma-kg.fhir.json``           the outcome measurements as FHIR R5 Evidence resources (a Bundle)
``SHA256SUMS``                     checksums of every other file (``sha256sum -c SHA256SUMS``)
=================================  ===========================================================
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kg.errors import ConfigurationError
from kg.formats import RDF_FORMATS
from kg.output import check_output_directory, replace_directory
from kg.pipeline.build import BuildResult, build_graph
from kg.pipeline.ontology import import_paths
from kg.pipeline.serialise import CONTEXT_FILE, serialize
from kg.publish.mappings import MAPPINGS_FILE, mappings, sssom_table
from kg.publish.ontology_doc import reference_html
from kg.publish.stats import statistics
from kg.publish.void import dataset_statistics, void_graph
from kg.resources import parse_turtle, resource_path

__all__ = [
    "CHECKSUMS_FILE", "FHIR_FILE", "RELEASE_GRAPH_FILES", "VIRTUOSO_FILES", "release", "release_files", "write_release",
]

#: The files that serve a release from Virtuoso (``deploy/virtuoso``), as the tests run them.
VIRTUOSO_FILES = ("virtuoso.ini", "load-virtuoso.sql")

#: The graph's file in the release, by RDF format (``sarcoma-kg`` and the format's suffix).
RELEASE_GRAPH_FILES = {fmt.name: f"sarcoma-kg{fmt.suffix}" for fmt in RDF_FORMATS}
CHECKSUMS_FILE = "SHA256SUMS"
#: The FHIR R5 export in a release.
FHIR_FILE = "sarcoma-kg.fhir.json"


def _read(*parts: str) -> bytes:
    path = resource_path(*parts)
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error}") from error


def release_files(result: BuildResult) -> dict[str, bytes]:
    """Serialise everything a release holds, except the checksums.

    :param result: a successful build
    :returns: relative path (``/``-separated) to content
    :raises ConfigurationError: if a shipped file (ontology, shapes, context) cannot be read
    """
    files = {name: result.turtle.result() if fmt == "ttl" and result.turtle is not None else serialize(result.graph, fmt)
             for fmt, name in RELEASE_GRAPH_FILES.items()}  # the build's Turtle, serialised while it checked
    store = ox.Store()
    store.load(files["sarcoma-kg.ttl"], format=ox.RdfFormat.TURTLE)
    files[CONTEXT_FILE] = _read("data", "schema", CONTEXT_FILE)
    files[MAPPINGS_FILE] = sssom_table(mappings(result.records, ontology=result.graph)).encode("utf-8")
    files["void.ttl"] = serialize(void_graph(dataset_statistics(store)), "ttl")
    files["ontology/sarcoma-kg.ttl"] = _read("ontology", "sarcoma-kg.ttl")
    ontology_path = resource_path("ontology", "sarcoma-kg.ttl")
    for module in import_paths(parse_turtle(ontology_path, what="the ontology"), ontology_path):
        files[f"ontology/imports/{module.name}"] = _read("ontology", "imports", module.name)
    files["ontology/sarcoma-kg.html"] = reference_html().encode("utf-8")
    files["shapes/sarcoma-kg.shacl.ttl"] = _read("shapes", "sarcoma-kg.shacl.ttl")
    files["stats.json"] = (json.dumps(statistics(store), indent=2) + "\n").encode("utf-8")
    for name in VIRTUOSO_FILES:
        files[f"virtuoso/{name}"] = _read("deploy", "virtuoso", name)
    from kg.publish.fhir import fhir_json  # fhir.resources' models take 0.4 s to import: only when asked

    files[FHIR_FILE] = fhir_json(store)
    return files


def write_release(result: BuildResult, output_dir: Path) -> Path:
    """Write a release directory, replacing ``output_dir`` as a whole.

    The files are written to a temporary sibling directory first; only when all of them
    and ``SHA256SUMS`` are written does it take the place of ``output_dir``. A failure
    leaves the previous release as it was.

    :param result: a successful build
    :param output_dir: the release directory (created if missing); it must not exist, be
        empty or hold an earlier release or build
    :returns: the release directory
    :raises ConfigurationError: if a shipped file cannot be read, or ``output_dir`` may not be
        replaced or cannot be written
    """
    check_output_directory(output_dir)
    files = release_files(result)
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    return replace_directory(output_dir, {**files, CHECKSUMS_FILE: sums.encode("utf-8")})


def release(
    output_dir: Path,
    *,
    records_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build the graph from the records and write a release directory.

    The build and the checks of ``output_dir`` are those of :func:`kg.pipeline.build.build`,
    and so are its errors (a ``ConfigurationError``, exit 2, before the build starts if
    ``output_dir`` may not be replaced; a ``DataError``, exit 1, with nothing written).

    :param output_dir: the release directory (replaced as a whole)
    :param records_dir: the curated records (default: the shipped ``data/records``)
    :param progress: called with a line after each stage
    :returns: the release directory
    """
    check_output_directory(output_dir)
    result = build_graph(records_dir, progress=progress)
    written = write_release(result, output_dir)
    if progress:
        count = sum(1 for path in written.rglob("*") if path.is_file())
        progress(f"release: wrote {count} files to {written}")
    return written
