"""The small error hierarchy of Sarcoma-KG.

Each error maps to one exit code of the command line, as in pySHACL:
``DataError`` (the data fails a check) exits 1, ``ConfigurationError`` (a file cannot be
read, a tool is missing) exits 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ConfigurationError",
    "DataError",
    "Problem",
    "QueryError",
    "SarcomaKGError",
    "WorkerError",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One failed check, named by where it is and which rule it breaks.

    :param file: the file the problem is in (relative to the data directory when possible)
    :param record: the id of the record (or a path into the file when it has no id)
    :param rule: the short name of the rule that failed
    :param message: what is wrong and, where possible, how to fix it
    """

    file: str
    record: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: record '{self.record}': {self.message} [rule: {self.rule}]"


class SarcomaKGError(Exception):
    """Base class of every error the package raises on purpose."""

    exit_code = 2


class ConfigurationError(SarcomaKGError):
    """A file cannot be loaded or a required tool is missing (exit code 2)."""

    exit_code = 2


class DataError(SarcomaKGError):
    """The curated data or the graph fails a check (exit code 1).

    :param problems: every problem found, so one run reports them all
    :param stage: the pipeline stage that found them (records, reasoning, shacl, quality)
    """

    exit_code = 1

    def __init__(self, problems: Iterable[Problem], *, stage: str) -> None:
        self.problems = sorted(problems)
        self.stage = stage
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{stage}: {len(self.problems)} problem(s)\n{lines}")


class QueryError(SarcomaKGError):
    """A SPARQL query or a stored-query parameter is malformed or not allowed.

    :param message: the parser's (or the rule's) message, shown to the user as is
    """

    exit_code = 2


class WorkerError(SarcomaKGError):
    """A query worker process failed: it did not start in time, or stopped, or the query
    failed in it for a reason other than the query text (HTTP 500).

    :param message: what happened, for people
    """

    exit_code = 2
