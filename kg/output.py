"""Write output files and directories atomically: a reader sees the old content or the new, never part.

Every command that writes (``build``, ``release``, ``export``, ``update-generated``) checks
its output before any work is done and then writes through :func:`write_atomically` or
:func:`replace_directory`; a failure leaves the previous output as it was, and nothing but a
previous output (or an empty directory) is ever replaced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kg.errors import ConfigurationError

__all__ = ["OUTPUT_MARKERS", "check_output_directory", "check_output_file", "replace_directory", "write_atomically"]

#: Files that mark a directory as the output of an earlier build (``build-report.json``) or
#: release (``SHA256SUMS``): only such a directory, or an empty one, is ever replaced.
OUTPUT_MARKERS = ("build-report.json", "SHA256SUMS")


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
