"""The ``sarcoma-kg`` command line: each command is one library call.

Results go to standard output, diagnostics to standard error. Exit codes follow pySHACL:
0 success, 1 the data fails a check, 2 a file cannot be loaded, a tool is missing, or the
command is used wrongly.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kg.errors import ConfigurationError, DataError, SarcomaKGError
from kg.formats import EXPORT_FORMATS
from kg.identifiers import sync_reference
from kg.pipeline.serialise import GRAPH_FILE
from kg.publish.stats import format_statistics, statistics
from kg.query.answer import answer_sparql, answer_stored_query, read_query_file
from kg.query.queries import get_query, load_queries
from kg.query.results import RESULT_FORMATS
from kg.query.store import open_store

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_GRAPH = Path("dist") / GRAPH_FILE


def _errors(command: F) -> F:
    """Print a package error on stderr and exit with its code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SarcomaKGError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


def _progress(line: str) -> None:
    click.echo(line, err=True)


graph_option = click.option(
    "--graph", "graph_file", type=click.Path(path_type=Path), default=DEFAULT_GRAPH, show_default=True,
    help="The built graph to query.",
)
store_option = click.option(
    "--store", "store_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Use an on-disk Oxigraph store in this directory (bulk-loaded once, then reopened).",
)
records_option = click.option(
    "--records", "records_dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
    help="Curated records directory (default: the records shipped with the package).",
)
sources_option = click.option(
    "--sources", type=click.Path(path_type=Path, file_okay=False), default=Path("sources"), show_default=True,
    help="The directory with the reviews' text (the repository's sources/).",
)


@click.group()
@click.version_option(package_name="sarcoma-kg")
def main() -> None:
    """Sarcoma-KG: the evidence on immunotherapy for sarcoma as a knowledge graph."""


@main.command("build")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"),
              show_default=True, help="Where to write sarcoma-kg.ttl (replaced as a whole).")
@records_option
@_errors
def build_command(output_dir: Path, records_dir: Path | None) -> None:
    """Build, reason, validate and write the graph (exit 1 if the data fails a check)."""
    from kg.pipeline.build import (
        build,  # the build's modules (pySHACL, jsonschema ...) load only for the commands that build
    )

    build(output_dir, records_dir=records_dir, progress=_progress)


@main.command("validate")
@records_option
@_errors
def validate_command(records_dir: Path | None) -> None:
    """Run every check of the build without writing anything."""
    from kg.pipeline.build import build_graph

    build_graph(records_dir, progress=_progress, serialize=False)
    click.echo("valid", err=True)


@main.command("query")
@click.argument("name", required=False)
@click.option("--list", "list_queries", is_flag=True, help="List the stored queries; with NAME, show that one in full.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable).")
@click.option("--format", "fmt", type=click.Choice(list(RESULT_FORMATS)), default="table", show_default=True)
@graph_option
@store_option
@_errors
def query_command(name: str | None, list_queries: bool, params: tuple[str, ...], fmt: str,
                  graph_file: Path, store_dir: Path | None) -> None:
    """Run a stored query (see --list for names and parameters)."""
    if name is None and params and not list_queries:
        raise click.UsageError("give the name of the query the parameters are for (see --list)")
    if list_queries and name is not None:
        click.echo(get_query(name).help())
        return
    if list_queries or name is None:
        for query in load_queries().values():
            click.echo(query.usage())
        return
    click.echo(answer_stored_query(name, _parameter_values(params), graph_file=graph_file, store_dir=store_dir,
                                   fmt=fmt), nl=False)


def _parameter_values(params: tuple[str, ...]) -> dict[str, str]:
    """The ``--param NAME=VALUE`` options as a mapping (each name once)."""
    values: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--param")
        if key in values:
            raise click.BadParameter(f"{key} is given twice; give each parameter once", param_hint="--param")
        values[key] = value
    return values


@main.command("sparql")
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(list(RESULT_FORMATS)), default="table", show_default=True)
@graph_option
@store_option
@_errors
def sparql_command(query: str, fmt: str, graph_file: Path, store_dir: Path | None) -> None:
    """Run a SPARQL query given as text or as the path of a .rq file."""
    if not query.endswith(".rq") and _is_path(query):
        raise ConfigurationError(f"{query} is a path, not a query: give the query text or a .rq file")
    text = read_query_file(Path(query)) if query.endswith(".rq") else query
    click.echo(answer_sparql(text, graph_file=graph_file, store_dir=store_dir, fmt=fmt), nl=False)


def _is_path(text: str) -> bool:
    """Whether a command-line argument names an existing file or folder (rather than being a query)."""
    try:
        return "\n" not in text and Path(text).exists()
    except (OSError, ValueError):  # too long for a path, or a NUL byte
        return False


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_FORMATS)), default="ttl", show_default=True,
              help="ttl, nt, jsonld, xml: the graph; sssom: the mappings (from the records); void: the VoID; "
                   "fhir: the outcome measurements as a FHIR R5 Bundle of Evidence resources (JSON).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), required=True)
@graph_option
@records_option
@_errors
def export_command(fmt: str, output: Path, graph_file: Path, records_dir: Path | None) -> None:
    """Export the built graph in another RDF format, its SSSOM mappings, its VoID description or FHIR Evidence."""
    from kg.publish.export import export

    export(graph_file, output, fmt, records_dir=records_dir)
    click.echo(f"wrote {output}", err=True)


@main.command("release")
@click.argument("output_dir", type=click.Path(path_type=Path, file_okay=False))
@records_option
@_errors
def release_command(output_dir: Path, records_dir: Path | None) -> None:
    """Build the graph and write every export, the ontology, the shapes, stats and SHA256SUMS to a directory."""
    from kg.publish.release import release

    release(output_dir, records_dir=records_dir, progress=_progress)


@main.command("stats")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@graph_option
@store_option
@_errors
def stats_command(fmt: str, graph_file: Path, store_dir: Path | None) -> None:
    """Print counts of trials, arms, measurements, findings ... in the built graph."""
    click.echo(format_statistics(statistics(open_store(graph_file, store_dir=store_dir)), fmt=fmt), nl=False)


@main.command("sync-reference")
@click.option("--from", "source", type=click.Path(path_type=Path, file_okay=False), default=Path("../shared/reference"),
              show_default=True, help="The shared reference directory to copy from.")
@_errors
def sync_reference_command(source: Path) -> None:
    """Update data/reference (verified identifiers, prefixes) from the shared reference directory."""
    changed = sync_reference(source)
    for path in changed:
        click.echo(f"updated {path}", err=True)
    if not changed:
        click.echo("data/reference is current", err=True)


@main.command("coverage")
@sources_option
@records_option
@click.option("--list", "listed", type=click.Choice(["unexplained", "excluded", "held"]), default=None,
              help="Also list the figures of this status (one per line: review, offset, figure, context, reason).")
@click.option("--write-backlog", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the unexplained figures to this file as the new backlog (data/coverage/unexplained.tsv).")
@_errors
def coverage_command(sources: Path, records_dir: Path | None, listed: str | None, write_backlog: Path | None) -> None:
    """Count the figures the reviews print that no structured value holds (exit 1 for one the backlog does not list)."""
    from kg.pipeline.coverage import check_coverage
    from kg.pipeline.coverage import write_backlog as write

    report = check_coverage(sources, records_dir=records_dir)
    for figure in report.of_status(listed) if listed else ():
        click.echo(f"{figure.review}\t@{figure.offset}\t{figure.text}\t{figure.context}\t{figure.reason}")
    click.echo(report.summary())
    if write_backlog is not None:
        write(report.of_status("unexplained"), write_backlog)
        click.echo(f"wrote {write_backlog}", err=True)
    elif report.new:
        raise DataError(report.problems(), stage="coverage")


@main.command("check-curation")
@sources_option
@records_option
@click.option("--uncovered", is_flag=True, help="Also list the review sentences no quote covers (where to look for facts).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_errors
def check_curation_command(sources: Path, records_dir: Path | None, uncovered: bool, fmt: str) -> None:
    """Check the records (schema, references, rules) and that every quote is verbatim in its review (exit 1 if not)."""
    from kg.pipeline.curation import check_curation

    report = check_curation(sources, records_dir=records_dir, uncovered=uncovered)
    click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False) if fmt == "json" else "\n".join(report.lines()))
    if report.problems:
        raise DataError(report.problems, stage="quotes")


@main.command("update-generated")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 naming each generated file that differs from what the code generates.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="The directory holding data/ (default: the repository's).")
@_errors
def update_generated_command(check: bool, root: Path | None) -> None:
    """Rewrite the committed generated files (the SSSOM mappings, the JSON-LD context) that are out of date."""
    from kg.publish.generated import update_generated

    changed = update_generated(check=check, root=root)
    for path in changed:
        click.echo(f"updated {path}", err=True)
    if not changed:
        click.echo("the generated files are current", err=True)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@graph_option
@store_option
@click.option("--rebuild", is_flag=True, help="Build the graph even if the built graph exists.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Query worker processes (queries that may run at once).")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds a query may run before it is stopped (and may wait for a free worker before it is refused).")
@click.option("--max-rows", default=10_000, show_default=True, type=click.IntRange(1),
              help="The most rows (or triples) a result of /sparql may have; a larger one is refused with a 422 "
                   "(the stored-query API and the pages have no row cap; the byte cap applies to all).")
@click.option("--quiet", is_flag=True, help="Print no access log line (method, path, status, ms) per request.")
@_errors
def serve_command(host: str, port: int, graph_file: Path, store_dir: Path | None, rebuild: bool, workers: int,
                  timeout: float, max_rows: int, quiet: bool) -> None:
    """Serve the SPARQL endpoint, the stored-query API, the entity pages and the query UI.

    The built graph is reused; it is built first only if it is missing (or with --rebuild),
    into the directory of --graph, which must then name a sarcoma-kg.ttl.
    """
    from kg.web.server import serve

    serve(graph_file, host=host, port=port, store_dir=store_dir, rebuild=rebuild, workers=workers,
          timeout=timeout, max_rows=max_rows, access_log=not quiet, progress=_progress)


def _sizes(value: str) -> list[int | None]:
    """Parse ``--sizes`` with :func:`kg.bench.run.parse_sizes`, a wrong size as click's usage error."""
    from kg.bench.run import parse_sizes

    try:
        return parse_sizes(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--sizes") from None


@main.command("bench")
@click.option("--sizes", default="curated,100k,1m", show_default=True,
              help="Comma-separated sizes in triples ('curated' is the built graph; 100k, 1m ...).")
@click.option("--repeat", default=5, show_default=True, type=click.IntRange(1), help="Runs of each query.")
@click.option("--rdflib-cap", default=20.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds an rdflib query may run; a capped run counts as the cap ('> cap').")
@click.option("--rdflib-max-triples", default=1_000_000, show_default=True, type=int,
              help="Skip rdflib's engine above this size.")
@click.option("--http/--no-http", default=True, show_default=True, help="Also measure over HTTP.")
@click.option("--clients", default=4, show_default=True, type=click.IntRange(1))
@click.option("--http-seconds", default=5.0, show_default=True, type=click.FloatRange(0.5))
@click.option("--seed", default=0, show_default=True, type=int)
@_errors
def bench_command(sizes: str, repeat: int, rdflib_cap: float, rdflib_max_triples: int, http: bool, clients: int,
                  http_seconds: float, seed: int) -> None:
    """Measure load, build, every stored query (Oxigraph vs rdflib) and HTTP, and print the figures."""
    from kg.bench.run import format_report, run_bench

    parsed = _sizes(sizes)
    report = run_bench(parsed, repeat=repeat, rdflib_cap=rdflib_cap, rdflib_max_triples=rdflib_max_triples,
                       http=http, clients=clients, http_seconds=http_seconds, seed=seed, progress=_progress)
    click.echo(format_report(report), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
