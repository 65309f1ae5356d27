"""The generated files the repository commits, rewritten or checked in one call (``sarcoma-kg update-generated``).

Two files under ``data/`` are made by code from the sources (records, verified identifiers,
prefixes, ontology) and committed, so that they can be read and diffed without a build:

- ``data/mappings/sarcoma-kg.sssom.tsv``, the SSSOM mappings (:mod:`kg.publish.mappings`);
- ``data/schema/sarcoma-kg.context.jsonld``, the JSON-LD context of the exports
  (:mod:`kg.publish.context`).

:func:`update_generated` rewrites the ones that differ from what the code makes; with
``check=True`` it writes nothing and fails, naming each, if any differs (what a test, CI
or a pre-commit hook wants).
"""

from __future__ import annotations

from pathlib import Path

from kg.errors import DataError, Problem
from kg.output import write_atomically
from kg.pipeline.ontology import load_ontology
from kg.pipeline.records import load_records
from kg.pipeline.serialise import context_path
from kg.publish.context import jsonld_context_text
from kg.publish.mappings import default_mappings_path, mappings, sssom_table
from kg.resources import resource_path

__all__ = ["generated_files", "update_generated"]


def generated_files() -> dict[str, bytes]:
    """Generate the content of every committed generated file.

    :returns: each file's path below the resource root (``data/mappings/sarcoma-kg.sssom.tsv``)
        to the content the code makes for it
    :raises ConfigurationError: if the records or the ontology cannot be loaded
    :raises DataError: if the records fail their checks, or a mapping is not a verified row
    """
    ontology = load_ontology()
    contents = {
        default_mappings_path(): sssom_table(mappings(load_records(), ontology=ontology)),
        context_path(): jsonld_context_text(ontology),
    }
    root = resource_path()
    return {path.relative_to(root).as_posix(): text.encode("utf-8") for path, text in contents.items()}


def _current(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() == content
    except OSError:  # missing or unreadable: it is rewritten (or, with check, reported)
        return False


def update_generated(*, check: bool = False, root: Path | None = None) -> list[Path]:
    """Rewrite the committed generated files that differ from what the code makes.

    :param check: write nothing; fail if any file differs (or is missing)
    :param root: the directory the files are under (default: the repository's, or the
        installed package's resources); a test gives a copy
    :returns: the files that differed, now rewritten (empty when all are current)
    :raises DataError: with ``check``, one problem naming each file that differs
    :raises ConfigurationError: if a file cannot be written, or an input cannot be loaded
    """
    root = root or resource_path()
    stale = {root / name: content for name, content in generated_files().items()
             if not _current(root / name, content)}
    if check and stale:
        raise DataError([Problem(path.relative_to(root).as_posix(), "(file)", "generated-file-current",
                                 f"{'differs from what the code generates' if path.exists() else 'is missing'}; "
                                 "write it with `sarcoma-kg update-generated`")
                         for path in stale], stage="generated files")
    if not check:
        for path, content in stale.items():
            write_atomically(path, content)
    return list(stale)
