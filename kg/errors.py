"""The small error hierarchy of Sarcoma-KG.

Each error knows its exit code on the command line, as in pySHACL (``DataError``, the data
fails a check, exits 1; everything else 2), and its answer over HTTP: a status, a short
title for the JSON body's ``error`` and the error page, and headers (``Retry-After``). The
web layer has one handler that turns any of them into a response (:mod:`kg.web.app`).

======================  ====  ===================
error                   HTTP  title
======================  ====  ===================
``QueryError``          400   malformed query
``ParameterError``      400   invalid parameter
``QueryRefused``        403   query refused
``ResultTooLarge``      422   result too large
``QueryTimeout``        503   query timeout
``ServerBusy``          503   server busy (with ``Retry-After``)
``WorkerError``         500   query failed
others                  500   server error
======================  ====  ===================

>>> ServerBusy("all workers are busy", retry_after=2).http_headers()
{'Retry-After': '2'}
>>> ParameterError("no such subtype").http_status
400
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ConfigurationError",
    "DataError",
    "ParameterError",
    "Problem",
    "QueryError",
    "QueryRefused",
    "QueryTimeout",
    "ResultTooLarge",
    "SarcomaKGError",
    "ServerBusy",
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
    """Base class of every error the package raises on purpose.

    :cvar exit_code: the command line's exit status
    :cvar http_status: the HTTP status of a response to it
    :cvar title: its short name in an HTTP response
    """

    exit_code = 2
    http_status = 500
    title = "server error"

    def http_headers(self) -> dict[str, str]:
        """Headers of an HTTP response to this error (none but for :class:`ServerBusy`)."""
        return {}


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
    """A SPARQL query is malformed or cannot be run (HTTP 400).

    :param message: the parser's (or the rule's) message, shown to the user as is
    """

    exit_code = 2
    http_status = 400
    title = "malformed query"


class ParameterError(QueryError):
    """A stored query's parameter is missing, unknown or names nothing in the graph (HTTP 400).

    :param message: which parameter and why, for people
    """

    title = "invalid parameter"


class QueryRefused(QueryError):
    """A well-formed request the endpoint will not run: an update, SERVICE, a dataset (HTTP 403)."""

    http_status = 403
    title = "query refused"


class QueryTimeout(QueryError):
    """The query ran past the time limit and was stopped (HTTP 503)."""

    http_status = 503
    title = "query timeout"


class ServerBusy(QueryTimeout):
    """No worker became free within the time limit, so the query was not run (HTTP 503).

    :param message: what happened, for people
    :param retry_after: seconds after which a worker is likely free again
    """

    title = "server busy"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ResultTooLarge(QueryError):
    """The result is larger than the row or byte cap (HTTP 422).

    :param fact: what is over which cap
    :param advice: what the client can do about it ("add a LIMIT")
    """

    http_status = 422
    title = "result too large"

    def __init__(self, fact: str, *, advice: str) -> None:
        super().__init__(f"{fact}; {advice}")
        self.fact = fact
        self.advice = advice


class WorkerError(SarcomaKGError):
    """A query worker process failed: it did not start in time, or stopped, or the query
    failed in it for a reason other than the query text (HTTP 500).

    :param message: what happened, for people
    """

    exit_code = 2
    title = "query failed"
